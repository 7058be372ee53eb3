/**
 * The first 10 AdamW losses match PyTorch (llm.c-style trajectory check). The AdamW here is a
 * minimal reference kept inside the test (torch.optim.AdamW semantics); the real optimizer lives in
 * src/engine/train/.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../tf/node';
import type { BertConfig } from './config';
import { bertForSequenceClassification } from './model';
import { disposeBertParams, namedParams, type BertParams } from './params';
import { batchTensors, crossEntropy, readGolden, readGoldenConfig, readGoldenWeights } from './test-golden';
import { loadBertParams } from './weights';

const golden = readGolden();

describe('training trajectory vs PyTorch AdamW', () => {
  let config: BertConfig;
  let params: BertParams;
  beforeAll(async () => {
    await initNodeBackend('wasm');
    config = readGoldenConfig();
    params = loadBertParams(readGoldenWeights(), config).params;
  });
  afterAll(() => disposeBertParams(params, config));

  it('first 10 losses within 1e-3 (dropout off, AdamW lr 1e-3, wd 0.01 except biases/LayerNorm)', () => {
    const hp = golden.training;
    const [b1, b2] = hp.betas;
    const trained = namedParams(params, config).filter((p) => p.group !== 'mlm');
    const decays = (name: string) => !(name.endsWith('.bias') || name.includes('LayerNorm'));
    const m: tf.Tensor[] = trained.map((p) => tf.zerosLike(p.variable));
    const v: tf.Tensor[] = trained.map((p) => tf.zerosLike(p.variable));
    const losses: number[] = [];
    const before = tf.memory().numTensors;
    hp.batches.forEach((batch, i) => {
      const step = i + 1;
      const b = batchTensors(batch);
      const { value, grads } = tf.variableGrads(
        () => {
          // Training mode with every dropout rate 0, as in the PyTorch run.
          const noDropout = {
            ...config,
            hidden_dropout_prob: 0,
            attention_probs_dropout_prob: 0,
            classifier_dropout: 0,
          };
          const { logits } = bertForSequenceClassification(params, noDropout, b, { training: true, dropoutSeed: step });
          return crossEntropy(logits, b.labels);
        },
        trained.map((p) => p.variable),
      );
      losses.push(value.dataSync()[0]);
      const bc1 = 1 - b1 ** step;
      const bc2 = 1 - b2 ** step;
      trained.forEach((p, k) => {
        const g = grads[p.variable.name];
        tf.tidy(() => {
          const nm = tf.add(tf.mul(m[k], b1), tf.mul(g, 1 - b1));
          const nv = tf.add(tf.mul(v[k], b2), tf.mul(tf.square(g), 1 - b2));
          const decayed = decays(p.name) ? tf.mul(p.variable, 1 - hp.lr * hp.weight_decay) : p.variable;
          const denom = tf.add(tf.div(tf.sqrt(nv), Math.sqrt(bc2)), hp.eps);
          p.variable.assign(tf.sub(decayed, tf.mul(tf.div(nm, denom), hp.lr / bc1)));
          m[k].dispose();
          v[k].dispose();
          m[k] = tf.keep(nm);
          v[k] = tf.keep(nv);
        });
      });
      tf.dispose([value, ...Object.values(grads), ...Object.values(b)]);
    });
    expect(tf.memory().numTensors).toBe(before); // no per-step leak
    tf.dispose([...m, ...v]);
    losses.forEach((l, i) =>
      expect(Math.abs(l - hp.losses[i]), `loss ${i}: ${l} vs ${hp.losses[i]}`).toBeLessThan(1e-3),
    );
  });
});
