/**
 * The queue with a real training loop: a one-weight objective (loss (w − 1)²) on the cpu backend,
 * so every step really runs AdamW; jobs read the weight and the step to prove when they ran.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { NamedVariable } from '../engine/bert/params';
import { TrainingLoop } from '../engine/train/loop';
import type { BatchSource, TrainingObjective } from '../engine/train/objective';
import { SessionScheduler, type RunOutcome, type Runnable } from './scheduler';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

class Counter implements BatchSource<number> {
  readonly batchesPerEpoch = null;
  readonly epochs = null;
  readonly atEpochEnd = false;
  readonly epoch = 1;
  private n = 0;
  async next() {
    return this.n++;
  }
  getState() {
    return this.n;
  }
  setState(state: unknown) {
    this.n = state as number;
  }
}

function runnable(totalSteps: number, failAtStep = 0) {
  const w = tf.variable(tf.scalar(0), true, `w${Math.random()}`);
  const parameters: NamedVariable[] = [{ name: 'w', variable: w, transposed: false, group: 'encoder' }];
  const objective: TrainingObjective<number, null> = {
    kind: 'toy',
    scoreName: 'none',
    parameters,
    data: new Counter(),
    lossFor: (batch) => () => {
      if (failAtStep > 0 && batch + 1 === failAtStep) throw new Error('boom');
      return tf.square(tf.sub(w, 1)) as tf.Scalar;
    },
    size: () => ({ examples: 1, tokens: 1 }),
    evaluate: async () => null,
    fingerprint: () => ({}),
    dispose: () => {},
  };
  const loop = new TrainingLoop(objective, {
    totalSteps,
    learningRate: 1e-2,
    schedule: 'constant',
    warmupSteps: 0,
    weightDecay: 0,
    maxGradNorm: 0,
    gradAccumSteps: 1,
    seed: 1,
    dropout: false,
    evalEvery: 0,
    evalAtEpochEnd: false,
    evalAtEnd: false,
    patience: 0,
    lossReadEvery: 1,
    keepBest: false,
    keepInitial: false,
  });
  const outcomes: RunOutcome[] = [];
  const run: Runnable = {
    loop,
    finish: async (outcome) => void outcomes.push(outcome),
    dispose: () => {
      loop.dispose();
      w.dispose();
    },
  };
  return { run, loop, outcomes };
}

const describeError = (error: unknown) => ({ code: 'TRAINING_FAILED', message: (error as Error).message });

describe('SessionScheduler', () => {
  it('serves jobs between steps while training runs, seeing the weights of that moment', async () => {
    const scheduler = new SessionScheduler();
    const { run, loop, outcomes } = runnable(60);
    const done = scheduler.runTraining(run, describeError);
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      seen.push(await scheduler.enqueue(async () => loop.step));
      await new Promise((r) => setTimeout(r, 2));
    }
    await done;
    expect(seen.every((s) => s < 60)).toBe(true);
    expect(new Set(seen).size).toBe(3); // answers change as training proceeds
    expect(outcomes).toEqual([{ kind: 'ended', reason: 'completed' }]);
    expect(scheduler.trainingState).toBe('idle');
  });

  it('pauses and resumes at step boundaries; jobs run at once while paused', async () => {
    const scheduler = new SessionScheduler();
    const { run, loop, outcomes } = runnable(100_000);
    const done = scheduler.runTraining(run, describeError);
    await scheduler.enqueue(async () => undefined);
    loop.pause();
    await new Promise((r) => setTimeout(r, 20));
    expect(scheduler.trainingState).toBe('paused');
    const atPause = await scheduler.enqueue(async () => loop.step);
    await new Promise((r) => setTimeout(r, 20));
    expect(loop.step).toBe(atPause); // no steps while paused
    loop.resume();
    await new Promise((r) => setTimeout(r, 20));
    expect(loop.step).toBeGreaterThan(atPause);
    await scheduler.stop();
    await done;
    expect(outcomes).toEqual([{ kind: 'ended', reason: 'stopped' }]);
  });

  it('stop from paused ends the run without another step', async () => {
    const scheduler = new SessionScheduler();
    const { run, loop, outcomes } = runnable(100_000);
    void scheduler.runTraining(run, describeError);
    await scheduler.enqueue(async () => undefined);
    loop.pause();
    await new Promise((r) => setTimeout(r, 20));
    const atPause = await scheduler.enqueue(async () => loop.step);
    await scheduler.stop();
    expect(loop.step).toBe(atPause);
    expect(outcomes).toEqual([{ kind: 'ended', reason: 'stopped' }]);
    expect(scheduler.trainingState).toBe('idle');
  });

  it('reports a failing step through finish and goes back to idle', async () => {
    const scheduler = new SessionScheduler();
    const { run, outcomes } = runnable(50, 3);
    await scheduler.runTraining(run, describeError);
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ kind: 'failed', code: 'TRAINING_FAILED', message: 'boom' });
    expect(await scheduler.enqueue(async () => 42)).toBe(42);
  });

  it('serves a job queued while the previous job is resolving (idle queue)', async () => {
    const scheduler = new SessionScheduler();
    const answers: number[] = [];
    for (let i = 0; i < 5; i++) answers.push(await scheduler.enqueue(async () => i));
    expect(answers).toEqual([0, 1, 2, 3, 4]);
  });

  it('refuses a second concurrent training run', async () => {
    const scheduler = new SessionScheduler();
    const first = runnable(5);
    const second = runnable(5);
    const done = scheduler.runTraining(first.run, describeError);
    await expect(scheduler.runTraining(second.run, describeError)).rejects.toThrow(/already running/);
    await done;
    second.run.dispose();
  });
});
