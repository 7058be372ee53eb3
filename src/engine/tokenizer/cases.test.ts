/**
 * Golden cases from transformers.js (`bert_tokenizer_cases.jsonl`, model Xenova/bert-base-uncased):
 * ids, tokens and decoded text must match exactly, loading from vocab.txt and from tokenizer.json.
 */
import { describe, expect, it } from 'vitest';
import { BertTokenizer } from './index';
import { CASES_PATH, bertUncasedTokenizerJson, readBertUncasedVocabTxt, readText } from './test-support';

interface GoldenCase {
  model: string;
  case: string;
  text: string;
  text_pair: string | null;
  tokens: string[];
  ids: number[];
  decoded: string;
}

const cases: GoldenCase[] = readText(CASES_PATH)
  .split('\n')
  .filter((line) => line.trim().length > 0)
  .map((line) => JSON.parse(line) as GoldenCase)
  .filter((row) => row.model === 'Xenova/bert-base-uncased');

const fromVocab = BertTokenizer.fromVocabTxt(readBertUncasedVocabTxt());
const fromJson = BertTokenizer.fromTokenizerJson(bertUncasedTokenizerJson());

describe('golden cases (Xenova/bert-base-uncased)', () => {
  it('has the 30 expected rows', () => {
    expect(cases.length).toBe(30);
  });

  for (const [source, tokenizer] of [
    ['vocab.txt', fromVocab],
    ['tokenizer.json', fromJson],
  ] as const) {
    it(`matches ids, tokens and decoded text for every case (${source})`, () => {
      for (const row of cases) {
        const encoding = tokenizer.encode(row.text, row.text_pair);
        const label = `${row.case}: ${JSON.stringify(row.text)}`;
        expect(encoding.ids, label).toEqual(row.ids);
        expect(
          encoding.tokens.filter((_, k) => encoding.specialTokensMask[k] === 0),
          label,
        ).toEqual(row.tokens);
        expect(tokenizer.decode(encoding.ids), label).toBe(row.decoded);
      }
    });
  }

  it('gives identical encodings from vocab.txt and tokenizer.json', () => {
    for (const row of cases) {
      expect(fromJson.encode(row.text, row.text_pair)).toEqual(fromVocab.encode(row.text, row.text_pair));
    }
  });

  it('has the same configuration from both files', () => {
    const a = fromVocab.config;
    const b = fromJson.config;
    expect([b.lowercase, b.stripAccents, b.handleChineseChars, b.cleanText]).toEqual([
      a.lowercase,
      a.stripAccents,
      a.handleChineseChars,
      a.cleanText,
    ]);
    expect(fromJson.toVocabTxt()).toBe(fromVocab.toVocabTxt());
    expect([
      fromJson.clsTokenId,
      fromJson.sepTokenId,
      fromJson.padTokenId,
      fromJson.unkTokenId,
      fromJson.maskTokenId,
    ]).toEqual([101, 102, 0, 100, 103]);
  });
});
