/**
 * sentence-transformers folders (docs/ARCHITECTURE.md, "Sentence-transformers folders"): a Hugging Face BERT
 * folder plus `modules.json` (the module pipeline), `{pooling path}/config.json` (which pooling) and, optionally,
 * `sentence_bert_config.json` (max_seq_length, do_lower_case). Only the pipeline Transformer (a BERT body at the
 * folder's top level) → Pooling (CLS, mean or max) → optional Normalize is supported; anything else is refused
 * with the module's name. These files are JSON and only ever parsed: a module type is a name we match against a
 * fixed list, never code we load or run.
 */
import { EngineError } from '../errors';

export type SentencePooling = 'cls' | 'mean' | 'max';

/** What a sentence-transformers folder says about turning token states into one sentence vector. */
export interface SentenceTransformersConfig {
  /** Pooling over the real (unpadded) tokens: the [CLS] state, their mean, or their element-wise max. */
  pooling: SentencePooling;
  /** A Normalize module ends the pipeline: embeddings are scaled to unit L2 norm. */
  normalize: boolean;
  /** sentence_bert_config.json max_seq_length (tokens, specials included), or null when not given. */
  maxSeqLength: number | null;
  /** sentence_bert_config.json do_lower_case: the text is lower-cased before the tokenizer sees it. */
  doLowerCase: boolean;
  /** Module class names in pipeline order, e.g. ['Transformer', 'Pooling', 'Normalize']. */
  modules: string[];
}

const ST_PREFIX = 'sentence_transformers.models.';
const TRANSFORMER = `${ST_PREFIX}Transformer`;
const POOLING = `${ST_PREFIX}Pooling`;
const NORMALIZE = `${ST_PREFIX}Normalize`;

/** Pooling flags of 1_Pooling/config.json and what each one means (supported ones map to a SentencePooling). */
const POOLING_MODES: Record<string, SentencePooling | null> = {
  pooling_mode_cls_token: 'cls',
  pooling_mode_mean_tokens: 'mean',
  pooling_mode_max_tokens: 'max',
  pooling_mode_mean_sqrt_len_tokens: null,
  pooling_mode_weightedmean_tokens: null,
  pooling_mode_lasttoken: null,
};

/** Reads and parses a JSON file of the folder; null when the file does not exist. */
export type JsonReader = (name: string) => Promise<unknown>;

function fail(code: string, message: string): never {
  throw new EngineError(code, `sentence-transformers folder: ${message}`);
}

interface ModuleEntry {
  type: string;
  path: string;
}

function parseModules(value: unknown): ModuleEntry[] {
  if (!Array.isArray(value) || value.length === 0)
    fail('ST_BAD_MODULES', 'modules.json must be a non-empty JSON list of {"idx", "name", "path", "type"} objects.');
  return value.map((entry, i) => {
    const e = entry as Record<string, unknown> | null;
    if (e === null || typeof e !== 'object' || typeof e.type !== 'string' || typeof e.path !== 'string')
      fail('ST_BAD_MODULES', `modules.json entry ${i} must be an object with string "type" and "path".`);
    return { type: e.type, path: e.path };
  });
}

/** The short class name for messages: `sentence_transformers.models.Dense` → `Dense`. */
function shortName(type: string): string {
  return type.startsWith(ST_PREFIX) ? type.slice(ST_PREFIX.length) : type;
}

function describeModule(m: ModuleEntry, index: number): string {
  return `module ${index} ${shortName(m.type)} (type "${m.type}", path "${m.path}")`;
}

/** A module folder name we are willing to read from: one plain path segment, never `..` or a nested path. */
function checkModulePath(m: ModuleEntry, index: number): void {
  if (!/^[A-Za-z0-9_.-]+$/.test(m.path) || m.path === '.' || m.path === '..')
    fail('ST_BAD_MODULES', `${describeModule(m, index)} has a path that is not a plain folder name.`);
}

function parsePooling(value: unknown, file: string, hiddenSize: unknown): SentencePooling {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    fail('ST_BAD_POOLING', `${file} must contain a JSON object.`);
  const config = value as Record<string, unknown>;
  const on = Object.keys(config).filter((k) => k.startsWith('pooling_mode_') && config[k] === true);
  const unknown = on.filter((k) => !(k in POOLING_MODES));
  if (unknown.length > 0)
    fail('ST_UNSUPPORTED_POOLING', `${file} asks for ${unknown.join(', ')}, which we do not know.`);
  const unsupported = on.filter((k) => POOLING_MODES[k] === null);
  if (unsupported.length > 0)
    fail(
      'ST_UNSUPPORTED_POOLING',
      `${file} asks for ${unsupported.join(', ')}; FewShot Studio supports CLS, mean or max pooling.`,
    );
  if (on.length !== 1)
    fail(
      'ST_UNSUPPORTED_POOLING',
      on.length === 0
        ? `${file} turns on no pooling mode; exactly one of pooling_mode_cls_token, pooling_mode_mean_tokens, pooling_mode_max_tokens must be true.`
        : `${file} turns on ${on.join(' and ')} (their concatenation); FewShot Studio supports exactly one pooling mode.`,
    );
  const dim = config.word_embedding_dimension;
  if (dim !== undefined && typeof hiddenSize === 'number' && dim !== hiddenSize)
    fail(
      'ST_BAD_POOLING',
      `${file} says word_embedding_dimension ${JSON.stringify(dim)} but config.json says hidden_size ${hiddenSize}: the files do not belong together.`,
    );
  return POOLING_MODES[on[0]]!;
}

function parseSentenceBertConfig(value: unknown): Pick<SentenceTransformersConfig, 'maxSeqLength' | 'doLowerCase'> {
  if (value === null) return { maxSeqLength: null, doLowerCase: false };
  if (typeof value !== 'object' || Array.isArray(value))
    fail('ST_BAD_CONFIG', 'sentence_bert_config.json must contain a JSON object.');
  const { max_seq_length: max, do_lower_case: lower } = value as Record<string, unknown>;
  if (max !== undefined && max !== null && !(Number.isInteger(max) && (max as number) >= 1))
    fail(
      'ST_BAD_CONFIG',
      `sentence_bert_config.json max_seq_length must be a positive integer, got ${JSON.stringify(max)}.`,
    );
  if (lower !== undefined && typeof lower !== 'boolean')
    fail(
      'ST_BAD_CONFIG',
      `sentence_bert_config.json do_lower_case must be true or false, got ${JSON.stringify(lower)}.`,
    );
  return { maxSeqLength: (max as number | null | undefined) ?? null, doLowerCase: lower ?? false };
}

/**
 * Validates a sentence-transformers pipeline and reads its pooling. `modulesJson` is the parsed modules.json;
 * `readJson` reads the pooling config (required) and sentence_bert_config.json (optional); `configJson` is the
 * folder's config.json, whose model_type must be "bert". Nothing else of the folder is read.
 */
export async function readSentenceTransformersConfig(
  modulesJson: unknown,
  configJson: Record<string, unknown>,
  readJson: JsonReader,
): Promise<SentenceTransformersConfig> {
  const modules = parseModules(modulesJson);
  const [body, pooling, ...rest] = modules;
  if (body.type !== TRANSFORMER)
    fail(
      'ST_UNSUPPORTED_MODULE',
      `${describeModule(body, 0)} is not supported; module 0 must be a ${shortName(TRANSFORMER)} (a BERT body).`,
    );
  if (body.path !== '')
    fail(
      'ST_UNSUPPORTED_MODULE',
      `${describeModule(body, 0)} keeps its model in a subfolder; FewShot Studio reads the body only from the folder's top level (path "").`,
    );
  if (configJson.model_type !== 'bert') {
    const arch = Array.isArray(configJson.architectures) ? ` (${configJson.architectures.join(', ')})` : '';
    fail(
      'ST_UNSUPPORTED_BODY',
      `the Transformer body is model_type ${JSON.stringify(configJson.model_type ?? null)}${arch}; only BERT-family bodies (model_type "bert") are supported.`,
    );
  }
  if (pooling === undefined || pooling.type !== POOLING)
    fail(
      'ST_UNSUPPORTED_MODULE',
      pooling === undefined
        ? 'modules.json has no Pooling module after the Transformer.'
        : `${describeModule(pooling, 1)} is not supported; module 1 must be Pooling.`,
    );
  rest.forEach((m, i) => {
    const index = i + 2;
    if (m.type !== NORMALIZE)
      fail(
        'ST_UNSUPPORTED_MODULE',
        `${describeModule(m, index)} is not supported; FewShot Studio supports Transformer → Pooling → optional Normalize.`,
      );
    if (index !== modules.length - 1)
      fail(
        'ST_UNSUPPORTED_MODULE',
        `${describeModule(m, index)} is followed by ${describeModule(modules[index + 1], index + 1)}; Normalize is supported only as the last module.`,
      );
  });
  checkModulePath(pooling, 1);
  const poolingFile = `${pooling.path}/config.json`;
  const poolingJson = await readJson(poolingFile);
  if (poolingJson === null)
    fail(
      'CHECKPOINT_FILE_NOT_FOUND',
      `modules.json lists a Pooling module at "${pooling.path}" but ${poolingFile} is missing.`,
    );
  return {
    pooling: parsePooling(poolingJson, poolingFile, configJson.hidden_size),
    normalize: rest.length === 1,
    ...parseSentenceBertConfig(await readJson('sentence_bert_config.json')),
    modules: modules.map((m) => shortName(m.type)),
  };
}

/** One line for the model summary, e.g. "mean pooling, normalized, max 256 tokens". */
export function describeSentenceTransformers(st: SentenceTransformersConfig): string {
  const pooling = { cls: 'CLS pooling', mean: 'mean pooling', max: 'max pooling' }[st.pooling];
  return [
    pooling,
    ...(st.normalize ? ['normalized'] : []),
    ...(st.maxSeqLength !== null ? [`max ${st.maxSeqLength} tokens`] : []),
    ...(st.doLowerCase ? ['lower-cased'] : []),
  ].join(', ');
}
