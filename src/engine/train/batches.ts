/**
 * Length-bucketed dynamic-padding batches. Plain TypeScript on plain arrays (no tfjs): batches come
 * back as typed arrays that the training loop uploads once per step.
 */
import { EngineError } from '../errors';
import { Rng } from '../util/rng';

// ---------------------------------------------------------------------------------------------
// Batching
// ---------------------------------------------------------------------------------------------

/** One tokenized example (tokenization, specials and truncation happen elsewhere). */
export interface EncodedExample {
  /** Token ids including [CLS]/[SEP]; length <= maxLength. */
  inputIds: ArrayLike<number>;
  /** Segment ids (0/1), same length as inputIds; all 0 when omitted. */
  tokenTypeIds?: ArrayLike<number>;
  /** Class index, or -1 for unlabeled (prediction). */
  label: number;
}

export interface BatchOptions {
  batchSize: number;
  /** Seed of the run; each epoch uses the substream `fork('batches:epoch:' + epoch)`. */
  seed?: number;
  /** Epoch number (0-based); different epochs give different orders, the same epoch the same order. */
  epoch?: number;
  /** Pad T up to a multiple of this (default 8) so few distinct tensor shapes exist (docs/ARCHITECTURE.md, "Performance"). */
  padMultiple?: number;
  /** Longest allowed sequence; examples longer than this are an error (truncate when tokenizing). */
  maxLength: number;
  /** Token id used for padding (default 0, BERT's [PAD]). */
  padId?: number;
  /**
   * Shuffle (default true, for training). With false (eval/predict) the examples are sorted by
   * length over the whole set and batched in that order, which minimises padding; use
   * `Batch.indices` to put results back in input order.
   */
  shuffle?: boolean;
  /**
   * Bucketing window in batches (default 50): after the shuffle, each window of
   * `sortWindowBatches * batchSize` examples is sorted by length and cut into batches, then the
   * order of all batches is shuffled. Larger windows mean less padding but less randomness in
   * which examples share a batch.
   */
  sortWindowBatches?: number;
  /** Drop the last incomplete batch (default false: every example is seen once per epoch). */
  dropLast?: boolean;
}

export interface Batch {
  /** [B*T] row-major token ids, padded with padId. */
  inputIds: Int32Array;
  /** [B*T] segment ids, 0 in padding. */
  tokenTypeIds: Int32Array;
  /** [B*T] 1 for real tokens, 0 for padding. */
  attentionMask: Int32Array;
  /** [B] class indices (-1 = unlabeled). */
  labels: Int32Array;
  /** Rows B. */
  batchSize: number;
  /** Padded sequence length T (multiple of padMultiple, or maxLength when that is smaller). */
  seqLen: number;
  /** [B] index into the encoded input of each row. */
  indices: Int32Array;
}

/** Rounds `n` up to a multiple of `m`. */
export function roundUpToMultiple(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

/**
 * Builds the batches of one epoch. Order: seeded shuffle of all examples → within windows of
 * `sortWindowBatches * batchSize` examples, a stable sort by length → cut into batches → seeded
 * shuffle of the batch order. Each batch is padded to its longest row rounded up to `padMultiple`
 * (capped at maxLength), so at most `ceil(maxLength / padMultiple)` distinct lengths and two
 * distinct batch sizes occur, which keeps the WebGPU buffer pool and shader cache bounded.
 */
export function makeBatches(encoded: readonly EncodedExample[], options: BatchOptions): Batch[] {
  const { batchSize, maxLength } = options;
  const padMultiple = options.padMultiple ?? 8;
  const padId = options.padId ?? 0;
  const shuffle = options.shuffle ?? true;
  const windowBatches = options.sortWindowBatches ?? 50;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new EngineError('BATCH_BAD_OPTIONS', `batchSize must be a positive integer, got ${batchSize}.`);
  }
  if (!Number.isInteger(maxLength) || maxLength < 1) {
    throw new EngineError('BATCH_BAD_OPTIONS', `maxLength must be a positive integer, got ${maxLength}.`);
  }
  if (!Number.isInteger(padMultiple) || padMultiple < 1) {
    throw new EngineError('BATCH_BAD_OPTIONS', `padMultiple must be a positive integer, got ${padMultiple}.`);
  }
  if (!Number.isInteger(windowBatches) || windowBatches < 1) {
    throw new EngineError('BATCH_BAD_OPTIONS', `sortWindowBatches must be a positive integer, got ${windowBatches}.`);
  }
  encoded.forEach((ex, i) => {
    const len = ex.inputIds.length;
    if (len === 0) {
      throw new EngineError(
        'BATCH_EMPTY_EXAMPLE',
        `Encoded example ${i} has no tokens; every example needs at least [CLS] and [SEP].`,
      );
    }
    if (len > maxLength) {
      throw new EngineError(
        'BATCH_EXAMPLE_TOO_LONG',
        `Encoded example ${i} has ${len} tokens but maxLength is ${maxLength}; truncate to maxLength when tokenizing.`,
      );
    }
    if (ex.tokenTypeIds && ex.tokenTypeIds.length !== len) {
      throw new EngineError(
        'BATCH_BAD_EXAMPLE',
        `Encoded example ${i} has ${len} input ids but ${ex.tokenTypeIds.length} token type ids; they must have the same length.`,
      );
    }
  });

  const order = Array.from({ length: encoded.length }, (_, i) => i);
  const byLength = (a: number, b: number) => encoded[a].inputIds.length - encoded[b].inputIds.length;
  const groups: number[][] = [];
  const cut = (rows: number[]) => {
    for (let s = 0; s < rows.length; s += batchSize) groups.push(rows.slice(s, s + batchSize));
  };
  if (shuffle) {
    const rng = new Rng(options.seed ?? 0).fork(`batches:epoch:${options.epoch ?? 0}`);
    rng.shuffle(order);
    const window = windowBatches * batchSize;
    for (let s = 0; s < order.length; s += window) {
      cut(order.slice(s, s + window).sort(byLength)); // Array.prototype.sort is stable (ES2019)
    }
    if (options.dropLast) dropIncomplete(groups, batchSize);
    rng.shuffle(groups);
  } else {
    cut(order.sort(byLength));
    if (options.dropLast) dropIncomplete(groups, batchSize);
  }
  return groups.map((rows) => packBatch(encoded, rows, padMultiple, maxLength, padId));
}

function dropIncomplete(groups: number[][], batchSize: number): void {
  for (let g = groups.length - 1; g >= 0; g--) if (groups[g].length < batchSize) groups.splice(g, 1);
}

/** Packs the given rows of `encoded`, in this order, into one padded batch (see makeBatches). */
export function packBatch(
  encoded: readonly EncodedExample[],
  rows: number[],
  padMultiple: number,
  maxLength: number,
  padId: number,
): Batch {
  let longest = 0;
  for (const r of rows) longest = Math.max(longest, encoded[r].inputIds.length);
  const T = Math.min(roundUpToMultiple(longest, padMultiple), maxLength);
  const B = rows.length;
  const inputIds = new Int32Array(B * T).fill(padId);
  const tokenTypeIds = new Int32Array(B * T);
  const attentionMask = new Int32Array(B * T);
  const labels = new Int32Array(B);
  const indices = new Int32Array(B);
  rows.forEach((r, b) => {
    const ex = encoded[r];
    const off = b * T;
    const len = ex.inputIds.length;
    for (let t = 0; t < len; t++) {
      inputIds[off + t] = ex.inputIds[t];
      attentionMask[off + t] = 1;
    }
    if (ex.tokenTypeIds) for (let t = 0; t < len; t++) tokenTypeIds[off + t] = ex.tokenTypeIds[t];
    labels[b] = ex.label;
    indices[b] = r;
  });
  return { inputIds, tokenTypeIds, attentionMask, labels, batchSize: B, seqLen: T, indices };
}

/** Number of distinct [B, T] shapes among `batches` (each is a new set of GPU buffers/pipelines). */
export function countDistinctShapes(batches: readonly Pick<Batch, 'batchSize' | 'seqLen'>[]): number {
  return new Set(batches.map((b) => `${b.batchSize}x${b.seqLen}`)).size;
}

/** A batch from already padded rows (e.g. golden fixtures): [B][T] ids, type ids and mask, labels [B]. */
export function batchFromRows(rows: {
  inputIds: number[][];
  tokenTypeIds: number[][];
  attentionMask: number[][];
  labels: number[];
}): Batch {
  const B = rows.inputIds.length;
  const T = rows.inputIds[0]?.length ?? 0;
  if (
    rows.tokenTypeIds.length !== B ||
    rows.attentionMask.length !== B ||
    rows.labels.length !== B ||
    rows.inputIds.some((r) => r.length !== T)
  ) {
    throw new EngineError(
      'BATCH_BAD_ROWS',
      `batchFromRows needs ${B} rows of ${T} ids, type ids and mask values and ${B} labels.`,
    );
  }
  return {
    inputIds: Int32Array.from(rows.inputIds.flat()),
    tokenTypeIds: Int32Array.from(rows.tokenTypeIds.flat()),
    attentionMask: Int32Array.from(rows.attentionMask.flat()),
    labels: Int32Array.from(rows.labels),
    batchSize: B,
    seqLen: T,
    indices: Int32Array.from({ length: B }, (_, i) => i),
  };
}
