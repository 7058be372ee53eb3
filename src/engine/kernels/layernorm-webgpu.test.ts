/**
 * The fused (residual +) LayerNorm against its reference, the stock-op LayerNorm (docs/ARCHITECTURE.md,
 * "Own kernels"), both on WebGPU in Node (Dawn; SwiftShader without a GPU). Skipped with the reason
 * when the `webgpu` package or an adapter is missing outside CI; under CI=true that fails instead.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeOnNodeWebGpu } from '../../../tests/support/node-webgpu';
import { initNodeBackend } from '../tf/node';
import { Counters } from '../bench/instrument';
import { addLayerNorm, layerNorm } from '../tf/ops';
import { LAYER_NORM_CASES, layerNormDispatches, layerNormParity } from './layernorm-parity';
import { relativeDifference as relativeDiff } from './program';
import { kernelMode, setKernelMode } from './mode';
import { loggedFallbacks } from './program';

const describeWebGpu = await describeOnNodeWebGpu();

/** Fused forward + backward: 1 forward (output and row statistics), 2 backward (dv; dgamma and dbeta). */
const FUSED_DISPATCHES = 3;

describeWebGpu('fused LayerNorm on WebGPU', () => {
  const before = kernelMode();
  beforeAll(async () => {
    await initNodeBackend('webgpu');
  });
  afterAll(() => setKernelMode(before));

  it('matches the stock ops, forward and gradients, on every case', async () => {
    const results = await layerNormParity();
    expect(results).toHaveLength(LAYER_NORM_CASES.length);
    for (const r of results) {
      expect(r.forward, `${r.case} forward`).toBeLessThan(1e-4);
      expect(r.gradient, `${r.case} gradient`).toBeLessThan(1e-4);
      expect(r.fusedDispatches, `${r.case} dispatches`).toBe(FUSED_DISPATCHES);
    }
  });

  it('takes 1 dispatch forward outside a tape and 5 forward + backward, with or without residual', async () => {
    for (const residual of [false, true]) {
      expect(await layerNormDispatches(residual)).toEqual({ forward: 1, total: FUSED_DISPATCHES });
    }
  });

  it('gives gradients to gamma/beta variables through tf.variableGrads and leaks no tensors', async () => {
    const x = tf.randomNormal([6, 19], 3, 2, 'float32', 11); // [6, 19]
    const r = tf.randomNormal([6, 19], 0, 1, 'float32', 12); // [6, 19]
    const w = tf.randomNormal([6, 19], 0, 1, 'float32', 13); // [6, 19] loss weights
    const gamma = tf.variable(tf.randomNormal([19], 1, 0.5, 'float32', 14), true, 'ln-test/gamma'); // [19]
    const beta = tf.variable(tf.randomNormal([19], 0, 0.5, 'float32', 15), true, 'ln-test/beta'); // [19]
    const grads = async (mode: 'fused' | 'stock') => {
      setKernelMode(mode);
      const tensorsBefore = tf.memory().numTensors;
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(addLayerNorm(x, r, gamma, beta, 1e-12), w)));
      const out = { gamma: await grads[gamma.name].data(), beta: await grads[beta.name].data() };
      tf.dispose([value, ...Object.values(grads)]);
      expect(tf.memory().numTensors, `${mode} tensors`).toBe(tensorsBefore);
      return out;
    };
    const fused = await grads('fused');
    const stock = await grads('stock');
    expect(relativeDiff(fused.gamma, stock.gamma)).toBeLessThan(1e-4);
    expect(relativeDiff(fused.beta, stock.beta)).toBeLessThan(1e-4);
    tf.dispose([x, r, w, gamma, beta]);
  });

  it('falls back to the stock ops, with a log line, for gamma/beta that are not [H]', async () => {
    const x = tf.randomNormal([4, 6], 0, 1, 'float32', 5); // [4, 6]
    const r = tf.randomNormal([4, 6], 0, 1, 'float32', 6); // [4, 6]
    const gamma = tf.randomNormal([1, 6], 1, 0.5, 'float32', 7); // [1, 6]: broadcasts, but not [H]
    const beta = tf.randomNormal([1, 6], 0, 0.5, 'float32', 8); // [1, 6]
    const run = async (mode: 'fused' | 'stock') => {
      setKernelMode(mode);
      await tf.zeros([1]).data();
      const counters = Counters.install();
      const y = addLayerNorm(x, r, gamma, beta, 1e-12);
      const plain = layerNorm(x, gamma, beta, 1e-12);
      const dispatches = counters.snapshot().dispatches;
      counters.uninstall();
      const out = { y: await y.data(), plain: await plain.data(), dispatches };
      tf.dispose([y, plain]);
      return out;
    };
    await run('stock'); // warm: the first run of these ops takes one dispatch less (measured)
    const stock = await run('stock');
    const fused = await run('fused');
    expect(loggedFallbacks()).toContain('layerNorm: gamma/beta not [H]');
    expect(Array.from(fused.y)).toEqual(Array.from(stock.y));
    expect(Array.from(fused.plain)).toEqual(Array.from(stock.plain));
    expect(fused.dispatches).toBe(stock.dispatches);
    expect(relativeDiff(fused.y, fused.plain)).toBeGreaterThan(1e-3); // the residual was added
    tf.dispose([x, r, gamma, beta]);
  });
});
