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
import { addLayerNorm, dropout, geluErf, geluTanh, layerNorm, linear } from '../tf/ops';
import type { BertConfig, HiddenAct } from './config';
import type { BertParams, LinearParams } from './params';

/** Additive attention bias for padded keys. Large but finite, so a fully padded row softmaxes to
 * uniform weights instead of NaN (HF uses dtype-min; -1e9 behaves the same in float32). */
export const MASK_NEG = -1e9;

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
class Dropper {
  private site = 0;
  constructor(private readonly opts: ForwardOptions) {}
  apply<T extends tf.Tensor>(x: T, rate: number): T {
    const site = this.site++;
    if (!this.opts.training || rate <= 0) return x;
    const seed = this.opts.dropoutSeed === undefined ? undefined : this.opts.dropoutSeed * 7919 + site * 104729 + 17;
    return dropout(x, rate, seed);
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
  const ids = tf.reshape(inputs.inputIds, [B * T]); // [B·T]
  const words = tf.reshape(tf.gather(e.word, ids), [B, T, H]); // [B, T, H]
  const positions = tf.reshape(tf.slice(e.position, [0, 0], [T, H]), [1, T, H]); // [1, T, H]
  let x = tf.add(words, positions); // [B, T, H]
  if (inputs.tokenTypeIds) {
    const types = tf.reshape(inputs.tokenTypeIds, [B * T]); // [B·T]
    x = tf.add(x, tf.reshape(tf.gather(e.tokenType, types), [B, T, H])); // [B, T, H]
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

/** One post-LN encoder layer on flattened rows x [B·T, H]. */
function encoderLayer(
  x: tf.Tensor2D,
  p: BertParams['layers'][number],
  config: BertConfig,
  bias: tf.Tensor4D | null,
  B: number,
  T: number,
  drop: Dropper,
): tf.Tensor2D {
  const H = config.hidden_size,
    A = config.num_attention_heads,
    D = H / A;
  const heads = (t: tf.Tensor2D) => tf.transpose(tf.reshape(t, [B, T, A, D]), [0, 2, 1, 3]); // [B, A, T, D]
  const q = heads(tf.mul(proj(x, p.query), 1 / Math.sqrt(D))); // [B, A, T, D] (pre-scaled by 1/√D)
  const k = heads(proj(x, p.key)); // [B, A, T, D]
  const v = heads(proj(x, p.value)); // [B, A, T, D]
  let scores: tf.Tensor4D = tf.matMul(q, k, false, true); // [B, A, T, T]
  if (bias) scores = tf.add(scores, bias); // [B, A, T, T]
  const probs = drop.apply(tf.softmax(scores, -1), config.attention_probs_dropout_prob); // [B, A, T, T]
  const ctx = tf.matMul(probs, v); // [B, A, T, D]
  const merged = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [B * T, H]) as tf.Tensor2D; // [B·T, H]
  const attnOut = drop.apply(proj(merged, p.attnOut), config.hidden_dropout_prob); // [B·T, H]
  const h1 = addLayerNorm(attnOut, x, p.attnLn.gamma, p.attnLn.beta, config.layer_norm_eps) as tf.Tensor2D; // [B·T, H]
  const inter = activation(proj(h1, p.intermediate), config.hidden_act) as tf.Tensor2D; // [B·T, I]
  const out = drop.apply(proj(inter, p.output), config.hidden_dropout_prob); // [B·T, H]
  return addLayerNorm(out, h1, p.outLn.gamma, p.outLn.beta, config.layer_norm_eps) as tf.Tensor2D; // [B·T, H]
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
    const bias = inputs.attentionMask ? attentionBias(inputs.attentionMask) : null; // [B, 1, 1, T]
    let x = embed(params, config, inputs, B, T, drop); // [B·T, H]
    for (const layer of params.layers) x = encoderLayer(x, layer, config, bias, B, T, drop); // [B·T, H]
    return tf.reshape(x, [B, T, config.hidden_size]); // [B, T, H]
  });
}

/** Pooler: tanh(dense(hidden[:, 0])) → [B, H]. */
export function bertPooler(params: BertParams, hidden: tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => {
    const [B, , H] = hidden.shape;
    const cls = tf.reshape(tf.slice(hidden, [0, 0, 0], [B, 1, H]), [B, H]) as tf.Tensor2D; // [B, H]
    return tf.tanh(proj(cls, params.pooler)); // [B, H]
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
    return tf.gather(tf.reshape(hidden, [B * T, H]) as tf.Tensor2D, flatPositions); // [N, H]
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
