/**
 * Functional BERT forward pass over explicit parameters (params.ts). Post-LN layers exactly as
 * Hugging Face `BertModel`: embeddings (word + absolute position + token type) → LayerNorm →
 * dropout → L × [self-attention → dense → dropout → +residual → LayerNorm → dense → act → dense →
 * dropout → +residual → LayerNorm]. Heads: pooler (tanh dense on [CLS]), MLM (dense → act →
 * LayerNorm → tied decoder + bias), classifier (dense on the pooled output).
 *
 * Shapes: B batch, T sequence, H hidden, A heads, D = H/A, I intermediate, V vocab, N rows.
 * Every function returns tensors the caller owns; intermediates are tidied. Dropout is applied only
 * when `training` is true. Parity with PyTorch: tests/fixtures/golden-micro (bert.test.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { EngineError } from '../errors';
import { fusedAttentionUnsupported, fusedSelfAttention } from '../kernels/attention-webgpu';
import { fusedQkvProjection } from '../kernels/matmul-webgpu';
import { fusedKernelsActive, logFallbackOnce } from '../kernels/program';
import { dropoutSeedU32 } from '../kernels/rng';
import { tanhActivation } from '../kernels/no-upload-webgpu';
import { addLayerNorm, dropout, embeddingLookup, geluErf, geluTanh, layerNorm, linear } from '../tf/ops';
import { MASK_NEG, type BertConfig, type HiddenAct } from './config';
import type { BertParams, LinearParams } from './params';

export { MASK_NEG } from './config';

export interface BertInputs {
  /** [B, T] int32 token ids. */
  inputIds: tf.Tensor2D;
  /** [B, T] int32 segment ids (0 / 1); default all 0. */
  tokenTypeIds?: tf.Tensor2D;
  /** [B, T] 1 for real tokens, 0 for padding (int32 or float32); default all 1. */
  attentionMask?: tf.Tensor2D;
}

export interface ForwardOptions {
  /** Dropout on (hidden/attention/classifier rates from the config). Default false. */
  training?: boolean;
  /** Makes dropout masks reproducible; each dropout site derives its own seed from it. */
  dropoutSeed?: number;
}

/** Per-call dropout state: a rate lookup and a counter so every site gets a distinct seed. */
class Dropper implements DropoutSites {
  private site = 0;
  constructor(private readonly opts: ForwardOptions) {}
  apply<T extends tf.Tensor>(x: T, rate: number): T {
    const site = this.take(rate);
    return site ? dropout(x, rate, site.seed) : x;
  }
  /**
   * Consumes the next site without applying it, for a kernel that drops out inside itself: null when
   * dropout is off there, else the seed `apply` would have used (undefined: no fixed seed).
   */
  take(rate: number): { seed: number | undefined } | null {
    const site = this.site++;
    if (!this.opts.training || rate <= 0) return null;
    const seed = this.opts.dropoutSeed === undefined ? undefined : this.opts.dropoutSeed * 7919 + site * 104729 + 17;
    return { seed };
  }
}

/** The configured activation. */
export function activation(x: tf.Tensor, act: HiddenAct): tf.Tensor {
  switch (act) {
    case 'gelu':
      return geluErf(x);
    case 'gelu_new':
      return geluTanh(x);
    case 'relu':
      return tf.relu(x);
  }
}

function checkInputs(config: BertConfig, inputs: BertInputs): [number, number] {
  const { inputIds, tokenTypeIds, attentionMask } = inputs;
  if (inputIds.rank !== 2)
    throw new EngineError('INPUT_BAD_SHAPE', `inputIds must be [batch, seq], got shape [${inputIds.shape}]`);
  if (inputIds.dtype !== 'int32')
    throw new EngineError('INPUT_BAD_SHAPE', `inputIds must be int32, got ${inputIds.dtype}`);
  const [B, T] = inputIds.shape;
  if (T > config.max_position_embeddings) {
    throw new EngineError(
      'INPUT_TOO_LONG',
      `sequence length ${T} exceeds max_position_embeddings ${config.max_position_embeddings}`,
    );
  }
  for (const [name, t] of [
    ['tokenTypeIds', tokenTypeIds],
    ['attentionMask', attentionMask],
  ] as const) {
    if (t && (t.shape[0] !== B || t.shape[1] !== T)) {
      throw new EngineError('INPUT_BAD_SHAPE', `${name} shape [${t.shape}] does not match inputIds [${B},${T}]`);
    }
  }
  if (tokenTypeIds && tokenTypeIds.dtype !== 'int32')
    throw new EngineError('INPUT_BAD_SHAPE', `tokenTypeIds must be int32, got ${tokenTypeIds.dtype}`);
  return [B, T];
}

/** Embedding sum + LayerNorm + dropout → [B·T, H] (rows flattened for the matmuls). */
function embed(
  params: BertParams,
  config: BertConfig,
  inputs: BertInputs,
  B: number,
  T: number,
  drop: Dropper,
): tf.Tensor2D {
  const H = config.hidden_size;
  const e = params.embeddings;
  const ids = tf.reshape(inputs.inputIds, [B * T]) as tf.Tensor1D; // [B·T]
  const words = tf.reshape(embeddingLookup(e.word, ids), [B, T, H]); // [B, T, H]
  const positions = tf.reshape(tf.slice(e.position, [0, 0], [T, H]), [1, T, H]); // [1, T, H]
  let x = tf.add(words, positions); // [B, T, H]
  if (inputs.tokenTypeIds) {
    const types = tf.reshape(inputs.tokenTypeIds, [B * T]) as tf.Tensor1D; // [B·T]
    x = tf.add(x, tf.reshape(embeddingLookup(e.tokenType, types), [B, T, H])); // [B, T, H]
  } else {
    x = tf.add(x, tf.slice(e.tokenType, [0, 0], [1, H])); // [B, T, H] (type 0 everywhere)
  }
  const normed = layerNorm(tf.reshape(x, [B * T, H]), e.ln.gamma, e.ln.beta, config.layer_norm_eps); // [B·T, H]
  return drop.apply(normed as tf.Tensor2D, config.hidden_dropout_prob); // [B·T, H]
}

/** [B, T] mask (1 keep / 0 pad) → additive bias [B, 1, 1, T] (0 keep / MASK_NEG pad). */
export function attentionBias(mask: tf.Tensor2D): tf.Tensor4D {
  return tf.tidy(() => {
    const [B, T] = mask.shape;
    const keep = tf.cast(mask, 'float32'); // [B, T]
    return tf.reshape(tf.mul(tf.sub(1, keep), MASK_NEG), [B, 1, 1, T]); // [B, 1, 1, T]
  });
}

function proj(x: tf.Tensor2D, p: LinearParams): tf.Tensor2D {
  return linear(x, p.w, p.b); // [N, out]
}

/** The padding mask of a batch and its additive bias, made on first use (the fused attention needs
 * only the mask, the stock path the bias). */
export interface AttentionMask {
  /** [B, T] 1 keep / 0 pad, or null when every token is real. */
  mask: tf.Tensor2D | null;
  /** [B, 1, 1, T] additive bias (0 keep / MASK_NEG pad), or null without a mask. */
  bias(): tf.Tensor4D | null;
}

/** Wraps a [B, T] mask (or none) for `encoderLayer`; the bias is computed once, when first asked for. */
export function attentionMask(mask: tf.Tensor2D | null | undefined): AttentionMask {
  let bias: tf.Tensor4D | null = null;
  return {
    mask: mask ?? null,
    bias: () => {
      if (mask && !bias) bias = attentionBias(mask);
      return bias;
    },
  };
}

/**
 * Multi-head self-attention with stock tfjs ops (the reference of the fused kernel, and the path on
 * cpu, wasm and `kernels: 'stock'`): q, k, v [B·T, H] projected rows, bias [B, 1, 1, T] or null,
 * `dropProbs` the dropout on the probabilities → context [B·T, H], heads merged.
 */
export function selfAttentionStock(
  qRows: tf.Tensor2D,
  kRows: tf.Tensor2D,
  vRows: tf.Tensor2D,
  bias: tf.Tensor4D | null,
  B: number,
  T: number,
  A: number,
  dropProbs: (probs: tf.Tensor4D) => tf.Tensor4D,
): tf.Tensor2D {
  const H = qRows.shape[1],
    D = H / A;
  const heads = (t: tf.Tensor2D) => tf.transpose(tf.reshape(t, [B, T, A, D]), [0, 2, 1, 3]); // [B, A, T, D]
  const q = heads(tf.mul(qRows, 1 / Math.sqrt(D))); // [B, A, T, D] (pre-scaled by 1/√D)
  const k = heads(kRows); // [B, A, T, D]
  const v = heads(vRows); // [B, A, T, D]
  let scores: tf.Tensor4D = tf.matMul(q, k, false, true); // [B, A, T, T]
  if (bias) scores = tf.add(scores, bias); // [B, A, T, T]
  const probs = dropProbs(tf.softmax(scores, -1)); // [B, A, T, T]
  const ctx = tf.matMul(probs, v); // [B, A, T, D]
  return tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [B * T, H]) as tf.Tensor2D; // [B·T, H]
}

/** The dropout sites of one forward pass, as the attention sees them (`Dropper` is one). */
export interface DropoutSites {
  /** Applies the next site's dropout to `x` (or nothing when it is off). */
  apply<T extends tf.Tensor>(x: T, rate: number): T;
  /** Consumes the next site for a kernel that drops out itself: null when off, else its seed. */
  take(rate: number): { seed: number | undefined } | null;
}

/** The projected rows of q, k and v: apart, [B·T, H] each, or packed [3, B·T, H] (`fusedQkvProjection`). */
export type AttentionRows = { q: tf.Tensor2D; k: tf.Tensor2D; v: tf.Tensor2D } | { packed: tf.Tensor3D };

/**
 * Self-attention on projected rows → context [B·T, H]: the fused kernel on webgpu when it takes the
 * shape (docs/ARCHITECTURE.md, "Own kernels"), else the stock ops with a one-time log line. Either
 * way it consumes exactly one dropout site, the probabilities'.
 */
export function multiHeadAttention(
  rows: AttentionRows,
  mask: AttentionMask,
  B: number,
  T: number,
  A: number,
  rate: number,
  drop: DropoutSites,
): tf.Tensor2D {
  if (fusedKernelsActive()) {
    const H = 'packed' in rows ? rows.packed.shape[2] : rows.q.shape[1];
    const unsupported = fusedAttentionUnsupported(T, H, A);
    if (unsupported === null) {
      const site = drop.take(rate);
      const dropout = site ? { rate, seed: dropoutSeedU32(site.seed) } : null;
      const packed = 'packed' in rows ? rows.packed : (tf.stack([rows.q, rows.k, rows.v]) as tf.Tensor3D); // [3, B·T, H]
      return fusedSelfAttention(packed, mask.mask, B, T, A, dropout); // [B·T, H]
    }
    logFallbackOnce('attention', unsupported);
  }
  const [q, k, v] = 'packed' in rows ? (tf.unstack(rows.packed) as tf.Tensor2D[]) : [rows.q, rows.k, rows.v]; // [B·T, H] each
  return selfAttentionStock(q, k, v, mask.bias(), B, T, A, (probs) => drop.apply(probs, rate)); // [B·T, H]
}

/** One post-LN encoder layer on flattened rows x [B·T, H]. */
function encoderLayer(
  x: tf.Tensor2D,
  p: BertParams['layers'][number],
  config: BertConfig,
  mask: AttentionMask,
  B: number,
  T: number,
  drop: Dropper,
): tf.Tensor2D {
  // With our kernels: q, k and v from one dispatch, packed as the fused attention reads them.
  const rows: AttentionRows = fusedKernelsActive()
    ? { packed: fusedQkvProjection(x, p) } // [3, B·T, H]
    : { q: proj(x, p.query), k: proj(x, p.key), v: proj(x, p.value) }; // [B·T, H] each
  const A = config.num_attention_heads;
  const merged = multiHeadAttention(rows, mask, B, T, A, config.attention_probs_dropout_prob, drop); // [B·T, H]
  const rate = config.hidden_dropout_prob;
  const attnOut = proj(merged, p.attnOut); // [B·T, H]
  // Each sublayer's output dropout runs inside the residual LayerNorm (one site each, as before).
  const attnSite = drop.take(rate);
  const h1 = addLayerNorm(
    attnOut,
    x,
    p.attnLn.gamma,
    p.attnLn.beta,
    config.layer_norm_eps,
    attnSite && { rate, ...attnSite },
  ) as tf.Tensor2D; // [B·T, H]
  const inter = activation(proj(h1, p.intermediate), config.hidden_act) as tf.Tensor2D; // [B·T, I]
  const out = proj(inter, p.output); // [B·T, H]
  const outSite = drop.take(rate);
  return addLayerNorm(
    out,
    h1,
    p.outLn.gamma,
    p.outLn.beta,
    config.layer_norm_eps,
    outSite && { rate, ...outSite },
  ) as tf.Tensor2D; // [B·T, H]
}

/** Embeddings + encoder → last hidden state [B, T, H]. */
export function bertEncoder(
  params: BertParams,
  config: BertConfig,
  inputs: BertInputs,
  opts: ForwardOptions = {},
): tf.Tensor3D {
  const [B, T] = checkInputs(config, inputs);
  return tf.tidy(() => {
    const drop = new Dropper(opts);
    const mask = attentionMask(inputs.attentionMask); // [B, T]; its bias [B, 1, 1, T] when the stock path needs it
    let x = embed(params, config, inputs, B, T, drop); // [B·T, H]
    for (const layer of params.layers) x = encoderLayer(x, layer, config, mask, B, T, drop); // [B·T, H]
    return tf.reshape(x, [B, T, config.hidden_size]); // [B, T, H]
  });
}

/** Pooler: tanh(dense(hidden[:, 0])) → [B, H]. */
export function bertPooler(params: BertParams, hidden: tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => {
    const [B, , H] = hidden.shape;
    const cls = tf.reshape(tf.slice(hidden, [0, 0, 0], [B, 1, H]), [B, H]) as tf.Tensor2D; // [B, H]
    return tanhActivation(proj(cls, params.pooler)); // [B, H]
  });
}

/** MLM logits for rows h [N, H] → [N, V]: dense → act → LayerNorm → h·Eᵀ + bias (tied decoder). */
export function mlmLogitsRows(params: BertParams, config: BertConfig, rows: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const m = params.mlm;
    const t = activation(proj(rows, m.transform), config.hidden_act) as tf.Tensor2D; // [N, H]
    const n = layerNorm(t, m.ln.gamma, m.ln.beta, config.layer_norm_eps) as tf.Tensor2D; // [N, H]
    return tf.add(tf.matMul(n, params.embeddings.word, false, true), m.bias); // [N, V]
  });
}

/** MLM logits at every position: hidden [B, T, H] → [B, T, V]. */
export function mlmLogits(params: BertParams, config: BertConfig, hidden: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const [B, T, H] = hidden.shape;
    const logits = mlmLogitsRows(params, config, tf.reshape(hidden, [B * T, H]) as tf.Tensor2D); // [B·T, V]
    return tf.reshape(logits, [B, T, config.vocab_size]); // [B, T, V]
  });
}

/**
 * Rows of hidden [B, T, H] at flat positions b·T + t (int32 [N]) → [N, H]. Differentiable (gather's
 * gradient; on wasm it needs registerWasmKernels()). Pretraining projects only masked positions:
 * `mlmLogitsRows(params, config, gatherPositions(hidden, flatPositions))` → [N, V].
 */
export function gatherPositions(hidden: tf.Tensor3D, flatPositions: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => {
    const [B, T, H] = hidden.shape;
    return embeddingLookup(tf.reshape(hidden, [B * T, H]) as tf.Tensor2D, flatPositions); // [N, H]
  });
}

/** Classifier logits on the pooled output [B, H] → [B, numLabels] (dropout first when training). */
export function classifierLogits(
  params: BertParams,
  config: BertConfig,
  pooled: tf.Tensor2D,
  opts: ForwardOptions = {},
): tf.Tensor2D {
  return tf.tidy(() => {
    const rate = config.classifier_dropout ?? config.hidden_dropout_prob;
    const seedOpts = opts.dropoutSeed === undefined ? opts : { ...opts, dropoutSeed: opts.dropoutSeed + 0.5 };
    const x = new Dropper(seedOpts).apply(pooled, rate); // [B, H]
    return proj(x, params.classifier); // [B, L]
  });
}

/** Masked mean over real tokens: hidden [B, T, H], mask [B, T] → [B, H]; all-padding rows → 0. */
export function meanPool(hidden: tf.Tensor3D, mask?: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    if (!mask) return tf.mean(hidden, 1) as tf.Tensor2D; // [B, H]
    const [B, T, H] = hidden.shape;
    const m = tf.cast(mask, 'float32'); // [B, T]
    // Weighted sum as a batched matmul ([B,1,T]·[B,T,H]) and the count as a 2-D row sum: measured on
    // tfjs-webgpu 4.22 (SwiftShader), sum over axis 1 of a [B, T, 1] tensor returned zeros in some
    // op sequences, so this avoids reductions over a middle axis with a trailing size-1 dimension.
    const summed = tf.reshape(tf.matMul(tf.reshape(m, [B, 1, T]), hidden), [B, H]); // [B, H]
    const count = tf.maximum(tf.sum(m, 1, true), 1e-9); // [B, 1]
    return tf.div(summed, count) as tf.Tensor2D; // [B, H]
  });
}

/** Which token states make a sentence vector (sentence-transformers Pooling; checkpoint/sentence-transformers.ts). */
export type SentencePoolingMode = 'cls' | 'mean' | 'max';

/**
 * Sentence pooling of a right-padded batch (docs/ARCHITECTURE.md, "Sentence-transformers folders"): the [CLS]
 * state, the mean of the real tokens (meanPool with the mask), or their element-wise max (padding never wins).
 */
export function sentencePool(hidden: tf.Tensor3D, mask: tf.Tensor2D, mode: SentencePoolingMode): tf.Tensor2D {
  return tf.tidy(() => {
    if (mode === 'mean') return meanPool(hidden, mask); // [B, H]
    const [B, T, H] = hidden.shape;
    if (mode === 'cls') return tf.reshape(tf.slice(hidden, [0, 0, 0], [B, 1, H]), [B, H]); // [B, H]
    // -1e9 on padded positions: a real token's value is left exactly as it is, a padded one can never be the max.
    const penalty = tf.reshape(tf.mul(tf.sub(1, tf.cast(mask, 'float32')), -1e9), [B, T, 1]); // [B, T, 1]
    // Max over the last axis of [B, H, T] rather than the middle axis of [B, T, H] (see meanPool's note).
    return tf.max(tf.transpose(tf.add(hidden, penalty), [0, 2, 1]), 2) as tf.Tensor2D; // [B, H]
  });
}

/** Rows scaled to unit L2 norm, as the sentence-transformers Normalize module does (norm clamped at 1e-12). */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const norm = tf.maximum(tf.sqrt(tf.sum(tf.square(x), 1, true)), 1e-12); // [B, 1]
    return tf.div(x, norm) as tf.Tensor2D; // [B, H]
  });
}

export interface SequenceClassificationOutput {
  hidden: tf.Tensor3D; // [B, T, H]
  pooled: tf.Tensor2D; // [B, H]
  logits: tf.Tensor2D; // [B, L]
}

/** BertForSequenceClassification forward: encoder → pooler → classifier. */
export function bertForSequenceClassification(
  params: BertParams,
  config: BertConfig,
  inputs: BertInputs,
  opts: ForwardOptions = {},
): SequenceClassificationOutput {
  const hidden = bertEncoder(params, config, inputs, opts); // [B, T, H]
  const pooled = bertPooler(params, hidden); // [B, H]
  const logits = classifierLogits(params, config, pooled, opts); // [B, L]
  return { hidden, pooled, logits };
}
