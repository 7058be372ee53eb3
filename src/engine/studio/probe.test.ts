import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../tf/node';
import { toyExamples } from '../../../tests/support/toy-data';
import { planFineTune } from './fine-tune';
import { loadModelFromDir } from './node';
import { estimateRun } from './probe';

const GOLDEN_DIR = 'tests/fixtures/golden-micro/model';

beforeAll(async () => {
  await initNodeBackend('wasm');
});

describe('estimateRun', () => {
  it('times a real batch of the run without changing a weight, and adds it up over the run', async () => {
    const model = await loadModelFromDir(GOLDEN_DIR);
    const plan = planFineTune(model, { train: toyExamples(40, 2) }, { kind: 'head' }, { batchSize: 8, epochs: 3 });
    const before = await model.snapshotWeights();
    const estimate = await estimateRun(model, plan);
    const after = await model.snapshotWeights();
    after.values.forEach((v, i) => expect(Array.from(v.data)).toEqual(Array.from(before.values[i].data)));

    expect(estimate.batch.rows).toBe(8);
    expect(estimate.batch.tokens).toBeLessThanOrEqual(plan.maxLength);
    for (const t of [estimate.firstSeconds, estimate.stepSeconds, estimate.forwardSeconds])
      expect(t).toBeGreaterThan(0);
    // Every 'evalEvery' steps and at each epoch end, over ceil(dev / batch) batches.
    expect(estimate.evaluations).toBe(Math.floor(plan.totalSteps / plan.settings.evalEvery) + plan.epochs);
    const devBatches = Math.ceil(plan.devCount / plan.batchSize);
    expect(estimate.totalSeconds).toBeCloseTo(
      estimate.firstSeconds +
        (plan.totalSteps - 1) * estimate.stepSeconds +
        estimate.evaluations * devBatches * estimate.forwardSeconds,
      9,
    );
    model.dispose();
  });
});
