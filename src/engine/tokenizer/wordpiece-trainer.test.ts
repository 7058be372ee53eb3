import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../errors';
import { BertTokenizer } from './bert-tokenizer';
import { DEFAULT_SPECIAL_TOKENS, WordCounter, splitStats, trainWordPiece } from './wordpiece-trainer';

/** The classic toy corpus: hug ×10, pug ×5, pun ×12, bun ×4, hugs ×5. */
const TOY = new Map([
  ['hug', 10],
  ['pug', 5],
  ['pun', 12],
  ['bun', 4],
  ['hugs', 5],
]);

describe('trainWordPiece', () => {
  it('merges the most frequent pair first, by hand', () => {
    // Characters by count: u 36, g 20, p 17, n 16, h 15, s 5, b 4. Pairs: ##u ##g 20 (hug, pug, hugs),
    // p ##u 17, ##u ##n 16, h ##u 15 → merge "##ug"; then ##u ##n 16 → "##un"; then h ##ug 15 → "hug".
    const result = trainWordPiece(TOY, { vocabSize: 22 });
    const alphabet = ['u', 'g', 'p', 'n', 'h', 's', 'b'];
    expect(result.alphabet).toEqual(alphabet);
    expect(result.tokens).toEqual([
      ...DEFAULT_SPECIAL_TOKENS,
      ...alphabet,
      ...alphabet.map((c) => `##${c}`),
      '##ug',
      '##un',
      'hug',
    ]);
    expect(result.merges).toBe(3);
    expect(result.stoppedEarly).toBeNull();
  });

  it('gives a vocabulary the ordinary WordPiece tokenizer splits along the merges', () => {
    const { tokens } = trainWordPiece(TOY, { vocabSize: 22 });
    const tokenizer = BertTokenizer.fromVocabTxt(`${tokens.join('\n')}\n`);
    expect(tokenizer.tokenToId('[PAD]')).toBe(0);
    expect(tokenizer.encode('hugs bun pug', null, { addSpecialTokens: false }).tokens).toEqual([
      'hug',
      '##s',
      'b',
      '##un',
      'p',
      '##ug',
    ]);
    // A character never seen cannot be covered: the word becomes [UNK].
    expect(tokenizer.encode('hux', null, { addSpecialTokens: false }).tokens).toEqual(['[UNK]']);
  });

  it('is deterministic and reaches the requested size on real text', () => {
    const counter = new WordCounter();
    // The first 300 lines of The Devil's Dictionary (the shared corpus's dict_devil.txt).
    const text = readFileSync('tests/fixtures/corpus/dict_devil.head.txt', 'utf8').split('\n');
    for (const line of text) counter.add(line);
    const a = trainWordPiece(counter.counts, { vocabSize: 600 });
    const b = trainWordPiece(counter.counts, { vocabSize: 600 });
    expect(a.tokens).toHaveLength(600);
    expect(new Set(a.tokens).size).toBe(600);
    expect(a.tokens).toEqual(b.tokens);
    // The most frequent words of English are single tokens by then.
    for (const word of ['the', 'of', 'and']) expect(a.tokens).toContain(word);
  });

  it('stops early, saying why, when no pair is frequent enough', () => {
    const result = trainWordPiece(TOY, { vocabSize: 500 });
    expect(result.tokens.length).toBeLessThan(500);
    expect(result.stoppedEarly).toMatch(/occurs 2 or more times/);
    // Every word of the toy corpus is a single token by then.
    for (const word of TOY.keys()) expect(result.tokens).toContain(word);
  });

  it('keeps only the most frequent characters when the alphabet is capped', () => {
    const result = trainWordPiece(TOY, { vocabSize: 20, maxAlphabet: 3 });
    expect(result.alphabet).toEqual(['u', 'g', 'p']);
    expect(result.droppedCharacters).toBe(4);
    // Only "pug" is spelled over {u, g, p}; its two pairs tie at 5 and the lower symbol ids win (p ##u).
    expect(result.tokens.slice(DEFAULT_SPECIAL_TOKENS.length + 6)).toEqual(['pu', 'pug']);
    expect(result.stoppedEarly).not.toBeNull();
  });

  it('refuses a size that cannot hold the special tokens and the alphabet', () => {
    expect(() => trainWordPiece(TOY, { vocabSize: 10 })).toThrow(/at least 19/);
    expect(() => trainWordPiece(new Map(), { vocabSize: 100 })).toThrow(EngineError);
  });
});

describe('WordCounter', () => {
  it('counts words after BERT normalisation (lower case, accents stripped, punctuation split)', () => {
    const counter = new WordCounter();
    counter.add('Héllo, World! hello');
    expect([...counter.counts]).toEqual([
      ['hello', 2],
      [',', 1],
      ['world', 1],
      ['!', 1],
    ]);
    expect(counter.totalWords).toBe(5);
  });
});

describe('splitStats', () => {
  it('weights each distinct word by its count: pieces per word, single-piece and [UNK] shares', () => {
    const { tokens } = trainWordPiece(TOY, { vocabSize: 22 });
    const tokenizer = BertTokenizer.fromVocabTxt(`${tokens.join('\n')}\n`);
    const counter = new WordCounter();
    counter.add('hugs hug hug xq'); // hug ##s (2 pieces), hug (1) twice, xq → [UNK] (1)
    const stats = splitStats(tokenizer, counter);
    expect(stats.piecesPerWord).toBeCloseTo(5 / 4, 10);
    expect(stats.singlePieceShare).toBeCloseTo(2 / 4, 10);
    expect(stats.unknownShare).toBeCloseTo(1 / 4, 10);
  });
});
