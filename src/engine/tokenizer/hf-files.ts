/**
 * The Hugging Face tokenizer files of a BERT checkpoint, read into a `BertTokenizerConfig` (and a
 * vocabulary) and written back: `tokenizer_config.json` (with `vocab.txt`) and `tokenizer.json`.
 * Missing keys stay absent so that the Hugging Face defaults in `DEFAULT_BERT_TOKENIZER_CONFIG`
 * apply; anything this tokenizer cannot run is an error rather than a silent difference.
 */
import { EngineError } from '../errors';
import { DEFAULT_BERT_TOKENIZER_CONFIG, bertTemplates, type BertTokenizerConfig, type TemplatePiece } from './config';
import { vocabFromIdMap, type Vocab } from './vocab';

/** The subset of a Hugging Face `tokenizer_config.json` this tokenizer reads and writes. */
export interface HfTokenizerConfigJson {
  tokenizer_class?: string;
  do_lower_case?: boolean;
  strip_accents?: boolean | null;
  tokenize_chinese_chars?: boolean;
  model_max_length?: number;
  unk_token?: string | { content: string };
  sep_token?: string | { content: string };
  pad_token?: string | { content: string };
  cls_token?: string | { content: string };
  mask_token?: string | { content: string };
  additional_special_tokens?: (string | { content: string })[];
  added_tokens_decoder?: Record<string, { content: string; special?: boolean }>;
  clean_up_tokenization_spaces?: boolean;
  [key: string]: unknown;
}

/** model_max_length values at or above this mean "no limit" (transformers writes 1e30). */
const UNBOUNDED_MODEL_MAX_LENGTH = 1e9;

// -----------------------------------------------------------------------------------------------
// tokenizer_config.json

/** Token text of a `tokenizer_config.json` entry, which may be a string or an AddedToken object. */
function tokenContent(value: unknown, key: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  throw new EngineError(
    'TOKENIZER_BAD_CONFIG',
    `tokenizer_config.json: ${key} must be a string or {"content": string}.`,
  );
}

function optionalBoolean(value: unknown, key: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean')
    throw new EngineError('TOKENIZER_BAD_CONFIG', `${key} must be true or false, got ${JSON.stringify(value)}.`);
  return value;
}

/** Default names of the five BERT special tokens; never repeated as "additional". */
const DEFAULT_NAMED_TOKENS = ['[UNK]', '[SEP]', '[PAD]', '[CLS]', '[MASK]'];

/** Maps `tokenizer_config.json` keys onto our config; absent keys stay absent (defaults apply). */
export function configFromTokenizerConfig(json: HfTokenizerConfigJson): Partial<BertTokenizerConfig> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new EngineError('TOKENIZER_BAD_CONFIG', 'tokenizer_config.json must contain a JSON object.');
  }
  // Japanese BERTs (BertJapaneseTokenizer) may first split words with a morphological analyser
  // (MeCab, Sudachi, Juman++) or split pieces per character: their vocabularies were built on that
  // split, which BERT's basic pre-tokenizer does not reproduce. Refuse rather than mis-tokenize.
  for (const [key, supported] of [
    ['word_tokenizer_type', 'basic'],
    ['subword_tokenizer_type', 'wordpiece'],
  ] as const) {
    const value = json[key];
    if (value !== undefined && value !== null && value !== supported) {
      throw new EngineError(
        'TOKENIZER_UNSUPPORTED',
        `tokenizer_config.json: ${key} ${JSON.stringify(value)} is not supported (only "${supported}"): this ` +
          'model splits text with a Japanese word segmenter or per character, which the studio does not do. ' +
          'Choose a model with a plain BERT WordPiece tokenizer, e.g. bert-base-multilingual-cased.',
      );
    }
  }
  const config: Partial<BertTokenizerConfig> = {};
  const lowercase = optionalBoolean(json.do_lower_case, 'tokenizer_config.json do_lower_case');
  if (lowercase !== undefined) config.lowercase = lowercase;
  if (json.strip_accents !== undefined) {
    config.stripAccents =
      json.strip_accents === null
        ? null
        : (optionalBoolean(json.strip_accents, 'tokenizer_config.json strip_accents') ?? null);
  }
  const chinese = optionalBoolean(json.tokenize_chinese_chars, 'tokenizer_config.json tokenize_chinese_chars');
  if (chinese !== undefined) config.handleChineseChars = chinese;
  const cleanUp = optionalBoolean(
    json.clean_up_tokenization_spaces,
    'tokenizer_config.json clean_up_tokenization_spaces',
  );
  if (cleanUp !== undefined) config.cleanUpTokenizationSpaces = cleanUp;
  if (json.model_max_length !== undefined && json.model_max_length !== null) {
    const value = json.model_max_length;
    if (typeof value !== 'number' || !(value >= 0)) {
      throw new EngineError(
        'TOKENIZER_BAD_CONFIG',
        `tokenizer_config.json model_max_length must be a number, got ${JSON.stringify(value)}.`,
      );
    }
    config.modelMaxLength = value >= UNBOUNDED_MODEL_MAX_LENGTH ? null : Math.floor(value);
  }
  const unk = tokenContent(json.unk_token, 'unk_token');
  const sep = tokenContent(json.sep_token, 'sep_token');
  const pad = tokenContent(json.pad_token, 'pad_token');
  const cls = tokenContent(json.cls_token, 'cls_token');
  const mask = tokenContent(json.mask_token, 'mask_token');
  if (unk !== undefined) config.unkToken = unk;
  if (sep !== undefined) config.sepToken = sep;
  if (pad !== undefined) config.padToken = pad;
  if (cls !== undefined) config.clsToken = cls;
  if (mask !== undefined) config.maskToken = mask;
  if (cls !== undefined || sep !== undefined) {
    Object.assign(
      config,
      bertTemplates(cls ?? DEFAULT_BERT_TOKENIZER_CONFIG.clsToken, sep ?? DEFAULT_BERT_TOKENIZER_CONFIG.sepToken),
    );
  }
  const additional = new Set<string>();
  if (json.additional_special_tokens !== undefined) {
    if (!Array.isArray(json.additional_special_tokens)) {
      throw new EngineError('TOKENIZER_BAD_CONFIG', 'tokenizer_config.json additional_special_tokens must be a list.');
    }
    for (const entry of json.additional_special_tokens) {
      const content = tokenContent(entry, 'additional_special_tokens');
      if (content !== undefined) additional.add(content);
    }
  }
  if (json.added_tokens_decoder !== undefined && json.added_tokens_decoder !== null) {
    for (const [key, entry] of Object.entries(json.added_tokens_decoder)) {
      const content = tokenContent(entry, `added_tokens_decoder.${key}`);
      if (content !== undefined && entry.special === true) additional.add(content);
    }
  }
  const named = new Set([config.unkToken, config.sepToken, config.padToken, config.clsToken, config.maskToken]);
  for (const token of [...DEFAULT_NAMED_TOKENS, ...named]) additional.delete(token as string);
  if (additional.size > 0) config.additionalSpecialTokens = [...additional];
  return config;
}

/** A `tokenizer_config.json` object that, with the vocabulary's `vocab.txt`, reloads `config`. */
export function tokenizerConfigJson(c: Readonly<BertTokenizerConfig>): HfTokenizerConfigJson {
  const out: HfTokenizerConfigJson = {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: c.lowercase,
    strip_accents: c.stripAccents,
    tokenize_chinese_chars: c.handleChineseChars,
    unk_token: c.unkToken,
    sep_token: c.sepToken,
    pad_token: c.padToken,
    cls_token: c.clsToken,
    clean_up_tokenization_spaces: c.cleanUpTokenizationSpaces,
  };
  if (c.maskToken !== null) out.mask_token = c.maskToken;
  if (c.additionalSpecialTokens.length > 0) out.additional_special_tokens = [...c.additionalSpecialTokens];
  if (c.modelMaxLength !== null) out.model_max_length = c.modelMaxLength;
  return out;
}

// -----------------------------------------------------------------------------------------------
// tokenizer.json

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unsupported(what: string, found: unknown): EngineError {
  return new EngineError(
    'TOKENIZER_UNSUPPORTED',
    `tokenizer.json: ${what} ${JSON.stringify(found)} is not supported; this tokenizer handles BERT WordPiece files ` +
      '(BertNormalizer, BertPreTokenizer, WordPiece, TemplateProcessing/BertProcessing). Try vocab.txt + tokenizer_config.json.',
  );
}

/** Vocabulary, configuration and never-split tokens of a parsed `tokenizer.json`. */
export function parseTokenizerJson(json: unknown): {
  vocab: Vocab;
  config: Partial<BertTokenizerConfig>;
  neverSplit: string[];
} {
  if (!isRecord(json)) throw new EngineError('TOKENIZER_BAD_CONFIG', 'tokenizer.json must contain a JSON object.');
  const model = json.model;
  if (!isRecord(model)) throw new EngineError('TOKENIZER_BAD_CONFIG', 'tokenizer.json has no "model" object.');
  if (model.type !== undefined && model.type !== 'WordPiece') throw unsupported('model type', model.type);
  if (!isRecord(model.vocab))
    throw new EngineError(
      'TOKENIZER_BAD_CONFIG',
      'tokenizer.json model.vocab must be an object mapping tokens to ids.',
    );

  const entries: [string, number][] = Object.entries(model.vocab).map(([token, id]) => [token, id as number]);
  const addedTokens = Array.isArray(json.added_tokens) ? json.added_tokens : [];
  const neverSplit: string[] = [];
  const special: string[] = [];
  for (const added of addedTokens) {
    if (!isRecord(added) || typeof added.content !== 'string' || typeof added.id !== 'number') {
      throw new EngineError(
        'TOKENIZER_BAD_CONFIG',
        'tokenizer.json: every added_tokens entry needs "id" (number) and "content" (string).',
      );
    }
    entries.push([added.content, added.id]);
    neverSplit.push(added.content);
    if (added.special === true) special.push(added.content);
  }
  const vocab = vocabFromIdMap(entries, 'tokenizer.json');

  const config: Partial<BertTokenizerConfig> = {};
  if (typeof model.unk_token === 'string') config.unkToken = model.unk_token;
  if (typeof model.continuing_subword_prefix === 'string')
    config.continuingSubwordPrefix = model.continuing_subword_prefix;
  if (typeof model.max_input_chars_per_word === 'number') config.maxInputCharsPerWord = model.max_input_chars_per_word;

  const normalizer = json.normalizer;
  if (normalizer === null || normalizer === undefined) {
    Object.assign(config, { cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false });
  } else if (isRecord(normalizer) && normalizer.type === 'BertNormalizer') {
    config.cleanText = normalizer.clean_text !== false;
    config.handleChineseChars = normalizer.handle_chinese_chars !== false;
    config.lowercase = normalizer.lowercase !== false;
    config.stripAccents = typeof normalizer.strip_accents === 'boolean' ? normalizer.strip_accents : null;
  } else {
    throw unsupported('normalizer', isRecord(normalizer) ? normalizer.type : normalizer);
  }

  const preTokenizer = json.pre_tokenizer;
  if (!isRecord(preTokenizer) || preTokenizer.type !== 'BertPreTokenizer') {
    throw unsupported('pre_tokenizer', isRecord(preTokenizer) ? preTokenizer.type : preTokenizer);
  }

  const post = json.post_processor;
  if (isRecord(post) && post.type === 'TemplateProcessing') {
    const specials = isRecord(post.special_tokens) ? post.special_tokens : {};
    const toPieces = (template: unknown, name: string): TemplatePiece[] => {
      if (!Array.isArray(template))
        throw new EngineError('TOKENIZER_BAD_CONFIG', `tokenizer.json post_processor.${name} must be a list.`);
      return template.map((entry): TemplatePiece => {
        if (isRecord(entry) && isRecord(entry.SpecialToken)) {
          const { id, type_id: typeId } = entry.SpecialToken;
          const definition = specials[id as string];
          // A template special token may expand to several tokens; BERT files always use one.
          if (isRecord(definition) && Array.isArray(definition.tokens) && definition.tokens.length !== 1) {
            throw unsupported('multi-token template special', id);
          }
          const token =
            isRecord(definition) && Array.isArray(definition.tokens) ? String(definition.tokens[0]) : String(id);
          return { kind: 'special', token, typeId: Number(typeId ?? 0) };
        }
        if (isRecord(entry) && isRecord(entry.Sequence)) {
          const { id, type_id: typeId } = entry.Sequence;
          if (id !== 'A' && id !== 'B')
            throw new EngineError(
              'TOKENIZER_BAD_CONFIG',
              `tokenizer.json template sequence id ${JSON.stringify(id)} must be "A" or "B".`,
            );
          return { kind: 'sequence', sequence: id, typeId: Number(typeId ?? 0) };
        }
        throw new EngineError(
          'TOKENIZER_BAD_CONFIG',
          `tokenizer.json post_processor.${name} has an unknown piece ${JSON.stringify(entry)}.`,
        );
      });
    };
    config.singleTemplate = toPieces(post.single, 'single');
    config.pairTemplate = toPieces(post.pair, 'pair');
    const first = config.singleTemplate.find((p) => p.kind === 'special');
    const last = [...config.singleTemplate].reverse().find((p) => p.kind === 'special');
    if (first?.kind === 'special') config.clsToken = first.token;
    if (last?.kind === 'special') config.sepToken = last.token;
  } else if (isRecord(post) && post.type === 'BertProcessing') {
    const sep = Array.isArray(post.sep) ? String(post.sep[0]) : DEFAULT_BERT_TOKENIZER_CONFIG.sepToken;
    const cls = Array.isArray(post.cls) ? String(post.cls[0]) : DEFAULT_BERT_TOKENIZER_CONFIG.clsToken;
    Object.assign(config, { clsToken: cls, sepToken: sep }, bertTemplates(cls, sep));
  } else if (post === null || post === undefined) {
    // No post-processor: sequences are used as they are, the pair's second one with type id 1.
    config.singleTemplate = [{ kind: 'sequence', sequence: 'A', typeId: 0 }];
    config.pairTemplate = [
      { kind: 'sequence', sequence: 'A', typeId: 0 },
      { kind: 'sequence', sequence: 'B', typeId: 1 },
    ];
  } else {
    throw unsupported('post_processor', isRecord(post) ? post.type : post);
  }

  if (isRecord(json.padding) && typeof json.padding.pad_token === 'string') config.padToken = json.padding.pad_token;
  if (isRecord(json.decoder) && typeof json.decoder.cleanup === 'boolean')
    config.cleanUpTokenizationSpaces = json.decoder.cleanup;
  const mask =
    special.find((token) => token === DEFAULT_BERT_TOKENIZER_CONFIG.maskToken) ??
    (vocab.tokenToId.has('[MASK]') ? '[MASK]' : null);
  config.maskToken = mask;
  const named = new Set([
    config.unkToken ?? '[UNK]',
    config.clsToken ?? '[CLS]',
    config.sepToken ?? '[SEP]',
    config.padToken ?? '[PAD]',
    mask,
  ]);
  config.additionalSpecialTokens = special.filter((token) => !named.has(token));
  return { vocab, config, neverSplit };
}
