/**
 * Prompt scoring with the MLM head: encoder → hidden rows at the [MASK] → MLM logits [N, V] →
 * log-softmax over the vocabulary → label-word log-probs [N, W] → per-label log of the mean word
 * probability [N, L]. Softmax over labels of that = the label-word probabilities renormalised over
 * the labels. Zero-shot uses it as is (optionally calibrated); the prompt method (methods/prompt.ts) trains through it.
 */
import * as tf from '@tensorflow/tfjs';
import {
  bertEncoder,
  gatherPositions,
  mlmLogitsRows,
  type BertConfig,
  type BertParams,
  type ForwardOptions,
} from '../bert';
import { EngineError } from '../errors';
import type { BertTokenizer } from '../tokenizer';
import { makeBatches, type Batch, type EncodedExample } from '../train/batches';
import { computeMetrics, type Metrics } from '../train/metrics';
import { compileTemplate, renderTemplate, type CompiledTemplate, type ParsedTemplate } from './template';
import type { Verbalizer } from './verbalizer';
import { fusedLogSoftmaxGather } from '../kernels/cross-entropy-webgpu';
import { fusedKernelsActive } from '../kernels/program';
import { logAtLeast } from '../kernels/no-upload-webgpu';

export interface PromptInput {
  text: string;
  textPair?: string | null;
}

/** An encoded example with the index of its [MASK]. */
export interface PromptExample extends EncodedExample {
  maskPosition: number;
}

/** A compiled template from a template string, a parsed template or a compiled one. */
export function asCompiled(
  template: CompiledTemplate | ParsedTemplate | string,
  tokenizer: BertTokenizer,
): CompiledTemplate {
  if (typeof template !== 'string' && 'fixedLength' in template) return template;
  return compileTemplate(template, tokenizer);
}

/** Renders inputs through the template (truncating text slots to fit `maxLength`). */
export function encodePromptExamples(
  template: CompiledTemplate | ParsedTemplate | string,
  tokenizer: BertTokenizer,
  inputs: readonly PromptInput[],
  labels: readonly number[] | null,
  maxLength: number,
): { examples: PromptExample[]; truncated: number } {
  const compiled = asCompiled(template, tokenizer);
  let truncated = 0;
  const examples = inputs.map((input, i) => {
    const r = renderTemplate(compiled, tokenizer, input, maxLength);
    if (r.truncated) truncated++;
    return {
      inputIds: r.inputIds,
      tokenTypeIds: r.tokenTypeIds,
      maskPosition: r.maskPositions[0],
      label: labels ? labels[i] : -1,
    };
  });
  return { examples, truncated };
}

/** Flat [B] positions b·T + mask for a batch built from prompt examples. */
export function batchMaskPositions(batch: Batch, examples: readonly PromptExample[]): Int32Array {
  const out = new Int32Array(batch.batchSize);
  batch.indices.forEach((ex, b) => (out[b] = b * batch.seqLen + examples[ex].maskPosition));
  return out;
}

/** Word→label averaging matrix [W, L] (1/n_l where word w belongs to label l). */
export function labelAverager(v: Verbalizer): tf.Tensor2D {
  const L = v.labels.length;
  const W = v.wordIds.length;
  const counts = new Array<number>(L).fill(0);
  v.wordLabel.forEach((l) => counts[l]++);
  const data = new Float32Array(W * L);
  v.wordLabel.forEach((l, w) => (data[w * L + l] = 1 / counts[l]));
  return tf.tensor2d(data, [W, L]);
}

/** log mean_w p_w per label from log-probs [N, W] → [N, L] (stable: max-shifted). */
export function labelLogScores(wordLogProbs: tf.Tensor2D, averager: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const m = tf.max(wordLogProbs, 1, true); // [N, 1] (its gradient cancels exactly)
    const mean = tf.matMul(tf.exp(tf.sub(wordLogProbs, m)), averager); // [N, L]
    return tf.add(logAtLeast(mean, 1e-30), m) as tf.Tensor2D; // [N, L]
  });
}

/**
 * Per-label log mean probability [B, L] for a batch. Differentiable; `opts.training` turns dropout on.
 * `wordIds` int32 [W], `averager` [W, L], `flatMask` int32 [B].
 */
export function promptLabelScores(
  params: BertParams,
  config: BertConfig,
  batch: { inputIds: tf.Tensor2D; tokenTypeIds?: tf.Tensor2D; attentionMask?: tf.Tensor2D },
  flatMask: tf.Tensor1D,
  wordIds: tf.Tensor1D,
  averager: tf.Tensor2D,
  opts: ForwardOptions = {},
): tf.Tensor2D {
  return tf.tidy(() => {
    const hidden = bertEncoder(params, config, batch, opts); // [B, T, H]
    const rows = gatherPositions(hidden, flatMask); // [B, H]
    const logits = mlmLogitsRows(params, config, rows); // [B, V]
    // Our kernel on webgpu (docs/ARCHITECTURE.md, "Own kernels"): no [B, V] log-softmax is written.
    const wordLogProbs = fusedKernelsActive()
      ? fusedLogSoftmaxGather(logits, wordIds) // [B, W]
      : (tf.gather(tf.logSoftmax(logits, -1), wordIds, 1) as tf.Tensor2D); // [B, W]
    return labelLogScores(wordLogProbs, averager); // [B, L]
  });
}

function batchTensors(batch: Batch) {
  const shape: [number, number] = [batch.batchSize, batch.seqLen];
  return {
    inputIds: tf.tensor2d(batch.inputIds, shape, 'int32'), // [B, T]
    tokenTypeIds: tf.tensor2d(batch.tokenTypeIds, shape, 'int32'), // [B, T]
    attentionMask: tf.tensor2d(batch.attentionMask, shape, 'int32'), // [B, T]
  };
}

/** Label probabilities [N·L] (row-major, input order) for prompt examples, no dropout. */
export async function promptProbabilities(
  params: BertParams,
  config: BertConfig,
  examples: readonly PromptExample[],
  verbalizer: Verbalizer,
  options: { batchSize?: number; maxLength: number },
): Promise<Float32Array> {
  const L = verbalizer.labels.length;
  const out = new Float32Array(examples.length * L);
  if (examples.length === 0) return out;
  const wordIds = tf.tensor1d(verbalizer.wordIds, 'int32');
  const averager = labelAverager(verbalizer);
  try {
    const batches = makeBatches(examples, {
      batchSize: options.batchSize ?? 32,
      maxLength: options.maxLength,
      shuffle: false,
      seed: 0,
      epoch: 0,
    });
    for (const batch of batches) {
      const probs = tf.tidy(() => {
        const flat = tf.tensor1d(batchMaskPositions(batch, examples), 'int32');
        return tf.softmax(promptLabelScores(params, config, batchTensors(batch), flat, wordIds, averager), -1); // [B, L]
      });
      const values = await probs.data();
      probs.dispose();
      batch.indices.forEach((ex, row) => out.set(values.subarray(row * L, (row + 1) * L), ex * L));
    }
  } finally {
    tf.dispose([wordIds, averager]);
  }
  return out;
}

/** Content-free inputs for calibration (Zhao et al. 2021, "Calibrate Before Use"). */
export const CONTENT_FREE_INPUTS: readonly string[] = ['', 'N/A'];

/** Mean label distribution [L] on content-free inputs (the prompt's label-word prior). */
export async function contentFreePrior(
  params: BertParams,
  config: BertConfig,
  tokenizer: BertTokenizer,
  template: CompiledTemplate,
  verbalizer: Verbalizer,
  maxLength: number,
): Promise<number[]> {
  const inputs = CONTENT_FREE_INPUTS.map((t) => ({ text: t, textPair: template.template.usesTextPair ? t : null }));
  const { examples } = encodePromptExamples(template, tokenizer, inputs, null, maxLength);
  const probs = await promptProbabilities(params, config, examples, verbalizer, { maxLength });
  const L = verbalizer.labels.length;
  const prior = new Array<number>(L).fill(0);
  for (let i = 0; i < examples.length; i++) for (let l = 0; l < L; l++) prior[l] += probs[i * L + l] / examples.length;
  return prior;
}

/** p(y|x) / prior(y), renormalised per row (in place). */
export function applyCalibration(probs: Float32Array, prior: readonly number[]): Float32Array {
  const L = prior.length;
  for (let i = 0; i < probs.length / L; i++) {
    let sum = 0;
    for (let l = 0; l < L; l++) {
      probs[i * L + l] /= Math.max(prior[l], 1e-12);
      sum += probs[i * L + l];
    }
    for (let l = 0; l < L; l++) probs[i * L + l] /= sum > 0 ? sum : 1;
  }
  return probs;
}

/** What prompt scoring needs from a model (FewShotModel satisfies it). */
export interface PromptModel {
  params: BertParams;
  config: BertConfig;
  tokenizer: BertTokenizer;
  maxLength: number;
}

export interface ZeroShotOptions {
  /** Divide by the content-free prior and renormalise. Default false. */
  calibrate?: boolean;
  maxLength?: number;
  batchSize?: number;
}

/** Zero-shot label probabilities, one row [L] per input (label order of the verbalizer). */
export async function zeroShotProbabilities(
  model: PromptModel,
  template: CompiledTemplate | ParsedTemplate | string,
  verbalizer: Verbalizer,
  inputs: readonly PromptInput[],
  options: ZeroShotOptions = {},
): Promise<number[][]> {
  const compiled = asCompiled(template, model.tokenizer);
  const maxLength = Math.min(options.maxLength ?? 128, model.maxLength);
  const { examples } = encodePromptExamples(compiled, model.tokenizer, inputs, null, maxLength);
  const probs = await promptProbabilities(model.params, model.config, examples, verbalizer, {
    maxLength,
    batchSize: options.batchSize,
  });
  if (options.calibrate)
    applyCalibration(
      probs,
      await contentFreePrior(model.params, model.config, model.tokenizer, compiled, verbalizer, maxLength),
    );
  const L = verbalizer.labels.length;
  return inputs.map((_, i) => Array.from(probs.subarray(i * L, (i + 1) * L)));
}

export interface LabeledInput extends PromptInput {
  label: string;
}

/** Zero-shot metrics of a (template, verbalizer) on labeled examples. */
export async function evaluatePrompt(
  model: PromptModel,
  template: CompiledTemplate | ParsedTemplate | string,
  verbalizer: Verbalizer,
  examples: readonly LabeledInput[],
  options: ZeroShotOptions = {},
): Promise<Metrics> {
  const yTrue = examples.map((e) => {
    const i = verbalizer.labels.indexOf(e.label);
    if (i < 0)
      throw new EngineError(
        'PROMPT_UNKNOWN_LABEL',
        `Example label "${e.label}" has no label word in the verbalizer. Labels: ${verbalizer.labels.join(', ')}.`,
      );
    return i;
  });
  const probs = await zeroShotProbabilities(model, template, verbalizer, examples, options);
  return computeMetrics(yTrue, probs, verbalizer.labels);
}
