/**
 * AdamW with decoupled weight decay (exactly `torch.optim.AdamW`, amsgrad=False), global
 * gradient-norm clipping (exactly `torch.nn.utils.clip_grad_norm_`) and a gradient accumulator.
 *
 * Rules on the training path (docs/ARCHITECTURE.md, "Performance"): every op runs inside `tf.tidy`, nothing is read back to
 * the CPU (`dataSync`/`arraySync`) during a step, and constants are uploaded once. Per step the
 * only uploads are three scalars (decay factor, step size, sqrt of the second bias correction).
 * This is the stock-op version (~8 dispatches per parameter); a fused one-pass WGSL kernel can
 * replace `applyUpdate` later and must match it.
 */
import * as tf from '@tensorflow/tfjs';
import { EngineError } from '../errors';
import { fusedAdamWUpdate } from '../kernels/adamw-webgpu';
import { fusedKernelsActive } from '../kernels/program';

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
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private readonly indexByName = new Map<string, number>();
  /** Constants uploaded once: beta1, 1-beta1, beta2, 1-beta2, eps. */
  private readonly consts: {
    b1: tf.Scalar;
    ob1: tf.Scalar;
    b2: tf.Scalar;
    ob2: tf.Scalar;
    eps: tf.Scalar;
    one: tf.Scalar;
    /** The clipping threshold and the ε added to the norm, kept so a fused step uploads no scalars. */
    maxGradNorm: tf.Scalar;
    normEps: tf.Scalar;
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
      one: tf.keep(tf.scalar(1)),
      maxGradNorm: tf.keep(tf.scalar(this.maxGradNorm)),
      normEps: tf.keep(tf.scalar(1e-6)), // clipByGlobalNorm's ε
    }));
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
   */
  step(grads: tf.NamedTensorMap, lr: number = this.lr): StepResult {
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
    if (fusedKernelsActive()) {
      tf.tidy(() => {
        let coef: tf.Tensor = this.consts.one; // [] clipping coefficient
        if (clipping) {
          const norm = globalNorm(this.params.filter((p) => grads[p.name]).map((p) => grads[p.name]));
          const { maxGradNorm, normEps, one } = this.consts;
          coef = tf.minimum(tf.div(maxGradNorm, tf.add(norm, normEps)), one); // []
          gradNorm = tf.keep(norm);
        }
        this.params.forEach((p, i) => {
          const gi = grads[p.name];
          if (!gi) return;
          const next = fusedAdamWUpdate(p.variable, gi, coef, this.m[i], this.v[i], {
            beta1: this.beta1,
            oneMinusBeta1: 1 - this.beta1,
            beta2: this.beta2,
            oneMinusBeta2: 1 - this.beta2,
            eps: this.eps,
            decayFactor: this.decayMask[i] && this.weightDecay > 0 ? 1 - lr * this.weightDecay : 1,
            stepSize: lr / bc1,
            sqrtBias2: Math.sqrt(bc2),
          });
          this.m[i].assign(next.m);
          this.v[i].assign(next.v);
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
        gradNorm = tf.keep(clipped.norm);
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
    const m = tf.add(tf.mul(this.m[i], b1), tf.mul(g, ob1)); // m = β1·m + (1-β1)·g
    const v = tf.add(tf.mul(this.v[i], b2), tf.mul(tf.square(g), ob2)); // v = β2·v + (1-β2)·g²
    this.m[i].assign(m);
    this.v[i].assign(v);
    const decayed = decayFactor ? tf.mul(p, decayFactor) : p; // p·(1 - lr·wd)
    const denom = tf.add(tf.div(tf.sqrt(v), sqrtBc2), eps); // sqrt(v)/sqrt(bc2) + eps
    p.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), stepSize)));
  }

  /** Copies m, v and the step count to plain arrays (async readback; call between steps). */
  async exportState(): Promise<AdamWState> {
    const slots = await Promise.all(
      this.params.map(async (p, i) => ({
        name: p.name,
        shape: p.variable.shape.slice(),
        m: (await this.m[i].data()) as Float32Array,
        v: (await this.v[i].data()) as Float32Array,
      })),
    );
    return { step: this.stepCount, slots };
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
        this.m[i].assign(tf.tensor(s.m, p.variable.shape, 'float32'));
        this.v[i].assign(tf.tensor(s.v, p.variable.shape, 'float32'));
      });
    });
    this.stepCount = state.step;
  }

  /** Frees m, v and the constants. The parameters themselves belong to the model. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const x of [...this.m, ...this.v]) x.dispose();
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
