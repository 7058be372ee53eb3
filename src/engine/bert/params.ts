/**
 * BERT parameters as explicit `tf.Variable`s in a typed object, so training code owns them.
 *
 * Orientation: Linear weights are stored [in, out] (x·W, the layout of tf.layers.dense kernels and
 * the original TF BERT checkpoints), i.e. TRANSPOSED relative to PyTorch/Hugging Face's [out, in].
 * The transpose happens once, in JavaScript, when loading (weights.ts) and exporting
 * (paramsToTensorMap); the forward pass then runs plain matmuls with no transpose flags.
 * Embedding tables are [rows, H] in both worlds (no transpose). The MLM decoder is tied to the word
 * embeddings (logits = t·Eᵀ) and has no variable of its own.
 *
 * `paramSpecs(config)` is the single table of Hugging Face names (with the `bert.` prefix), shapes
 * and groups; init, load, export and `namedParams` all iterate it, so they cannot disagree.
 */
import * as tf from '@tensorflow/tfjs';
import type { BertConfig } from './config';
import { numLabels } from './config';

/** y = x·w + b. */
export interface LinearParams {
  /** [in, out] (transposed from PyTorch's [out, in]). */
  w: tf.Variable<tf.Rank.R2>;
  /** [out] */
  b: tf.Variable<tf.Rank.R1>;
}

export interface LayerNormParams {
  /** [H] — HF `weight` (old files: `gamma`). */
  gamma: tf.Variable<tf.Rank.R1>;
  /** [H] — HF `bias` (old files: `beta`). */
  beta: tf.Variable<tf.Rank.R1>;
}

export interface BertLayerParams {
  query: LinearParams; // [H, H]
  key: LinearParams; // [H, H]
  value: LinearParams; // [H, H]
  attnOut: LinearParams; // [H, H]   attention.output.dense
  attnLn: LayerNormParams; // attention.output.LayerNorm
  intermediate: LinearParams; // [H, I] intermediate.dense
  output: LinearParams; // [I, H]     output.dense
  outLn: LayerNormParams; // output.LayerNorm
}

export interface BertParams {
  embeddings: {
    word: tf.Variable<tf.Rank.R2>; // [V, H]
    position: tf.Variable<tf.Rank.R2>; // [P, H]
    tokenType: tf.Variable<tf.Rank.R2>; // [TV, H]
    ln: LayerNormParams;
  };
  layers: BertLayerParams[];
  pooler: LinearParams; // [H, H], tanh
  mlm: {
    transform: LinearParams; // [H, H], then hidden_act
    ln: LayerNormParams;
    bias: tf.Variable<tf.Rank.R1>; // [V]  decoder weight is tied to embeddings.word
  };
  classifier: LinearParams; // [H, numLabels]
}

/** Which part of the model a tensor belongs to; heads may be initialised fresh when missing. */
export type ParamGroup = 'encoder' | 'pooler' | 'mlm' | 'classifier';

export interface ParamSpec {
  /** Hugging Face name with the `bert.` prefix for encoder/pooler tensors. */
  name: string;
  /** Shape in Hugging Face / PyTorch orientation ([out, in] for Linear weights). */
  hfShape: number[];
  /** True for Linear weights: the variable holds the transpose, [in, out]. */
  transposed: boolean;
  group: ParamGroup;
  /** Fresh init: normal(0, initializer_range) truncated at 2σ, zeros or ones. */
  init: 'normal' | 'zeros' | 'ones';
}

/** Every parameter, in a stable order (embeddings, layers, pooler, MLM head, classifier). */
export function paramSpecs(config: BertConfig): ParamSpec[] {
  const H = config.hidden_size,
    I = config.intermediate_size,
    V = config.vocab_size;
  const specs: ParamSpec[] = [];
  const linear = (name: string, out: number, inp: number, group: ParamGroup) => {
    specs.push({ name: `${name}.weight`, hfShape: [out, inp], transposed: true, group, init: 'normal' });
    specs.push({ name: `${name}.bias`, hfShape: [out], transposed: false, group, init: 'zeros' });
  };
  const ln = (name: string, group: ParamGroup) => {
    specs.push({ name: `${name}.weight`, hfShape: [H], transposed: false, group, init: 'ones' });
    specs.push({ name: `${name}.bias`, hfShape: [H], transposed: false, group, init: 'zeros' });
  };
  const table = (name: string, rows: number) =>
    specs.push({ name, hfShape: [rows, H], transposed: false, group: 'encoder', init: 'normal' });

  table('bert.embeddings.word_embeddings.weight', V);
  table('bert.embeddings.position_embeddings.weight', config.max_position_embeddings);
  table('bert.embeddings.token_type_embeddings.weight', config.type_vocab_size);
  ln('bert.embeddings.LayerNorm', 'encoder');
  for (let i = 0; i < config.num_hidden_layers; i++) {
    const p = `bert.encoder.layer.${i}`;
    linear(`${p}.attention.self.query`, H, H, 'encoder');
    linear(`${p}.attention.self.key`, H, H, 'encoder');
    linear(`${p}.attention.self.value`, H, H, 'encoder');
    linear(`${p}.attention.output.dense`, H, H, 'encoder');
    ln(`${p}.attention.output.LayerNorm`, 'encoder');
    linear(`${p}.intermediate.dense`, I, H, 'encoder');
    linear(`${p}.output.dense`, H, I, 'encoder');
    ln(`${p}.output.LayerNorm`, 'encoder');
  }
  linear('bert.pooler.dense', H, H, 'pooler');
  linear('cls.predictions.transform.dense', H, H, 'mlm');
  ln('cls.predictions.transform.LayerNorm', 'mlm');
  specs.push({ name: 'cls.predictions.bias', hfShape: [V], transposed: false, group: 'mlm', init: 'zeros' });
  linear('classifier', numLabels(config), H, 'classifier');
  return specs;
}

/** Shape of the variable for a spec (Linear weights transposed to [in, out]). */
export function variableShape(spec: ParamSpec): number[] {
  return spec.transposed ? [spec.hfShape[1], spec.hfShape[0]] : spec.hfShape;
}

/** Assembles the typed params object from variables keyed by spec name. */
export function assembleParams(config: BertConfig, byName: Map<string, tf.Variable>): BertParams {
  const get = <R extends tf.Rank>(name: string): tf.Variable<R> => {
    const v = byName.get(name);
    if (!v) throw new Error(`internal: no variable for ${name}`);
    return v as tf.Variable<R>;
  };
  const linear = (name: string): LinearParams => ({ w: get(`${name}.weight`), b: get(`${name}.bias`) });
  const ln = (name: string): LayerNormParams => ({ gamma: get(`${name}.weight`), beta: get(`${name}.bias`) });
  return {
    embeddings: {
      word: get('bert.embeddings.word_embeddings.weight'),
      position: get('bert.embeddings.position_embeddings.weight'),
      tokenType: get('bert.embeddings.token_type_embeddings.weight'),
      ln: ln('bert.embeddings.LayerNorm'),
    },
    layers: Array.from({ length: config.num_hidden_layers }, (_, i) => {
      const p = `bert.encoder.layer.${i}`;
      return {
        query: linear(`${p}.attention.self.query`),
        key: linear(`${p}.attention.self.key`),
        value: linear(`${p}.attention.self.value`),
        attnOut: linear(`${p}.attention.output.dense`),
        attnLn: ln(`${p}.attention.output.LayerNorm`),
        intermediate: linear(`${p}.intermediate.dense`),
        output: linear(`${p}.output.dense`),
        outLn: ln(`${p}.output.LayerNorm`),
      };
    }),
    pooler: linear('bert.pooler.dense'),
    mlm: {
      transform: linear('cls.predictions.transform.dense'),
      ln: ln('cls.predictions.transform.LayerNorm'),
      bias: get('cls.predictions.bias'),
    },
    classifier: linear('classifier'),
  };
}

/** A variable with its Hugging Face name (same shape as the optimizer's `NamedParam`). */
export interface NamedVariable {
  name: string;
  variable: tf.Variable;
  /** True when `variable` holds the transpose of the HF tensor (Linear weights). */
  transposed: boolean;
  group: ParamGroup;
}

/** All variables with HF names, in `paramSpecs` order. Filter by `group` to freeze parts. */
export function namedParams(params: BertParams, config: BertConfig): NamedVariable[] {
  const byName = new Map<string, tf.Variable>();
  const put = (name: string, v: tf.Variable) => byName.set(name, v);
  const linear = (name: string, l: LinearParams) => (put(`${name}.weight`, l.w), put(`${name}.bias`, l.b));
  const ln = (name: string, l: LayerNormParams) => (put(`${name}.weight`, l.gamma), put(`${name}.bias`, l.beta));
  const e = params.embeddings;
  put('bert.embeddings.word_embeddings.weight', e.word);
  put('bert.embeddings.position_embeddings.weight', e.position);
  put('bert.embeddings.token_type_embeddings.weight', e.tokenType);
  ln('bert.embeddings.LayerNorm', e.ln);
  params.layers.forEach((l, i) => {
    const p = `bert.encoder.layer.${i}`;
    linear(`${p}.attention.self.query`, l.query);
    linear(`${p}.attention.self.key`, l.key);
    linear(`${p}.attention.self.value`, l.value);
    linear(`${p}.attention.output.dense`, l.attnOut);
    ln(`${p}.attention.output.LayerNorm`, l.attnLn);
    linear(`${p}.intermediate.dense`, l.intermediate);
    linear(`${p}.output.dense`, l.output);
    ln(`${p}.output.LayerNorm`, l.outLn);
  });
  linear('bert.pooler.dense', params.pooler);
  linear('cls.predictions.transform.dense', params.mlm.transform);
  ln('cls.predictions.transform.LayerNorm', params.mlm.ln);
  put('cls.predictions.bias', params.mlm.bias);
  linear('classifier', params.classifier);
  return paramSpecs(config).map((s) => {
    const variable = byName.get(s.name);
    if (!variable) throw new Error(`internal: params object has no ${s.name}`);
    return { name: s.name, variable, transposed: s.transposed, group: s.group };
  });
}

/** A fresh tensor for one spec, deterministic in `seed`. */
export function initTensor(spec: ParamSpec, config: BertConfig, seed: number): tf.Tensor {
  const shape = variableShape(spec);
  return tf.tidy(() => {
    if (spec.init === 'zeros') return tf.zeros(shape);
    if (spec.init === 'ones') return tf.ones(shape);
    // Truncated at 2σ like the original BERT (HF uses an untruncated normal; same std).
    const t = tf.truncatedNormal(shape, 0, config.initializer_range, 'float32', seed);
    if (spec.name === 'bert.embeddings.word_embeddings.weight' && config.pad_token_id < config.vocab_size) {
      // [PAD] row is zero, as HF's nn.Embedding(padding_idx=pad_token_id) init.
      const keep = tf.sub(1, tf.oneHot(config.pad_token_id, config.vocab_size).reshape([config.vocab_size, 1])); // [V, 1]
      return tf.mul(t, keep); // [V, H]
    }
    return t;
  });
}

function specSeed(seed: number, index: number): number {
  return (Math.imul(seed | 0, 1_000_003) + index * 7919 + 1) | 0;
}

/** Fresh parameters (deterministic for a given seed on every backend). */
export function initBertParams(config: BertConfig, seed = 0): BertParams {
  const byName = new Map<string, tf.Variable>();
  paramSpecs(config).forEach((spec, i) => {
    const t = initTensor(spec, config, specSeed(seed, i));
    byName.set(spec.name, tf.variable(t, true));
    t.dispose();
  });
  return assembleParams(config, byName);
}

/** Seed used for spec `index` by `initBertParams(config, seed)`; weights.ts reuses it for fresh heads. */
export { specSeed as paramInitSeed };

/** Disposes every variable. */
export function disposeBertParams(params: BertParams, config: BertConfig): void {
  for (const { variable } of namedParams(params, config)) variable.dispose();
}

/**
 * Overwrites the position table with the sin/cos rows of Vaswani et al. (2017), scaled so each row
 * has the mean norm of the word-embedding rows; the table stays an ordinary trainable variable.
 *
 * Why: a from-scratch BERT-tiny pretrained on our corpus had, after 6,000 steps, position rows still
 * at random-init scale (mean norm 0.18 against 0.82 for word rows, neighbouring rows as dissimilar as
 * rows 10 apart) and gave the same fill-mask for a sentence and its shuffled words: it had learned no
 * word order. With sin/cos rows the product of two positions depends only on their distance, so
 * attending to neighbours is one linear map away; resetting the table got that model past the
 * plateau within ~1,500 steps (research/PRETRAINING-LOG.md).
 */
export function setSinusoidalPositions(params: BertParams): void {
  const table = params.embeddings.position; // [P, H]
  const [positions, hidden] = table.shape as [number, number];
  const rows = new Float32Array(positions * hidden);
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < hidden; i += 2) {
      const angle = p * Math.exp((-Math.log(10000) * i) / hidden);
      rows[p * hidden + i] = Math.sin(angle);
      if (i + 1 < hidden) rows[p * hidden + i + 1] = Math.cos(angle);
    }
  }
  const sinCosNorm = Math.sqrt(hidden / 2); // sin² + cos² = 1 per pair
  // The scale stays on the device: no synchronous readback, which WebGPU in Node cannot do.
  tf.tidy(() => {
    const wordRowNorm = tf.mean(tf.norm(params.embeddings.word, 'euclidean', 1));
    table.assign(tf.mul(tf.tensor2d(rows, [positions, hidden]), tf.div(wordRowNorm, sinCosNorm)));
  });
}
