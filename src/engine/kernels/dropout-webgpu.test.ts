/**
 * The fused dropout against its reference, the stock composite x · mask / (1 − rate) with the JS twin
 * of the GPU's mask (docs/ARCHITECTURE.md, "Own kernels"), on WebGPU in Node (Dawn; SwiftShader
 * without a GPU). Skipped with the reason when the `webgpu` package or an adapter is missing outside
 * CI; under CI=true that fails instead.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Counters } from '../bench/instrument';
import { describeOnNodeWebGpu } from '../../../tests/support/node-webgpu';
import { initNodeBackend } from '../tf/node';
import { dropout } from '../tf/ops';
import { dropoutCounts, dropoutParity, gpuDropoutMask, jsDropoutMask } from './dropout-parity';
import { kernelMode, setKernelMode } from './mode';
import { loggedFallbacks } from './program';

const describeWebGpu = await describeOnNodeWebGpu();

/** A dropout site's seed as the model derives it (bert/model.ts: step seed · 7919 + site · 104729 + 17). */
const siteSeed = (step: number, site: number) => step * 7919 + site * 104729 + 17;

/** Fraction of elements where two masks agree. */
const agreement = (a: Float32Array, b: Float32Array) => a.reduce((n, v, i) => n + (v === b[i] ? 1 : 0), 0) / a.length;

describeWebGpu('fused dropout on WebGPU', () => {
  const before = kernelMode();
  beforeAll(async () => {
    await initNodeBackend('webgpu');
    setKernelMode('fused');
  });
  afterAll(() => setKernelMode(before));

  it('makes the JS twin’s mask bit for bit on an odd shape', async () => {
    for (const [seed, rate] of [
      [siteSeed(3, 0), 0.1],
      [siteSeed(3, 5), 0.5],
      [4_294_967_295, 0.37],
    ]) {
      const gpu = await gpuDropoutMask(seed, rate, [37, 129]);
      const js = jsDropoutMask(seed, rate, 37 * 129);
      expect(gpu.length).toBe(js.length);
      let mismatches = 0;
      for (let i = 0; i < js.length; i++) if (gpu[i] !== js[i]) mismatches++;
      expect(mismatches, `seed ${seed} rate ${rate}`).toBe(0);
    }
  });

  it('matches the stock composite forward and backward within 1e-6, 2 dispatches', async () => {
    const results = await dropoutParity();
    expect(results.length).toBeGreaterThanOrEqual(5);
    for (const r of results) {
      expect(r.forward, r.case).toBeLessThan(1e-6);
      expect(r.gradient, r.case).toBeLessThan(1e-6);
      expect(r.fusedDispatches, r.case).toBe(2);
    }
  });

  it('keeps 1 − rate of the elements (within 5 standard deviations on 100k)', async () => {
    const n = 100_003; // ~100k, odd on purpose
    for (const rate of [0.1, 0.5]) {
      const mask = await gpuDropoutMask(siteSeed(1, 2), rate, [n]);
      const kept = mask.reduce((a, b) => a + b, 0) / n;
      const sd = Math.sqrt((rate * (1 - rate)) / n);
      expect(Math.abs(kept - (1 - rate)), `rate ${rate}: kept ${kept}`).toBeLessThan(5 * sd);
    }
  });

  it('gives the same mask for the same seed and independent masks for other seeds and sites', async () => {
    const shape = [64, 129];
    const rate = 0.5;
    const n = 64 * 129;
    const a = await gpuDropoutMask(siteSeed(10, 3), rate, shape);
    expect(await gpuDropoutMask(siteSeed(10, 3), rate, shape)).toEqual(a);
    // Independent masks at rate ½ agree on half the elements (sd of the fraction: 0.5/√n).
    const tolerance = 5 * (0.5 / Math.sqrt(n));
    for (const other of [siteSeed(11, 3), siteSeed(10, 4), siteSeed(10, 3) + 1, siteSeed(10.5, 3)]) {
      const b = await gpuDropoutMask(other, rate, shape);
      expect(Math.abs(agreement(a, b) - 0.5), `seed ${other}`).toBeLessThan(tolerance);
    }
  });

  it('runs 1 dispatch forward, 2 with the backward, and uploads nothing', async () => {
    const { forward, both } = await dropoutCounts([37, 129], 0.1, 99);
    expect(forward.dispatches).toBe(1);
    expect(both.dispatches).toBe(2);
    expect(forward.uploads).toBe(0);
    expect(both.uploads).toBe(0);
    expect(both.uniformWrites).toBe(2); // the seed, rate and scale travel as uniforms
  });

  it('is what ops.dropout runs with fused kernels; the stock setting makes the same mask in JS', async () => {
    const x = tf.ones([37, 129]);
    await x.data();
    const counted = async (mode: 'fused' | 'stock') => {
      setKernelMode(mode);
      const counters = Counters.install();
      const y = dropout(x, 0.25, 42);
      const c = counters.snapshot();
      counters.uninstall();
      const values = (await y.data()) as Float32Array;
      y.dispose();
      return { c, mask: values.map((v) => (v !== 0 ? 1 : 0)) };
    };
    await counted('fused'); // puts x on the GPU, so the counts below are dropout's own
    const fused = await counted('fused');
    const stock = await counted('stock');
    expect(fused.c.dispatches).toBe(1);
    expect(fused.c.uploads).toBe(0);
    expect(fused.mask).toEqual(jsDropoutMask(42, 0.25, 37 * 129));
    // The stock path uploads the multiplier made in JavaScript from the same counters: same elements dropped.
    expect(stock.c.uploads).toBe(1);
    expect(stock.mask).toEqual(fused.mask);
    x.dispose();
  });

  it('falls back to stock tf.dropout, with a log line, for an input it does not take', () => {
    setKernelMode('fused');
    const ints = tf.ones([3, 5], 'int32');
    // Stock tf.dropout refuses non-float input; the fused path must not silently accept it.
    expect(() => dropout(ints, 0.5, 1)).toThrow(/floating point/);
    expect(loggedFallbacks()).toContain('dropout: dtype int32');
    ints.dispose();
  });
});
