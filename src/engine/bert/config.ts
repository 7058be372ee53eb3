/**
 * BERT configuration: the Hugging Face `config.json` fields the model uses, validated before any
 * tensor is allocated, plus size presets and parameter/memory estimates.
 */
import { EngineError } from '../errors';

export type HiddenAct = 'gelu' | 'gelu_new' | 'relu';
export const HIDDEN_ACTS: readonly HiddenAct[] = ['gelu', 'gelu_new', 'relu'];

export interface BertConfig {
  /** Always 'bert' (other encoders use different weight names or position offsets). */
  model_type: 'bert';
  /** HF class names; kept for export. Default ['BertForSequenceClassification']. */
  architectures: string[];
  /** Tokens in vocab.txt. Required (no sensible default). */
  vocab_size: number;
  /** Width H of every hidden state. Required. */
  hidden_size: number;
  /** Number of encoder layers L. Required. */
  num_hidden_layers: number;
  /** Attention heads per layer; must divide hidden_size. Required. */
  num_attention_heads: number;
  /** Width of the feed-forward inner layer (4·H in the published models). Required. */
  intermediate_size: number;
  /** Feed-forward (and MLM transform) activation. Default 'gelu' = exact erf GELU (HF default). */
  hidden_act: HiddenAct;
  /** Longest sequence the position table covers. Default 512 (HF default). */
  max_position_embeddings: number;
  /** Segment (token type) vocabulary, 2 for sentence pairs. Default 2 (HF default). */
  type_vocab_size: number;
  /** LayerNorm epsilon. Default 1e-12 (HF/original BERT, not PyTorch's 1e-5). */
  layer_norm_eps: number;
  /** Dropout on embeddings, attention output and FFN output when training. Default 0.1. */
  hidden_dropout_prob: number;
  /** Dropout on attention probabilities when training. Default 0.1. */
  attention_probs_dropout_prob: number;
  /** Dropout before the classifier; null → hidden_dropout_prob (HF semantics). Default null. */
  classifier_dropout: number | null;
  /** Std of the (truncated) normal init for fresh weights. Default 0.02 (HF/original BERT). */
  initializer_range: number;
  /** Id of [PAD]; its word embedding row is zero in fresh inits. Default 0 (uncased vocab). */
  pad_token_id: number;
  /** Class index (as a string key, like config.json) → label. Default {0: LABEL_0, 1: LABEL_1} (HF). */
  id2label: Record<string, string>;
  /** Label → class index; the inverse of id2label. */
  label2id: Record<string, number>;
}

/** Limits above which a config is refused as absurd (before allocating anything). */
export const CONFIG_LIMITS = {
  vocab_size: 1_000_000,
  hidden_size: 8192,
  num_hidden_layers: 128,
  num_attention_heads: 256,
  intermediate_size: 65_536,
  max_position_embeddings: 65_536,
  type_vocab_size: 1024,
  num_labels: 100_000,
  /** 1.5 G parameters = 6 GB of float32 weights (bert-large is 0.34 G). */
  parameters: 1.5e9,
} as const;

/** Number of classifier outputs (entries in id2label). */
export function numLabels(config: Pick<BertConfig, 'id2label'>): number {
  return Object.keys(config.id2label).length;
}

/** Labels in class-index order. */
export function labelList(config: Pick<BertConfig, 'id2label'>): string[] {
  return Array.from({ length: numLabels(config) }, (_, i) => config.id2label[String(i)]);
}

/**
 * id2label / label2id for labels in class order. Object.fromEntries defines own properties, so a
 * label called "constructor" or "__proto__" is an entry like any other.
 */
function labelMaps(names: readonly string[]): { id2label: Record<string, string>; label2id: Record<string, number> } {
  return {
    id2label: Object.fromEntries(names.map((name, i) => [String(i), name])),
    label2id: Object.fromEntries(names.map((name, i) => [name, i])),
  };
}

type SizeFields = Pick<
  BertConfig,
  | 'vocab_size'
  | 'hidden_size'
  | 'num_hidden_layers'
  | 'intermediate_size'
  | 'max_position_embeddings'
  | 'type_vocab_size'
> & { id2label?: Record<string, string>; num_labels?: number };

/**
 * Parameters of BertForSequenceClassification + the MLM head (the decoder is tied to the word
 * embeddings, so it adds only its bias). Float arithmetic, so absurd configs do not overflow.
 */
export function countParameters(config: SizeFields): number {
  const V = config.vocab_size,
    H = config.hidden_size,
    L = config.num_hidden_layers,
    I = config.intermediate_size;
  const labels = config.num_labels ?? (config.id2label ? Object.keys(config.id2label).length : 2);
  const embeddings = (V + config.max_position_embeddings + config.type_vocab_size) * H + 2 * H;
  const layer = 4 * (H * H + H) + 2 * H + (H * I + I) + (I * H + H) + 2 * H;
  const pooler = H * H + H;
  const mlm = H * H + H + 2 * H + V;
  const classifier = H * labels + labels;
  return embeddings + L * layer + pooler + mlm + classifier;
}

/**
 * Bytes for float32 weights ('inference'), or weights + gradients + AdamW's two moments
 * ('training', 16 bytes per parameter). Activations (∝ batch·seq·H·L) come on top.
 */
export function estimateBytes(config: SizeFields, mode: 'inference' | 'training' = 'inference'): number {
  return countParameters(config) * (mode === 'training' ? 16 : 4);
}

/** "1.2 GB", "340 KB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 || u === 0 ? v.toFixed(0) : v.toPrecision(3)} ${units[u]}`;
}

/** "110 M", "25.7 K", "3.1 G". */
function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toPrecision(3)} G`;
  if (n >= 1e6) return `${(n / 1e6).toPrecision(3)} M`;
  if (n >= 1e3) return `${(n / 1e3).toPrecision(3)} K`;
  return String(n);
}

function sizeSummary(config: SizeFields): string {
  const p = countParameters(config);
  return `~${formatCount(p)} parameters, ~${formatBytes(p * 4)} of float32 weights, ~${formatBytes(p * 16)} to train with AdamW`;
}

const REQUIRED = [
  'vocab_size',
  'hidden_size',
  'num_hidden_layers',
  'num_attention_heads',
  'intermediate_size',
] as const;

/**
 * Validates a parsed config.json. Throws EngineError with codes:
 * CONFIG_NOT_OBJECT, CONFIG_MISSING_FIELD, CONFIG_BAD_VALUE, CONFIG_UNSUPPORTED,
 * CONFIG_BAD_ACTIVATION, CONFIG_HEADS_MISMATCH, CONFIG_TOO_LARGE (message has parameters + memory).
 */
export function parseBertConfig(json: unknown, fileName = 'config.json'): BertConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new EngineError(
      'CONFIG_NOT_OBJECT',
      `${fileName}: expected a JSON object, got ${Array.isArray(json) ? 'an array' : typeof json}`,
    );
  }
  const j = json as Record<string, unknown>;
  const missing = REQUIRED.filter((k) => j[k] === undefined || j[k] === null);
  if (missing.length > 0) {
    throw new EngineError(
      'CONFIG_MISSING_FIELD',
      `${fileName}: missing required field${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
    );
  }
  if (j.model_type !== undefined && j.model_type !== 'bert') {
    throw new EngineError(
      'CONFIG_UNSUPPORTED',
      `${fileName}: model_type "${String(j.model_type)}" is not supported (only "bert")`,
    );
  }
  if (j.position_embedding_type !== undefined && j.position_embedding_type !== 'absolute') {
    throw new EngineError(
      'CONFIG_UNSUPPORTED',
      `${fileName}: position_embedding_type "${String(j.position_embedding_type)}" is not supported (only "absolute")`,
    );
  }

  const int = (key: string, fallback: number | undefined, min: number): number => {
    const v = j[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw new EngineError('CONFIG_BAD_VALUE', `${fileName}: ${key} must be an integer, got ${JSON.stringify(v)}`);
    }
    if (v < min) throw new EngineError('CONFIG_BAD_VALUE', `${fileName}: ${key} must be ≥ ${min}, got ${v}`);
    return v;
  };
  const real = (key: string, fallback: number, min: number, max: number): number => {
    const v = j[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      throw new EngineError(
        'CONFIG_BAD_VALUE',
        `${fileName}: ${key} must be a number in [${min}, ${max}], got ${JSON.stringify(v)}`,
      );
    }
    return v;
  };

  const sizes = {
    vocab_size: int('vocab_size', undefined, 1),
    hidden_size: int('hidden_size', undefined, 1),
    num_hidden_layers: int('num_hidden_layers', undefined, 1),
    num_attention_heads: int('num_attention_heads', undefined, 1),
    intermediate_size: int('intermediate_size', undefined, 1),
    max_position_embeddings: int('max_position_embeddings', 512, 1),
    type_vocab_size: int('type_vocab_size', 2, 1),
  };

  // Labels: id2label (keys "0".."n-1") wins; else num_labels; else HF's default of 2. Only names
  // and the count are read here: the label objects are built after the size limits, so an absurd
  // num_labels is refused before millions of default names are made.
  let names: string[] | null = null;
  let labels: number;
  if (j.id2label !== undefined && j.id2label !== null) {
    if (typeof j.id2label !== 'object' || Array.isArray(j.id2label)) {
      throw new EngineError('CONFIG_BAD_VALUE', `${fileName}: id2label must be an object like {"0": "negative"}`);
    }
    const count = Object.keys(j.id2label).length;
    // A Map, not an object: a label may be called "constructor" or "__proto__".
    const seen = new Map<string, number>();
    names = [];
    for (let i = 0; i < count; i++) {
      const name = (j.id2label as Record<string, unknown>)[String(i)];
      if (typeof name !== 'string') {
        throw new EngineError(
          'CONFIG_BAD_VALUE',
          `${fileName}: id2label must have string entries for keys 0..${count - 1}; key "${i}" is ${JSON.stringify(name)}`,
        );
      }
      const previous = seen.get(name);
      if (previous !== undefined) {
        throw new EngineError(
          'CONFIG_DUPLICATE_LABEL',
          `${fileName}: id2label names "${name}" twice (keys "${previous}" and "${i}"); every class needs its own name, or its probabilities collapse into one. Rename one of them.`,
        );
      }
      seen.set(name, i);
      names.push(name);
    }
    if (count === 0) throw new EngineError('CONFIG_BAD_VALUE', `${fileName}: id2label is empty`);
    labels = count;
  } else {
    labels = j.num_labels === undefined ? 2 : int('num_labels', 2, 1);
  }

  // Absurd sizes: refuse before anything is allocated, saying what the config would cost.
  for (const [key, limit] of Object.entries(CONFIG_LIMITS)) {
    const value =
      key === 'num_labels'
        ? labels
        : key === 'parameters'
          ? countParameters({ ...sizes, num_labels: labels })
          : sizes[key as keyof typeof sizes];
    if (value > limit) {
      throw new EngineError(
        'CONFIG_TOO_LARGE',
        `${fileName}: ${key} ${value.toExponential(3).replace('e+', 'e')} exceeds the limit of ${limit}; this model would have ${sizeSummary({ ...sizes, num_labels: labels })}`,
      );
    }
  }
  if (sizes.hidden_size % sizes.num_attention_heads !== 0) {
    throw new EngineError(
      'CONFIG_HEADS_MISMATCH',
      `${fileName}: hidden_size ${sizes.hidden_size} is not a multiple of num_attention_heads ${sizes.num_attention_heads}`,
    );
  }
  const { id2label, label2id } = labelMaps(names ?? Array.from({ length: labels }, (_, i) => `LABEL_${i}`));

  const act = j.hidden_act ?? 'gelu';
  const hidden_act = act === 'gelu_pytorch_tanh' ? 'gelu_new' : act; // same function under another name
  if (typeof hidden_act !== 'string' || !(HIDDEN_ACTS as readonly string[]).includes(hidden_act)) {
    throw new EngineError(
      'CONFIG_BAD_ACTIVATION',
      `${fileName}: hidden_act ${JSON.stringify(act)} is not supported (use one of ${HIDDEN_ACTS.join(', ')})`,
    );
  }

  const hidden_dropout_prob = real('hidden_dropout_prob', 0.1, 0, 0.99);
  const cd = j.classifier_dropout;
  return {
    model_type: 'bert',
    architectures:
      Array.isArray(j.architectures) && j.architectures.every((a) => typeof a === 'string')
        ? (j.architectures as string[])
        : ['BertForSequenceClassification'],
    ...sizes,
    hidden_act: hidden_act as HiddenAct,
    layer_norm_eps: real('layer_norm_eps', 1e-12, 0, 1),
    hidden_dropout_prob,
    attention_probs_dropout_prob: real('attention_probs_dropout_prob', 0.1, 0, 0.99),
    classifier_dropout: cd === undefined || cd === null ? null : real('classifier_dropout', 0.1, 0, 0.99),
    initializer_range: real('initializer_range', 0.02, 0, 10),
    pad_token_id: j.pad_token_id === undefined || j.pad_token_id === null ? 0 : int('pad_token_id', 0, 0),
    id2label,
    label2id,
  };
}

/** The config as a Hugging Face config.json object (for export). */
export function bertConfigToJson(config: BertConfig): Record<string, unknown> {
  return {
    architectures: config.architectures,
    model_type: 'bert',
    vocab_size: config.vocab_size,
    hidden_size: config.hidden_size,
    num_hidden_layers: config.num_hidden_layers,
    num_attention_heads: config.num_attention_heads,
    intermediate_size: config.intermediate_size,
    hidden_act: config.hidden_act,
    max_position_embeddings: config.max_position_embeddings,
    type_vocab_size: config.type_vocab_size,
    layer_norm_eps: config.layer_norm_eps,
    hidden_dropout_prob: config.hidden_dropout_prob,
    attention_probs_dropout_prob: config.attention_probs_dropout_prob,
    classifier_dropout: config.classifier_dropout,
    initializer_range: config.initializer_range,
    pad_token_id: config.pad_token_id,
    position_embedding_type: 'absolute',
    id2label: config.id2label,
    label2id: config.label2id,
    torch_dtype: 'float32',
  };
}

export type BertPresetName = 'micro' | 'tiny' | 'mini' | 'small' | 'medium' | 'base';

/** Layer/width presets; all use the 30522-token bert-base-uncased vocabulary. */
const PRESET_SIZES: Record<BertPresetName, { L: number; H: number; A: number }> = {
  micro: { L: 2, H: 32, A: 4 }, // tests only (runs in seconds on SwiftShader)
  tiny: { L: 2, H: 128, A: 2 }, // google/bert_uncased_L-2_H-128_A-2
  mini: { L: 4, H: 256, A: 4 }, // google/bert_uncased_L-4_H-256_A-4
  small: { L: 4, H: 512, A: 8 }, // google/bert_uncased_L-4_H-512_A-8
  medium: { L: 8, H: 512, A: 8 }, // google/bert_uncased_L-8_H-512_A-8
  base: { L: 12, H: 768, A: 12 }, // bert-base-uncased
};
export const BERT_PRESETS: readonly BertPresetName[] = Object.keys(PRESET_SIZES) as BertPresetName[];

/** A validated config for a preset; `overrides` are config.json fields (e.g. id2label, vocab_size). */
export function bertPreset(name: BertPresetName, overrides: Record<string, unknown> = {}): BertConfig {
  const s = PRESET_SIZES[name];
  if (!s)
    throw new EngineError(
      'CONFIG_BAD_VALUE',
      `unknown BERT preset "${String(name)}" (use one of ${BERT_PRESETS.join(', ')})`,
    );
  return parseBertConfig(
    {
      vocab_size: 30522,
      hidden_size: s.H,
      num_hidden_layers: s.L,
      num_attention_heads: s.A,
      intermediate_size: 4 * s.H,
      max_position_embeddings: name === 'micro' ? 128 : 512,
      ...overrides,
    },
    `preset ${name}`,
  );
}

/** Additive attention bias for padded keys. Large but finite, so a fully padded row softmaxes to
 * uniform weights instead of NaN (HF uses dtype-min; -1e9 behaves the same in float32). */
export const MASK_NEG = -1e9;
