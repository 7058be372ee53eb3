/**
 * Parity with the official Hugging Face Rust tokenizer (npm `tokenizers`, loaded from the same
 * tokenizer.json) on every text of every `datasets/<name>/test.csv`: singles, pairs of consecutive
 * texts, and truncation with each strategy. ids, token type ids, attention masks, tokens, special
 * token masks and offsets must all be equal.
 *
 * The datasets are in `../shared` only; without it that part is skipped and the same checks run on
 * the ~110 texts vendored under `tests/fixtures/` (SST-2 rows, the golden cases).
 *
 * Offsets: the oracle reports code point offsets; ours are UTF-16 offsets. They are compared after
 * mapping the oracle's through the text (identical for texts without astral characters).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Encoding as OracleEncoding, Tokenizer as OracleTokenizer } from 'tokenizers';
import { hasSharedData, warnIfNoSharedData } from '../../../tests/support/shared-data';
import { BertTokenizer, type Encoding, type TruncationStrategy } from './index';
import {
  bertUncasedTokenizerJson,
  loadDatasetTexts,
  loadFixtureTexts,
  loadOracle,
  oracleOffsetsToUtf16,
} from './test-support';

const ORACLE_STRATEGY = { longest_first: 'LongestFirst', only_first: 'OnlyFirst', only_second: 'OnlySecond' } as const;

warnIfNoSharedData('the tokenizer oracle over every datasets/*/test.csv (the vendored texts are still checked)');

/** Texts to compare on, with the oracle's encodings of each (no special tokens), post-processed per case below. */
interface Corpus {
  texts: string[];
  /** Dataset name of each text (index-aligned with `texts`). */
  datasetOf: string[];
  raw: OracleEncoding[];
}

function corpusOf(datasets: { dataset: string; texts: string[] }[]): Corpus {
  return {
    texts: datasets.flatMap(({ texts }) => texts),
    datasetOf: datasets.flatMap(({ dataset, texts }) => texts.map(() => dataset)),
    raw: [],
  };
}

/**
 * The Rust tokenizer builds every combination of the two sequences' overflowing pieces when it
 * truncates a pair (about 0.5 ms per pair, several ms for the long ag_news texts). To keep this file
 * at seconds, truncated pairs are checked for every 5th pair (every 20th in ag_news) of the shared
 * datasets. Singles, truncated or not, and untruncated pairs use every text; the vendored texts
 * are few enough to check every pair.
 */
const TRUNCATED_PAIR_SAMPLING: Record<string, number> = { ag_news: 20 };
const TRUNCATED_PAIR_DEFAULT_SAMPLING = 5;
const ours = BertTokenizer.fromTokenizerJson(bertUncasedTokenizerJson());
let oracle: OracleTokenizer;

beforeAll(() => {
  oracle = loadOracle();
});

/** The oracle's encodings of `texts`, whole: truncation is switched off (a test before may have set it). */
function rawEncodings(texts: string[]): Promise<OracleEncoding[]> {
  oracle.disableTruncation();
  return oracle.encodeBatch(texts, { addSpecialTokens: false });
}

/** Our encoding in the oracle's terms, for one readable `toEqual` diff per mismatch. */
function view(encoding: Encoding) {
  return {
    ids: encoding.ids,
    typeIds: encoding.tokenTypeIds,
    attention: encoding.attentionMask,
    tokens: encoding.tokens,
    special: encoding.specialTokensMask,
    offsets: encoding.offsets,
  };
}

function oracleView(encoding: OracleEncoding, sequenceTexts: string[]) {
  const special = encoding.getSpecialTokensMask();
  // postProcess() of a pair reports no sequence id for the first sequence's tokens (encode() of the
  // same pair does: 0), so without this their code point offsets would go unconverted.
  const sequenceIds = encoding.getSequenceIds().map((id, k) => id ?? (special[k] === 1 ? null : 0));
  return {
    ids: encoding.getIds(),
    typeIds: encoding.getTypeIds(),
    attention: encoding.getAttentionMask(),
    tokens: encoding.getTokens(),
    special,
    offsets: oracleOffsetsToUtf16(encoding.getOffsets(), sequenceTexts, sequenceIds),
  };
}

/**
 * Compares all inputs, returning mismatch descriptions (first few in full). Errors thrown by the
 * oracle (e.g. a sequence too short for `only_first`) must be errors on our side too.
 */
function compareAll(
  corpus: Corpus,
  pairs: boolean,
  truncation?: { maxLength: number; strategy: TruncationStrategy; pairSampling?: (dataset: string) => number },
): { failures: string[]; compared: number; errors: number; truncated: number } {
  const { texts, datasetOf, raw } = corpus;
  if (truncation)
    oracle.setTruncation(truncation.maxLength, { strategy: ORACLE_STRATEGY[truncation.strategy] as never });
  else oracle.disableTruncation();
  const failures: string[] = [];
  let compared = 0;
  let errors = 0;
  let truncated = 0;
  const count = pairs ? texts.length - 1 : texts.length;
  for (let i = 0; i < count; i++) {
    if (pairs && truncation?.pairSampling && i % truncation.pairSampling(datasetOf[i]) !== 0) continue;
    const first = texts[i];
    const second = pairs ? texts[i + 1] : null;
    let expected: ReturnType<typeof oracleView> | 'error';
    try {
      expected = oracleView(
        oracle.postProcess(raw[i], pairs ? raw[i + 1] : null, true),
        second === null ? [first] : [first, second],
      );
    } catch {
      expected = 'error';
    }
    compared++;
    if (expected === 'error') errors++;
    else if (truncation && expected.ids.length === truncation.maxLength) truncated++;
    let actual: ReturnType<typeof view> | 'error';
    try {
      actual = view(
        ours.encode(
          first,
          second,
          truncation ? { truncation: truncation.strategy, maxLength: truncation.maxLength } : {},
        ),
      );
    } catch {
      actual = 'error';
    }
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      failures.push(JSON.stringify({ i, first, second, expected, actual }).slice(0, 3000));
    }
  }
  return { failures, compared, errors, truncated };
}

describe('parity with the HF Rust tokenizer on the vendored texts', () => {
  const corpus = corpusOf(loadFixtureTexts());
  const { texts } = corpus;

  beforeAll(async () => {
    corpus.raw = await rawEncodings(texts);
  });

  it('loads the SST-2 rows and the golden cases, including non-ASCII ones', () => {
    expect(texts.length).toBeGreaterThan(100);
    expect(texts.some((t) => /[\u0080-\uffff]/.test(t))).toBe(true);
  });

  it('matches every single text and every consecutive pair without truncation', () => {
    const singles = compareAll(corpus, false);
    const pairs = compareAll(corpus, true);
    const failures = [...singles.failures, ...pairs.failures];
    expect(failures.slice(0, 3), `${failures.length} mismatches`).toEqual([]);
    expect([singles.compared, pairs.compared]).toEqual([texts.length, texts.length - 1]);
  });

  for (const strategy of ['longest_first', 'only_first', 'only_second'] as const) {
    it(`matches singles and pairs truncated to 16 with ${strategy}`, () => {
      const singles = compareAll(corpus, false, { maxLength: 16, strategy });
      const pairs = compareAll(corpus, true, { maxLength: 16, strategy });
      const failures = [...singles.failures, ...pairs.failures];
      expect(failures.slice(0, 3), `${failures.length} mismatches`).toEqual([]);
      expect([singles.compared, pairs.compared]).toEqual([texts.length, texts.length - 1]);
      // Not vacuous: many inputs were actually cut; the only_* strategies also hit their error cases.
      expect(singles.truncated + pairs.truncated).toBeGreaterThan(20);
      if (strategy !== 'longest_first') expect(singles.errors + pairs.errors).toBeGreaterThan(0);
    });
  }
});

describe.skipIf(!hasSharedData)('parity with the HF Rust tokenizer on the datasets (../shared)', () => {
  const corpus = corpusOf(hasSharedData ? loadDatasetTexts() : []);
  const { texts } = corpus;
  const pairSampling = (dataset: string) => TRUNCATED_PAIR_SAMPLING[dataset] ?? TRUNCATED_PAIR_DEFAULT_SAMPLING;

  beforeAll(async () => {
    corpus.raw = await rawEncodings(texts);
  });

  it('loads thousands of texts, including multi-line and quoted ones', () => {
    expect(texts.length).toBeGreaterThan(15_000);
    expect(texts.some((t) => t.includes(','))).toBe(true);
  });

  it('matches every single text without truncation', () => {
    const { failures, compared } = compareAll(corpus, false);
    expect(failures.slice(0, 3), `${failures.length} mismatches`).toEqual([]);
    expect(compared).toBe(texts.length);
  });

  it('matches every consecutive pair without truncation', () => {
    const { failures, compared } = compareAll(corpus, true);
    expect(failures.slice(0, 3), `${failures.length} mismatches`).toEqual([]);
    expect(compared).toBe(texts.length - 1);
  });

  for (const maxLength of [16, 32]) {
    for (const strategy of ['longest_first', 'only_first', 'only_second'] as const) {
      it(`matches singles and pairs truncated to ${maxLength} with ${strategy}`, () => {
        const singles = compareAll(corpus, false, { maxLength, strategy });
        const pairs = compareAll(corpus, true, { maxLength, strategy, pairSampling });
        const failures = [...singles.failures, ...pairs.failures];
        expect(failures.slice(0, 3), `${failures.length} mismatches`).toEqual([]);
        expect(singles.compared).toBe(texts.length);
        expect(pairs.compared).toBeGreaterThan(3000);
        // Not vacuous: many inputs were actually cut; the only_* strategies also hit their error cases.
        expect(singles.truncated + pairs.truncated).toBeGreaterThan(1000);
        if (strategy !== 'longest_first') expect(singles.errors + pairs.errors).toBeGreaterThan(0);
      });
    }
  }
});
