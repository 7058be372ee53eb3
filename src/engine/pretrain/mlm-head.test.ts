import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { bertPreset } from '../bert/config';
import { mlmLogitsRows } from '../bert/model';
import { disposeBertParams, initBertParams } from '../bert/params';
import { initNodeBackend } from '../tf/node';
import { mlmRowsLogits, rowCrossEntropy } from './mlm-head';

beforeAll(async () => {
  await initNodeBackend('wasm');
});

describe('pretraining MLM head', () => {
  it('matches mlmLogitsRows + log-softmax cross-entropy, forward and gradient', () => {
    const config = bertPreset('micro', { vocab_size: 97, hidden_act: 'gelu' });
    const params = initBertParams(config, 3);
    const rows = tf.randomNormal([13, 32], 0, 1, 'float32', 1) as tf.Tensor2D;
    const labels = tf.tensor1d([0, 5, 96, 7, 7, 1, 2, 3, 50, 60, 70, 80, 90], 'int32');
    const word = params.embeddings.word;
    const ref = (...[r, w]: tf.Tensor[]) => {
      const saved = params.embeddings.word;
      (params.embeddings as { word: tf.Tensor }).word = w;
      const logits = mlmLogitsRows(params, config, r as tf.Tensor2D);
      (params.embeddings as { word: tf.Tensor }).word = saved;
      return tf.mean(tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(labels, 97).toFloat()), 1))) as tf.Scalar;
    };
    const ours = (...[r, w]: tf.Tensor[]) => {
      const saved = params.embeddings.word;
      (params.embeddings as { word: tf.Tensor }).word = w;
      const loss = tf.mean(rowCrossEntropy(mlmRowsLogits(params, config, r as tf.Tensor2D), labels)) as tf.Scalar;
      (params.embeddings as { word: tf.Tensor }).word = saved;
      return loss;
    };
    const a = mlmLogitsRows(params, config, rows).dataSync();
    const b = mlmRowsLogits(params, config, rows).dataSync();
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i], 5);
    const [gr1, gw1] = tf.grads(ref)([rows, word]);
    const [gr2, gw2] = tf.grads(ours)([rows, word]);
    expect(ours(rows, word).dataSync()[0]).toBeCloseTo(ref(rows, word).dataSync()[0], 5);
    const d1 = gr1.dataSync(),
      d2 = gr2.dataSync();
    for (let i = 0; i < d1.length; i++) expect(d2[i]).toBeCloseTo(d1[i], 5);
    const e1 = gw1.dataSync(),
      e2 = gw2.dataSync();
    for (let i = 0; i < e1.length; i++) expect(e2[i]).toBeCloseTo(e1[i], 5);
    disposeBertParams(params, config);
  });
});
