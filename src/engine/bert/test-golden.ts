/**
 * Test-only helpers (Node): load the PyTorch golden fixture tests/fixtures/golden-micro
 * (made by scripts/golden/make_bert_golden.py) and compare tensors. Not exported from index.ts.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { parseSafetensors } from '../checkpoint/safetensors';
import type { TensorMap } from '../checkpoint/types';
import type { BertConfig } from './config';
import { parseBertConfig } from './config';

export const GOLDEN_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../tests/fixtures/golden-micro');
export const GOLDEN_MODEL_DIR = join(GOLDEN_DIR, 'model');

export interface GoldenTensor {
  shape: number[];
  data: number[];
}

export interface GoldenBatch {
  input_ids: number[][];
  token_type_ids: number[][];
  attention_mask: number[][];
  labels: number[];
}

export interface Golden {
  inputs: GoldenBatch & { texts: unknown[] };
  last_hidden_state: GoldenTensor;
  pooled_output: GoldenTensor;
  mlm_logits: GoldenTensor;
  classifier_logits: GoldenTensor;
  mean_pooled: GoldenTensor;
  loss: number;
  grads: Record<string, GoldenTensor>;
  fill_mask: {
    text: string;
    input_ids: number[];
    mask_position: number;
    top5: { token: string; token_id: number; prob: number }[];
    logits_at_mask: GoldenTensor;
  };
  training: {
    lr: number;
    betas: [number, number];
    eps: number;
    weight_decay: number;
    batches: GoldenBatch[];
    losses: number[];
  };
}

export function readGolden(): Golden {
  return JSON.parse(readFileSync(join(GOLDEN_DIR, 'golden.json'), 'utf8')) as Golden;
}

export function readGoldenConfig(): BertConfig {
  return parseBertConfig(JSON.parse(readFileSync(join(GOLDEN_MODEL_DIR, 'config.json'), 'utf8')), 'golden config.json');
}

export function readGoldenWeights(): TensorMap {
  const bytes = new Uint8Array(readFileSync(join(GOLDEN_MODEL_DIR, 'model.safetensors')));
  return parseSafetensors(bytes, 'model.safetensors').tensors;
}

export function readGoldenVocab(): string[] {
  return readFileSync(join(GOLDEN_MODEL_DIR, 'vocab.txt'), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
}

/** Int32 [B, T] tensors for a golden batch. Caller disposes. */
export function batchTensors(b: GoldenBatch): {
  inputIds: tf.Tensor2D;
  tokenTypeIds: tf.Tensor2D;
  attentionMask: tf.Tensor2D;
  labels: tf.Tensor1D;
} {
  return {
    inputIds: tf.tensor2d(b.input_ids, undefined, 'int32'),
    tokenTypeIds: tf.tensor2d(b.token_type_ids, undefined, 'int32'),
    attentionMask: tf.tensor2d(b.attention_mask, undefined, 'int32'),
    labels: tf.tensor1d(b.labels, 'int32'),
  };
}

/** Max |actual - expected| after checking shapes agree; throws on a shape mismatch. */
export function maxAbsDiff(
  actual: tf.Tensor | { shape: number[]; data: ArrayLike<number> },
  expected: GoldenTensor,
): number {
  const shape = actual.shape;
  const data = actual instanceof tf.Tensor ? actual.dataSync() : actual.data;
  if (shape.length !== expected.shape.length || shape.some((d, i) => d !== expected.shape[i])) {
    throw new Error(`shape [${shape}] differs from golden [${expected.shape}]`);
  }
  let m = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const d = Math.abs(data[i] - expected.data[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** Mean softmax cross-entropy of logits [B, L] against int labels [B]. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits, -1); // [B, L]
    const picked = tf.sum(tf.mul(logp, tf.oneHot(labels, logits.shape[1])), -1); // [B]
    return tf.neg(tf.mean(picked)) as tf.Scalar;
  });
}
