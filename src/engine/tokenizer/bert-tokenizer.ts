/**
 * BERT WordPiece tokenizer with Hugging Face semantics (the Rust `tokenizers` crate that runs every
 * `tokenizer.json`, and the fast Python tokenizers): same ids, token type ids, attention masks,
 * truncation and padding, tested token for token against the Rust implementation.
 *
 * Offsets are [start, end) in UTF-16 code units of the caller's string, i.e. what
 * `text.slice(start, end)` expects. (Rust reports Unicode code points; the two agree except after
 * astral characters such as emoji.) Special tokens get [0, 0].
 *
 * Pure TypeScript with no platform imports: runs in a browser worker and in Node.
 */
import { EngineError } from '../checkpoint/types';
import { BertPreTokenizer, type WordSink } from './normalizer';
import { WordPiece, type WordPieces } from './wordpiece';
import { assertTokensInVocab, parseVocabTxt, vocabFromIdMap, vocabToTxt, type Vocab } from './vocab';

/** How to shorten inputs longer than `maxLength` (Hugging Face names). */
export type TruncationStrategy = 'longest_first' | 'only_first' | 'only_second';

/** `longest`: to the longest encoding of the batch; `max_length`: to `maxLength`. */
export type PaddingStrategy = 'longest' | 'max_length';

/** One piece of a post-processing template: a special token or one of the input sequences. */
export type TemplatePiece =
  { kind: 'special'; token: string; typeId: number } | { kind: 'sequence'; sequence: 'A' | 'B'; typeId: number };

/** Everything that defines a BERT tokenizer besides its vocabulary. */
export interface BertTokenizerConfig {
  /** Lower-case the input. HF BertTokenizer default: true (uncased checkpoints). */
  lowercase: boolean;
  /** Strip accents (NFD, drop non-spacing marks); `null` follows `lowercase`, as in HF. */
  stripAccents: boolean | null;
  /** Drop control characters and map all whitespace to spaces. Always on in HF BertTokenizer. */
  cleanText: boolean;
  /** Make every CJK ideograph its own word. HF default: true. */
  handleChineseChars: boolean;
  /** Replaces words WordPiece cannot cover. */
  unkToken: string;
  /** Starts every encoding (classification token). */
  clsToken: string;
  /** Ends each sequence. */
  sepToken: string;
  /** Fills padded positions. */
  padToken: string;
  /** Masked-LM token; `null` when the vocabulary has none (then fill-mask is unavailable). */
  maskToken: string | null;
  /** Further tokens that are never split and are skipped by `decode({ skipSpecialTokens })`. */
  additionalSpecialTokens: string[];
  /** Marks word-continuation pieces. Every BERT vocab uses "##". */
  continuingSubwordPrefix: string;
  /** Longer words (in code points) become `unkToken`. HF default: 100. */
  maxInputCharsPerWord: number;
  /** Default `maxLength` for truncation / padding; `null` = none (HF: "very large"). */
  modelMaxLength: number | null;
  /** Remove spaces before punctuation and in contractions when decoding. HF default: true. */
  cleanUpTokenizationSpaces: boolean;
  /** Post-processing of one sequence; BERT: [CLS] A [SEP], all type 0. */
  singleTemplate: TemplatePiece[];
  /** Post-processing of a pair; BERT: [CLS] A [SEP] (type 0) B [SEP] (type 1). */
  pairTemplate: TemplatePiece[];
  /** Words per generation of the two-generation word → pieces cache (≤ 2× this many kept; a few MB). */
  wordCacheSize: number;
}

/** Per-call options of `encode` / `encodeBatch`. */
export interface EncodeOptions {
  /** Add [CLS]/[SEP] per the templates. Default: true. */
  addSpecialTokens?: boolean;
  /** Truncate to `maxLength`; `true` means `longest_first`. Default: false (no truncation). */
  truncation?: boolean | TruncationStrategy;
  /** Length limit (special tokens included) for truncation and `max_length` padding. Default: `modelMaxLength`. */
  maxLength?: number;
  /** Pad with the pad token. Default: false (no padding). */
  padding?: false | PaddingStrategy;
  /** Round the padded length up to a multiple of this (bounds distinct tensor shapes). Default: none. */
  padToMultipleOf?: number;
}

/** Options of `decode`. */
export interface DecodeOptions {
  /** Leave out special tokens ([CLS], [SEP], [PAD], [UNK], [MASK], ...). Default: false, as in HF. */
  skipSpecialTokens?: boolean;
  /** Override the tokenizer's `cleanUpTokenizationSpaces`. */
  cleanUpTokenizationSpaces?: boolean;
}

/** Model inputs for one text (or text pair), all arrays the same length. */
export interface Encoding {
  /** Vocabulary ids. */
  ids: number[];
  /** Segment ids: 0 for the first sequence (and [CLS]), 1 for the second. */
  tokenTypeIds: number[];
  /** 1 for real tokens, 0 for padding. */
  attentionMask: number[];
  /** Token strings, e.g. "[CLS]", "hello", "##ing". */
  tokens: string[];
  /** [start, end) UTF-16 offsets into the text the token came from (the pair text for B); [0, 0] for added tokens. */
  offsets: [number, number][];
  /** 1 for tokens added by post-processing or padding, 0 for tokens from the text. */
  specialTokensMask: number[];
}

/** One input of `encodeBatch`: a text or a [text, textPair] pair. */
export type EncodeInput = string | readonly [string, string];

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

/** Standard BERT post-processing: [CLS] A [SEP] and [CLS] A [SEP] B [SEP]. */
function bertTemplates(cls: string, sep: string): Pick<BertTokenizerConfig, 'singleTemplate' | 'pairTemplate'> {
  return {
    singleTemplate: [
      { kind: 'special', token: cls, typeId: 0 },
      { kind: 'sequence', sequence: 'A', typeId: 0 },
      { kind: 'special', token: sep, typeId: 0 },
    ],
    pairTemplate: [
      { kind: 'special', token: cls, typeId: 0 },
      { kind: 'sequence', sequence: 'A', typeId: 0 },
      { kind: 'special', token: sep, typeId: 0 },
      { kind: 'sequence', sequence: 'B', typeId: 1 },
      { kind: 'special', token: sep, typeId: 1 },
    ],
  };
}

/** Defaults of Hugging Face's BertTokenizer (bert-base-uncased behaviour). */
export const DEFAULT_BERT_TOKENIZER_CONFIG: Readonly<BertTokenizerConfig> = Object.freeze({
  lowercase: true,
  stripAccents: null,
  cleanText: true,
  handleChineseChars: true,
  unkToken: '[UNK]',
  clsToken: '[CLS]',
  sepToken: '[SEP]',
  padToken: '[PAD]',
  maskToken: '[MASK]',
  additionalSpecialTokens: [],
  continuingSubwordPrefix: '##',
  maxInputCharsPerWord: 100,
  modelMaxLength: null,
  cleanUpTokenizationSpaces: true,
  ...bertTemplates('[CLS]', '[SEP]'),
  wordCacheSize: 50_000,
});

/** Tokens of one sequence before post-processing: parallel arrays. */
interface SequenceTokens {
  ids: number[];
  starts: number[];
  ends: number[];
}

/** model_max_length values at or above this mean "no limit" (transformers writes 1e30). */
const UNBOUNDED_MODEL_MAX_LENGTH = 1e9;

export class BertTokenizer {
  /** The resolved configuration (defaults filled in). */
  readonly config: Readonly<BertTokenizerConfig>;
  readonly unkTokenId: number;
  readonly clsTokenId: number;
  readonly sepTokenId: number;
  readonly padTokenId: number;
  /** `null` when the vocabulary has no mask token. */
  readonly maskTokenId: number | null;

  private readonly vocab: Vocab;
  private readonly wordPiece: WordPiece;
  private readonly preTokenizer: BertPreTokenizer;
  /** Tokens matched verbatim in the raw text and never split, longest first. */
  private readonly neverSplit: { token: string; id: number }[];
  /** Ids that `decode({ skipSpecialTokens: true })` leaves out. */
  private readonly specialIds: Set<number>;
  /**
   * @internal Tests set this to send all text through the general (non-ASCII) path, to check it
   * agrees with the ASCII fast path.
   */
  forceGeneralPath = false;

  /**
   * @param vocab a validated vocabulary (see `fromVocabTxt` / `fromTokenizerJson` for files).
   * @param config overrides of `DEFAULT_BERT_TOKENIZER_CONFIG`.
   * @param extraNeverSplit further tokens to match verbatim, e.g. non-special `added_tokens`.
   */
  constructor(vocab: Vocab, config: Partial<BertTokenizerConfig> = {}, extraNeverSplit: string[] = []) {
    const resolved: BertTokenizerConfig = { ...DEFAULT_BERT_TOKENIZER_CONFIG, ...config };
    validateConfig(resolved);
    this.config = resolved;
    this.vocab = vocab;

    const required = [
      { role: 'unk_token', token: resolved.unkToken },
      { role: 'cls_token', token: resolved.clsToken },
      { role: 'sep_token', token: resolved.sepToken },
      { role: 'pad_token', token: resolved.padToken },
    ];
    if (resolved.maskToken !== null) required.push({ role: 'mask_token', token: resolved.maskToken });
    for (const token of resolved.additionalSpecialTokens) required.push({ role: 'additional special token', token });
    for (const piece of [...resolved.singleTemplate, ...resolved.pairTemplate]) {
      if (piece.kind === 'special') required.push({ role: 'post-processing template', token: piece.token });
    }
    const seen = new Set<string>();
    assertTokensInVocab(
      vocab,
      required.filter(({ token }) => !seen.has(token) && seen.add(token) !== undefined),
      'The vocabulary',
    );

    const idOf = (token: string): number => vocab.tokenToId.get(token) as number;
    this.unkTokenId = idOf(resolved.unkToken);
    this.clsTokenId = idOf(resolved.clsToken);
    this.sepTokenId = idOf(resolved.sepToken);
    this.padTokenId = idOf(resolved.padToken);
    this.maskTokenId = resolved.maskToken === null ? null : idOf(resolved.maskToken);

    const specialTokens = [...seen];
    this.specialIds = new Set(specialTokens.map(idOf));
    const neverSplitTokens = new Set([...specialTokens, ...extraNeverSplit.filter((t) => vocab.tokenToId.has(t))]);
    this.neverSplit = [...neverSplitTokens]
      .filter((token) => token.length > 0)
      .sort((a, b) => b.length - a.length)
      .map((token) => ({ token, id: idOf(token) }));

    this.wordPiece = new WordPiece(vocab.tokenToId, this.unkTokenId, {
      continuingSubwordPrefix: resolved.continuingSubwordPrefix,
      maxInputCharsPerWord: resolved.maxInputCharsPerWord,
      cacheSize: resolved.wordCacheSize,
    });
    this.preTokenizer = new BertPreTokenizer({
      cleanText: resolved.cleanText,
      handleChineseChars: resolved.handleChineseChars,
      stripAccents: resolved.stripAccents ?? resolved.lowercase,
      lowercase: resolved.lowercase,
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Loading and export

  /**
   * Loads from `vocab.txt` text and, optionally, the parsed `tokenizer_config.json` (casing,
   * accents, CJK handling, special tokens, model_max_length). Missing keys take HF BertTokenizer
   * defaults.
   */
  static fromVocabTxt(vocabTxt: string, tokenizerConfig: HfTokenizerConfigJson = {}): BertTokenizer {
    const vocab = parseVocabTxt(vocabTxt);
    const config = configFromTokenizerConfig(tokenizerConfig);
    // The mask token is optional unless configured explicitly: a vocab for classification only may
    // lack it (fill-mask is then unavailable), but a configured one that is missing is an error.
    if (config.maskToken === undefined && !vocab.tokenToId.has(DEFAULT_BERT_TOKENIZER_CONFIG.maskToken as string)) {
      config.maskToken = null;
    }
    return new BertTokenizer(vocab, config);
  }

  /**
   * Loads from a parsed Hugging Face `tokenizer.json` (BertNormalizer, BertPreTokenizer, WordPiece,
   * TemplateProcessing or BertProcessing). `tokenizerConfig` may add `model_max_length`. The
   * file's own `truncation`/`padding` blocks are ignored: pass those per call in `EncodeOptions`.
   */
  static fromTokenizerJson(tokenizerJson: unknown, tokenizerConfig: HfTokenizerConfigJson = {}): BertTokenizer {
    const { vocab, config, neverSplit } = parseTokenizerJson(tokenizerJson);
    const fromConfig = configFromTokenizerConfig(tokenizerConfig);
    if (fromConfig.modelMaxLength !== undefined) config.modelMaxLength = fromConfig.modelMaxLength;
    return new BertTokenizer(vocab, config, neverSplit);
  }

  /**
   * Loads from the files of a Hugging Face checkpoint folder: `tokenizer.json` when present (it is
   * what the fast tokenizers use), otherwise `vocab.txt` with `tokenizer_config.json`.
   */
  static fromHuggingFaceFiles(files: {
    tokenizerJson?: unknown;
    vocabTxt?: string;
    tokenizerConfig?: HfTokenizerConfigJson;
  }): BertTokenizer {
    if (files.tokenizerJson !== undefined)
      return BertTokenizer.fromTokenizerJson(files.tokenizerJson, files.tokenizerConfig);
    if (files.vocabTxt !== undefined) return BertTokenizer.fromVocabTxt(files.vocabTxt, files.tokenizerConfig);
    throw new EngineError(
      'TOKENIZER_MISSING_FILES',
      'No tokenizer files: a BERT checkpoint needs tokenizer.json or vocab.txt (with optional tokenizer_config.json).',
    );
  }

  /** `vocab.txt` contents: one token per line in id order. */
  toVocabTxt(): string {
    return vocabToTxt(this.vocab);
  }

  /** A `tokenizer_config.json` object that, with `toVocabTxt()`, reloads this tokenizer. */
  toTokenizerConfig(): HfTokenizerConfigJson {
    const c = this.config;
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

  // ---------------------------------------------------------------------------------------------
  // Vocabulary access

  /** Number of tokens (rows of the embedding matrix). */
  get vocabSize(): number {
    return this.vocab.idToToken.length;
  }

  /** Id of a token string, or `undefined` when it is not in the vocabulary. */
  tokenToId(token: string): number | undefined {
    return this.vocab.tokenToId.get(token);
  }

  /** Token string of an id, or `undefined` when out of range. */
  idToToken(id: number): string | undefined {
    return this.vocab.idToToken[id];
  }

  /** Ids of all special tokens (skipped by `decode({ skipSpecialTokens: true })`). */
  get specialTokenIds(): ReadonlySet<number> {
    return this.specialIds;
  }

  /** Empties the word → pieces cache (memory, or to measure cold-cache speed). */
  clearCache(): void {
    this.wordPiece.clearCache();
  }

  // ---------------------------------------------------------------------------------------------
  // Encoding

  /** Word pieces of `text` without special tokens, e.g. "Unwanted" → ["un", "##want", "##ed"]. */
  tokenize(text: string): string[] {
    return this.tokenizeSequence(requireString(text, 'text')).ids.map((id) => this.vocab.idToToken[id]);
  }

  /** Encodes one text or a text pair. */
  encode(text: string, textPair?: string | null, options: EncodeOptions = {}): Encoding {
    const encoding = this.encodeUnpadded(text, textPair ?? null, options);
    const target = this.paddingTarget([encoding.ids.length], options);
    if (target !== null) padEncoding(encoding, target, this.padTokenId, this.config.padToken);
    return encoding;
  }

  /** Encodes many inputs; `padding: 'longest'` pads all to the longest of the batch. */
  encodeBatch(inputs: readonly EncodeInput[], options: EncodeOptions = {}): Encoding[] {
    const encodings = inputs.map((input) =>
      typeof input === 'string'
        ? this.encodeUnpadded(input, null, options)
        : this.encodeUnpadded(input[0], input[1], options),
    );
    const target = this.paddingTarget(
      encodings.map((e) => e.ids.length),
      options,
    );
    if (target !== null)
      for (const encoding of encodings) padEncoding(encoding, target, this.padTokenId, this.config.padToken);
    return encodings;
  }

  private encodeUnpadded(text: string, textPair: string | null, options: EncodeOptions): Encoding {
    const addSpecialTokens = options.addSpecialTokens ?? true;
    const first = this.tokenizeSequence(requireString(text, 'text'));
    const second = textPair === null ? null : this.tokenizeSequence(requireString(textPair, 'textPair'));
    const template = second === null ? this.config.singleTemplate : this.config.pairTemplate;

    const strategy = resolveTruncation(options.truncation);
    if (strategy !== null) {
      const maxLength = this.resolveMaxLength(options, 'truncation');
      const added = addSpecialTokens ? template.filter((piece) => piece.kind === 'special').length : 0;
      if (maxLength < added) {
        throw new EngineError(
          'TOKENIZER_BAD_OPTIONS',
          `maxLength ${maxLength} cannot hold the ${added} special tokens of a ${second === null ? 'single text' : 'text pair'}; ` +
            `use maxLength ≥ ${added}.`,
        );
      }
      truncateSequences(first, second, maxLength - added, strategy);
    }
    return this.applyTemplate(template, first, second, addSpecialTokens);
  }

  /** Joins the sequences as the template says, adding special tokens and type ids. */
  private applyTemplate(
    template: readonly TemplatePiece[],
    first: SequenceTokens,
    second: SequenceTokens | null,
    addSpecialTokens: boolean,
  ): Encoding {
    const idToToken = this.vocab.idToToken;
    const encoding: Encoding = {
      ids: [],
      tokenTypeIds: [],
      attentionMask: [],
      tokens: [],
      offsets: [],
      specialTokensMask: [],
    };
    for (const piece of template) {
      if (piece.kind === 'special') {
        if (!addSpecialTokens) continue;
        const id = this.vocab.tokenToId.get(piece.token) as number;
        encoding.ids.push(id);
        encoding.tokenTypeIds.push(piece.typeId);
        encoding.attentionMask.push(1);
        encoding.tokens.push(piece.token);
        encoding.offsets.push([0, 0]);
        encoding.specialTokensMask.push(1);
        continue;
      }
      const sequence = piece.sequence === 'A' ? first : second;
      if (sequence === null) continue;
      for (let k = 0; k < sequence.ids.length; k++) {
        const id = sequence.ids[k];
        encoding.ids.push(id);
        encoding.tokenTypeIds.push(piece.typeId);
        encoding.attentionMask.push(1);
        encoding.tokens.push(idToToken[id]);
        encoding.offsets.push([sequence.starts[k], sequence.ends[k]]);
        encoding.specialTokensMask.push(0);
      }
    }
    return encoding;
  }

  /** Normalises, pre-tokenises and WordPiece-splits one text (no special tokens added). */
  private tokenizeSequence(text: string): SequenceTokens {
    const out: SequenceTokens = { ids: [], starts: [], ends: [] };
    const lowered = this.forceGeneralPath ? null : this.preTokenizer.prepareAscii(text);
    const sink = this.sinkFor(out);
    let position = 0;
    // Special tokens are found in the raw text first (leftmost, then longest, like the Rust
    // AddedVocabulary), so "[MASK]" survives lower-casing and punctuation splitting.
    for (const match of this.findNeverSplit(text)) {
      if (match.start > position) this.preTokenizer.run(text, position, match.start, lowered, sink);
      out.ids.push(match.id);
      out.starts.push(match.start);
      out.ends.push(match.end);
      position = match.end;
    }
    if (position < text.length) this.preTokenizer.run(text, position, text.length, lowered, sink);
    return out;
  }

  private sinkFor(out: SequenceTokens): WordSink {
    const wordPiece = this.wordPiece;
    return {
      contiguousWord(word: string, origStart: number): void {
        const pieces: WordPieces = wordPiece.tokenize(word);
        for (let k = 0; k < pieces.length; k += 3) {
          out.ids.push(pieces[k]);
          out.starts.push(origStart + pieces[k + 1]);
          out.ends.push(origStart + pieces[k + 2]);
        }
      },
      mappedWord(word: string, unitStarts: readonly number[], unitEnds: readonly number[]): void {
        const pieces: WordPieces = wordPiece.tokenize(word);
        for (let k = 0; k < pieces.length; k += 3) {
          out.ids.push(pieces[k]);
          out.starts.push(unitStarts[pieces[k + 1]]);
          out.ends.push(unitEnds[pieces[k + 2] - 1]);
        }
      },
    };
  }

  /** Non-overlapping occurrences of never-split tokens, leftmost first, longest at equal starts. */
  private findNeverSplit(text: string): { start: number; end: number; id: number }[] {
    const matches: { start: number; end: number; id: number }[] = [];
    const tokens = this.neverSplit;
    // Next occurrence of each token at or after `position` (-1: none left). Tokens are sorted longest
    // first, so a strict `<` comparison keeps the longest token among those starting at the same place.
    const next = tokens.map(({ token }) => text.indexOf(token));
    let position = 0;
    for (;;) {
      let best = -1;
      for (let t = 0; t < tokens.length; t++) {
        if (next[t] >= 0 && next[t] < position) next[t] = text.indexOf(tokens[t].token, position);
        if (next[t] >= 0 && (best < 0 || next[t] < next[best])) best = t;
      }
      if (best < 0) return matches;
      const start = next[best];
      const end = start + tokens[best].token.length;
      matches.push({ start, end, id: tokens[best].id });
      position = end;
    }
  }

  private resolveMaxLength(options: EncodeOptions, purpose: string): number {
    const maxLength = options.maxLength ?? this.config.modelMaxLength;
    if (maxLength === null || maxLength === undefined) {
      throw new EngineError(
        'TOKENIZER_BAD_OPTIONS',
        `${purpose} needs maxLength: pass it in the options or set model_max_length in tokenizer_config.json.`,
      );
    }
    if (!Number.isInteger(maxLength) || maxLength < 0) {
      throw new EngineError(
        'TOKENIZER_BAD_OPTIONS',
        `maxLength must be a non-negative integer, got ${String(maxLength)}.`,
      );
    }
    return maxLength;
  }

  /** Length to pad to, or `null` for no padding. */
  private paddingTarget(lengths: number[], options: EncodeOptions): number | null {
    const padding = options.padding ?? false;
    if (padding === false) return null;
    let target: number;
    if (padding === 'max_length') target = this.resolveMaxLength(options, "padding: 'max_length'");
    else if (padding === 'longest') target = lengths.reduce((a, b) => Math.max(a, b), 0);
    else
      throw new EngineError(
        'TOKENIZER_BAD_OPTIONS',
        `Unknown padding ${JSON.stringify(padding)}; use 'longest' or 'max_length'.`,
      );
    const multiple = options.padToMultipleOf;
    if (multiple !== undefined) {
      if (!Number.isInteger(multiple) || multiple <= 0) {
        throw new EngineError(
          'TOKENIZER_BAD_OPTIONS',
          `padToMultipleOf must be a positive integer, got ${String(multiple)}.`,
        );
      }
      if (target % multiple !== 0) target += multiple - (target % multiple);
    }
    return target;
  }

  // ---------------------------------------------------------------------------------------------
  // Decoding

  /**
   * Text for ids: pieces joined with spaces, "##" continuations glued to the previous piece, then
   * (by default) HF's `clean_up_tokenization` ("hello , world" → "hello, world").
   * Note the text is lower-cased / accent-stripped for uncased models, as in HF.
   */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    const skipSpecial = options.skipSpecialTokens ?? false;
    const cleanUp = options.cleanUpTokenizationSpaces ?? this.config.cleanUpTokenizationSpaces;
    const prefix = this.config.continuingSubwordPrefix;
    let text = '';
    let first = true;
    for (const id of ids) {
      const token = this.vocab.idToToken[id];
      if (token === undefined) {
        throw new EngineError(
          'TOKENIZER_BAD_ID',
          `Cannot decode id ${String(id)}: ids must be integers in [0, ${this.vocabSize}) for this vocabulary.`,
        );
      }
      if (skipSpecial && this.specialIds.has(id)) continue;
      // Like the HF WordPiece decoder, the first token keeps a leading "##".
      if (first) text += token;
      else if (prefix.length > 0 && token.startsWith(prefix)) text += token.slice(prefix.length);
      else text += ' ' + token;
      first = false;
    }
    return cleanUp ? cleanUpTokenizationSpaces(text) : text;
  }

  /** `decode` for each row. */
  decodeBatch(batch: readonly (readonly number[])[], options: DecodeOptions = {}): string[] {
    return batch.map((ids) => this.decode(ids, options));
  }
}

/** HF `clean_up_tokenization`: removes the spaces WordPiece decoding leaves before punctuation. */
export function cleanUpTokenizationSpaces(text: string): string {
  return text
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

// -----------------------------------------------------------------------------------------------
// Truncation and padding (semantics of the Rust `tokenizers` crate, `truncate_encodings`)

function resolveTruncation(truncation: EncodeOptions['truncation']): TruncationStrategy | null {
  if (truncation === undefined || truncation === false) return null;
  if (truncation === true) return 'longest_first';
  if (truncation === 'longest_first' || truncation === 'only_first' || truncation === 'only_second') return truncation;
  throw new EngineError(
    'TOKENIZER_BAD_OPTIONS',
    `Unknown truncation ${JSON.stringify(truncation)}; use 'longest_first', 'only_first' or 'only_second'.`,
  );
}

/** Keeps the first `length` tokens (truncation from the right, as HF's default). */
function keepFirst(sequence: SequenceTokens, length: number): void {
  if (sequence.ids.length <= length) return;
  sequence.ids.length = length;
  sequence.starts.length = length;
  sequence.ends.length = length;
}

/**
 * Shortens the sequences so that together they have at most `budget` tokens (special tokens
 * already subtracted).
 *
 * `longest_first` does not remove one token at a time: like the Rust crate it keeps the shorter
 * sequence whole if the longer one can absorb the cut, and otherwise gives each half the budget,
 * the odd token going to the longer sequence (to the second one when both are equally long).
 * The Python slow tokenizer instead alternates and gives the odd token to the first sequence; the
 * two differ only when both must be cut and the budget is odd.
 */
function truncateSequences(
  first: SequenceTokens,
  second: SequenceTokens | null,
  budget: number,
  strategy: TruncationStrategy,
): void {
  if (budget === 0) {
    keepFirst(first, 0);
    if (second !== null) keepFirst(second, 0);
    return;
  }
  const total = first.ids.length + (second?.ids.length ?? 0);
  if (total <= budget) return;
  const toRemove = total - budget;

  if (strategy === 'longest_first') {
    if (second === null) {
      keepFirst(first, budget);
      return;
    }
    const swapped = first.ids.length > second.ids.length;
    let shorter = swapped ? second.ids.length : first.ids.length;
    let longer: number;
    if (shorter > budget) longer = shorter;
    else longer = Math.max(shorter, budget - shorter);
    if (shorter + longer > budget) {
      shorter = Math.floor(budget / 2);
      longer = shorter + (budget % 2);
    }
    keepFirst(first, swapped ? longer : shorter);
    keepFirst(second, swapped ? shorter : longer);
    return;
  }

  if (strategy === 'only_second' && second === null) {
    throw new EngineError(
      'TOKENIZER_TRUNCATION',
      "Truncation 'only_second' needs a text pair, but only one text was given; use 'longest_first' or 'only_first'.",
    );
  }
  const target = strategy === 'only_first' ? first : (second as SequenceTokens);
  const which = strategy === 'only_first' ? 'first' : 'second';
  if (target.ids.length <= toRemove) {
    throw new EngineError(
      'TOKENIZER_TRUNCATION',
      `Truncation '${strategy}' would have to remove ${toRemove} tokens but the ${which} sequence has only ` +
        `${target.ids.length}; raise maxLength or use 'longest_first'.`,
    );
  }
  keepFirst(target, target.ids.length - toRemove);
}

/** Pads on the right: pad id, type 0, attention 0, special-token mask 1, offsets [0, 0]. */
function padEncoding(encoding: Encoding, length: number, padId: number, padToken: string): void {
  for (let k = encoding.ids.length; k < length; k++) {
    encoding.ids.push(padId);
    encoding.tokenTypeIds.push(0);
    encoding.attentionMask.push(0);
    encoding.tokens.push(padToken);
    encoding.offsets.push([0, 0]);
    encoding.specialTokensMask.push(1);
  }
}

// -----------------------------------------------------------------------------------------------
// Config files

function requireString(value: unknown, name: string): string {
  if (typeof value !== 'string') {
    throw new EngineError(
      'TOKENIZER_BAD_INPUT',
      `${name} must be a string, got ${value === null ? 'null' : typeof value}.`,
    );
  }
  return value;
}

function validateConfig(config: BertTokenizerConfig): void {
  if (!Number.isInteger(config.maxInputCharsPerWord) || config.maxInputCharsPerWord <= 0) {
    throw new EngineError(
      'TOKENIZER_BAD_CONFIG',
      `maxInputCharsPerWord must be a positive integer, got ${config.maxInputCharsPerWord}.`,
    );
  }
  if (!Number.isInteger(config.wordCacheSize) || config.wordCacheSize < 1) {
    throw new EngineError(
      'TOKENIZER_BAD_CONFIG',
      `wordCacheSize must be a positive integer, got ${config.wordCacheSize}.`,
    );
  }
  if (config.modelMaxLength !== null && (!Number.isInteger(config.modelMaxLength) || config.modelMaxLength < 0)) {
    throw new EngineError(
      'TOKENIZER_BAD_CONFIG',
      `modelMaxLength must be a non-negative integer or null, got ${config.modelMaxLength}.`,
    );
  }
  for (const [name, template, sequences] of [
    ['singleTemplate', config.singleTemplate, ['A']],
    ['pairTemplate', config.pairTemplate, ['A', 'B']],
  ] as const) {
    const used = template.filter((p) => p.kind === 'sequence').map((p) => (p.kind === 'sequence' ? p.sequence : ''));
    if (used.length !== sequences.length || !sequences.every((s) => used.includes(s))) {
      throw new EngineError(
        'TOKENIZER_BAD_CONFIG',
        `${name} must contain sequence ${sequences.join(' and ')} exactly once each, got ${used.join(', ') || 'none'}.`,
      );
    }
  }
}

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

/** Maps `tokenizer_config.json` keys onto our config; absent keys stay absent (defaults apply). */
function configFromTokenizerConfig(json: HfTokenizerConfigJson): Partial<BertTokenizerConfig> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new EngineError('TOKENIZER_BAD_CONFIG', 'tokenizer_config.json must contain a JSON object.');
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

/** Default names of the five BERT special tokens; never repeated as "additional". */
const DEFAULT_NAMED_TOKENS = ['[UNK]', '[SEP]', '[PAD]', '[CLS]', '[MASK]'];

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

function parseTokenizerJson(json: unknown): {
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
