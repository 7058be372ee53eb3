/**
 * Which weights a run keeps: the loop on a one-number "model" whose evaluations are scripted, so
 * the kept step can be read off the weight itself.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../tf/node';
import { SMALL_DEV_ROWS } from '../util/stats';
import { TrainingLoop, type LoopOptions } from './loop';
import { deserializeLoopState, serializeLoopState } from './loop-state';
import type { BatchSource, Evaluation, TrainingObjective } from './objective';

beforeAll(async () => {
  await initNodeBackend('wasm');
});

/** Scores given in order, one per evaluation; `rows` is the dev set size reported with each. */
function scriptedObjective(scores: number[], rows: number | undefined) {
  const w = tf.variable(tf.scalar(0), true, 'w');
  let evaluations = 0;
  const data: BatchSource<number> = {
    batchesPerEpoch: null,
    epoch: 1,
    epochs: null,
    atEpochEnd: false,
    next: async () => 0,
    getState: () => null,
    setState: () => {},
  };
  const objective: TrainingObjective<number, { at: number }> = {
    kind: 'scripted',
    scoreName: 'dev score',
    parameters: [{ name: 'w', variable: w, transposed: false, group: 'classifier' }],
    data,
    // Plain SGD-like pull towards a far target: w grows every step, so w names the step it was taken at.
    lossFor: () => () => tf.mul(tf.scalar(-1), w).sum() as tf.Scalar,
    size: () => ({ examples: 1, tokens: 1 }),
    evaluate: async (): Promise<Evaluation<{ at: number }>> => {
      const score = scores[evaluations++];
      return { metrics: { at: evaluations }, score, ...(rows !== undefined ? { rows } : {}) };
    },
    fingerprint: () => ({}),
    dispose: () => {},
  };
  return { objective, w };
}

function options(totalSteps: number, overrides: Partial<LoopOptions> = {}): LoopOptions {
  return {
    totalSteps,
    learningRate: 0.1,
    schedule: 'constant',
    warmupSteps: 0,
    weightDecay: 0,
    maxGradNorm: 0,
    gradAccumSteps: 1,
    seed: 0,
    dropout: false,
    evalEvery: 1,
    evalAtEpochEnd: false,
    evalAtEnd: true,
    patience: 0,
    lossReadEvery: 1,
    keepBest: true,
    keepInitial: false,
    ...overrides,
  };
}

/** Runs the scripted loop; returns the summary, w after each step, and w at the end. */
async function runScripted(scores: number[], rows: number | undefined, overrides: Partial<LoopOptions> = {}) {
  const { objective, w } = scriptedObjective(scores, rows);
  const wAt: number[] = [];
  const flags: boolean[] = [];
  const loop = new TrainingLoop(objective, options(scores.length, overrides), {
    onEvaluated: (e) => {
      wAt.push(w.dataSync()[0]);
      flags.push(e.isBest);
    },
  });
  const summary = await loop.run();
  const end = w.dataSync()[0];
  loop.dispose();
  w.dispose();
  return { summary, wAt, flags, end };
}

describe('which weights a run keeps', () => {
  it('a tie goes to the later step (the old rule kept the earliest)', async () => {
    const { summary, wAt, flags, end } = await runScripted([0.5, 0.9, 0.7, 0.9, 0.8], 50);
    expect(summary.restored).toBe('best');
    expect(summary.bestStep).toBe(4);
    expect(flags).toEqual([true, true, false, true, false]);
    expect(end).toBeCloseTo(wAt[3], 6);
    expect(end).not.toBeCloseTo(wAt[1], 3);
    expect(summary.message).toMatch(/Restored the best weights \(step 4, dev score 0\.900\)/);
  });

  it('a tie does not count as improvement for early stopping', async () => {
    const { summary } = await runScripted([0.5, 0.5, 0.5, 0.5, 0.5, 0.5], 50, { patience: 2 });
    expect(summary.reason).toBe('early-stopped');
    expect(summary.steps).toBe(3);
    expect(summary.bestStep).toBe(3);
  });

  it(`keeps the last weights on a dev set of fewer than ${SMALL_DEV_ROWS} rows, and says why`, async () => {
    const { summary, wAt, end } = await runScripted([0.5, 1, 0.5, 0.5, 0.5], 6);
    expect(summary.restored).toBe('last');
    expect(summary.bestStep).toBe(2);
    expect(end).toBeCloseTo(wAt[4], 6);
    expect(summary.message).toContain(
      'Kept the last weights (step 5): with 6 dev rows the best-scoring step (2) is not a reliable choice, ' +
        'and early stopping was off for the same reason.',
    );
  });

  it('does not stop early on a small dev set, but does on a larger one', async () => {
    const scores = [0.9, 0.5, 0.5, 0.5, 0.5, 0.5];
    const small = await runScripted(scores, 6, { patience: 2 });
    expect(small.summary.reason).toBe('completed');
    expect(small.summary.steps).toBe(6);
    const large = await runScripted(scores, SMALL_DEV_ROWS, { patience: 2 });
    expect(large.summary.reason).toBe('early-stopped');
    expect(large.summary.steps).toBe(3);
  });

  it(`keeps the best weights on a dev set of ${SMALL_DEV_ROWS} rows or more`, async () => {
    const { summary, wAt, end } = await runScripted([0.5, 1, 0.5, 0.5, 0.5], SMALL_DEV_ROWS);
    expect(summary.restored).toBe('best');
    expect(summary.bestStep).toBe(2);
    expect(end).toBeCloseTo(wAt[1], 6);
  });

  it('says why the last weights are kept when no best can be restored', async () => {
    const off = await runScripted([0.5, 1, 0.5], 50, { keepBest: false });
    expect(off.summary.restored).toBe('last');
    expect(off.end).toBeCloseTo(off.wAt[2], 6);
    expect(off.summary.message).toMatch(/Kept the last weights \(step 3\): restoring the best weights is switched off/);
  });

  it('a run continued from a saved state still knows its dev set is small', async () => {
    const scores = [0.5, 1, 0.5, 0.5, 0.5];
    const first = scriptedObjective(scores, 6);
    const loop = new TrainingLoop(first.objective, options(scores.length));
    await loop.runStep();
    await loop.runStep();
    // Through the saved bytes, as a reloaded studio project continues.
    const state = deserializeLoopState(serializeLoopState(await loop.captureState()), 'state.safetensors');
    loop.dispose();
    first.w.dispose();
    expect(state.json.best).toMatchObject({ step: 2, rows: 6 });

    const second = scriptedObjective(scores.slice(2), 6);
    const continued = new TrainingLoop(second.objective, options(scores.length));
    continued.restoreState(state);
    const summary = await continued.run();
    continued.dispose();
    second.w.dispose();
    expect(summary.restored).toBe('last');
    expect(summary.bestStep).toBe(2);
  });
});
