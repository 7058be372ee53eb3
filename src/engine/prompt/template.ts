/**
 * Cloze templates for prompt learning (PET / LM-BFF): `{text} It was [MASK].`,
 * `{text} ? [MASK] , {text_pair}`. A template is parsed once into literal / slot / mask parts,
 * then rendered per example to `[CLS] … [SEP]` token ids. Truncation only ever cuts the text
 * slots (longest first, from the end), so the template words and the mask always survive.
 * Rendering uses one segment (token type 0), as LM-BFF does for pair templates too.
 */
import { EngineError } from '../errors';
import type { BertTokenizer } from '../tokenizer';

export type TemplatePart =
  { kind: 'literal'; text: string } | { kind: 'slot'; name: 'text' | 'text_pair' } | { kind: 'mask' };

export interface ParsedTemplate {
  source: string;
  parts: TemplatePart[];
  /** Number of [MASK] parts. */
  masks: number;
  usesTextPair: boolean;
}

export interface TemplateOptions {
  /** How many [MASK] the template must have (default exactly 1). */
  expectedMasks?: number;
}

const SLOT_RE = /\{([^{}]*)\}|\[MASK\]/g;

/** Parses and validates a template; throws EngineError `PROMPT_BAD_TEMPLATE` with a fix-it hint. */
export function parseTemplate(source: string, options: TemplateOptions = {}): ParsedTemplate {
  const expected = options.expectedMasks ?? 1;
  const parts: TemplatePart[] = [];
  let last = 0;
  let masks = 0;
  let hasText = false;
  let usesTextPair = false;
  for (const m of source.matchAll(SLOT_RE)) {
    const at = m.index ?? 0;
    if (at > last) parts.push({ kind: 'literal', text: source.slice(last, at) });
    last = at + m[0].length;
    if (m[0] === '[MASK]') {
      masks++;
      parts.push({ kind: 'mask' });
      continue;
    }
    const name = m[1].trim();
    if (name !== 'text' && name !== 'text_pair') {
      throw new EngineError(
        'PROMPT_BAD_TEMPLATE',
        `Unknown placeholder {${m[1]}} in template "${source}". Use {text} for the text and {text_pair} for the second text.`,
      );
    }
    if (name === 'text') hasText = true;
    else usesTextPair = true;
    parts.push({ kind: 'slot', name });
  }
  if (last < source.length) parts.push({ kind: 'literal', text: source.slice(last) });
  if (
    /[{}]/.test(
      parts
        .filter((p) => p.kind === 'literal')
        .map((p) => (p as { text: string }).text)
        .join(''),
    )
  ) {
    throw new EngineError(
      'PROMPT_BAD_TEMPLATE',
      `Unbalanced brace in template "${source}". Placeholders look like {text} or {text_pair}.`,
    );
  }
  if (masks === 0) {
    throw new EngineError(
      'PROMPT_NO_MASK',
      `The template "${source}" has no [MASK]. Put [MASK] where the label word goes, e.g. "{text} It was [MASK]."`,
    );
  }
  if (masks !== expected) {
    throw new EngineError(
      'PROMPT_TOO_MANY_MASKS',
      `The template "${source}" has ${masks} [MASK] tokens but ${expected} ${expected === 1 ? 'is' : 'are'} expected. Keep one [MASK] for the label word.`,
    );
  }
  if (!hasText)
    throw new EngineError(
      'PROMPT_NO_TEXT',
      `The template "${source}" has no {text} placeholder, so the input would never reach the model. Add {text}.`,
    );
  return { source, parts, masks, usesTextPair };
}

export interface RenderedPrompt {
  /** [CLS] … [SEP] ids, length ≤ maxLength. */
  inputIds: number[];
  /** All 0 (one segment). */
  tokenTypeIds: number[];
  /** Index of each [MASK] in inputIds. */
  maskPositions: number[];
  /** True when a text slot was cut. */
  truncated: boolean;
}

/** Tokenized template parts: literal pieces are tokenized once per template. */
export interface CompiledTemplate {
  template: ParsedTemplate;
  parts: ({ kind: 'ids'; ids: number[] } | { kind: 'slot'; name: 'text' | 'text_pair' } | { kind: 'mask' })[];
  /** Template tokens incl. [CLS], [SEP] and the masks. */
  fixedLength: number;
  /** E.g. template words that are not in the vocabulary (they become [UNK]). */
  warnings: string[];
}

export function compileTemplate(template: ParsedTemplate | string, tokenizer: BertTokenizer): CompiledTemplate {
  const t = typeof template === 'string' ? parseTemplate(template) : template;
  if (tokenizer.maskTokenId === null)
    throw new EngineError(
      'MODEL_NO_MASK_TOKEN',
      'This vocabulary has no [MASK] token, so prompt-based classification is not available.',
    );
  const parts: CompiledTemplate['parts'] = t.parts.map((p) =>
    p.kind === 'literal' ? { kind: 'ids' as const, ids: tokenIds(tokenizer, p.text) } : p,
  );
  const fixedLength = 2 + parts.reduce((n, p) => n + (p.kind === 'ids' ? p.ids.length : p.kind === 'mask' ? 1 : 0), 0);
  const unknown = t.parts
    .filter((p): p is { kind: 'literal'; text: string } => p.kind === 'literal')
    .flatMap((p) => p.text.split(/\s+/).filter((w) => w && tokenIds(tokenizer, w).includes(tokenizer.unkTokenId)));
  const warnings =
    unknown.length > 0
      ? [
          `Template words not in the vocabulary become ${tokenizer.config.unkToken}: ${[...new Set(unknown)].join(', ')}. Rephrase the template with known words.`,
        ]
      : [];
  return { template: t, parts, fixedLength, warnings };
}

/** Word-piece ids of a text without specials; a literal [MASK] typed in user text becomes [UNK]. */
export function tokenIds(tokenizer: BertTokenizer, text: string): number[] {
  return tokenizer.tokenize(text).map((tok) => {
    const id = tokenizer.tokenToId(tok) ?? tokenizer.unkTokenId;
    return id === tokenizer.maskTokenId ? tokenizer.unkTokenId : id;
  });
}

/** Renders one example; throws `PROMPT_TOO_LONG` when even the bare template does not fit. */
export function renderTemplate(
  compiled: CompiledTemplate,
  tokenizer: BertTokenizer,
  input: { text: string; textPair?: string | null },
  maxLength: number,
): RenderedPrompt {
  if (compiled.fixedLength > maxLength) {
    throw new EngineError(
      'PROMPT_TOO_LONG',
      `The template "${compiled.template.source}" alone takes ${compiled.fixedLength} tokens, more than the maximum length ${maxLength}. Shorten the template or raise the max length.`,
    );
  }
  if (compiled.template.usesTextPair && (input.textPair === undefined || input.textPair === null)) {
    throw new EngineError(
      'PROMPT_NO_TEXT_PAIR',
      `The template "${compiled.template.source}" uses {text_pair} but the example has no second text. Use a template without {text_pair} or add a second text column.`,
    );
  }
  const slots = { text: tokenIds(tokenizer, input.text), text_pair: tokenIds(tokenizer, input.textPair ?? '') };
  // Slot occurrences share the budget: a slot used twice costs twice.
  const uses = { text: 0, text_pair: 0 };
  for (const p of compiled.parts) if (p.kind === 'slot') uses[p.name]++;
  let over = compiled.fixedLength + uses.text * slots.text.length + uses.text_pair * slots.text_pair.length - maxLength;
  const truncated = over > 0;
  while (over > 0) {
    // Longest first (ties: the first text), one token from the end at a time, like HF longest_first.
    const key = slots.text.length * uses.text >= slots.text_pair.length * uses.text_pair ? 'text' : 'text_pair';
    slots[key].pop();
    over -= uses[key];
  }
  const ids = [tokenizer.clsTokenId];
  const maskPositions: number[] = [];
  for (const p of compiled.parts) {
    if (p.kind === 'ids') ids.push(...p.ids);
    else if (p.kind === 'slot') ids.push(...slots[p.name]);
    else {
      maskPositions.push(ids.length);
      ids.push(tokenizer.maskTokenId!);
    }
  }
  ids.push(tokenizer.sepTokenId);
  return { inputIds: ids, tokenTypeIds: new Array<number>(ids.length).fill(0), maskPositions, truncated };
}
