/**
 * Pretraining corpus: text chunks → tokenized, PACKED sequences `[CLS] t1 … tn [SEP]` of up to
 * `maxLength` tokens, with a data position that can be saved and restored exactly.
 *
 * Format: ONE PASSAGE PER LINE. Empty lines are skipped. Consecutive lines are packed into the same
 * sequence (a long line continues into the next sequence), so hard-wrapped paragraphs (one sentence
 * spread over several lines) and one-sentence-per-line files both work. Packing continues across
 * documents (files); only the very end of the corpus emits a short, padded sequence.
 *
 * Browser-safe: this file knows nothing about files. A `CorpusSource` yields `TextChunk`s (one line
 * each) from an async iterable, starting at a given (doc, offset); `node-corpus.ts` provides one
 * over files and folders, `arrayCorpusSource` one over in-memory texts.
 *
 * Position: `{epoch, doc, offset, token, index}` = "the next sequence (number `index` of pass
 * `epoch`) starts at token `token` of the chunk that starts at `offset` in document `doc`".
 * Tokenization is deterministic, so resuming re-tokenizes that one chunk and skips `token` tokens:
 * the sequence stream continues bit-for-bit as if it had never stopped.
 *
 * Held-out slice: sequences number 0, k, 2k, … ((count − 1)·k) of every pass (`HeldOutSpec`; k = 1
 * gives the first `count` sequences) are set aside for evaluation and skipped by training, so
 * training never sees held-out text. With k > 1 the slice spreads over several files.
 */
import { EngineError } from '../errors';
import type { BertTokenizer } from '../tokenizer';

/** One line of text and where it starts (source-defined `offset`: a byte offset for files). */
export interface TextChunk {
  text: string;
  /** Index of the document (file) in the source. */
  doc: number;
  /** Where the chunk starts inside the document; passing it back to `chunks()` resumes there. */
  offset: number;
}

/** Where chunks come from. `chunks(from)` must yield chunks in order starting exactly at `from`. */
export interface CorpusSource {
  /** For messages, e.g. "3 files in data/corpus". */
  description: string;
  /** Stable identity for the config fingerprint (file names + sizes, or a hash of the texts). */
  identity: string;
  chunks(from: { doc: number; offset: number }): AsyncIterable<TextChunk>;
}

/** Exact position in the packed sequence stream (JSON; stored in checkpoints). */
export interface CorpusPosition {
  /** Passes over the training part of the corpus completed so far. */
  epoch: number;
  doc: number;
  offset: number;
  /** Tokens of the chunk at (doc, offset) already consumed. */
  token: number;
  /** Index (within the pass, held-out ones included) of the sequence that starts here. */
  index: number;
}

export const CORPUS_START: CorpusPosition = Object.freeze({ epoch: 0, doc: 0, offset: 0, token: 0, index: 0 });

/** Held-out sequences: indices every·j for j < count of each pass. */
export interface HeldOutSpec {
  count: number;
  /** Take every k-th sequence (k ≥ 1). */
  every: number;
}

export function isHeldOut(index: number, spec: HeldOutSpec): boolean {
  return spec.count > 0 && index % spec.every === 0 && index / spec.every < spec.count;
}

export interface PackedSequence {
  /** Token ids, `[CLS] … [SEP]`, unpadded, length ≤ maxLength. */
  ids: number[];
  /** Where this sequence starts. */
  start: CorpusPosition;
  /** Where the next sequence starts (save this after consuming the sequence). */
  next: CorpusPosition;
}

/** A source over in-memory documents (each a list of lines or one text split on newlines). Offset = line index. */
export function arrayCorpusSource(
  docs: readonly (string | readonly string[])[],
  description = 'in-memory corpus',
): CorpusSource {
  const lines = docs.map((d) => (typeof d === 'string' ? d.split(/\r?\n/) : [...d]));
  let h = 0x811c9dc5;
  for (const doc of lines)
    for (const l of doc) for (let i = 0; i < l.length; i++) h = Math.imul(h ^ l.charCodeAt(i), 0x01000193) >>> 0;
  return {
    description,
    identity: `${description}:${lines.length} docs:${lines.reduce((n, d) => n + d.length, 0)} lines:${h.toString(16)}`,
    async *chunks(from) {
      for (let doc = from.doc; doc < lines.length; doc++) {
        for (let i = doc === from.doc ? from.offset : 0; i < lines[doc].length; i++)
          yield { text: lines[doc][i], doc, offset: i };
      }
    },
  };
}

/** Tokens of one chunk without special tokens (lines of only whitespace give none). */
function chunkIds(tokenizer: BertTokenizer, text: string): number[] {
  if (text.trim().length === 0) return [];
  return tokenizer.encode(text, null, { addSpecialTokens: false }).ids;
}

/**
 * Packs one pass of the corpus from `from` to its end. The last sequence of the pass may be short.
 * Yields nothing if there is no text after `from`.
 */
export async function* packSequences(
  source: CorpusSource,
  tokenizer: BertTokenizer,
  maxLength: number,
  from: CorpusPosition,
): AsyncGenerator<PackedSequence> {
  if (!Number.isInteger(maxLength) || maxLength < 3)
    throw new EngineError('CORPUS_BAD_OPTIONS', `maxLength must be an integer ≥ 3, got ${maxLength}.`);
  const capacity = maxLength - 2;
  let buf: number[] = [];
  let start: CorpusPosition | null = null;
  let last: CorpusPosition = { ...from };
  let first = true;
  let index = from.index;
  const emit = (next: Omit<CorpusPosition, 'index'>): PackedSequence => {
    index++;
    const seq = { ids: [tokenizer.clsTokenId, ...buf, tokenizer.sepTokenId], start: start!, next: { ...next, index } };
    buf = [];
    start = null;
    return seq;
  };
  for await (const chunk of source.chunks({ doc: from.doc, offset: from.offset })) {
    const ids = chunkIds(tokenizer, chunk.text);
    let idx = first && chunk.doc === from.doc && chunk.offset === from.offset ? from.token : 0;
    first = false;
    while (idx < ids.length) {
      if (start === null) start = { epoch: from.epoch, doc: chunk.doc, offset: chunk.offset, token: idx, index };
      const take = Math.min(capacity - buf.length, ids.length - idx);
      for (let k = 0; k < take; k++) buf.push(ids[idx + k]);
      idx += take;
      if (buf.length === capacity) yield emit({ epoch: from.epoch, doc: chunk.doc, offset: chunk.offset, token: idx });
    }
    last = { epoch: from.epoch, doc: chunk.doc, offset: chunk.offset, token: ids.length, index };
  }
  if (buf.length > 0) yield emit(last);
}

/**
 * An endless stream of packed training sequences: held-out sequences are skipped, and when a pass
 * ends the next one (epoch + 1) starts at the beginning of the corpus. Restore exactly with
 * `new SequenceStream(…, position)`.
 */
export class SequenceStream {
  private iterator: AsyncGenerator<PackedSequence> | null = null;
  private passStart: CorpusPosition;
  private passCount = 0;
  /** Position of the next sequence `next()` considers (it may be a held-out one, which is skipped). */
  position: CorpusPosition;

  constructor(
    private readonly source: CorpusSource,
    private readonly tokenizer: BertTokenizer,
    private readonly maxLength: number,
    private readonly heldOut: HeldOutSpec = { count: 0, every: 1 },
    from: CorpusPosition = CORPUS_START,
    /** Refuse a corpus whose training part has fewer sequences than this (e.g. one batch). */
    private readonly minSequencesPerPass = 1,
  ) {
    this.position = { ...from };
    this.passStart = { ...from };
  }

  async next(): Promise<PackedSequence> {
    for (let wraps = 0; ;) {
      this.iterator ??= packSequences(this.source, this.tokenizer, this.maxLength, this.position);
      const r = await this.iterator.next();
      if (!r.done) {
        this.position = { ...r.value.next };
        if (isHeldOut(r.value.start.index, this.heldOut)) continue;
        this.passCount++;
        return r.value;
      }
      // End of the pass: check it was big enough (only for full passes), then wrap around.
      if (samePlace(this.passStart, CORPUS_START) && this.passCount < this.minSequencesPerPass) {
        throw new EngineError(
          'CORPUS_TOO_SMALL',
          `${this.source.description}: the training part of the corpus packs into only ${this.passCount} sequence${this.passCount === 1 ? '' : 's'} of up to ${this.maxLength} tokens, fewer than one batch (${this.minSequencesPerPass}). Add text, lower --batch-size or hold out fewer sequences.`,
        );
      }
      if (++wraps > 1)
        throw new EngineError(
          'CORPUS_TOO_SMALL',
          `${this.source.description}: no text to train on besides the held-out slice.`,
        );
      this.position = { ...CORPUS_START, epoch: this.position.epoch + 1 };
      this.passStart = { ...this.position };
      this.passCount = 0;
      this.iterator = null;
    }
  }

  /** The next `n` sequences and the position after them. */
  async take(n: number): Promise<{ sequences: PackedSequence[]; next: CorpusPosition }> {
    const sequences: PackedSequence[] = [];
    for (let i = 0; i < n; i++) sequences.push(await this.next());
    return { sequences, next: { ...this.position } };
  }

  async close(): Promise<void> {
    await this.iterator?.return(undefined);
    this.iterator = null;
  }
}

function samePlace(a: CorpusPosition, b: CorpusPosition): boolean {
  return a.doc === b.doc && a.offset === b.offset && a.token === b.token && a.index === b.index;
}

/**
 * The held-out sequences (indices 0, k, …, (count − 1)·k of the corpus). Throws CORPUS_EMPTY when
 * there is no text, CORPUS_TOO_SMALL when the corpus ends before the slice is complete.
 */
export async function takeHeldOut(
  source: CorpusSource,
  tokenizer: BertTokenizer,
  maxLength: number,
  spec: HeldOutSpec,
): Promise<number[][]> {
  if (!Number.isInteger(spec.every) || spec.every < 1 || !Number.isInteger(spec.count) || spec.count < 0) {
    throw new EngineError(
      'CORPUS_BAD_OPTIONS',
      `held-out count must be an integer ≥ 0 and every an integer ≥ 1, got ${spec.count} and ${spec.every}.`,
    );
  }
  const sequences: number[][] = [];
  if (spec.count === 0) return sequences;
  let seen = 0;
  const gen = packSequences(source, tokenizer, maxLength, CORPUS_START);
  for await (const seq of gen) {
    seen++;
    if (isHeldOut(seq.start.index, spec)) sequences.push(seq.ids);
    if (sequences.length >= spec.count) break;
  }
  await gen.return(undefined);
  if (seen === 0) throw new EngineError('CORPUS_EMPTY', `${source.description}: the corpus contains no text.`);
  if (sequences.length < spec.count) {
    throw new EngineError(
      'CORPUS_TOO_SMALL',
      `${source.description}: the whole corpus packs into ${seen} sequences of up to ${maxLength} tokens, too few to hold out ${spec.count} (every ${spec.every}${spec.every === 1 ? 'st' : 'th'}) and train on the rest. Add text or hold out fewer.`,
    );
  }
  return sequences;
}
