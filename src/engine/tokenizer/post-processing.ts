/**
 * What happens to a text's (or a text pair's) WordPiece tokens before they become model inputs,
 * in the order of the Rust `tokenizers` crate's `post_process`: truncation to `maxLength`, the
 * [CLS]/[SEP] template with token type ids, then padding.
 */
import { EngineError } from '../errors';
import type { EncodeOptions, Encoding, TemplatePiece, TruncationStrategy } from './config';
import type { Vocab } from './vocab';

/** Tokens of one sequence before post-processing: parallel arrays. */
export interface SequenceTokens {
  ids: number[];
  starts: number[];
  ends: number[];
}

// -----------------------------------------------------------------------------------------------
// Truncation (semantics of the Rust `tokenizers` crate, `truncate_encodings`)

/** The strategy of `EncodeOptions.truncation` (`true` is Hugging Face's default, `longest_first`). */
export function resolveTruncation(truncation: EncodeOptions['truncation']): TruncationStrategy | null {
  if (truncation === undefined || truncation === false) return null;
  if (truncation === true) return 'longest_first';
  if (truncation === 'longest_first' || truncation === 'only_first' || truncation === 'only_second') return truncation;
  throw new EngineError(
    'TOKENIZER_BAD_OPTIONS',
    `Unknown truncation ${JSON.stringify(truncation)}; use 'longest_first', 'only_first' or 'only_second'.`,
  );
}

/**
 * The length limit of a call: `options.maxLength`, else the tokenizer's `model_max_length`.
 * `purpose` names the option that needs it, for the error when neither is set.
 */
export function resolveMaxLength(options: EncodeOptions, modelMaxLength: number | null, purpose: string): number {
  const maxLength = options.maxLength ?? modelMaxLength;
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
export function truncateSequences(
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

// -----------------------------------------------------------------------------------------------
// Template

/** Joins the sequences as the template says, adding special tokens and type ids. */
export function applyTemplate(
  template: readonly TemplatePiece[],
  first: SequenceTokens,
  second: SequenceTokens | null,
  addSpecialTokens: boolean,
  vocab: Vocab,
): Encoding {
  const idToToken = vocab.idToToken;
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
      const id = vocab.tokenToId.get(piece.token) as number;
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

// -----------------------------------------------------------------------------------------------
// Padding

/** Length to pad to, or `null` for no padding. */
export function paddingTarget(lengths: number[], options: EncodeOptions, modelMaxLength: number | null): number | null {
  const padding = options.padding ?? false;
  if (padding === false) return null;
  let target: number;
  if (padding === 'max_length') target = resolveMaxLength(options, modelMaxLength, "padding: 'max_length'");
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

/** Pads on the right: pad id, type 0, attention 0, special-token mask 1, offsets [0, 0]. */
export function padEncoding(encoding: Encoding, length: number, padId: number, padToken: string): void {
  for (let k = encoding.ids.length; k < length; k++) {
    encoding.ids.push(padId);
    encoding.tokenTypeIds.push(0);
    encoding.attentionMask.push(0);
    encoding.tokens.push(padToken);
    encoding.offsets.push([0, 0]);
    encoding.specialTokensMask.push(1);
  }
}
