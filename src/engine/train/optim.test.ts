import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { EngineError } from '../errors';
import { AdamW, GradAccumulator, clipByGlobalNorm, defaultDecay, globalNorm } from './optim';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * Reference: the algorithm box of torch.optim.AdamW (amsgrad=False), in float64:
 *   θ ← θ − γλθ;  m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;
 *   m̂ = m/(1−β1^t);  v̂ = v/(1−β2^t);  θ ← θ − γ m̂ / (sqrt(v̂) + ε)
 */
function referenceAdamW(
  p0: number[],
  grads: number[][],
  lr: number,
  wd: number,
  b1 = 0.9,
  b2 = 0.999,
  eps = 1e-8,
): number[][] {
  const p = p0.slice();
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const out: number[][] = [];
  grads.forEach((g, k) => {
    const t = k + 1;
    for (let i = 0; i < p.length; i++) {
      p[i] -= lr * wd * p[i];
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      const mHat = m[i] / (1 - b1 ** t);
      const vHat = v[i] / (1 - b2 ** t);
      p[i] -= (lr * mHat) / (Math.sqrt(vHat) + eps);
    }
    out.push(p.slice());
  });
  return out;
}

const G = [
  [0.1, -0.2],
  [0.3, 0.05],
  [-0.4, 0.2],
];
const P0 = [1.0, -2.0];

function runOptimizer(names: string[], wd: number, lr = 0.01) {
  const vars = names.map((n) => tf.variable(tf.tensor1d(P0), true, `${n}-${Math.random()}`));
  const opt = new AdamW(
    names.map((name, i) => ({ name, variable: vars[i] })),
    { weightDecay: wd, maxGradNorm: 0 },
  );
  const history: number[][][] = [];
  for (const g of G) {
    const grads: tf.NamedTensorMap = {};
    for (const n of names) grads[n] = tf.tensor1d(g);
    opt.step(grads, lr);
    tf.dispose(grads);
    history.push(vars.map((v) => Array.from(v.dataSync())));
  }
  opt.dispose();
  tf.dispose(vars);
  return history;
}

describe('AdamW', () => {
  it('matches torch.optim.AdamW for 3 steps without weight decay', () => {
    const got = runOptimizer(['w'], 0);
    const want = referenceAdamW(P0, G, 0.01, 0);
    for (let s = 0; s < 3; s++) for (let i = 0; i < 2; i++) expect(got[s][0][i]).toBeCloseTo(want[s][i], 6);
    // Hand check of step 1: m̂ = g, v̂ = g², so the update is lr·sign(g) (up to eps).
    expect(got[0][0][0]).toBeCloseTo(1.0 - 0.01, 6);
    expect(got[0][0][1]).toBeCloseTo(-2.0 + 0.01, 6);
  });

  it('matches torch.optim.AdamW for 3 steps with decoupled weight decay, and skips decay on biases', () => {
    const got = runOptimizer(['dense.weight', 'dense.bias'], 0.1);
    const withDecay = referenceAdamW(P0, G, 0.01, 0.1);
    const noDecay = referenceAdamW(P0, G, 0.01, 0);
    for (let s = 0; s < 3; s++) {
      for (let i = 0; i < 2; i++) {
        expect(got[s][0][i]).toBeCloseTo(withDecay[s][i], 6);
        expect(got[s][1][i]).toBeCloseTo(noDecay[s][i], 6);
      }
    }
    // Hand check of step 1 with decay: p·(1 − lr·wd) − lr·sign(g) = 1·0.999 − 0.01
    expect(got[0][0][0]).toBeCloseTo(0.989, 6);
    expect(got[0][0][1]).toBeCloseTo(-2 * 0.999 + 0.01, 6);
    // weight decay actually changed something (the test can fail)
    expect(Math.abs(got[2][0][0] - got[2][1][0])).toBeGreaterThan(1e-4);
  });

  it('default decay predicate excludes biases and LayerNorm parameters', () => {
    for (const n of [
      'bert.encoder.layer.0.attention.self.query.bias',
      'classifier.bias',
      'bert.embeddings.LayerNorm.weight',
      'embeddings.LayerNorm.gamma',
      'encoder.layer.3.output.LayerNorm.beta',
      'ln_f.weight',
      'layer_norm.weight',
    ]) {
      expect(defaultDecay(n), n).toBe(false);
    }
    for (const n of [
      'bert.encoder.layer.0.attention.self.query.weight',
      'bert.embeddings.word_embeddings.weight',
      'classifier.weight',
      'pooler.dense.weight',
    ]) {
      expect(defaultDecay(n), n).toBe(true);
    }
    const x = tf.variable(tf.zeros([2]), true, `x-${Math.random()}`);
    const opt = new AdamW([{ name: 'my.norm.scale', variable: x }], { decay: (n) => !n.endsWith('scale') });
    expect(opt.decays('my.norm.scale')).toBe(false);
    opt.dispose();
    x.dispose();
  });

  it('skips parameters without a gradient and rejects unknown names and wrong shapes', () => {
    const a = tf.variable(tf.tensor1d([1, 2]), true, `a-${Math.random()}`);
    const b = tf.variable(tf.tensor1d([3, 4]), true, `b-${Math.random()}`);
    const opt = new AdamW(
      [
        { name: 'a', variable: a },
        { name: 'b', variable: b },
      ],
      { weightDecay: 0.5, maxGradNorm: 0 },
    );
    const g = { a: tf.tensor1d([1, 1]) };
    opt.step(g, 0.1);
    expect(Array.from(b.dataSync())).toEqual([3, 4]); // no decay either
    expect(Array.from(a.dataSync())).not.toEqual([1, 2]);
    expect(() => opt.step({ zzz: tf.tensor1d([1, 1]) })).toThrow(/"zzz" does not match/);
    expect(() => opt.step({ a: tf.tensor1d([1, 1, 1]) })).toThrow(EngineError);
    expect(opt.stepCount).toBe(1);
    opt.dispose();
    expect(() => opt.step(g)).toThrow(/dispose/);
    tf.dispose([a, b, g.a]);
  });

  it('clips by global norm like clip_grad_norm_ and returns the pre-clip norm', async () => {
    const grads = { w: tf.tensor1d([3, 4]), b: tf.tensor1d([12]) }; // norm 13
    const { grads: clipped, norm } = clipByGlobalNorm(grads, 1);
    expect((await norm.data())[0]).toBeCloseTo(13, 5);
    const coef = 1 / (13 + 1e-6);
    expect(Array.from(await clipped.w.data())[0]).toBeCloseTo(3 * coef, 6);
    expect(Array.from(await clipped.w.data())[1]).toBeCloseTo(4 * coef, 6);
    expect((await clipped.b.data())[0]).toBeCloseTo(12 * coef, 6);
    // below the threshold nothing changes
    const { grads: same, norm: n2 } = clipByGlobalNorm(grads, 100);
    expect(Array.from(await same.w.data())).toEqual([3, 4]);
    const gn = globalNorm([grads.w, grads.b]);
    expect((await gn.data())[0]).toBeCloseTo(13, 5);
    tf.dispose([grads.w, grads.b, clipped.w, clipped.b, norm, same.w, same.b, n2, gn]);

    // inside AdamW: the step uses clipped grads and reports the pre-clip norm
    const p = tf.variable(tf.tensor1d([0, 0]), true, `p-${Math.random()}`);
    const opt = new AdamW([{ name: 'p', variable: p }], { maxGradNorm: 1, weightDecay: 0 });
    const g = { p: tf.tensor1d([30, 40]) };
    const { gradNorm } = opt.step(g, 0.01);
    expect(gradNorm).not.toBeNull();
    expect((await gradNorm!.data())[0]).toBeCloseTo(50, 4);
    const state = await opt.exportState();
    expect(state.slots[0].m[0]).toBeCloseTo(0.1 * 0.6, 5); // m = (1-β1)·clipped g
    tf.dispose([gradNorm!, g.p, p]);
    opt.dispose();
  });

  it('exportState/importState resume training exactly', async () => {
    const mk = (vals: number[]) => tf.variable(tf.tensor1d(vals), true, `r-${Math.random()}`);
    const p1 = mk(P0);
    const opt1 = new AdamW([{ name: 'w', variable: p1 }], { maxGradNorm: 0 });
    for (const g of G.slice(0, 2)) tf.tidy(() => void opt1.step({ w: tf.tensor1d(g) }, 0.01));
    const state = await opt1.exportState();
    expect(state.step).toBe(2);
    const p2 = mk(Array.from(await p1.data()));
    const opt2 = new AdamW([{ name: 'w', variable: p2 }], { maxGradNorm: 0 });
    opt2.importState(state);
    tf.tidy(() => void opt1.step({ w: tf.tensor1d(G[2]) }, 0.01));
    tf.tidy(() => void opt2.step({ w: tf.tensor1d(G[2]) }, 0.01));
    expect(Array.from(await p2.data())).toEqual(Array.from(await p1.data()));
    expect(Array.from(await p1.data())[0]).toBeCloseTo(referenceAdamW(P0, G, 0.01, 0.01)[2][0], 6);
    expect(() =>
      opt2.importState({ step: 1, slots: [{ name: 'w', shape: [3], m: new Float32Array(3), v: new Float32Array(3) }] }),
    ).toThrow(/shape \[3\]/);
    expect(() => opt2.importState({ step: 1, slots: [] })).toThrow(/no entry for parameter "w"/);
    opt1.dispose();
    opt2.dispose();
    tf.dispose([p1, p2]);
  });

  it('leaks no tensors over 50 steps and frees everything on dispose', async () => {
    const before = tf.memory().numTensors;
    // created in tidy so the initial-value tensors do not count as leaks
    const w = tf.tidy(() => tf.variable(tf.randomNormal([4, 3], 0, 0.1, 'float32', 1), true, `w-${Math.random()}`));
    const bias = tf.tidy(() => tf.variable(tf.zeros([3]), true, `bias-${Math.random()}`));
    const x = tf.randomNormal([8, 4], 0, 1, 'float32', 2);
    const y = tf.randomNormal([8, 3], 0, 1, 'float32', 3);
    const opt = new AdamW(
      [
        { name: 'dense.weight', variable: w },
        { name: 'dense.bias', variable: bias },
      ],
      { lr: 0.05 },
    );
    const baseline = tf.memory().numTensors;
    let lastLoss = Infinity;
    let firstLoss = 0;
    for (let s = 0; s < 50; s++) {
      const { value, grads } = tf.variableGrads(
        () => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, w), bias), y))) as tf.Scalar,
        [w, bias],
      );
      const named = { 'dense.weight': grads[w.name], 'dense.bias': grads[bias.name] };
      const { gradNorm } = opt.step(named);
      if (s === 0) firstLoss = (await value.data())[0];
      lastLoss = (await value.data())[0];
      tf.dispose([value, gradNorm!, ...Object.values(grads)]);
    }
    expect(tf.memory().numTensors).toBe(baseline);
    expect(lastLoss).toBeLessThan(firstLoss); // it actually optimises
    opt.dispose();
    tf.dispose([w, bias, x, y]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('does no blocking readback during a step', () => {
    const w = tf.tidy(() => tf.variable(tf.ones([3]), true, `rb-${Math.random()}`));
    const opt = new AdamW([{ name: 'w', variable: w }], { maxGradNorm: 1 });
    const backend = tf.backend();
    const orig = backend.readSync.bind(backend);
    let reads = 0;
    backend.readSync = (dataId: object) => {
      reads++;
      return orig(dataId);
    };
    try {
      const g = { w: tf.tensor1d([1, 2, 3]) };
      const { gradNorm } = opt.step(g);
      tf.dispose([g.w, gradNorm!]);
    } finally {
      backend.readSync = orig;
    }
    expect(reads).toBe(0);
    opt.dispose();
    w.dispose();
  });

  it('accepts plain tf.Variable[] keyed by variable name', () => {
    const v = tf.variable(tf.tensor1d([1, 2]), true, `plain-${Math.random()}`);
    const opt = new AdamW([v], { maxGradNorm: 0, weightDecay: 0 });
    tf.tidy(() => void opt.step({ [v.name]: tf.tensor1d([1, -1]) }, 0.1));
    expect(v.dataSync()[0]).toBeCloseTo(0.9, 5);
    opt.dispose();
    v.dispose();
  });
});

describe('GradAccumulator', () => {
  it('sums and averages micro-batch gradients (weighted) without leaking', async () => {
    const start = tf.memory().numTensors;
    const acc = new GradAccumulator();
    const g1 = { w: tf.tensor1d([1, 2]) };
    const g2 = { w: tf.tensor1d([3, 6]) };
    acc.add(g1, 1);
    acc.add(g2, 3);
    expect(acc.count).toBe(2);
    const mean = acc.take('mean');
    expect(Array.from(await mean.w.data())).toEqual([(1 + 9) / 4, (2 + 18) / 4]);
    expect(acc.count).toBe(0);
    acc.add(g1);
    acc.add(g1);
    const sum = acc.take('sum');
    expect(Array.from(await sum.w.data())).toEqual([2, 4]);
    acc.add(g2);
    acc.reset();
    expect(() => acc.take()).toThrow(/before any add/);
    // inputs untouched, outputs owned by the caller
    tf.dispose([mean.w, sum.w, g1.w, g2.w]);
    acc.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('keeps memory flat over many accumulate/step cycles', () => {
    const w = tf.variable(tf.ones([5]), true, `acc-w-${Math.random()}`);
    const opt = new AdamW([{ name: 'w', variable: w }]);
    const acc = new GradAccumulator();
    const baseline = tf.memory().numTensors;
    for (let s = 0; s < 20; s++) {
      for (let k = 0; k < 3; k++) tf.tidy(() => acc.add({ w: tf.fill([5], k + 1) }));
      const g = acc.take();
      const { gradNorm } = opt.step(g);
      tf.dispose([...Object.values(g), gradNorm!]);
    }
    expect(tf.memory().numTensors).toBe(baseline);
    opt.dispose();
    w.dispose();
  });
});

describe('globalNorm of many tensors', () => {
  it('gives the global norm of 41 tensors', () => {
    const tensors = Array.from({ length: 41 }, (_, i) => tf.fill([2], i));
    const norm = globalNorm(tensors);
    const expected = Math.sqrt(Array.from({ length: 41 }, (_, i) => 2 * i * i).reduce((a, b) => a + b, 0));
    expect(norm.dataSync()[0]).toBeCloseTo(expected, 3);
    tf.dispose([...tensors, norm]);
  });
});
