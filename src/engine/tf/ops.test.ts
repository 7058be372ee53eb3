import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { unsortedSegmentSumJs } from './kernels';
import { initNodeBackend, type NodeBackendName } from './node';
import { dropout, geluErf, geluTanh } from './ops';

/** erf to ~1e-15 (Abramowitz–Stegun 7.1.26 is not enough for a reference): series / continued fraction. */
function erfRef(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let sum = 0,
      term = ax;
    for (let n = 0; n < 100; n++) {
      sum += term / (2 * n + 1);
      term *= (-ax * ax) / (n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction for large |x|
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return Math.sign(x) * (1 - erfc);
}
const geluRef = (x: number) => 0.5 * x * (1 + erfRef(x / Math.SQRT2));
const geluGradRef = (x: number) =>
  0.5 * (1 + erfRef(x / Math.SQRT2)) + (x * Math.exp((-x * x) / 2)) / Math.sqrt(2 * Math.PI);

const xs = Array.from({ length: 161 }, (_, i) => -8 + i * 0.1);

describe.each<NodeBackendName>(['cpu', 'wasm'])('tf ops on %s', (backend) => {
  it('exact GELU within 1e-6 and its gradient within 1e-5', async () => {
    await initNodeBackend(backend);
    const x = tf.tensor1d(xs);
    const y = geluErf(x).dataSync();
    const g = tf
      .grad((t: tf.Tensor) => geluErf(t).sum())(x)
      .dataSync();
    xs.forEach((v, i) => {
      expect(Math.abs(y[i] - geluRef(v)), `gelu(${v})`).toBeLessThan(1e-6);
      expect(Math.abs(g[i] - geluGradRef(v)), `gelu'(${v})`).toBeLessThan(1e-5);
    });
    const t = geluTanh(x).dataSync();
    xs.forEach((v, i) => expect(Math.abs(t[i] - geluRef(v))).toBeLessThan(2e-3)); // approximation
    x.dispose();
  });

  it('gather has a gradient (UnsortedSegmentSum) with duplicate indices', async () => {
    await initNodeBackend(backend);
    const table = tf.tensor2d([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const ids = tf.tensor1d([2, 0, 2, 2], 'int32');
    const w = tf.tensor2d([
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
    ]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), w)))(table);
    expect(Array.from(g.dataSync())).toEqual([2, 2, 0, 0, 8, 8]);
    tf.dispose([table, ids, w, g]);
  });

  it('dropout: identity rate 0, seeded masks reproducible, expectation preserved', async () => {
    await initNodeBackend(backend);
    const x = tf.ones([1000]);
    expect(dropout(x, 0)).toBe(x);
    const a = dropout(x, 0.5, 42).dataSync();
    const b = dropout(x, 0.5, 42).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    const zeros = a.filter((v) => v === 0).length;
    expect(zeros).toBeGreaterThan(400);
    expect(zeros).toBeLessThan(600);
    expect(a.filter((v) => v !== 0).every((v) => Math.abs(v - 2) < 1e-6)).toBe(true);
  });
});

describe('unsortedSegmentSumJs', () => {
  it('sums rows by segment and drops out-of-range ids', () => {
    const out = new Float32Array(6);
    unsortedSegmentSumJs([1, 2, 3, 4, 5, 6, 7, 8], [4, 2], [1, 1, -1, 2], [4], 3, out);
    expect(Array.from(out)).toEqual([0, 0, 4, 6, 7, 8]);
  });
});
