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
import { EngineError } from '../errors';
import {
  DEFAULT_BERT_TOKENIZER_CONFIG,
  validateConfig,
  type BertTokenizerConfig,
  type DecodeOptions,
  type EncodeInput,
  type EncodeOptions,
  type Encoding,
} from './config';
import {
  configFromTokenizerConfig,
  parseTokenizerJson,
  tokenizerConfigJson,
  type HfTokenizerConfigJson,
} from './hf-files';
import { BertPreTokenizer, type WordSink } from './normalizer';
import {
  applyTemplate,
  padEncoding,
  paddingTarget,
  resolveMaxLength,
  resolveTruncation,
  truncateSequences,
  type SequenceTokens,
} from './post-processing';
import { WordPiece, type WordPieces } from './wordpiece';
import { assertTokensInVocab, parseVocabTxt, vocabToTxt, type Vocab } from './vocab';

// Around the class: ./config (settings, options, Encoding), ./post-processing (truncation, template,
// padding), ./hf-files (tokenizer.json, tokenizer_config.json). Their public names are re-exported
// so that importers of this module keep working; none of those files imports this one (no cycle).
export {
  DEFAULT_BERT_TOKENIZER_CONFIG,
  type BertTokenizerConfig,
  type DecodeOptions,
  type EncodeInput,
  type EncodeOptions,
  type Encoding,
  type PaddingStrategy,
  type TemplatePiece,
  type TruncationStrategy,
} from './config';
export type { HfTokenizerConfigJson } from './hf-files';

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
    return tokenizerConfigJson(this.config);
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
    const target = paddingTarget([encoding.ids.length], options, this.config.modelMaxLength);
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
    const target = paddingTarget(
      encodings.map((e) => e.ids.length),
      options,
      this.config.modelMaxLength,
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
      const maxLength = resolveMaxLength(options, this.config.modelMaxLength, 'truncation');
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
    return applyTemplate(template, first, second, addSpecialTokens, this.vocab);
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

/** Guards the entry points against JavaScript callers passing non-strings. */
function requireString(value: unknown, name: string): string {
  if (typeof value !== 'string') {
    throw new EngineError(
      'TOKENIZER_BAD_INPUT',
      `${name} must be a string, got ${value === null ? 'null' : typeof value}.`,
    );
  }
  return value;
}
