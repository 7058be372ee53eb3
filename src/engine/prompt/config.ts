/**
 * Prompt settings saved with a model: config.json gets
 * `"fewshot_prompt": {"template": "{text} It was [MASK].", "verbalizer": {"positive": ["great"], …}}`
 * (label order = the verbalizer's key order = class index order). Transformers ignores unknown
 * config keys, so the folder still loads there as a BertForMaskedLM.
 */
import { EngineError } from '../errors';
import type { FewShotModel, Prediction, TextInput } from '../pipeline/fewshot-model';
import { compileTemplate, parseTemplate, type CompiledTemplate } from './template';
import { buildVerbalizer, type Verbalizer, type VerbalizerSpec } from './verbalizer';
import { zeroShotProbabilities } from './zero-shot';

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
  const words: Record<string, string[]> = {};
  for (const [label, w] of Object.entries(verbalizer)) {
    if (typeof w === 'string') words[label] = [w];
    else if (Array.isArray(w) && w.every((x) => typeof x === 'string')) words[label] = w as string[];
    else throw bad(`has a bad word list for label "${label}"`);
  }
  return { template, verbalizer: words, calibrate: calibrate === true };
}

/** A prompt resolved against a model's tokenizer (compile once, reuse for every prediction). */
export interface ResolvedPrompt {
  config: PromptConfig;
  template: CompiledTemplate;
  verbalizer: Verbalizer;
}

export function resolvePrompt(
  model: Pick<FewShotModel, 'tokenizer'>,
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

/**
 * `FewShotModel.predict` through the prompt: same `Prediction` shape, labels in verbalizer order.
 * The classifier head (`predictWithHead`) is used when `prompt` is null.
 */
export async function predictWithPrompt(
  model: FewShotModel,
  prompt: PromptConfig | ResolvedPrompt | null,
  inputs: readonly TextInput[],
  options: { maxLength?: number; batchSize?: number } = {},
): Promise<Prediction[]> {
  if (!prompt) return model.predictWithHead(inputs, options);
  const resolved =
    'verbalizer' in prompt && 'wordIds' in (prompt.verbalizer as object)
      ? (prompt as ResolvedPrompt)
      : resolvePrompt(model, prompt as PromptConfig);
  const rows = await zeroShotProbabilities(model, resolved.template, resolved.verbalizer, inputs, {
    ...options,
    calibrate: resolved.config.calibrate,
  });
  return rows.map((probabilities) => {
    let best = 0;
    for (let j = 1; j < probabilities.length; j++) if (probabilities[j] > probabilities[best]) best = j;
    return { label: resolved.verbalizer.labels[best], labelIndex: best, probabilities };
  });
}

/** Exports the model with its prompt in config.json (Hugging Face folder, file name → bytes). */
export function exportWithPrompt(
  model: FewShotModel,
  prompt: PromptConfig,
  options: { dtype?: 'F32' | 'F16' } = {},
): Promise<Map<string, Uint8Array>> {
  return model.exportFiles({ ...options, extraConfig: promptExtraConfig(prompt) });
}
