/**
 * Golden training parity: the real classifier-head training loop + AdamW on the PyTorch golden micro
 * model reproduce the first 10 losses of `torch.optim.AdamW` within 1e-3, dropout off, fixed
 * batches, constant learning rate, no clipping (tests/fixtures/golden-micro/golden.json).
 */
import { describe, expect, it } from 'vitest';
import { labelList } from '../bert/config';
import { disposeBertParams, loadBertParams } from '../bert';
import {
  readGolden as loadGolden,
  readGoldenConfig as loadGoldenConfig,
  readGoldenWeights as loadGoldenTensors,
} from '../bert/test-golden';
import { initNodeBackend } from '../tf/node';
import { batchFromRows, type Batch } from '../train/batches';
import { classifierTraining } from './classifier';

function goldenBatches(
  batches: { input_ids: number[][]; token_type_ids: number[][]; attention_mask: number[][]; labels: number[] }[],
): Batch[] {
  return batches.map((b) =>
    batchFromRows({
      inputIds: b.input_ids,
      tokenTypeIds: b.token_type_ids,
      attentionMask: b.attention_mask,
      labels: b.labels,
    }),
  );
}

describe.each(['cpu', 'wasm'] as const)('golden AdamW trajectory on %s', (backend) => {
  it('first 10 losses match PyTorch within 1e-3', async () => {
    await initNodeBackend(backend);
    const golden = loadGolden();
    const config = loadGoldenConfig();
    const { params } = loadBertParams(loadGoldenTensors(), config);
    const training = golden.training as unknown as {
      lr: number;
      weight_decay: number;
      eps: number;
      betas: number[];
      batches: Parameters<typeof goldenBatches>[0];
      losses: number[];
    };
    expect(training.betas).toEqual([0.9, 0.999]);
    expect(training.eps).toBe(1e-8);
    const plan = goldenBatches(training.batches);
    const losses: number[] = [];
    const labels = labelList(config);
    const placeholder = plan.map(() => ({ inputIds: [0], label: 0 }));
    const trainer = classifierTraining(
      params,
      config,
      labels,
      placeholder,
      [],
      {
        epochs: 1,
        batchSize: 4,
        learningRate: training.lr,
        weightDecay: training.weight_decay,
        maxLength: 64,
        seed: 0,
        dropout: false,
        schedule: 'constant',
        warmupRatio: 0,
        maxGradNorm: 0,
        lossReadEvery: 1,
      },
      { onProgress: (p) => losses.push(...p.losses.map((l) => l.loss)) },
      { batchPlan: plan },
    );
    while (await trainer.runStep()) {
      /* ten fixed batches */
    }
    await trainer.finish();
    trainer.dispose();
    disposeBertParams(params, config);
    expect(losses).toHaveLength(10);
    losses.forEach((loss, i) =>
      expect(Math.abs(loss - training.losses[i]), `step ${i + 1}: ${loss} vs ${training.losses[i]}`).toBeLessThan(1e-3),
    );
  });
});
