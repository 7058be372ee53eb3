/**
 * The fused self-attention against its reference, the stock ops of bert/model.ts (docs/ARCHITECTURE.md,
 * "Own kernels"), both on WebGPU in Node (Dawn; SwiftShader without a GPU). The cases live in
 * attention-parity.ts so the browser e2e runs the same ones. Skipped with the reason when the `webgpu`
 * package or an adapter is missing outside CI; under CI=true that fails instead.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { attentionMask, multiHeadAttention, type DropoutSites } from '../bert/model';
import { describeOnNodeWebGpu } from '../../../tests/support/node-webgpu';
import { initNodeBackend } from '../tf/node';
import { ATTENTION_CASES, attentionParity, type AttentionParityResult } from './attention-parity';
import { relativeDifference } from './program';
import { ATTENTION_MAX_SEQ } from './attention-webgpu';
import { kernelMode, setKernelMode } from './mode';
import { loggedFallbacks } from './program';

const describeWebGpu = await describeOnNodeWebGpu();

/** No dropout at all: what the model passes when training is off. */
const noDropout: DropoutSites = { apply: (x) => x, take: () => null };

describeWebGpu('fused self-attention on WebGPU', () => {
  const before = kernelMode();
  let results: AttentionParityResult[] = [];
  beforeAll(async () => {
    await initNodeBackend('webgpu');
    results = await attentionParity();
  });
  afterAll(() => setKernelMode(before));

  for (const c of ATTENTION_CASES) {
    it(`matches the stock ops forward and backward: ${c.name}`, () => {
      const r = results.find((x) => x.case === c.name);
      expect(r, c.name).toBeDefined();
      expect(r!.forward, 'context').toBeLessThan(1e-4);
      expect(r!.gradient, 'q, k, v gradients').toBeLessThan(1e-4);
      // One dispatch forward (P and the context), two backward (dS; dQ, dK and dV): anything else means the stock ops ran.
      expect(r!.forwardDispatches).toBe(1);
      expect(r!.fusedDispatches).toBe(3);
    });
  }

  it('drops out: the same inputs with and without dropout differ', async () => {
    setKernelMode('fused');
    const [q, k, v] = [1, 2, 3].map((s) => tf.randomNormal([14, 6], 0, 1, 'float32', s) as tf.Tensor2D);
    const plain = tf.tidy(() => multiHeadAttention({ q, k, v }, attentionMask(null), 2, 7, 2, 0.3, noDropout));
    const sites: DropoutSites = { apply: (x) => x, take: () => ({ seed: 5 }) };
    const dropped = tf.tidy(() => multiHeadAttention({ q, k, v }, attentionMask(null), 2, 7, 2, 0.3, sites));
    expect(relativeDifference(await dropped.data(), await plain.data())).toBeGreaterThan(1e-2);
    tf.dispose([q, k, v, plain, dropped]);
  });

  it(`falls back to the stock ops, with a log line, beyond ${ATTENTION_MAX_SEQ} tokens`, async () => {
    const B = 1,
      T = ATTENTION_MAX_SEQ + 3,
      A = 2,
      H = 4;
    const [q, k, v] = [7, 8, 9].map((s) => tf.randomNormal([B * T, H], 0, 1, 'float32', s) as tf.Tensor2D);
    const maskTensor = tf.tensor2d(
      Array.from({ length: T }, (_, i) => (i < T - 10 ? 1 : 0)),
      [B, T],
      'int32',
    );
    const attend = async (mode: 'fused' | 'stock') => {
      setKernelMode(mode);
      const mask = attentionMask(maskTensor);
      const out = tf.tidy(() => multiHeadAttention({ q, k, v }, mask, B, T, A, 0, noDropout));
      const values = await out.data();
      tf.dispose(out);
      mask.bias()?.dispose();
      return values;
    };
    const fused = await attend('fused');
    const stock = await attend('stock');
    expect(Array.from(fused)).toEqual(Array.from(stock));
    expect(loggedFallbacks()).toContain(`attention: sequence length ${T} > ${ATTENTION_MAX_SEQ}`);
    tf.dispose([q, k, v, maskTensor]);
  });
});
