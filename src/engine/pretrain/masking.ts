/**
 * Dynamic MLM masking (RoBERTa-style: a fresh mask every time a sequence is seen), driven by a
 * seeded Rng so a run (and a resumed run) masks exactly the same way.
 *
 * Per sequence: candidates are the non-special tokens; `max(1, round(maskProb · n))` of them are
 * chosen (BERT's create_pretraining_data rule), each chosen one becomes [MASK] with p 0.8, a random
 * non-special vocabulary token with p 0.1, and stays unchanged with p 0.1. With `wholeWord`, words
 * (a piece plus its following `##` continuations) are chosen instead of pieces, adding whole words
 * while the count stays within the budget (the budget is always reached by at least one word).
 *
 * The output is padded to `[B, T]` and the masked positions are flattened (`b·T + t`) for
 * `gatherPositions`; their count is padded up to a multiple of `positionBucket` with weight-0
 * entries (position 0, label 0), so the number of distinct tensor shapes stays small (docs/ARCHITECTURE.md, "Performance").
 */
import { EngineError } from '../errors';
import type { BertTokenizer } from '../tokenizer';
import type { Rng } from '../util/rng';

export interface MaskingOptions {
  /** Share of non-special tokens to predict. Default 0.15 (BERT). */
  maskProb?: number;
  /** Of the chosen tokens: share replaced by [MASK]. Default 0.8. */
  maskTokenProb?: number;
  /** Of the chosen tokens: share replaced by a random token. Default 0.1 (the rest stay unchanged). */
  randomTokenProb?: number;
  /** Mask all pieces of a word together (`##` continuations). Default false. */
  wholeWord?: boolean;
  /** Pad the number of masked positions to a multiple of this (weight 0). Default 16. */
  positionBucket?: number;
}

/** What the masker needs from a tokenizer (the vocabulary's special and continuation pieces). */
export interface MaskVocab {
  maskId: number;
  padId: number;
  vocabSize: number;
  /** Ids never masked and never drawn as random replacements. */
  special: ReadonlySet<number>;
  /** isContinuation[id] = the piece starts with `##`. */
  isContinuation: Uint8Array;
  /** Ids eligible as random replacements (non-special). */
  randomPool: Int32Array;
}

export function maskVocabFromTokenizer(tokenizer: BertTokenizer): MaskVocab {
  if (tokenizer.maskTokenId === null) {
    throw new EngineError(
      'PRETRAIN_NO_MASK_TOKEN',
      'The vocabulary has no [MASK] token; masked-language-model pretraining needs one.',
    );
  }
  const V = tokenizer.vocabSize;
  const prefix = tokenizer.config.continuingSubwordPrefix;
  const special = new Set(tokenizer.specialTokenIds);
  const isContinuation = new Uint8Array(V);
  const pool: number[] = [];
  for (let id = 0; id < V; id++) {
    const tok = tokenizer.idToToken(id) ?? '';
    if (prefix && tok.startsWith(prefix) && tok.length > prefix.length) isContinuation[id] = 1;
    // [unusedN] rows of the BERT vocab are never seen in text: keep them out of random replacements.
    if (!special.has(id) && !/^\[unused\d+\]$/.test(tok)) pool.push(id);
  }
  return {
    maskId: tokenizer.maskTokenId,
    padId: tokenizer.padTokenId,
    vocabSize: V,
    special,
    isContinuation,
    randomPool: Int32Array.from(pool),
  };
}

export interface MaskedBatch {
  /** [B·T] input ids after masking, padded with [PAD]. */
  inputIds: Int32Array;
  /** [B·T] 1 for real tokens, 0 for padding. */
  attentionMask: Int32Array;
  batchSize: number;
  seqLength: number;
  /** [N] flat positions b·T + t of the masked tokens (padded entries point at 0). */
  positions: Int32Array;
  /** [N] original token ids at those positions (padded entries 0). */
  labels: Int32Array;
  /** [N] 1 for real masked positions, 0 for bucket padding. */
  weights: Float32Array;
  /** Number of real masked positions (≤ N). */
  count: number;
  /** How each real masked position was corrupted: 0 [MASK], 1 random, 2 unchanged (for statistics). */
  kinds: Uint8Array;
}

/**
 * Masks a batch of sequences (ids with [CLS]/[SEP], unpadded) padded to `seqLength`. Draws from
 * `rng` only (advance it once per batch; save `rng.getState()` with the data position).
 */
export function maskBatch(
  sequences: readonly (readonly number[])[],
  seqLength: number,
  vocab: MaskVocab,
  rng: Rng,
  options: MaskingOptions = {},
): MaskedBatch {
  const p = options.maskProb ?? 0.15;
  const pMask = options.maskTokenProb ?? 0.8;
  const pRandom = options.randomTokenProb ?? 0.1;
  const bucket = options.positionBucket ?? 16;
  if (!(p > 0 && p < 1)) throw new EngineError('PRETRAIN_BAD_OPTIONS', `maskProb must be in (0, 1), got ${p}.`);
  if (!(pMask >= 0 && pRandom >= 0 && pMask + pRandom <= 1))
    throw new EngineError('PRETRAIN_BAD_OPTIONS', `mask/random token shares must be ≥ 0 and sum to ≤ 1.`);
  const B = sequences.length;
  const T = seqLength;
  const inputIds = new Int32Array(B * T).fill(vocab.padId);
  const attentionMask = new Int32Array(B * T);
  const positions: number[] = [];
  const labels: number[] = [];
  const kinds: number[] = [];
  for (let b = 0; b < B; b++) {
    const seq = sequences[b];
    if (seq.length > T)
      throw new EngineError(
        'PRETRAIN_BAD_OPTIONS',
        `sequence ${b} has ${seq.length} tokens, more than seqLength ${T}.`,
      );
    for (let t = 0; t < seq.length; t++) {
      inputIds[b * T + t] = seq[t];
      attentionMask[b * T + t] = 1;
    }
    // Units = words (whole-word) or single pieces: lists of positions.
    const units: number[][] = [];
    let candidates = 0;
    for (let t = 0; t < seq.length; t++) {
      const id = seq[t];
      if (vocab.special.has(id)) continue;
      candidates++;
      const prev = units[units.length - 1];
      if (options.wholeWord && vocab.isContinuation[id] && prev && prev[prev.length - 1] === t - 1) prev.push(t);
      else units.push([t]);
    }
    if (candidates === 0) continue;
    const budget = Math.max(1, Math.round(candidates * p));
    rng.shuffle(units);
    const chosen: number[] = [];
    for (const unit of units) {
      if (chosen.length >= budget) break;
      if (chosen.length > 0 && chosen.length + unit.length > budget) continue;
      chosen.push(...unit);
    }
    chosen.sort((x, y) => x - y);
    for (const t of chosen) {
      const flat = b * T + t;
      const r = rng.nextFloat();
      let kind = 2;
      if (r < pMask) {
        inputIds[flat] = vocab.maskId;
        kind = 0;
      } else if (r < pMask + pRandom) {
        inputIds[flat] = vocab.randomPool[rng.nextInt(vocab.randomPool.length)];
        kind = 1;
      }
      positions.push(flat);
      labels.push(seq[t]);
      kinds.push(kind);
    }
  }
  const count = positions.length;
  const N = Math.max(bucket, Math.ceil(count / bucket) * bucket);
  const out = { positions: new Int32Array(N), labels: new Int32Array(N), weights: new Float32Array(N) };
  out.positions.set(positions);
  out.labels.set(labels);
  out.weights.fill(1, 0, count);
  return { inputIds, attentionMask, batchSize: B, seqLength: T, ...out, count, kinds: Uint8Array.from(kinds) };
}
