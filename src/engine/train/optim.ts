/**
 * AdamW with decoupled weight decay (exactly `torch.optim.AdamW`, amsgrad=False), global
 * gradient-norm clipping (exactly `torch.nn.utils.clip_grad_norm_`) and a gradient accumulator.
 *
 * Rules on the training path (docs/ARCHITECTURE.md, "Performance"): every op runs inside `tf.tidy`, nothing is read back to
 * the CPU (`dataSync`/`arraySync`) during a step, and constants are uploaded once. On the stock
 * ops (cpu, wasm, `kernels: 'stock'`) the only uploads per step are three scalars (decay factor, step
 * size, sqrt of the second bias correction), ~13 dispatches per parameter (`applyUpdate`). On webgpu
 * with our kernels the update is kernels/adamw-webgpu.ts: several parameters per dispatch, written
 * in place, no uploads, the same arithmetic as `applyUpdate`.
 */
import * as tf from '@tensorflow/tfjs';
import { EngineError } from '../errors';
import {
  fusedAdamWInPlace,
  fusedAdamWUpdate,
  paramsPerAdamWDispatch,
  planMomentGroups,
  type MomentGroupPlan,
} from '../kernels/adamw-webgpu';
import { fusedClipState } from '../kernels/global-norm-webgpu';
import { fusedKernelsActive } from '../kernels/program';
import { deviceLimits, soleOwner } from '../kernels/raw-dispatch';

/** A trainable parameter and the name its gradient is keyed by. */
export interface NamedParam {
  name: string;
  variable: tf.Variable;
}

/**
 * Default decay predicate for Hugging Face–style names: no weight decay on biases and LayerNorm
 * parameters (`*.bias`, `*LayerNorm.weight`, `*LayerNorm.gamma`, `*LayerNorm.beta`, also
 * `layer_norm`/`layernorm`/`ln` spellings), decay on everything else (weights and embeddings).
 * This is the grouping of the BERT reference code and the HF Trainer.
 */
export function defaultDecay(name: string): boolean {
  if (/(^|[._/])bias$/i.test(name)) return false;
  if (/(layer_?norm|(^|[._/])ln(_\w*|\d*))[._/](weight|gamma|beta|bias)$/i.test(name)) return false;
  if (/(^|[._/])(gamma|beta)$/i.test(name)) return false;
  return true;
}

export interface AdamWOptions {
  /** Learning rate used when `step` is not given one (the schedule usually passes it per step). */
  lr?: number;
  /** First-moment decay. Default 0.9 (PyTorch/BERT). */
  beta1?: number;
  /** Second-moment decay. Default 0.999 (PyTorch/BERT). */
  beta2?: number;
  /** Added to sqrt(v̂) for stability. Default 1e-8 (PyTorch; the original BERT code used 1e-6). */
  eps?: number;
  /** Decoupled weight decay coefficient. Default 0.01 (PyTorch's AdamW default and common BERT recipes). */
  weightDecay?: number;
  /** Which parameters get weight decay. Default `defaultDecay` (HF names). */
  decay?: (name: string) => boolean;
  /**
   * Clip the global L2 norm of all gradients to this value before the update. Default 1.0 (HF
   * Trainer `max_grad_norm`). 0 or Infinity disables clipping.
   */
  maxGradNorm?: number;
  /**
   * Most bytes one packed moment group may hold on webgpu. Default: the device's storage binding
   * and buffer limits, the most one dispatch can bind. Tests set it low to run a parameter through
   * the unpacked path.
   */
  momentGroupBytes?: number;
}

/** Optimizer state for checkpoints (plain data; written by the checkpoint code). */
export interface AdamWState {
  /** Number of optimizer steps taken. */
  step: number;
  slots: Array<{ name: string; shape: number[]; m: Float32Array; v: Float32Array }>;
}

export interface StepResult {
  /**
   * Global gradient L2 norm before clipping, as a kept scalar tensor the caller must dispose (read
   * it asynchronously with `.data()` every few steps); null when clipping is disabled.
   */
  gradNorm: tf.Scalar | null;
}

/** sqrt(sum over tensors of sum(g²)) as a scalar; call inside tidy (or dispose the result). */
export function globalNorm(grads: readonly tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => {
    if (grads.length === 0) return tf.scalar(0);
    const squares = grads.map((g) => tf.sum(tf.square(g)));
    return tf.sqrt(tf.addN(squares)) as tf.Scalar;
  });
}

/**
 * Scales `grads` so their global norm is at most `maxNorm`, like `torch.nn.utils.clip_grad_norm_`:
 * `coef = min(1, maxNorm / (norm + 1e-6))`, `g *= coef`. Returns new tensors (the inputs are not
 * disposed) and the pre-clip norm; everything returned is owned by the caller.
 */
export function clipByGlobalNorm(
  grads: tf.NamedTensorMap,
  maxNorm: number,
): { grads: tf.NamedTensorMap; norm: tf.Scalar } {
  return tf.tidy(() => {
    const names = Object.keys(grads);
    const norm = globalNorm(names.map((n) => grads[n]));
    const coef = tf.minimum(tf.div(tf.scalar(maxNorm), tf.add(norm, tf.scalar(1e-6))), tf.scalar(1));
    const clipped: tf.NamedTensorMap = {};
    for (const n of names) clipped[n] = tf.mul(grads[n], coef);
    return { grads: clipped, norm };
  });
}

export class AdamW {
  readonly params: readonly NamedParam[];
  /** Number of steps taken (PyTorch's `state['step']`). */
  stepCount = 0;
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly maxGradNorm: number;
  private readonly decayMask: boolean[];
  private readonly momentGroupBytes: number | undefined;
  /**
   * First and second moments, one variable each per parameter ("separate" layout: the stock path,
   * and parameters too large to pack). `null` where the parameter's moments sit in a packed group.
   */
  private readonly m: Array<tf.Variable | null>;
  private readonly v: Array<tf.Variable | null>;
  /**
   * The fused path's "packed" layout: groups of parameters (3 to 7, by the device's binding limit)
   * whose moments share one buffer, updated in place by one dispatch per group
   * (kernels/adamw-webgpu.ts). Null in the separate layout. Which layout holds the state follows the
   * kernel setting at each step; converting is a copy, made only when the setting changes.
   */
  private groups: Array<MomentGroupPlan & { moments: tf.Variable }> | null = null;
  private readonly indexByName = new Map<string, number>();
  /** Constants uploaded once: beta1, 1-beta1, beta2, 1-beta2, eps, and the fused path's two. */
  private readonly consts: {
    b1: tf.Scalar;
    ob1: tf.Scalar;
    b2: tf.Scalar;
    ob2: tf.Scalar;
    eps: tf.Scalar;
    zero1: tf.Tensor1D;
    noClip: tf.Tensor1D;
    one: tf.Scalar;
  };
  private disposed = false;

  /**
   * @param params trainable parameters; a plain `tf.Variable[]` is keyed by `variable.name`
   *   (what `tf.variableGrads` returns). The m and v slots (zeros) are allocated here.
   */
  constructor(params: readonly NamedParam[] | readonly tf.Variable[], options: AdamWOptions = {}) {
    this.params = params.map((p) => (p instanceof tf.Variable ? { name: p.name, variable: p } : p));
    this.lr = options.lr ?? 5e-5;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    this.maxGradNorm = options.maxGradNorm ?? 1.0;
    this.momentGroupBytes = options.momentGroupBytes;
    const decay = options.decay ?? defaultDecay;
    for (const [k, val] of Object.entries({ beta1: this.beta1, beta2: this.beta2 })) {
      if (!(val >= 0 && val < 1))
        throw new EngineError('OPTIM_BAD_OPTIONS', `AdamW ${k} must be in [0, 1), got ${val}.`);
    }
    if (!(this.eps > 0)) throw new EngineError('OPTIM_BAD_OPTIONS', `AdamW eps must be > 0, got ${this.eps}.`);
    if (!(this.weightDecay >= 0))
      throw new EngineError('OPTIM_BAD_OPTIONS', `AdamW weightDecay must be >= 0, got ${this.weightDecay}.`);
    if (!(this.maxGradNorm >= 0))
      throw new EngineError(
        'OPTIM_BAD_OPTIONS',
        `AdamW maxGradNorm must be >= 0 (0 disables clipping), got ${this.maxGradNorm}.`,
      );
    this.params.forEach((p, i) => {
      if (this.indexByName.has(p.name)) {
        throw new EngineError(
          'OPTIM_DUPLICATE_PARAM',
          `Parameter name "${p.name}" is given twice to AdamW; names must be unique.`,
        );
      }
      if (p.variable.dtype !== 'float32') {
        throw new EngineError(
          'OPTIM_BAD_PARAM',
          `Parameter "${p.name}" has dtype ${p.variable.dtype}; AdamW trains float32 parameters only.`,
        );
      }
      this.indexByName.set(p.name, i);
    });
    this.decayMask = this.params.map((p) => decay(p.name));
    const zerosVar = (p: NamedParam, slot: string) =>
      tf.tidy(() => tf.variable(tf.zerosLike(p.variable), false, `adamw/${slot}/${p.name}/${uniqueId()}`));
    this.m = this.params.map((p) => zerosVar(p, 'm'));
    this.v = this.params.map((p) => zerosVar(p, 'v'));
    this.consts = tf.tidy(() => ({
      b1: tf.keep(tf.scalar(this.beta1)),
      ob1: tf.keep(tf.scalar(1 - this.beta1)),
      b2: tf.keep(tf.scalar(this.beta2)),
      ob2: tf.keep(tf.scalar(1 - this.beta2)),
      eps: tf.keep(tf.scalar(this.eps)),
      // Made once so the fused path uploads nothing per step: the start of the norm's running total,
      // and the (norm, coefficient) pair the update kernels read when clipping is off.
      zero1: tf.keep(tf.zeros([1])),
      noClip: tf.keep(tf.tensor1d([0, 1])),
      one: tf.keep(tf.scalar(1)),
    }));
  }

  /**
   * A kept scalar 1: the seed dL/dL the step's backward pass starts from (`lossGradients` in
   * train/step.ts), made once here so a step does not upload it. Owned by the optimizer.
   */
  get lossSeed(): tf.Scalar {
    return this.consts.one;
  }

  /** Whether parameter `name` gets weight decay. */
  decays(name: string): boolean {
    const i = this.indexByName.get(name);
    if (i === undefined) throw new EngineError('OPTIM_UNKNOWN_PARAM', `AdamW has no parameter named "${name}".`);
    return this.decayMask[i];
  }

  /**
   * One update. `grads` is keyed by parameter name; a parameter without a gradient is skipped
   * entirely (no decay, no moment update), as in PyTorch. The caller still owns `grads`.
   * Order: clip (if enabled) → step += 1 → p *= 1 - lr·wd → m, v update → p -= lr/bc1 · m / (sqrt(v)/sqrt(bc2) + eps).
   * `reportNorm: false` skips making the norm scalar (the training step never reads it; on webgpu
   * that saves a dispatch).
   */
  step(
    grads: tf.NamedTensorMap,
    lr: number = this.lr,
    { reportNorm = true }: { reportNorm?: boolean } = {},
  ): StepResult {
    if (this.disposed)
      throw new EngineError('OPTIM_DISPOSED', 'AdamW.step called after dispose(); create a new optimizer.');
    for (const name of Object.keys(grads)) {
      const i = this.indexByName.get(name);
      if (i === undefined) {
        throw new EngineError(
          'OPTIM_UNKNOWN_PARAM',
          `Gradient "${name}" does not match any AdamW parameter (${this.params.length} known, e.g. "${this.params[0]?.name}"); key gradients by the parameter names given to AdamW.`,
        );
      }
      const want = this.params[i].variable.shape;
      if (!sameShape(grads[name].shape, want)) {
        throw new EngineError(
          'OPTIM_BAD_GRAD',
          `Gradient "${name}" has shape [${grads[name].shape}] but the parameter is [${want}].`,
        );
      }
    }
    this.stepCount += 1;
    const t = this.stepCount;
    const bc1 = 1 - Math.pow(this.beta1, t);
    const bc2 = 1 - Math.pow(this.beta2, t);
    let gradNorm: tf.Scalar | null = null;
    const clipping = this.maxGradNorm > 0 && Number.isFinite(this.maxGradNorm);
    const fused = fusedKernelsActive();
    this.useLayout(fused ? 'packed' : 'separate');
    if (fused) {
      tf.tidy(() => {
        let clip: tf.Tensor = this.consts.noClip; // [2] norm, clipping coefficient
        if (clipping) {
          const live = this.params.filter((p) => grads[p.name]).map((p) => grads[p.name]);
          clip = fusedClipState(live, this.maxGradNorm, this.consts.zero1);
          if (reportNorm) gradNorm = tf.keep(tf.reshape(tf.slice(clip, [0], [1]), []) as tf.Scalar);
        }
        const shared = {
          beta1: this.beta1,
          oneMinusBeta1: 1 - this.beta1,
          beta2: this.beta2,
          oneMinusBeta2: 1 - this.beta2,
          eps: this.eps,
          stepSize: lr / bc1,
          sqrtBias2: Math.sqrt(bc2),
        };
        const decayFactor = (i: number) => (this.decayMask[i] && this.weightDecay > 0 ? 1 - lr * this.weightDecay : 1);
        for (const group of this.groups!) {
          const slots = group.members.flatMap((i, k) => {
            const grad = grads[this.params[i].name];
            if (!grad) return [];
            this.ownBuffer(i);
            return [
              { param: this.params[i].variable, grad, momentOffset: group.offsets[k], decayFactor: decayFactor(i) },
            ];
          });
          fusedAdamWInPlace(group.moments, clip, slots, shared);
        }
        // Parameters too large to pack: three programs each, new buffers assigned.
        this.params.forEach((p, i) => {
          const gi = grads[p.name];
          const m = this.m[i];
          const v = this.v[i];
          if (!gi || !m || !v) return;
          const next = fusedAdamWUpdate(p.variable, gi, clip, m, v, { ...shared, decayFactor: decayFactor(i) });
          m.assign(next.m);
          v.assign(next.v);
          p.variable.assign(next.param);
        });
      });
      return { gradNorm };
    }
    tf.tidy(() => {
      let g = grads;
      if (clipping) {
        const clipped = clipByGlobalNorm(grads, this.maxGradNorm);
        g = clipped.grads;
        gradNorm = reportNorm ? tf.keep(clipped.norm) : null;
      }
      const decayFactor = tf.scalar(1 - lr * this.weightDecay);
      const stepSize = tf.scalar(lr / bc1);
      const sqrtBc2 = tf.scalar(Math.sqrt(bc2));
      this.params.forEach((p, i) => {
        const gi = g[p.name];
        if (!gi) return;
        this.applyUpdate(i, gi, this.decayMask[i] && this.weightDecay > 0 ? decayFactor : null, stepSize, sqrtBc2);
      });
    });
    return { gradNorm };
  }

  private applyUpdate(
    i: number,
    g: tf.Tensor,
    decayFactor: tf.Scalar | null,
    stepSize: tf.Scalar,
    sqrtBc2: tf.Scalar,
  ): void {
    const { b1, ob1, b2, ob2, eps } = this.consts;
    const p = this.params[i].variable;
    const mSlot = this.m[i]!; // the separate layout holds every parameter's moments
    const vSlot = this.v[i]!;
    const m = tf.add(tf.mul(mSlot, b1), tf.mul(g, ob1)); // m = β1·m + (1-β1)·g
    const v = tf.add(tf.mul(vSlot, b2), tf.mul(tf.square(g), ob2)); // v = β2·v + (1-β2)·g²
    mSlot.assign(m);
    vSlot.assign(v);
    const decayed = decayFactor ? tf.mul(p, decayFactor) : p; // p·(1 - lr·wd)
    const denom = tf.add(tf.div(tf.sqrt(v), sqrtBc2), eps); // sqrt(v)/sqrt(bc2) + eps
    p.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), stepSize)));
  }

  /** Copies m, v and the step count to plain arrays (async readback; call between steps). */
  async exportState(): Promise<AdamWState> {
    const m: Float32Array[] = [];
    const v: Float32Array[] = [];
    await Promise.all(
      this.params.map(async (_, i) => {
        if (this.m[i]) m[i] = (await this.m[i]!.data()) as Float32Array;
        if (this.v[i]) v[i] = (await this.v[i]!.data()) as Float32Array;
      }),
    );
    for (const group of this.groups ?? []) {
      const pairs = (await group.moments.data()) as Float32Array; // [2 · total], (m, v) interleaved
      group.members.forEach((i, k) => {
        const size = this.params[i].variable.size;
        m[i] = new Float32Array(size);
        v[i] = new Float32Array(size);
        for (let j = 0; j < size; j++) {
          m[i][j] = pairs[2 * (group.offsets[k] + j)];
          v[i][j] = pairs[2 * (group.offsets[k] + j) + 1];
        }
      });
    }
    return {
      step: this.stepCount,
      slots: this.params.map((p, i) => ({ name: p.name, shape: p.variable.shape.slice(), m: m[i], v: v[i] })),
    };
  }

  /**
   * Restores state from `exportState()`. Every parameter must be present with the same shape;
   * otherwise nothing is changed and an EngineError says which one differs.
   */
  importState(state: AdamWState): void {
    if (!Number.isInteger(state.step) || state.step < 0) {
      throw new EngineError(
        'OPTIM_BAD_STATE',
        `Optimizer state has step ${state.step}; expected a non-negative integer.`,
      );
    }
    const byName = new Map(state.slots.map((s) => [s.name, s]));
    for (const p of this.params) {
      const s = byName.get(p.name);
      const size = p.variable.size;
      if (!s)
        throw new EngineError(
          'OPTIM_BAD_STATE',
          `Optimizer state has no entry for parameter "${p.name}"; was it saved from a different model?`,
        );
      if (!sameShape(s.shape, p.variable.shape) || s.m.length !== size || s.v.length !== size) {
        throw new EngineError(
          'OPTIM_BAD_STATE',
          `Optimizer state for "${p.name}" has shape [${s.shape}] (m ${s.m.length}, v ${s.v.length} values) but the parameter is [${p.variable.shape}].`,
        );
      }
    }
    const extra = state.slots.filter((s) => !this.indexByName.has(s.name)).map((s) => s.name);
    if (extra.length > 0) {
      throw new EngineError(
        'OPTIM_BAD_STATE',
        `Optimizer state has entries for unknown parameters: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', …' : ''}.`,
      );
    }
    this.params.forEach((p, i) => {
      const s = byName.get(p.name)!;
      tf.tidy(() => {
        this.m[i]?.assign(tf.tensor(s.m, p.variable.shape, 'float32'));
        this.v[i]?.assign(tf.tensor(s.v, p.variable.shape, 'float32'));
      });
    });
    for (const group of this.groups ?? []) {
      const pairs = new Float32Array(2 * group.total);
      group.members.forEach((i, k) => {
        const s = byName.get(this.params[i].name)!;
        for (let j = 0; j < s.m.length; j++) {
          pairs[2 * (group.offsets[k] + j)] = s.m[j];
          pairs[2 * (group.offsets[k] + j) + 1] = s.v[j];
        }
      });
      tf.tidy(() => group.moments.assign(tf.tensor1d(pairs)));
    }
    this.stepCount = state.step;
  }

  /**
   * Moves the moments into `layout` if they are not there: packed groups for the fused in-place
   * update, one m and one v per parameter for the stock ops. A copy on the GPU, made only when the
   * kernel setting (or the backend) changed since the last step.
   */
  private useLayout(layout: 'packed' | 'separate'): void {
    if ((layout === 'packed') === (this.groups !== null)) return;
    if (layout === 'packed') {
      const limits = deviceLimits();
      const plan = planMomentGroups(
        this.params.map((p) => p.variable.size),
        this.momentGroupBytes ?? Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize),
        paramsPerAdamWDispatch(limits.maxStorageBuffersPerShaderStage),
      );
      this.groups = plan.groups.map((group) => {
        const moments = tf.tidy(() => {
          // [size, 2] per member: (m, v) side by side, members one after another → [2 · total]
          const pairs = group.members.map((i) =>
            tf.stack([tf.reshape(this.m[i]!, [-1]), tf.reshape(this.v[i]!, [-1])], 1).reshape([-1]),
          );
          return tf.variable(pairs.length === 1 ? pairs[0] : tf.concat(pairs), false, `adamw/mv/${uniqueId()}`);
        });
        for (const i of group.members) {
          this.m[i]!.dispose();
          this.v[i]!.dispose();
          this.m[i] = null;
          this.v[i] = null;
        }
        return { ...group, moments };
      });
      return;
    }
    for (const group of this.groups!) {
      tf.tidy(() => {
        const pairs = tf.reshape(group.moments, [group.total, 2]);
        group.members.forEach((i, k) => {
          const p = this.params[i];
          const rows = tf.slice(pairs, [group.offsets[k], 0], [p.variable.size, 2]);
          const [m, v] = tf.unstack(rows, 1);
          this.m[i] = tf.variable(tf.reshape(m, p.variable.shape), false, `adamw/m/${p.name}/${uniqueId()}`);
          this.v[i] = tf.variable(tf.reshape(v, p.variable.shape), false, `adamw/v/${p.name}/${uniqueId()}`);
        });
      });
      group.moments.dispose();
    }
    this.groups = null;
  }

  /**
   * Gives parameter i a buffer of its own before it is written in place: a tensor that shares it
   * (`tf.clone` of the variable, e.g. a kept snapshot) must not change with it. A copy, only then.
   */
  private ownBuffer(i: number): void {
    const variable = this.params[i].variable;
    if (soleOwner(variable)) return;
    tf.tidy(() => variable.assign(tf.add(variable, tf.zerosLike(variable))));
  }

  /** Frees m, v and the constants. The parameters themselves belong to the model. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const x of [...this.m, ...this.v]) x?.dispose();
    for (const group of this.groups ?? []) group.moments.dispose();
    for (const c of Object.values(this.consts)) c.dispose();
  }
}

/**
 * Sums gradients over micro-batches so one optimizer step can use an effective batch larger than
 * fits in memory. `add` does not dispose its inputs; the accumulator owns its running sums and
 * frees them on `take`/`reset`/`dispose`.
 */
export class GradAccumulator {
  private sums = new Map<string, tf.Tensor>();
  private totalWeight = 0;
  private adds = 0;

  /** Number of micro-batches added since the last take/reset. */
  get count(): number {
    return this.adds;
  }

  /**
   * Adds `weight · grads` (weight default 1). For per-example-mean gradients of micro-batches of
   * different sizes, pass the micro-batch size as weight and `take('mean')` gives the mean over
   * all examples.
   */
  add(grads: tf.NamedTensorMap, weight = 1): void {
    for (const [name, g] of Object.entries(grads)) {
      const prev = this.sums.get(name);
      const next = tf.tidy(() => {
        const wg = weight === 1 ? tf.clone(g) : tf.mul(g, tf.scalar(weight));
        return prev ? tf.add(prev, wg) : wg;
      });
      if (prev) {
        if (!sameShape(prev.shape, g.shape)) {
          next.dispose();
          throw new EngineError(
            'ACCUM_BAD_GRAD',
            `Gradient "${name}" changed shape from [${prev.shape}] to [${g.shape}] between micro-batches.`,
          );
        }
        prev.dispose();
      }
      // kept: the running sum must survive a tidy() the caller may wrap add() in
      this.sums.set(name, tf.keep(next));
    }
    this.totalWeight += weight;
    this.adds += 1;
  }

  /**
   * Returns the accumulated gradients ('sum', or 'mean' = sum / total weight) and resets. The
   * returned tensors are kept (a surrounding tidy does not free them) and belong to the caller:
   * dispose them after the optimizer step.
   */
  take(mode: 'sum' | 'mean' = 'mean'): tf.NamedTensorMap {
    if (this.adds === 0)
      throw new EngineError(
        'ACCUM_EMPTY',
        'GradAccumulator.take called before any add(); run at least one micro-batch.',
      );
    const out: tf.NamedTensorMap = {};
    const scale = 1 / this.totalWeight;
    for (const [name, s] of this.sums) {
      if (mode === 'sum') out[name] = s;
      else {
        out[name] = tf.keep(tf.tidy(() => tf.mul(s, tf.scalar(scale))));
        s.dispose();
      }
    }
    this.sums.clear();
    this.totalWeight = 0;
    this.adds = 0;
    return out;
  }

  /** Drops the accumulated sums. */
  reset(): void {
    for (const s of this.sums.values()) s.dispose();
    this.sums.clear();
    this.totalWeight = 0;
    this.adds = 0;
  }

  dispose(): void {
    this.reset();
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

let nextId = 0;
/** tfjs variable names must be globally unique; several optimizers may coexist. */
function uniqueId(): number {
  return nextId++;
}
