/**
 * Our tiled products (the linear layer's weight gradients, the packed q/k/v projection) against the
 * stock ops on WebGPU in Node (Dawn; SwiftShader without a GPU). Skipped with the reason when the
 * `webgpu` package or an adapter is missing outside CI; under CI=true that fails instead.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Counters } from '../bench/instrument';
import { describeOnNodeWebGpu } from '../../../tests/support/node-webgpu';
import { initNodeBackend } from '../tf/node';
import { MATMUL_CASES, matmulParity } from './matmul-parity';
import { dispatchProducts, fusedLinearWeightGrads, rowMajor, transposed } from './matmul-webgpu';
import { kernelMode, setKernelMode } from './mode';
import { relativeDifference } from './program';
import { emptyTensor } from './raw-dispatch';

const describeWebGpu = await describeOnNodeWebGpu();

describeWebGpu('tiled products on WebGPU', () => {
  const before = kernelMode();
  beforeAll(async () => {
    await initNodeBackend('webgpu');
  });
  afterAll(() => setKernelMode(before));

  it('match the stock ops, forward and every gradient, in the dispatches stated', async () => {
    const results = await matmulParity();
    expect(results).toHaveLength(MATMUL_CASES.length);
    for (const r of results) {
      expect(r.forward, `${r.case} forward`).toBeLessThan(1e-5);
      expect(r.gradient, `${r.case} gradient`).toBeLessThan(1e-5);
      // Forward: q/k/v one dispatch (three products), linear tfjs's fused matmul. Under the tape the
      // forward runs again, then 2 backward: dx; then our dw with db (stock linear: dw and db apart).
      expect(r.forwardDispatches, r.case).toBe(1);
      expect(r.fusedDispatches, r.case).toBe(3);
    }
  });

  it('sums products and adds the bias exactly as written, with many workgroups', async () => {
    // out = a·b + c·dᵀ + bias over [70, 90]: 3 × 3 tiles, two terms with different depths.
    const a = tf.randomNormal([70, 21], 0, 1, 'float32', 1) as tf.Tensor2D;
    const b = tf.randomNormal([21, 90], 0, 1, 'float32', 2) as tf.Tensor2D;
    const c = tf.randomNormal([70, 40], 0, 1, 'float32', 3) as tf.Tensor2D;
    const d = tf.randomNormal([90, 40], 0, 1, 'float32', 4) as tf.Tensor2D;
    const bias = tf.randomNormal([90], 0, 1, 'float32', 5) as tf.Tensor1D;
    const out = emptyTensor([70, 90]);
    dispatchProducts('test_sum', [
      {
        rows: 70,
        cols: 90,
        terms: [
          { a: rowMajor(a, 21), b: rowMajor(b, 90), depth: 21 },
          { a: rowMajor(c, 40), b: transposed(d, 40), depth: 40 },
        ],
        bias: { tensor: bias, offset: 0 },
        out: { tensor: out, offset: 0 },
      },
    ]);
    const expected = tf.tidy(() => tf.add(tf.add(tf.matMul(a, b), tf.matMul(c, d, false, true)), bias));
    const got = await out.data();
    const want = await expected.data();
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    expect(worst).toBeLessThan(1e-4);
    tf.dispose([a, b, c, d, bias, out, expected]);
  });

  it('keeps apart dispatches of equal shapes that share tensors differently or read other offsets', async () => {
    // Same name and shapes each time; the cached pipeline and WGSL must still follow which views
    // share a tensor (x·w1, x·w2 against x·w1, y·w1) and where the bias is read.
    const x = tf.randomNormal([8, 5], 0, 1, 'float32', 11) as tf.Tensor2D;
    const y = tf.randomNormal([8, 5], 0, 1, 'float32', 12) as tf.Tensor2D;
    const w1 = tf.randomNormal([5, 6], 0, 1, 'float32', 13) as tf.Tensor2D;
    const w2 = tf.randomNormal([5, 6], 0, 1, 'float32', 14) as tf.Tensor2D;
    const biases = tf.randomNormal([12], 0, 1, 'float32', 15) as tf.Tensor1D; // two [6] biases
    const run = async (pairs: [tf.Tensor2D, tf.Tensor2D][], biasOffset: number) => {
      const outs = pairs.map(() => emptyTensor([8, 6]));
      dispatchProducts(
        'test_aliasing',
        pairs.map(([a, b], i) => ({
          rows: 8,
          cols: 6,
          terms: [{ a: rowMajor(a, 5), b: rowMajor(b, 6), depth: 5 }],
          bias: { tensor: biases, offset: biasOffset },
          out: { tensor: outs[i], offset: 0 },
        })),
      );
      const bias = biases.slice(biasOffset, 6);
      let worst = 0;
      for (const [i, [a, b]] of pairs.entries()) {
        const want = tf.add(tf.matMul(a, b), bias);
        const [got, expected] = [await outs[i].data(), await want.data()];
        for (let k = 0; k < expected.length; k++) worst = Math.max(worst, Math.abs(got[k] - expected[k]));
        want.dispose();
      }
      tf.dispose([...outs, bias]);
      return worst;
    };
    // Shared x then shared w1, the bias at another offset, and the first pattern again (cached).
    const calls = [
      { first: [x, w1], second: [x, w2], biasOffset: 0 },
      { first: [x, w1], second: [y, w1], biasOffset: 0 },
      { first: [x, w1], second: [y, w1], biasOffset: 6 },
      { first: [x, w1], second: [x, w2], biasOffset: 0 },
    ] as const;
    for (const [i, { first, second, biasOffset }] of calls.entries())
      expect(await run([[...first], [...second]], biasOffset), `call ${i}`).toBeLessThan(1e-5);
    tf.dispose([x, y, w1, w2, biases]);
  });

  it("gives a linear layer's dw = xᵀ·dy and db = Σ dy in one dispatch, deep and wide", async () => {
    for (const [N, inSize, outSize] of [
      [1, 1, 1],
      [2048, 37, 19],
      [130, 5, 1025],
    ]) {
      const x = tf.randomNormal([N, inSize], 0, 1, 'float32', N + inSize) as tf.Tensor2D;
      const dy = tf.randomNormal([N, outSize], 0, 1, 'float32', N + outSize) as tf.Tensor2D;
      const stockW = tf.matMul(x, dy, true, false); // [in, out]
      const stockB = tf.sum(dy, 0); // [out]
      await stockB.data(); // everything is on the GPU now
      const counters = Counters.install();
      const [dw, db] = fusedLinearWeightGrads(x, dy);
      const dispatches = counters.snapshot().dispatches;
      counters.uninstall();
      const shape = `[${N}, ${inSize}] → ${outSize}`;
      expect(dispatches, shape).toBe(1);
      expect(relativeDifference(await dw.data(), await stockW.data()), `${shape} dw`).toBeLessThan(1e-5);
      expect(relativeDifference(await db.data(), await stockB.data()), `${shape} db`).toBeLessThan(1e-5);
      tf.dispose([x, dy, stockW, stockB, dw, db]);
    }
  });
});
