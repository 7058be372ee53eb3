import { describe, expect, it } from 'vitest';
import { SessionScheduler, type TrainingLoop } from './scheduler';

/** A fake "model": a counter that steps advance. Jobs read it, proving when they ran. */
function counterLoop(totalSteps: number, log: string[]) {
  const state = { step: 0, finished: '' as string };
  const loop: TrainingLoop = {
    async step() {
      state.step += 1;
      log.push(`step ${state.step}`);
      return { done: state.step >= totalSteps };
    },
    async finish(reason) {
      state.finished = reason;
      log.push(`finish ${reason}`);
    },
  };
  return { state, loop };
}

describe('SessionScheduler', () => {
  it('serves jobs between steps while training runs, seeing the weights of that moment', async () => {
    const scheduler = new SessionScheduler();
    const log: string[] = [];
    const { state, loop } = counterLoop(50, log);
    const done = scheduler.startTraining(loop);
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      seen.push(await scheduler.enqueue(async () => state.step));
    }
    await done;
    expect(seen.every((s) => s < 50)).toBe(true);
    expect(new Set(seen).size).toBe(3); // answers change as training proceeds
    expect(state.finished).toBe('completed');
  });

  it('pauses and resumes at step boundaries', async () => {
    const scheduler = new SessionScheduler();
    const log: string[] = [];
    const { state, loop } = counterLoop(1000, log);
    const done = scheduler.startTraining(loop);
    await scheduler.enqueue(async () => undefined);
    expect(scheduler.pause()).toBe(true);
    const atPause = await scheduler.enqueue(async () => state.step);
    await new Promise((r) => setTimeout(r, 20));
    expect(state.step).toBe(atPause); // no steps while paused
    expect(scheduler.trainingState).toBe('paused');
    expect(scheduler.resume()).toBe(true);
    // The first job after resume is served before the next step; the second sees a step later.
    await scheduler.enqueue(async () => undefined);
    await new Promise((r) => setTimeout(r, 5));
    await scheduler.enqueue(async () => undefined);
    expect(state.step).toBeGreaterThan(atPause);
    await scheduler.stop();
    await done;
    expect(state.finished).toBe('stopped');
    expect(state.step).toBeLessThan(1000);
  });

  it('stop from paused ends the loop without another step', async () => {
    const scheduler = new SessionScheduler();
    const { state, loop } = counterLoop(1000, []);
    void scheduler.startTraining(loop);
    await scheduler.enqueue(async () => undefined);
    scheduler.pause();
    const atPause = await scheduler.enqueue(async () => state.step);
    await scheduler.stop();
    expect(state.step).toBe(atPause);
    expect(state.finished).toBe('stopped');
    expect(scheduler.trainingState).toBe('idle');
  });

  it('reports a failing step through finish and goes back to idle', async () => {
    const scheduler = new SessionScheduler();
    let finished: unknown;
    await scheduler.startTraining({
      step: async () => {
        throw new Error('boom');
      },
      finish: async (reason, error) => {
        finished = { reason, message: (error as Error).message };
      },
    });
    expect(finished).toEqual({ reason: 'failed', message: 'boom' });
    expect(await scheduler.enqueue(async () => 42)).toBe(42);
  });

  it('refuses a second concurrent training run', async () => {
    const scheduler = new SessionScheduler();
    const { loop } = counterLoop(5, []);
    const first = scheduler.startTraining(loop);
    await expect(scheduler.startTraining(counterLoop(5, []).loop)).rejects.toThrow(/already running/);
    await first;
  });
});
