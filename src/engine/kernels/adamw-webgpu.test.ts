/**
 * The fused AdamW kernels against their reference, the stock-op update (docs/ARCHITECTURE.md,
 * "Own kernels"), both on WebGPU in Node (Dawn; SwiftShader without a GPU). Skipped with the reason
 * when the `webgpu` package or an adapter is missing outside CI; under CI=true that fails instead.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeOnNodeWebGpu } from '../../../tests/support/node-webgpu';
import { initNodeBackend } from '../tf/node';
import { Counters } from '../bench/instrument';
import { AdamW } from '../train/optim';
import { paramsPerAdamWDispatch, planMomentGroups } from './adamw-webgpu';
import { kernelMode, setKernelMode } from './mode';

const describeWebGpu = await describeOnNodeWebGpu();

/** Odd sizes on purpose: not multiples of the workgroup, a single element, a LayerNorm-like bias. */
const SHAPES: Record<string, number[]> = {
  'encoder.layer.0.attention.self.query.weight': [5, 7],
  'encoder.layer.0.attention.self.query.bias': [7],
  'encoder.layer.0.output.LayerNorm.weight': [1],
  'classifier.weight': [3, 67],
};

/** Runs `steps` AdamW steps with seeded gradients in `mode`; the parameters and moments after. */
async function train(mode: 'fused' | 'stock', steps: number, maxGradNorm: number) {
  setKernelMode(mode);
  const params = Object.entries(SHAPES).map(([name, shape], i) => ({
    name,
    variable: tf.variable(tf.randomNormal(shape, 0, 1, 'float32', 100 + i), true, `${mode}/${name}`),
  }));
  const optimizer = new AdamW(params, { lr: 3e-2, weightDecay: 0.1, maxGradNorm });
  const norms: number[] = [];
  for (let step = 0; step < steps; step++) {
    const grads = tf.tidy(() =>
      Object.fromEntries(
        params.map((p, i) => [p.name, tf.randomNormal(p.variable.shape, 0, 2, 'float32', 1000 * (step + 1) + i)]),
      ),
    );
    const { gradNorm } = optimizer.step(grads);
    if (gradNorm) norms.push((await gradNorm.data())[0]);
    gradNorm?.dispose();
    tf.dispose(Object.values(grads));
  }
  const state = await optimizer.exportState();
  const values = await Promise.all(params.map(async (p) => Array.from(await p.variable.data())));
  optimizer.dispose();
  params.forEach((p) => p.variable.dispose());
  return { values, state, norms };
}

const maxRelDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1e-6, Math.abs(b[i])));
  return worst;
};

describe('planMomentGroups', () => {
  it('packs up to 3 parameters per group under the byte limit and leaves out one too large alone', () => {
    const { groups, unpacked } = planMomentGroups([10, 20, 30, 40, 1000, 5, 6], 8 * 100, 3);
    expect(groups.map((g) => g.members)).toEqual([
      [0, 1, 2],
      [3, 5, 6],
    ]);
    expect(groups.map((g) => g.offsets)).toEqual([
      [0, 10, 30],
      [0, 40, 45],
    ]);
    expect(groups.map((g) => g.total)).toEqual([60, 51]);
    expect(unpacked).toEqual([4]);
    // A group closes early when the next parameter would take it over the limit.
    expect(planMomentGroups([60, 50, 10], 8 * 100, 3).groups.map((g) => g.members)).toEqual([[0], [1, 2]]);
    expect(planMomentGroups([1, 1, 1, 1, 1], 8 * 100, 5).groups.map((g) => g.members)).toEqual([[0, 1, 2, 3, 4]]);
  });

  it("fits as many parameters per dispatch as the device binds: 3 with WebGPU's guaranteed 8 buffers", () => {
    expect(paramsPerAdamWDispatch(8)).toBe(3);
    expect(paramsPerAdamWDispatch(12)).toBe(5);
    expect(paramsPerAdamWDispatch(16)).toBe(7);
    expect(paramsPerAdamWDispatch(1000)).toBe(8);
  });
});

describeWebGpu('fused AdamW on WebGPU', () => {
  const before = kernelMode();
  beforeAll(async () => {
    await initNodeBackend('webgpu');
  });
  afterAll(() => setKernelMode(before));

  for (const maxGradNorm of [0, 0.5]) {
    it(`matches the stock-op update over 5 steps (clipping ${maxGradNorm ? `at ${maxGradNorm}` : 'off'})`, async () => {
      const fused = await train('fused', 5, maxGradNorm);
      const stock = await train('stock', 5, maxGradNorm);
      // The fused norm sums the squares in another order (global-norm-webgpu.ts): float32 rounding only.
      expect(fused.norms).toHaveLength(stock.norms.length);
      expect(maxRelDiff(fused.norms, stock.norms)).toBeLessThan(1e-6);
      fused.values.forEach((v, i) => expect(maxRelDiff(v, stock.values[i]), `param ${i}`).toBeLessThan(1e-4));
      fused.state.slots.forEach((s, i) => {
        expect(maxRelDiff(s.m, stock.state.slots[i].m), `m ${s.name}`).toBeLessThan(1e-4);
        expect(maxRelDiff(s.v, stock.state.slots[i].v), `v ${s.name}`).toBeLessThan(1e-4);
      });
      // It trained: the parameters moved from where they started.
      const start = Array.from(tf.randomNormal(SHAPES['classifier.weight'], 0, 1, 'float32', 103).dataSync());
      expect(maxRelDiff(fused.values[3], start)).toBeGreaterThan(1e-3);
    });
  }

  it('updates several parameters per dispatch, in place, where the stock ops take many dispatches each', async () => {
    const dispatches = async (mode: 'fused' | 'stock') => {
      setKernelMode(mode);
      const params = Object.entries(SHAPES).map(([name, shape]) => ({ name, variable: tf.variable(tf.ones(shape)) }));
      const optimizer = new AdamW(params, { maxGradNorm: 0 });
      const grads = Object.fromEntries(params.map((p) => [p.name, tf.onesLike(p.variable)]));
      optimizer.step(grads); // the first fused step packs the moments (a one-time copy)
      await await tf.zeros([1]).data(); // settle pending work before counting
      const tensorsBefore = tf.memory().numTensors;
      const counters = Counters.install();
      optimizer.step(grads);
      const counted = counters.snapshot().dispatches;
      counters.uninstall();
      const tensorsAfter = tf.memory().numTensors;
      tf.dispose(Object.values(grads));
      optimizer.dispose();
      params.forEach((p) => p.variable.dispose());
      return { counted, tensorsBefore, tensorsAfter };
    };
    const parameters = Object.keys(SHAPES).length;
    const fused = await dispatches('fused');
    const device = (tf.backend() as unknown as { device: GPUDevice }).device;
    const perDispatch = paramsPerAdamWDispatch(device.limits.maxStorageBuffersPerShaderStage);
    expect(fused.counted).toBe(Math.ceil(parameters / perDispatch));
    expect(fused.tensorsAfter).toBe(fused.tensorsBefore);
    expect((await dispatches('stock')).counted).toBeGreaterThan(3 * 3 * parameters);
  });

  it('keeps the state when the kernel setting changes between steps, and in export/import', async () => {
    // 5 steps switching fused → stock → fused (the moments change layout twice) against 5 stock steps.
    const run = async (modes: Array<'fused' | 'stock'>, restoreAfter = -1) => {
      const params = Object.entries(SHAPES).map(([name, shape], i) => ({
        name,
        variable: tf.variable(tf.randomNormal(shape, 0, 1, 'float32', 300 + i)),
      }));
      let optimizer = new AdamW(params, { lr: 3e-2, weightDecay: 0.1, maxGradNorm: 0.5 });
      for (const [step, mode] of modes.entries()) {
        setKernelMode(mode);
        const grads = tf.tidy(() =>
          Object.fromEntries(
            params.map((p, i) => [p.name, tf.randomNormal(p.variable.shape, 0, 2, 'float32', 50 * (step + 1) + i)]),
          ),
        );
        optimizer.step(grads);
        tf.dispose(Object.values(grads));
        if (step === restoreAfter) {
          // A checkpoint round trip: a new optimizer restores the exported moments.
          const state = await optimizer.exportState();
          optimizer.dispose();
          optimizer = new AdamW(params, { lr: 3e-2, weightDecay: 0.1, maxGradNorm: 0.5 });
          optimizer.importState(state);
        }
      }
      const values = await Promise.all(params.map(async (p) => Array.from(await p.variable.data())));
      const state = await optimizer.exportState();
      optimizer.dispose();
      params.forEach((p) => p.variable.dispose());
      return { values, state };
    };
    const reference = await run(['stock', 'stock', 'stock', 'stock', 'stock']);
    for (const [modes, restoreAfter] of [
      [['fused', 'fused', 'stock', 'stock', 'fused'], -1],
      [['fused', 'fused', 'fused', 'fused', 'fused'], 1],
      [['stock', 'fused', 'fused', 'fused', 'fused'], 2],
    ] as const) {
      const got = await run([...modes], restoreAfter);
      got.values.forEach((v, i) =>
        expect(maxRelDiff(v, reference.values[i]), `${modes} param ${i}`).toBeLessThan(1e-4),
      );
      got.state.slots.forEach((s, i) => {
        expect(maxRelDiff(s.m, reference.state.slots[i].m), `${modes} m ${s.name}`).toBeLessThan(1e-4);
        expect(maxRelDiff(s.v, reference.state.slots[i].v), `${modes} v ${s.name}`).toBeLessThan(1e-4);
      });
    }
  });

  it("leaves a tensor that shares a parameter's buffer as it was", async () => {
    setKernelMode('fused');
    const variable = tf.variable(tf.tensor1d([1, 2, 3, 4]), true, 'shared/param');
    const optimizer = new AdamW([{ name: 'p', variable }], { lr: 0.1, maxGradNorm: 0 });
    const grads = { p: tf.tensor1d([1, 1, 1, 1]) };
    optimizer.step(grads); // packs the moments
    const snapshot = tf.clone(variable); // shares the variable's buffer
    const before = Array.from(await snapshot.data());
    optimizer.step(grads);
    expect(Array.from(await snapshot.data())).toEqual(before);
    expect(maxRelDiff(await variable.data(), before)).toBeGreaterThan(1e-3); // the parameter did move
    snapshot.dispose();
    grads.p.dispose();
    optimizer.dispose();
    variable.dispose();
  });

  it('reads a parameter back with its new values after an in-place step', async () => {
    // tfjs keeps a tensor's values on the CPU after a read and returns them on the next: a
    // checkpoint taken after an in-place update must not see the values from before it.
    const run = async (mode: 'fused' | 'stock') => {
      setKernelMode(mode);
      const variable = tf.variable(tf.tensor1d([1, -2, 3, -4]), true, `${mode}/read-back`);
      const optimizer = new AdamW([{ name: 'p', variable }], { lr: 0.1, maxGradNorm: 0 });
      const grads = { p: tf.tensor1d([1, 2, -1, 0.5]) };
      const seen: number[][] = [];
      for (let step = 0; step < 3; step++) {
        optimizer.step(grads);
        seen.push(Array.from(await variable.data())); // cached on the CPU by tfjs until the next write
      }
      const state = await optimizer.exportState();
      await optimizer.exportState(); // a second read of the moments, cached too
      optimizer.step(grads);
      const after = await optimizer.exportState();
      seen.push(Array.from(await variable.data()));
      grads.p.dispose();
      optimizer.dispose();
      variable.dispose();
      return { seen, m: [Array.from(state.slots[0].m), Array.from(after.slots[0].m)] };
    };
    const fused = await run('fused');
    const stock = await run('stock');
    fused.seen.forEach((v, i) => expect(maxRelDiff(v, stock.seen[i]), `step ${i + 1}`).toBeLessThan(1e-5));
    expect(maxRelDiff(fused.m[1], stock.m[1])).toBeLessThan(1e-5);
    expect(maxRelDiff(fused.seen[3], fused.seen[2])).toBeGreaterThan(1e-3); // it moved after the reads
  });

  it('runs a parameter too large for a moment group through the per-parameter programs', async () => {
    const fusedSmallGroups = async (momentGroupBytes?: number) => {
      setKernelMode('fused');
      const params = Object.entries(SHAPES).map(([name, shape], i) => ({
        name,
        variable: tf.variable(tf.randomNormal(shape, 0, 1, 'float32', 700 + i)),
      }));
      const optimizer = new AdamW(params, { lr: 3e-2, weightDecay: 0.1, maxGradNorm: 0.5, momentGroupBytes });
      for (let step = 0; step < 3; step++) {
        const grads = tf.tidy(() =>
          Object.fromEntries(
            params.map((p, i) => [p.name, tf.randomNormal(p.variable.shape, 0, 2, 'float32', 900 + 9 * step + i)]),
          ),
        );
        optimizer.step(grads);
        tf.dispose(Object.values(grads));
      }
      const values = await Promise.all(params.map(async (p) => Array.from(await p.variable.data())));
      optimizer.dispose();
      params.forEach((p) => p.variable.dispose());
      return values;
    };
    // 8 · 201 bytes of moments for classifier.weight [3, 67]: over 1,000, so it stays unpacked.
    const split = await fusedSmallGroups(1000);
    const packed = await fusedSmallGroups();
    split.forEach((v, i) => expect(maxRelDiff(v, packed[i]), `param ${i}`).toBeLessThan(1e-5));
  });
});
