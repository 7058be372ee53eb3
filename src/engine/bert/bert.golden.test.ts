/**
 * Parity with PyTorch (tests/fixtures/golden-micro, an independent torch.nn.TransformerEncoderLayer
 * model): forward outputs within 1e-4, loss and gradients within 1e-3, fill-mask top-5 — on both
 * the cpu and wasm backends in Node.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend, type NodeBackendName } from '../tf/node';
import type { BertConfig } from './config';
import {
  bertEncoder,
  bertPooler,
  classifierLogits,
  gatherPositions,
  meanPool,
  mlmLogits,
  mlmLogitsRows,
} from './model';
import { disposeBertParams, namedParams, type BertParams } from './params';
import {
  batchTensors,
  crossEntropy,
  maxAbsDiff,
  readGolden,
  readGoldenConfig,
  readGoldenVocab,
  readGoldenWeights,
} from './test-golden';
import { loadBertParams } from './weights';

const golden = readGolden();
const FWD_TOL = 1e-4;
const GRAD_TOL = 1e-3;

describe.each<NodeBackendName>(['cpu', 'wasm'])('BERT golden parity on %s', (backend) => {
  let config: BertConfig;
  let params: BertParams;

  beforeAll(async () => {
    await initNodeBackend(backend);
    config = readGoldenConfig();
    const loaded = loadBertParams(readGoldenWeights(), config);
    expect(loaded.report.warnings).toEqual([]);
    expect(loaded.report.initialized).toEqual([]);
    params = loaded.params;
  });
  afterAll(() => disposeBertParams(params, config));

  it('matches hidden states, pooled, MLM, classifier logits and mean pooling within 1e-4', () => {
    const b = batchTensors(golden.inputs);
    const hidden = bertEncoder(params, config, b); // [B, T, H]
    const pooled = bertPooler(params, hidden);
    const mlm = mlmLogits(params, config, hidden);
    const logits = classifierLogits(params, config, pooled);
    const mean = meanPool(hidden, b.attentionMask);
    expect(tf.getBackend()).toBe(backend);
    expect(maxAbsDiff(hidden, golden.last_hidden_state)).toBeLessThan(FWD_TOL);
    expect(maxAbsDiff(pooled, golden.pooled_output)).toBeLessThan(FWD_TOL);
    expect(maxAbsDiff(mlm, golden.mlm_logits)).toBeLessThan(FWD_TOL);
    expect(maxAbsDiff(logits, golden.classifier_logits)).toBeLessThan(FWD_TOL);
    expect(maxAbsDiff(mean, golden.mean_pooled)).toBeLessThan(FWD_TOL);
    // Outputs are far from zero, so the tolerance is meaningful.
    expect(Math.max(...golden.mlm_logits.data.map(Math.abs))).toBeGreaterThan(1);
    tf.dispose([hidden, pooled, mlm, logits, mean, ...Object.values(b)]);
  });

  it('matches the loss and gradients within 1e-3 (including through the embedding gather)', () => {
    const b = batchTensors(golden.inputs);
    const named = namedParams(params, config);
    const wanted = Object.keys(golden.grads);
    const vars = named.filter((n) => wanted.includes(n.name));
    expect(vars.map((v) => v.name).sort()).toEqual([...wanted].sort());
    const { value, grads } = tf.variableGrads(
      () => {
        const hidden = bertEncoder(params, config, b);
        return crossEntropy(classifierLogits(params, config, bertPooler(params, hidden)), b.labels);
      },
      vars.map((v) => v.variable),
    );
    expect(Math.abs(value.dataSync()[0] - golden.loss)).toBeLessThan(GRAD_TOL);
    for (const v of vars) {
      const g = grads[v.variable.name];
      const hf = v.transposed ? tf.transpose(g) : g; // our [in, out] → PyTorch [out, in]
      const diff = maxAbsDiff(hf, golden.grads[v.name]);
      expect(diff, `gradient of ${v.name}`).toBeLessThan(GRAD_TOL);
      if (hf !== g) hf.dispose();
    }
    // The word-embedding gradient is non-trivial (several rows touched, not all zero).
    expect(Math.max(...golden.grads['bert.embeddings.word_embeddings.weight'].data.map(Math.abs))).toBeGreaterThan(
      1e-3,
    );
    tf.dispose([value, ...Object.values(grads), ...Object.values(b)]);
  });

  it('fill-mask: same top-5 tokens and probabilities', () => {
    const vocab = readGoldenVocab();
    const fm = golden.fill_mask;
    expect(fm.text.split(' ').map((w) => vocab.indexOf(w))).toEqual(fm.input_ids.slice(1, -1));
    const probs = tf.tidy(() => {
      const ids = tf.tensor2d([fm.input_ids], undefined, 'int32');
      const hidden = bertEncoder(params, config, { inputIds: ids });
      const rows = gatherPositions(hidden, tf.tensor1d([fm.mask_position], 'int32')); // [1, H]
      return tf.softmax(mlmLogitsRows(params, config, rows)).reshape([-1]); // [V]
    });
    const p = Array.from(probs.dataSync());
    probs.dispose();
    const top5 = p
      .map((v, i) => [v, i] as const)
      .sort((a, b) => b[0] - a[0])
      .slice(0, 5);
    expect(top5.map(([, i]) => vocab[i])).toEqual(fm.top5.map((t) => t.token));
    top5.forEach(([v], k) => expect(Math.abs(v - fm.top5[k].prob)).toBeLessThan(FWD_TOL));
  });

  it('MLM on gathered positions equals full MLM at those positions, and is differentiable', () => {
    const b = batchTensors(golden.inputs);
    const T = golden.inputs.input_ids[0].length;
    const flat = [1, 5, T + 3]; // (0,1), (0,5), (1,3)
    const hidden = bertEncoder(params, config, b);
    const rows = mlmLogitsRows(params, config, gatherPositions(hidden, tf.tensor1d(flat, 'int32')));
    const full = mlmLogits(params, config, hidden).reshape([-1, config.vocab_size]);
    const expected = tf.gather(full, flat);
    expect(tf.max(tf.abs(tf.sub(rows, expected))).dataSync()[0]).toBeLessThan(1e-5);
    const g = tf.grad((h: tf.Tensor) =>
      mlmLogitsRows(params, config, gatherPositions(h as tf.Tensor3D, tf.tensor1d(flat, 'int32'))).sum(),
    )(hidden);
    expect(g.shape).toEqual(hidden.shape);
    const gd = g.dataSync();
    const H = config.hidden_size;
    expect(gd.slice(0, H).every((v) => v === 0)).toBe(true); // position 0 not gathered
    expect(gd.slice(H, 2 * H).some((v) => v !== 0)).toBe(true); // position 1 gathered
    tf.dispose([hidden, rows, full, expected, g, ...Object.values(b)]);
  });

  it('fully padded rows stay finite and a forward in tf.tidy leaks no tensors', () => {
    const before = tf.memory().numTensors;
    const out = tf.tidy(() => {
      const ids = tf.tensor2d(
        [
          [2, 10, 3, 0],
          [0, 0, 0, 0],
        ],
        undefined,
        'int32',
      );
      const mask = tf.tensor2d(
        [
          [1, 1, 1, 0],
          [0, 0, 0, 0],
        ],
        undefined,
        'int32',
      );
      const hidden = bertEncoder(params, config, { inputIds: ids, attentionMask: mask });
      const pooled = bertPooler(params, hidden);
      const mean = meanPool(hidden, mask);
      return tf.stack([
        tf.sum(hidden),
        tf.sum(pooled),
        tf.sum(classifierLogits(params, config, pooled)),
        tf.sum(mean),
        tf.sum(mlmLogits(params, config, hidden)),
      ]);
    });
    const values = Array.from(out.dataSync());
    out.dispose();
    expect(values.every(Number.isFinite)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('dropout only when training: seeded masks reproducible, and differentiable', () => {
    const b = batchTensors(golden.inputs);
    const run = (opts: { training?: boolean; dropoutSeed?: number }) => {
      const h = bertEncoder(params, config, b, opts);
      const d = Array.from(h.dataSync());
      h.dispose();
      return d;
    };
    const evalOut = run({});
    expect(run({ training: false, dropoutSeed: 1 })).toEqual(evalOut);
    const t1 = run({ training: true, dropoutSeed: 1 });
    expect(t1).not.toEqual(evalOut);
    expect(run({ training: true, dropoutSeed: 1 })).toEqual(t1);
    expect(run({ training: true, dropoutSeed: 2 })).not.toEqual(t1);
    const { value, grads } = tf.variableGrads(() => {
      const hidden = bertEncoder(params, config, b, { training: true, dropoutSeed: 3 });
      return crossEntropy(
        classifierLogits(params, config, bertPooler(params, hidden), { training: true, dropoutSeed: 3 }),
        b.labels,
      );
    }, [params.embeddings.word, params.layers[0].query.w]);
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    tf.dispose([value, ...Object.values(grads), ...Object.values(b)]);
  });
});
