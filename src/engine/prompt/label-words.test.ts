import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BertTokenizer } from '../tokenizer';
import { initNodeBackend, loadModelFromDir, readDataFile } from '../studio/node';
import {
  DEFAULT_SUGGESTION_VOCAB,
  LABEL_WORD_STOP_LIST,
  defaultLabelWords,
  rankLabelWords,
  splitLabelName,
  suggestionCandidates,
} from './label-words';
import { suggestLabelWords } from './search';

// The bert-base-uncased vocabulary every embedded model uses.
const tokenizer = BertTokenizer.fromVocabTxt(readFileSync('public/models/fewshot-mini/vocab.txt', 'utf8'));

describe('label names', () => {
  it('split on _, -, /, spaces and camelCase, lower-cased', () => {
    expect(splitLabelName('non_irony')).toEqual(['non', 'irony']);
    expect(splitLabelName('lost_or_stolen-card')).toEqual(['lost', 'or', 'stolen', 'card']);
    expect(splitLabelName('cardArrival')).toEqual(['card', 'arrival']);
    expect(splitLabelName('HTMLParser')).toEqual(['html', 'parser']);
    expect(splitLabelName('sci/tech')).toEqual(['sci', 'tech']);
    expect(splitLabelName('Positive')).toEqual(['positive']);
  });
});

describe('default label words', () => {
  it('keep a label that is one vocabulary word and give a negated label a real word', () => {
    const { verbalizer, notes } = defaultLabelWords(['irony', 'non_irony'], tokenizer);
    expect(verbalizer).toEqual({ irony: ['irony'], non_irony: ['normal'] });
    expect(notes.irony).toBeUndefined();
    expect(notes.non_irony).toMatch(/"normal" stands for "non irony"/);
  });

  it('pick the word of a longer name that tells it apart from the other labels', () => {
    const { verbalizer } = defaultLabelWords(
      ['card_arrival', 'card_linking', 'exchange_rate', 'lostOrStolen'],
      tokenizer,
    );
    expect(verbalizer).toEqual({
      card_arrival: ['arrival'],
      card_linking: ['linking'],
      exchange_rate: ['exchange'],
      lostOrStolen: ['lost'],
    });
  });

  it('expand abbreviations, lower-case, and never give two labels one word', () => {
    expect(defaultLabelWords(['POS', 'neg'], tokenizer).verbalizer).toEqual({ POS: ['positive'], neg: ['negative'] });
    expect(defaultLabelWords(['not_hate', 'non_offensive', 'hate'], tokenizer).verbalizer).toEqual({
      not_hate: ['normal'],
      non_offensive: ['other'],
      hate: ['hate'],
    });
    // A function word of the name only when nothing else is free.
    expect(defaultLabelWords(['positive', 'very_positive'], tokenizer).verbalizer).toEqual({
      positive: ['positive'],
      very_positive: ['very'],
    });
    // Words move so that every label gets one: "transfer_cash" first takes "transfer" (reading
    // order), then gives it up for "cash" when "transfer_zzyzx" has no other vocabulary word.
    expect(defaultLabelWords(['transfer_cash', 'transfer_zzyzx', 'cash_card'], tokenizer).verbalizer).toEqual({
      transfer_cash: ['cash'],
      transfer_zzyzx: ['transfer'],
      cash_card: ['card'],
    });
    const { verbalizer, notes } = defaultLabelWords(['good', 'good_good'], tokenizer);
    expect(verbalizer).toEqual({ good: ['good'], good_good: ['good_good'] });
    expect(notes.good_good).toMatch(/No free vocabulary word/);
  });

  it('say so when a label is no word at all', () => {
    const { verbalizer, notes } = defaultLabelWords(['0', '1'], tokenizer);
    expect(verbalizer).toEqual({ '0': ['0'], '1': ['1'] });
    expect(notes['0']).toMatch(/replace "0" with one word/);
  });

  it('use the built-in words for a label set the library knows', () => {
    const known = [{ positive: ['great'], negative: ['terrible'] }];
    const { verbalizer, notes } = defaultLabelWords(['negative', 'positive'], tokenizer, known);
    expect(verbalizer).toEqual({ negative: ['terrible'], positive: ['great'] });
    expect(notes.positive).toMatch(/built-in/);
    // "spam" is two word pieces: the first verbalizer made of whole words is used.
    expect(
      defaultLabelWords(['ham', 'spam'], tokenizer, [
        { ham: ['normal'], spam: ['spam'] },
        { ham: ['personal'], spam: ['advertising'] },
      ]).verbalizer,
    ).toEqual({ ham: ['personal'], spam: ['advertising'] });
    // A label set the library does not cover falls back to the names.
    expect(defaultLabelWords(['negative', 'mixed'], tokenizer, known).verbalizer).toEqual({
      negative: ['negative'],
      mixed: ['mixed'],
    });
  });
});

describe('suggestion candidates', () => {
  const ids = suggestionCandidates(tokenizer);
  const words = new Set(ids.map((id) => tokenizer.idToToken(id)!));

  it('are frequent whole words only', () => {
    expect(ids).toHaveLength(DEFAULT_SUGGESTION_VOCAB);
    for (const w of words) {
      expect(w).toMatch(/^\p{L}{2,}$/u);
      expect(LABEL_WORD_STOP_LIST.has(w)).toBe(false);
    }
    for (const w of ['great', 'terrible', 'good', 'bad', 'advertising', 'normal', 'broken'])
      expect(words.has(w)).toBe(true);
    // Rare words (late in the frequency-ordered vocabulary), archaic forms, pieces, specials, digits.
    for (const w of ['radioactive', 'irony', 'thy', '##s', '[MASK]', '[unused1]', '1990', 'the'])
      expect(words.has(w)).toBe(false);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });
});

describe('ranking label words', () => {
  // Five candidate tokens, two classes; mean log-probabilities at the mask.
  //          id:      0      1      2      3      4
  //   0: "common"   likely for both classes
  //   1: "posword"  likely for class 0 only
  //   2: "rare"     tiny for both, but far tinier for class 1 (a big margin of noise)
  //   3: "negword"  likely for class 1 only
  //   4: "meh"      middling for both
  const means = [
    Float64Array.from([-1.0, -2.0, -15.0, -6.0, -4.0]),
    Float64Array.from([-1.0, -6.0, -25.0, -2.0, -4.0]),
  ];
  const candidates = [0, 1, 2, 3, 4];

  it('prunes to the likely words first, then ranks them by margin over the other classes', () => {
    const ranked = rankLabelWords(means, [8, 8], candidates, { topK: 3, pruneK: 3 });
    // Equal margins (0 for "common" and "meh"): the likelier word first.
    expect(ranked[0].map((w) => w.id)).toEqual([1, 0, 4]);
    expect(ranked[1].map((w) => w.id)).toEqual([3, 0, 4]);
    expect(ranked[0][0]).toEqual({ id: 1, score: 4, logProb: -2 });
    // Without pruning the rare word's noisy margin (10) would win.
    expect(rankLabelWords(means, [8, 8], candidates, { topK: 1, pruneK: 5 })[0][0].id).toBe(2);
  });

  it('suggests nothing for a class without rows and ignores it as an "other" class', () => {
    const ranked = rankLabelWords([...means, Float64Array.from([0, -99, -99, -99, -99])], [8, 8, 0], candidates, {
      topK: 2,
      pruneK: 3,
    });
    expect(ranked[2]).toEqual([]);
    expect(ranked[0][0]).toEqual({ id: 1, score: 4, logProb: -2 });
  });
});

describe('suggested label words on a real model', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
  });

  it('are common sentiment words for the shipped reviews sample, not rare ones', async () => {
    const model = await loadModelFromDir('public/models/fewshot-mini');
    const rows = (await readDataFile('public/samples/reviews.csv')).rows.map((r) => ({
      text: r.text,
      label: r.label!,
    }));
    const s = await suggestLabelWords(model, '{text} It was [MASK].', rows, ['positive', 'negative'], { topK: 8 });
    const allowed = new Set(suggestionCandidates(model.tokenizer));
    for (const label of ['positive', 'negative']) {
      expect(s[label]).toHaveLength(8);
      for (const w of s[label]) expect(allowed.has(w.id)).toBe(true);
    }
    const positive = s.positive.map((w) => w.word);
    const negative = s.negative.map((w) => w.word);
    expect(positive.filter((w) => negative.includes(w))).toEqual([]);
    expect(
      positive.some((w) => ['great', 'good', 'excellent', 'nice', 'beautiful', 'pleasant', 'wonderful'].includes(w)),
    ).toBe(true);
    expect(negative.some((w) => ['bad', 'terrible', 'broken', 'dead', 'missing', 'stopped', 'lost'].includes(w))).toBe(
      true,
    );
  }, 120_000);
});
