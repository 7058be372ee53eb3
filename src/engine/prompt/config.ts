/**
 * Prompt settings saved with a model: config.json gets
 * `"fewshot_prompt": {"template": "{text} It was [MASK].", "verbalizer": {"positive": ["great"], …}}`
 * (label order = the verbalizer's key order = class index order). Transformers ignores unknown
 * config keys, so the folder still loads there as a BertForMaskedLM.
 */
import { EngineError } from '../errors';
import { compileTemplate, parseTemplate, type CompiledTemplate } from './template';
import { buildVerbalizer, type Verbalizer, type VerbalizerSpec } from './verbalizer';
import { zeroShotProbabilities, type PromptInput, type PromptModel } from './zero-shot';

/** The config.json key. */
export const PROMPT_CONFIG_KEY = 'fewshot_prompt';

export interface PromptConfig {
  template: string;
  /** label → words, in label order. */
  verbalizer: Record<string, string[]>;
  /** Apply content-free calibration at prediction time. Default false. */
  calibrate?: boolean;
}

/** `extraConfig` for `FewShotModel.exportFiles` so the prompt travels with the weights. */
export function promptExtraConfig(prompt: PromptConfig): Record<string, unknown> {
  return {
    [PROMPT_CONFIG_KEY]: {
      template: prompt.template,
      verbalizer: prompt.verbalizer,
      ...(prompt.calibrate ? { calibrate: true } : {}),
    },
  };
}

/** Reads and validates `fewshot_prompt` from a parsed config.json; null when absent. */
export function readPromptConfig(configJson: unknown): PromptConfig | null {
  if (typeof configJson !== 'object' || configJson === null) return null;
  const raw = (configJson as Record<string, unknown>)[PROMPT_CONFIG_KEY];
  if (raw === undefined || raw === null) return null;
  const bad = (why: string) =>
    new EngineError(
      'PROMPT_BAD_CONFIG',
      `config.json "${PROMPT_CONFIG_KEY}" ${why}. Expected {"template": "{text} It was [MASK].", "verbalizer": {"label": ["word"]}}.`,
    );
  if (typeof raw !== 'object') throw bad('is not an object');
  const { template, verbalizer, calibrate } = raw as Record<string, unknown>;
  if (typeof template !== 'string') throw bad('has no "template" string');
  parseTemplate(template);
  if (typeof verbalizer !== 'object' || verbalizer === null || Array.isArray(verbalizer))
    throw bad('has no "verbalizer" object');
  const entries = Object.entries(verbalizer).map(([label, w]): [string, string[]] => {
    if (typeof w === 'string') return [label, [w]];
    if (Array.isArray(w) && w.every((x) => typeof x === 'string')) return [label, w as string[]];
    throw bad(`has a bad word list for label "${label}"`);
  });
  // fromEntries defines own properties: a label called "__proto__" stays a label.
  return { template, verbalizer: Object.fromEntries(entries), calibrate: calibrate === true };
}

/** A prompt resolved against a model's tokenizer (compile once, reuse for every prediction). */
export interface ResolvedPrompt {
  config: PromptConfig;
  template: CompiledTemplate;
  verbalizer: Verbalizer;
}

export function resolvePrompt(
  model: Pick<PromptModel, 'tokenizer'>,
  prompt: PromptConfig,
  labels?: readonly string[],
): ResolvedPrompt {
  const template = compileTemplate(prompt.template, model.tokenizer);
  const verbalizer = buildVerbalizer(
    prompt.verbalizer as VerbalizerSpec,
    labels ?? Object.keys(prompt.verbalizer),
    model.tokenizer,
  );
  return { config: prompt, template, verbalizer };
}

/** A class prediction: the label, its index, and the probability of every label. */
export interface Prediction {
  label: string;
  /** Index of `label` in the label order. */
  labelIndex: number;
  /** Probability per label, in label order. */
  probabilities: number[];
}

/** The most probable label of each row of probabilities. */
export function toPredictions(labels: readonly string[], rows: readonly number[][]): Prediction[] {
  return rows.map((probabilities) => {
    let best = 0;
    for (let j = 1; j < probabilities.length; j++) if (probabilities[j] > probabilities[best]) best = j;
    return { label: labels[best], labelIndex: best, probabilities };
  });
}

/** Class probabilities through a cloze prompt (labels in verbalizer order). */
export async function predictWithPrompt(
  model: PromptModel,
  prompt: PromptConfig | ResolvedPrompt,
  inputs: readonly PromptInput[],
  options: { maxLength?: number; batchSize?: number } = {},
): Promise<Prediction[]> {
  // A resolved prompt carries its compiled template; a config only the template string.
  const resolved =
    typeof prompt.template === 'string' ? resolvePrompt(model, prompt as PromptConfig) : (prompt as ResolvedPrompt);
  const rows = await zeroShotProbabilities(model, resolved.template, resolved.verbalizer, inputs, {
    ...options,
    calibrate: resolved.config.calibrate,
  });
  return toPredictions(resolved.verbalizer.labels, rows);
}
