/**
 * Character classes used by BERT text normalisation and pre-tokenisation, following the Hugging Face
 * Rust `tokenizers` crate (BertNormalizer + BertPreTokenizer), which is what `tokenizer.json` files
 * and the fast Python tokenizers run. Where the Rust crate and the old Python `BasicTokenizer`
 * disagree (e.g. U+2028 counts as whitespace in Rust, not in Python) we follow Rust.
 *
 * Everything here works on Unicode code points (not UTF-16 units) so astral characters such as
 * emoji are one character, as they are in Rust.
 *
 * Control characters, non-spacing marks and punctuation come from tables generated from the Rust
 * crate (unicode-tables.ts): it uses an old Unicode version, so a current `\p{..}` would disagree on
 * characters assigned since (e.g. U+061D, U+07FD). Unassigned code points are kept (→ [UNK]), as in
 * Rust. Whitespace, lower-casing and NFD use the Unicode data of the JS engine.
 */
import { RUST_CONTROL_RANGES, RUST_NONSPACING_MARK_RANGES, RUST_PUNCTUATION_RANGES } from './unicode-tables';

/** Whether `cp` lies in one of the flat inclusive ranges [start0, end0, start1, end1, ...]. */
function inRanges(ranges: readonly number[], cp: number): boolean {
  let low = 0;
  let high = ranges.length / 2 - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (cp < ranges[2 * mid]) high = mid - 1;
    else if (cp > ranges[2 * mid + 1]) low = mid + 1;
    else return true;
  }
  return false;
}

/**
 * Rust `char::is_whitespace` (the Unicode White_Space property). Tab, newline and carriage return
 * are included; the BERT cleaner relies on them being whitespace, not control characters.
 */
export function isWhitespace(cp: number): boolean {
  if (cp < 0x80) return cp === 0x20 || (cp >= 0x09 && cp <= 0x0d);
  return (
    cp === 0x85 ||
    cp === 0xa0 ||
    cp === 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200a) ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    cp === 0x202f ||
    cp === 0x205f ||
    cp === 0x3000
  );
}

/**
 * Control characters dropped by `clean_text`: every "other" category except tab, newline and
 * carriage return, which BERT treats as whitespace instead.
 */
export function isControl(cp: number): boolean {
  if (cp === 0x09 || cp === 0x0a || cp === 0x0d) return false;
  // Lone surrogates can only occur in JS strings (Rust strings are valid UTF-8): drop them too.
  return inRanges(RUST_CONTROL_RANGES, cp) || (cp >= 0xd800 && cp <= 0xdfff);
}

/**
 * BERT punctuation: all non-alphanumeric printable ASCII (so `$`, `^`, `` ` `` and `~` count even
 * though Unicode calls them symbols) plus every Unicode P* category.
 */
export function isPunctuation(cp: number): boolean {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) {
    return true;
  }
  if (cp < 0x80) return false;
  return inRanges(RUST_PUNCTUATION_RANGES, cp);
}

/**
 * CJK Unified Ideographs blocks that BERT isolates as single-character words. The ranges are the
 * ones the Rust crate uses (note its fifth range starts at U+2B920, not U+2B820 as in the Python
 * BasicTokenizer; verified against the Rust tokenizer in unicode.test.ts).
 */
export function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/**
 * Lower-cases one code point at a time, as Rust's `char::to_lowercase` does. Lower-casing a whole
 * string in JS would apply the context-sensitive final-sigma rule (Σ → ς), which Rust does not.
 */
export function lowercaseByCodePoint(text: string): string {
  let out = '';
  for (const ch of text) out += ch.toLowerCase();
  return out;
}

/** Canonical decomposition (NFD) with non-spacing marks removed: "é" → "e". */
export function stripAccents(text: string): string {
  const decomposed = text.normalize('NFD');
  let out = '';
  for (const ch of decomposed) if (!inRanges(RUST_NONSPACING_MARK_RANGES, ch.codePointAt(0) as number)) out += ch;
  return out;
}
