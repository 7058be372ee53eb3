/**
 * The session's one queue. A training run steps through its loop (engine/train/loop.ts owns
 * pause, resume and stop at step boundaries); playground jobs (predict, fill-mask, embed…) are
 * served between steps with the weights of that moment, and at once while paused or idle. A job
 * never runs during a step or during another job. After every step the scheduler yields to the
 * event loop so new messages from the UI are received promptly.
 */
import type { LoopRunState, RunHooks } from '../engine/studio';

/** How often nextStep() looks at the step counter: short against a step, long enough to cost nothing. */
const STEP_POLL_MS = 5;

export type TrainingState = 'idle' | 'running' | 'paused' | 'stopping';

/** How a run ended, as the session reports it. */
export type RunOutcome =
  | { kind: 'ended'; reason: 'completed' | 'stopped' }
  | { kind: 'failed'; error: unknown; code: string; message: string };

/** A started training or adaptation run: its loop, and what to do when it ends. */
export interface Runnable {
  loop: {
    readonly step: number;
    readonly state: LoopRunState;
    run(hooks: RunHooks): Promise<{ reason: string }>;
    pause(): void;
    resume(): void;
    stop(): void;
  };
  finish(outcome: RunOutcome): Promise<void>;
  dispose(): void;
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
  private active: Runnable | null = null;
  /** True while a training step runs: jobs wait for the next boundary. */
  private stepping = false;
  private draining: Promise<void> | null = null;
  private runDone: Promise<void> | null = null;

  get trainingState(): TrainingState {
    if (!this.active) return 'idle';
    const state = this.active.loop.state;
    return state === 'paused' ? 'paused' : state === 'stopping' || state === 'finished' ? 'stopping' : 'running';
  }

  /** Queues a job: served at once when no step runs, otherwise at the next step boundary. */
  enqueue<T>(run: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.jobs.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (!this.stepping) void this.drainJobs();
    });
  }

  private drainJobs(): Promise<void> {
    if (this.draining) return this.draining;
    if (this.jobs.length === 0) return Promise.resolve();
    const drain = async () => {
      while (this.jobs.length > 0) {
        const job = this.jobs.shift()!;
        try {
          job.resolve(await job.run());
        } catch (error) {
          job.reject(error);
        }
      }
    };
    // Cleared after it settles (never synchronously inside the assignment). A job queued while the
    // last one was resolving found this drain still set: start another for it.
    this.draining = drain().finally(() => {
      this.draining = null;
      if (this.jobs.length > 0 && !this.stepping) void this.drainJobs();
    });
    return this.draining;
  }

  /**
   * Runs a started run to its end; rejects if one is already active. `describe` maps a step's
   * failure to a code and message; `beforeFinish` runs first when the loop ends.
   */
  runTraining(
    runnable: Runnable,
    describe: (error: unknown) => { code: string; message: string },
    beforeFinish: () => void = () => {},
  ): Promise<void> {
    if (this.active) return Promise.reject(new Error(`Training is already ${this.trainingState}.`));
    this.active = runnable;
    this.runDone = this.drive(runnable, describe, beforeFinish);
    return this.runDone;
  }

  private async drive(
    runnable: Runnable,
    describe: (error: unknown) => { code: string; message: string },
    beforeFinish: () => void,
  ): Promise<void> {
    let outcome: RunOutcome;
    try {
      const summary = await runnable.loop.run({
        betweenSteps: async () => {
          this.stepping = false;
          await this.drainJobs();
          await yieldToEventLoop();
        },
        beforeStep: async () => {
          // A job that started draining at the boundary finishes before the step begins.
          while (this.draining) await this.draining;
          this.stepping = true;
        },
      });
      outcome = { kind: 'ended', reason: summary.reason === 'stopped' ? 'stopped' : 'completed' };
    } catch (error) {
      outcome = { kind: 'failed', error, ...describe(error) };
    }
    this.stepping = false;
    try {
      beforeFinish();
      await runnable.finish(outcome);
    } finally {
      runnable.dispose();
      this.active = null;
      await this.drainJobs();
    }
  }

  /**
   * Resolves once the running training has taken one more step, or at once when none is running
   * (idle, paused, stopping). A long series of jobs — the embedding map's chunks — awaits it before
   * each job: jobs queued during a boundary's drain would otherwise all run in that one boundary,
   * holding training back until the series ends. Polls every STEP_POLL_MS (a pause or stop
   * releases it too).
   */
  async nextStep(): Promise<void> {
    const active = this.active;
    if (!active || this.trainingState !== 'running') return;
    const step = active.loop.step;
    while (this.active === active && this.trainingState === 'running' && active.loop.step === step)
      await new Promise((resolve) => setTimeout(resolve, STEP_POLL_MS));
  }

  /** Asks the run to stop at the next boundary; resolves when it has ended. */
  async stop(): Promise<void> {
    if (!this.active) return;
    this.active.loop.stop();
    await this.runDone;
  }
}
