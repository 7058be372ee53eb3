/**
 * BERT normalisation + pre-tokenisation in one pass over the text: what Hugging Face runs as
 * `BertNormalizer` (clean text, isolate CJK, strip accents, lower-case) followed by
 * `BertPreTokenizer` (split on whitespace, isolate punctuation).
 *
 * The result is a list of normalised words, each with the original UTF-16 span of every one of its
 * UTF-16 units, so WordPiece pieces can be mapped back to offsets into the caller's string.
 * Pure-ASCII text (the common case) takes a fast path that slices words straight out of the
 * lower-cased text; everything else goes code point by code point through a per-character cache.
 */
import { isChineseChar, isControl, isPunctuation, isWhitespace, lowercaseByCodePoint, stripAccents } from './unicode';

/** Switches of the BERT normaliser, named as in `tokenizer.json`'s BertNormalizer. */
export interface NormalizerConfig {
  /** Drop control characters, U+0000 and U+FFFD; map whitespace to spaces. */
  cleanText: boolean;
  /** Surround CJK ideographs with spaces so each becomes its own word. */
  handleChineseChars: boolean;
  /** NFD + remove non-spacing marks (already resolved: `null` in HF configs means "= lowercase"). */
  stripAccents: boolean;
  /** Lower-case every character. */
  lowercase: boolean;
}

/** Receives each word: its normalised text and where it came from in the original string. */
export interface WordSink {
  /**
   * A word whose UTF-16 unit k came from original units [origStart + k, origStart + k + 1): the
   * word is an unchanged (apart from ASCII case) contiguous slice of the input.
   */
  contiguousWord(word: string, origStart: number): void;
  /** A word whose unit k came from original units [unitStarts[k], unitEnds[k]). */
  mappedWord(word: string, unitStarts: readonly number[], unitEnds: readonly number[]): void;
}

const enum CharKind {
  /** Removed by the cleaner (control characters) or emptied by accent stripping. */
  Drop,
  /** Ends the current word. */
  Space,
  /** A word of its own (punctuation, CJK ideograph). */
  Isolated,
  /** Part of the current word. */
  Word,
  /** Normalises to several code points of different kinds; see `parts`. */
  Mixed,
}

interface CharInfo {
  kind: CharKind;
  /** Normalised text of the character (lower-cased, accents stripped). */
  text: string;
  /** For `Mixed`: the normalised code points, each with its own kind. */
  parts?: { kind: CharKind; text: string }[];
}

/** ASCII class of each code unit < 128 for the fast path. */
const ASCII_WORD = 0;
const ASCII_SPACE = 1;
const ASCII_PUNCT = 2;
const ASCII_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++)
  ASCII_CLASS[c] = isWhitespace(c) ? ASCII_SPACE : isPunctuation(c) ? ASCII_PUNCT : ASCII_WORD;

/** Text the fast path can handle: printable ASCII, space, tab, newline, carriage return. */
const NOT_PLAIN_ASCII = /[^\t\n\r\x20-\x7e]/;

/** Most distinct non-ASCII code points whose classification is cached. */
const CHAR_CACHE_LIMIT = 65_536;

export class BertPreTokenizer {
  private readonly charCache = new Map<number, CharInfo>();
  // Reused scratch buffers for the general path (one word at a time).
  private readonly unitStarts: number[] = [];
  private readonly unitEnds: number[] = [];

  constructor(private readonly config: NormalizerConfig) {}

  /** Whether `text` can take the ASCII fast path (exposed for tests that compare both paths). */
  static isPlainAscii(text: string): boolean {
    return !NOT_PLAIN_ASCII.test(text);
  }

  /**
   * Splits text[from, to) into words and hands each to `sink`. `lowered` is `text` already
   * lower-cased when the text is plain ASCII (pass `null` to force the general path).
   */
  run(text: string, from: number, to: number, lowered: string | null, sink: WordSink): void {
    if (lowered !== null) this.runAscii(lowered, from, to, sink);
    else this.runGeneral(text, from, to, sink);
  }

  /** Lower-cased copy of plain-ASCII text for `run`, or `null` when it needs the general path. */
  prepareAscii(text: string): string | null {
    if (NOT_PLAIN_ASCII.test(text)) return null;
    return this.config.lowercase ? text.toLowerCase() : text;
  }

  private runAscii(lowered: string, from: number, to: number, sink: WordSink): void {
    let wordStart = -1;
    for (let i = from; i < to; i++) {
      const kind = ASCII_CLASS[lowered.charCodeAt(i)];
      if (kind === ASCII_WORD) {
        if (wordStart < 0) wordStart = i;
        continue;
      }
      if (wordStart >= 0) {
        sink.contiguousWord(lowered.slice(wordStart, i), wordStart);
        wordStart = -1;
      }
      if (kind === ASCII_PUNCT) sink.contiguousWord(lowered[i], i);
    }
    if (wordStart >= 0) sink.contiguousWord(lowered.slice(wordStart, to), wordStart);
  }

  private runGeneral(text: string, from: number, to: number, sink: WordSink): void {
    const starts = this.unitStarts;
    const ends = this.unitEnds;
    let word = '';
    starts.length = 0;
    ends.length = 0;
    const flush = (): void => {
      if (word.length === 0) return;
      sink.mappedWord(word, starts, ends);
      word = '';
      starts.length = 0;
      ends.length = 0;
    };
    const emitIsolated = (piece: string, origStart: number, origEnd: number): void => {
      flush();
      for (let k = 0; k < piece.length; k++) {
        starts.push(origStart);
        ends.push(origEnd);
      }
      word = piece;
      flush();
    };
    const append = (piece: string, origStart: number, origEnd: number): void => {
      for (let k = 0; k < piece.length; k++) {
        starts.push(origStart);
        ends.push(origEnd);
      }
      word += piece;
    };

    for (let i = from; i < to;) {
      let cp = text.charCodeAt(i);
      let width = 1;
      if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < to) {
        const low = text.charCodeAt(i + 1);
        if (low >= 0xdc00 && low <= 0xdfff) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          width = 2;
        }
      }
      const info = this.charInfo(cp);
      switch (info.kind) {
        case CharKind.Drop:
          break;
        case CharKind.Space:
          flush();
          break;
        case CharKind.Isolated:
          emitIsolated(info.text, i, i + width);
          break;
        case CharKind.Word:
          append(info.text, i, i + width);
          break;
        case CharKind.Mixed:
          for (const part of info.parts ?? []) {
            if (part.kind === CharKind.Space) flush();
            else if (part.kind === CharKind.Isolated) emitIsolated(part.text, i, i + width);
            else append(part.text, i, i + width);
          }
          break;
      }
      i += width;
    }
    flush();
  }

  private charInfo(cp: number): CharInfo {
    let info = this.charCache.get(cp);
    if (info === undefined) {
      info = this.classify(cp);
      if (this.charCache.size >= CHAR_CACHE_LIMIT) this.charCache.clear();
      this.charCache.set(cp, info);
    }
    return info;
  }

  /** Runs the normaliser and the pre-tokeniser's character tests on one code point. */
  private classify(cp: number): CharInfo {
    const { cleanText, handleChineseChars, stripAccents: strip, lowercase } = this.config;
    // BertNormalizer order: clean, CJK, strip accents, lower-case; then BertPreTokenizer splits.
    if (cleanText && (cp === 0 || cp === 0xfffd || isControl(cp))) return { kind: CharKind.Drop, text: '' };
    if (isWhitespace(cp)) return { kind: CharKind.Space, text: ' ' };
    let text = String.fromCodePoint(cp);
    if (strip) text = stripAccents(text);
    if (lowercase) text = lowercaseByCodePoint(text);
    if (handleChineseChars && isChineseChar(cp)) return { kind: CharKind.Isolated, text };
    const parts: { kind: CharKind; text: string }[] = [];
    for (const ch of text) {
      const c = ch.codePointAt(0) as number;
      const kind = isWhitespace(c) ? CharKind.Space : isPunctuation(c) ? CharKind.Isolated : CharKind.Word;
      parts.push({ kind, text: ch });
    }
    if (parts.length === 0) return { kind: CharKind.Drop, text: '' };
    if (parts.length === 1) return parts[0];
    if (parts.every((part) => part.kind === CharKind.Word)) return { kind: CharKind.Word, text };
    return { kind: CharKind.Mixed, text, parts };
  }
}
