/**
 * Hugging Face tensors ↔ BertParams.
 *
 * Load: names are accepted with or without the `bert.` prefix and with old LayerNorm names
 * (`gamma`/`beta`); every shape is checked against config.json BEFORE any variable is created;
 * Linear weights are transposed once from PyTorch's [out, in] to our [in, out] (see params.ts).
 * Missing encoder tensors (embeddings, layers) are an error listing them; a missing pooler, MLM
 * head or classifier is initialised fresh with a warning (that is the normal case when
 * fine-tuning a pretrained checkpoint). Extra tensors are reported, never fatal.
 *
 * Export: `paramsToTensorMap` produces HF names with the `bert.` prefix, PyTorch orientation, and
 * `cls.predictions.decoder.weight` = word embeddings (tied).
 */
import * as tf from '@tensorflow/tfjs';
import type { RawTensor, TensorMap } from '../checkpoint/types';
import { EngineError } from '../errors';
import type { BertConfig } from './config';
import type { BertParams, ParamGroup, ParamSpec } from './params';
import { assembleParams, initTensor, namedParams, paramInitSeed, paramSpecs, variableShape } from './params';

const DECODER_WEIGHT = 'cls.predictions.decoder.weight';
const DECODER_BIAS = 'cls.predictions.decoder.bias';
const MLM_BIAS = 'cls.predictions.bias';

/**
 * Canonical name: `bert.` prefix on embeddings/encoder/pooler, LayerNorm `gamma`/`beta` →
 * `weight`/`bias`. Other names are returned unchanged.
 */
export function normalizeWeightName(name: string): string {
  let n = name;
  if (/^(embeddings|encoder|pooler)\./.test(n)) n = `bert.${n}`;
  n = n.replace(/(LayerNorm|layer_norm)\.gamma$/, '$1.weight').replace(/(LayerNorm|layer_norm)\.beta$/, '$1.bias');
  return n;
}

/** Buffers some checkpoints carry that are not parameters; skipped silently. */
function isIgnoredBuffer(name: string): boolean {
  return /(^|\.)position_ids$/.test(name) || /(^|\.)token_type_ids$/.test(name);
}

export interface LoadOptions {
  /** Seed for tensors initialised fresh (missing heads). Default 0. */
  seed?: number;
  /** Ignore the checkpoint's classifier and start a fresh one (e.g. a different label set). */
  freshClassifier?: boolean;
  /** Used in messages. Default 'model.safetensors'. */
  fileName?: string;
}

export interface LoadReport {
  /** HF names (canonical) that were not in the checkpoint and were initialised fresh. */
  initialized: string[];
  /** Checkpoint names we did not use (e.g. cls.seq_relationship.*, other heads). */
  unexpected: string[];
  /** Human-readable warnings (fresh heads, untied decoder, duplicate names). */
  warnings: string[];
}

export interface LoadResult {
  params: BertParams;
  report: LoadReport;
}

const GROUP_LABEL: Record<ParamGroup, string> = {
  encoder: 'encoder',
  pooler: 'pooler',
  mlm: 'MLM head (cls.predictions.*)',
  classifier: 'classifier',
};

const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;

function listNames(names: string[], max = 12): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} … and ${names.length - max} more`;
}

/** Row-major [rows, cols] → [cols, rows]. */
function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[base + c];
  }
  return out;
}

/**
 * Builds BertParams from checkpoint tensors. Throws EngineError WEIGHTS_MISSING (encoder tensors
 * absent, all listed) or WEIGHTS_SHAPE_MISMATCH (tensor name, expected and actual shape). No
 * variable is created unless every check passes.
 */
export function loadBertParams(tensors: TensorMap, config: BertConfig, opts: LoadOptions = {}): LoadResult {
  const fileName = opts.fileName ?? 'model.safetensors';
  const warnings: string[] = [];
  const unexpected: string[] = [];
  const specs = paramSpecs(config);
  const wanted = new Set(specs.map((s) => s.name));

  // 1. Canonical names.
  const byName = new Map<string, RawTensor>();
  let decoderWeight: RawTensor | undefined;
  let decoderBias: RawTensor | undefined;
  for (const [key, t] of tensors) {
    const original = t.name || key;
    const name = normalizeWeightName(original);
    if (isIgnoredBuffer(name)) continue;
    if (name === DECODER_WEIGHT) {
      decoderWeight = t;
      continue;
    }
    if (name === DECODER_BIAS) {
      decoderBias = t;
      continue;
    }
    if (opts.freshClassifier && name.startsWith('classifier.')) continue;
    if (!wanted.has(name)) {
      unexpected.push(original);
      continue;
    }
    if (byName.has(name)) {
      warnings.push(`${fileName}: ${original} duplicates ${byName.get(name)!.name}; using the first`);
      continue;
    }
    byName.set(name, t);
  }
  // HF ties cls.predictions.decoder.bias to cls.predictions.bias; some files store only the former.
  if (!byName.has(MLM_BIAS) && decoderBias) byName.set(MLM_BIAS, decoderBias);

  // 2. Missing tensors: encoder → error; heads → fresh init (warned per group).
  const missing = specs.filter((s) => !byName.has(s.name));
  const missingEncoder = missing.filter((s) => s.group === 'encoder').map((s) => s.name);
  if (missingEncoder.length > 0) {
    throw new EngineError(
      'WEIGHTS_MISSING',
      `${fileName}: ${missingEncoder.length} encoder tensor${missingEncoder.length > 1 ? 's are' : ' is'} missing: ${listNames(missingEncoder)}` +
        (byName.size === 0 ? ' (no BERT tensor names were recognised — is this a BERT checkpoint?)' : ''),
    );
  }

  // 3. Shapes (all checked before any allocation).
  const mismatches: string[] = [];
  for (const spec of specs) {
    const t = byName.get(spec.name);
    if (!t) continue;
    const ok = t.shape.length === spec.hfShape.length && t.shape.every((d, i) => d === spec.hfShape[i]);
    if (!ok) mismatches.push(`${t.name}: expected ${fmt(spec.hfShape)} (from config.json), got ${fmt(t.shape)}`);
    else if (t.data.length !== spec.hfShape.reduce((a, b) => a * b, 1)) {
      mismatches.push(`${t.name}: shape ${fmt(t.shape)} but ${t.data.length} values`);
    }
  }
  if (mismatches.length > 0) {
    throw new EngineError(
      'WEIGHTS_SHAPE_MISMATCH',
      `${fileName}: tensor shape mismatch — ${mismatches.slice(0, 8).join('; ')}${mismatches.length > 8 ? ` … and ${mismatches.length - 8} more` : ''}`,
    );
  }

  // 3b. Values: a NaN or infinite weight would make every prediction NaN (a diverged export).
  for (const spec of specs) {
    const t = byName.get(spec.name);
    if (!t) continue;
    const bad = t.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new EngineError(
        'WEIGHTS_NOT_FINITE',
        `${fileName}: ${t.name} holds ${t.data[bad]} at index ${bad}; the weights are broken (a run that diverged?). Use an earlier export or the base model.`,
      );
    }
  }
  // The next-sentence head of pretraining checkpoints (bert-base-uncased has one) is unused by
  // design; anything else unused means config.json and the weights disagree (e.g. fewer layers).
  const unexplained = unexpected.filter((n) => !/(^|\.)cls\.seq_relationship\./.test(n));
  if (unexplained.length > 0) {
    warnings.push(
      `${fileName}: ${unexplained.length} tensor${unexplained.length > 1 ? 's' : ''} not used by this config (${listNames(unexplained, 6)}); does config.json describe these weights (e.g. fewer layers)?`,
    );
  }

  // 4. Tied decoder: warn if the file's decoder differs from the word embeddings (we always tie).
  if (decoderWeight) {
    const word = byName.get('bert.embeddings.word_embeddings.weight')!;
    const same =
      decoderWeight.data.length === word.data.length &&
      decoderWeight.data.every((v, i) => Math.abs(v - word.data[i]) <= 1e-6);
    if (!same)
      warnings.push(
        `${fileName}: ${decoderWeight.name} differs from the word embeddings; the decoder is tied to the word embeddings and the file's decoder is ignored`,
      );
  }

  for (const group of ['pooler', 'mlm', 'classifier'] as const) {
    const names = missing.filter((s) => s.group === group).map((s) => s.name);
    if (names.length === 0) continue;
    const why = group === 'classifier' && opts.freshClassifier ? 'replaced on request' : 'not in the checkpoint';
    warnings.push(`${GROUP_LABEL[group]} ${why} (${listNames(names, 6)}): initialised fresh — train before using it`);
  }

  // 5. Allocate.
  const vars = new Map<string, tf.Variable>();
  const seed = opts.seed ?? 0;
  try {
    specs.forEach((spec: ParamSpec, i) => {
      const raw = byName.get(spec.name);
      let t: tf.Tensor;
      if (raw) {
        const data = spec.transposed ? transpose2d(raw.data, spec.hfShape[0], spec.hfShape[1]) : raw.data;
        t = tf.tensor(data, variableShape(spec), 'float32');
      } else {
        t = initTensor(spec, config, paramInitSeed(seed, i));
      }
      vars.set(spec.name, tf.variable(t, true));
      t.dispose();
    });
  } catch (error) {
    for (const v of vars.values()) v.dispose();
    throw error;
  }
  return {
    params: assembleParams(config, vars),
    report: { initialized: missing.map((s) => s.name), unexpected, warnings },
  };
}

/**
 * Parameters as Hugging Face tensors for export: `bert.`-prefixed names, PyTorch orientation
 * ([out, in] Linear weights), plus `cls.predictions.decoder.weight` (a copy of the word embeddings,
 * since the decoder is tied). Reads back asynchronously (no blocking readback on WebGPU).
 */
export async function paramsToTensorMap(params: BertParams, config: BertConfig): Promise<TensorMap> {
  const out: TensorMap = new Map();
  const specs = new Map(paramSpecs(config).map((s) => [s.name, s]));
  for (const { name, variable } of namedParams(params, config)) {
    const spec = specs.get(name)!;
    const values = (await variable.data()) as Float32Array;
    const data = spec.transposed ? transpose2d(values, spec.hfShape[1], spec.hfShape[0]) : new Float32Array(values);
    out.set(name, { name, shape: [...spec.hfShape], data });
    if (name === MLM_BIAS) {
      const word = out.get('bert.embeddings.word_embeddings.weight')!;
      out.set(DECODER_WEIGHT, { name: DECODER_WEIGHT, shape: [...word.shape], data: new Float32Array(word.data) });
    }
  }
  return out;
}
