/**
 * (Almost) every Unicode code point through the whole pipeline (clean, CJK, accents, lower-case, whitespace
 * and punctuation splitting, WordPiece), compared with the HF Rust tokenizer: ids and offsets.
 * Each code point appears inside a word ("x<c>y", to see whether it joins, splits or vanishes)
 * and alone; the unassigned and private-use planes are sampled. Non-default normaliser switches
 * are checked too, by editing tokenizer.json for both.
 */
import { describe, expect, it } from 'vitest';
import { BertTokenizer } from './index';
import { bertUncasedTokenizerJson, loadOracle, oracleOffsetsToUtf16 } from './test-support';

const baseJson = bertUncasedTokenizerJson();

/** Texts covering `codePoints` in chunks; surrogates are skipped (not valid in Rust strings). */
function probeTexts(codePoints: Iterable<number>, chunkSize = 2048): string[] {
  const texts: string[] = [];
  let chunk = '';
  let inChunk = 0;
  for (const cp of codePoints) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const ch = String.fromCodePoint(cp);
    chunk += `x${ch}y ${ch} `;
    if (++inChunk === chunkSize) {
      texts.push(chunk);
      chunk = '';
      inChunk = 0;
    }
  }
  if (chunk) texts.push(chunk);
  return texts;
}

function* range(from: number, to: number): Generator<number> {
  for (let cp = from; cp < to; cp++) yield cp;
}

async function mismatches(normalizer: Record<string, unknown>, texts: string[]): Promise<string[]> {
  const json = { ...baseJson, normalizer: { ...baseJson.normalizer, ...normalizer } };
  const oracle = loadOracle(json);
  const ours = BertTokenizer.fromTokenizerJson(json);
  const expected = await oracle.encodeBatch(texts);
  const failures: string[] = [];
  texts.forEach((text, i) => {
    const actual = ours.encode(text);
    const want = expected[i];
    if (JSON.stringify(actual.ids) !== JSON.stringify(want.getIds())) {
      const k = actual.ids.findIndex((id, j) => id !== want.getIds()[j]);
      failures.push(
        `ids differ in chunk ${i} at token ${k}: ${JSON.stringify(actual.tokens.slice(k - 2, k + 3))} vs ${JSON.stringify(want.getTokens().slice(k - 2, k + 3))}`,
      );
      return;
    }
    const wantOffsets = oracleOffsetsToUtf16(want.getOffsets(), [text], want.getSequenceIds());
    if (JSON.stringify(actual.offsets) !== JSON.stringify(wantOffsets)) {
      const k = actual.offsets.findIndex(([s, e], j) => s !== wantOffsets[j][0] || e !== wantOffsets[j][1]);
      failures.push(
        `offsets differ in chunk ${i} at token ${k} (${actual.tokens[k]}): ${JSON.stringify(actual.offsets[k])} vs ${JSON.stringify(wantOffsets[k])}`,
      );
    }
  });
  return failures;
}

/** The BMP, the supplementary planes with assigned characters, and plane 14 (tags, variation selectors). */
const mostCodePoints = (): Iterable<number> => [...range(0, 0x40000), ...range(0xe0000, 0xe1000)];

/**
 * Every code point of `mostCodePoints` plus every 61st of the rest (unassigned planes 4-13 and the
 * private-use planes 15-16, uniform blocks), to keep the test at seconds.
 */
const allCodePointsSampled = (): Iterable<number> => [
  ...mostCodePoints(),
  ...[...range(0x40000, 0xe0000), ...range(0xe1000, 0x110000)].filter((cp) => cp % 61 === 0),
  0x10ffff,
];

describe('all code points vs the HF Rust tokenizer', () => {
  it('matches with the bert-base-uncased normaliser', async () => {
    const failures = await mismatches({}, probeTexts(allCodePointsSampled()));
    expect(failures.slice(0, 5), `${failures.length} chunks differ`).toEqual([]);
  });

  it('matches a cased normaliser (no lower-casing, accents kept)', async () => {
    const failures = await mismatches({ lowercase: false, strip_accents: null }, probeTexts(mostCodePoints()));
    expect(failures.slice(0, 5), `${failures.length} chunks differ`).toEqual([]);
  });

  it('matches accents stripped without lower-casing', async () => {
    const failures = await mismatches({ lowercase: false, strip_accents: true }, probeTexts(mostCodePoints()));
    expect(failures.slice(0, 5), `${failures.length} chunks differ`).toEqual([]);
  });

  it('matches with text cleaning and CJK splitting off, lower-casing without accent stripping', async () => {
    const failures = await mismatches(
      { clean_text: false, handle_chinese_chars: false, strip_accents: false },
      probeTexts(mostCodePoints()),
    );
    expect(failures.slice(0, 5), `${failures.length} chunks differ`).toEqual([]);
  });
});
