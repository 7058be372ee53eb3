/**
 * The session's one queue. Training runs step by step; playground jobs (predict, fill-mask,
 * embed…) are served between steps with the weights as they are at that moment, so the user can
 * try the model while it trains. Control commands (pause, resume, stop) take effect at the next
 * step boundary. After every step the scheduler yields to the event loop so that new messages
 * from the UI are received promptly.
 */

export type TrainingState = 'idle' | 'running' | 'paused' | 'stopping';

/** What one training step reports back to the scheduler. */
export interface StepOutcome {
  /** True when training has finished (last step done, early stop, or a fatal condition). */
  done: boolean;
}

export interface TrainingLoop {
  /** Runs one optimisation step (or one evaluation); must leave the model in a consistent state. */
  step(): Promise<StepOutcome>;
  /** Called once when the loop ends; `stopped` tells whether the user asked for it. */
  finish(reason: 'completed' | 'stopped' | 'failed', error?: unknown): Promise<void>;
}

interface QueuedJob {
  run: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Resolves on the next macrotask, letting queued `message` events run first. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

export class SessionScheduler {
  private jobs: QueuedJob[] = [];
  private state: TrainingState = 'idle';
  private resumeWaiter: (() => void) | null = null;
  private loopDone: Promise<void> | null = null;
  private drainingJobs = false;

  get trainingState(): TrainingState {
    return this.state;
  }

  /**
   * Queues a playground job. Served immediately when nothing trains, otherwise at the next step
   * boundary. Jobs never run concurrently with a step or with each other.
   */
  enqueue<T>(run: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.jobs.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (this.state === 'idle' || this.state === 'paused') void this.drainJobs();
    });
  }

  private async drainJobs(): Promise<void> {
    if (this.drainingJobs) return;
    this.drainingJobs = true;
    try {
      while (this.jobs.length > 0) {
        const job = this.jobs.shift()!;
        try {
          job.resolve(await job.run());
        } catch (error) {
          job.reject(error);
        }
      }
    } finally {
      this.drainingJobs = false;
    }
  }

  /** Starts a training loop; rejects if one is already active. Resolves when the loop has ended. */
  startTraining(loop: TrainingLoop): Promise<void> {
    if (this.state !== 'idle') return Promise.reject(new Error(`Training is already ${this.state}.`));
    this.state = 'running';
    this.loopDone = this.runLoop(loop);
    return this.loopDone;
  }

  private async runLoop(loop: TrainingLoop): Promise<void> {
    let reason: 'completed' | 'stopped' | 'failed' = 'completed';
    let failure: unknown;
    try {
      for (;;) {
        await this.drainJobs();
        if (this.state === 'stopping') {
          reason = 'stopped';
          break;
        }
        if (this.state === 'paused') {
          await new Promise<void>((resolve) => (this.resumeWaiter = resolve));
          continue;
        }
        const outcome = await loop.step();
        if (outcome.done) break;
        await yieldToEventLoop();
      }
    } catch (error) {
      reason = 'failed';
      failure = error;
    }
    try {
      await loop.finish(reason, failure);
    } finally {
      this.state = 'idle';
      this.resumeWaiter = null;
      await this.drainJobs();
    }
  }

  pause(): boolean {
    if (this.state !== 'running') return false;
    this.state = 'paused';
    return true;
  }

  resume(): boolean {
    if (this.state !== 'paused') return false;
    this.state = 'running';
    this.resumeWaiter?.();
    this.resumeWaiter = null;
    return true;
  }

  /** Asks the loop to stop at the next boundary; resolves when it has. */
  async stop(): Promise<void> {
    if (this.state === 'idle') return;
    const wasPaused = this.state === 'paused';
    this.state = 'stopping';
    if (wasPaused) {
      this.resumeWaiter?.();
      this.resumeWaiter = null;
    }
    await this.loopDone;
  }
}
