/**
 * Behaviour at the edges: bad vocabularies and configs, odd input text, the never-split special
 * tokens, padding/truncation options, decoding, export round trips, and the ASCII fast path
 * against the general path.
 */
import { describe, expect, it } from 'vitest';
import { EngineError } from '../errors';
import { BertTokenizer, parseVocabTxt, type Encoding } from './index';
import { hasSharedData, warnIfNoSharedData } from '../../../tests/support/shared-data';
import { bertUncasedTokenizerJson, loadDatasetTexts, loadFixtureTexts, readBertUncasedVocabTxt } from './test-support';

warnIfNoSharedData('the ASCII fast path vs general path check over the shared datasets');

const vocabTxt = readBertUncasedVocabTxt();
const tokenizer = BertTokenizer.fromVocabTxt(vocabTxt);

/** The EngineError `fn` throws (fails the test when it throws nothing or something else). */
function engineError(fn: () => unknown): EngineError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(EngineError);
    return error as EngineError;
  }
  throw new Error('expected an EngineError, nothing was thrown');
}

const TINY_VOCAB = [
  '[PAD]',
  '[UNK]',
  '[CLS]',
  '[SEP]',
  '[MASK]',
  'hello',
  'world',
  '##s',
  '😂',
  '##😂',
  'a',
  '##a',
  ',',
  '.',
];
const tiny = BertTokenizer.fromVocabTxt(TINY_VOCAB.join('\n') + '\n');

describe('vocabulary validation', () => {
  it('rejects an empty vocab.txt', () => {
    expect(engineError(() => parseVocabTxt('')).code).toBe('TOKENIZER_EMPTY_VOCAB');
    expect(engineError(() => BertTokenizer.fromVocabTxt('\n\n')).code).toBe('TOKENIZER_EMPTY_VOCAB');
  });

  it('names a duplicated token and both of its line numbers', () => {
    const error = engineError(() => parseVocabTxt('[PAD]\n[UNK]\nhello\n[CLS]\nhello\n'));
    expect(error.code).toBe('TOKENIZER_DUPLICATE_TOKEN');
    expect(error.message).toContain('"hello"');
    expect(error.message).toContain('lines 3 and 5');
  });

  it('names every missing special token', () => {
    const error = engineError(() => BertTokenizer.fromVocabTxt('[UNK]\n[SEP]\nhello\n'));
    expect(error.code).toBe('TOKENIZER_MISSING_SPECIAL_TOKENS');
    expect(error.message).toContain('[CLS]');
    expect(error.message).toContain('[PAD]');
    expect(error.message).not.toContain('[UNK] (');
  });

  it('checks the special tokens configured in tokenizer_config.json', () => {
    const error = engineError(() =>
      BertTokenizer.fromVocabTxt(vocabTxt, { unk_token: '<unk>', mask_token: { content: '<mask>' } }),
    );
    expect(error.message).toContain('<unk> (unk_token)');
    expect(error.message).toContain('<mask> (mask_token)');
  });

  it('accepts CRLF line endings and reports a vocab without [MASK] as having none', () => {
    const withoutMask = BertTokenizer.fromVocabTxt('[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\nhello\r\n');
    expect(withoutMask.encode('hello').tokens).toEqual(['[CLS]', 'hello', '[SEP]']);
    expect(withoutMask.maskTokenId).toBeNull();
    // A mask token that is configured explicitly must exist.
    expect(
      engineError(() => BertTokenizer.fromVocabTxt('[PAD]\n[UNK]\n[CLS]\n[SEP]\n', { mask_token: '[MASK]' })).message,
    ).toContain('[MASK] (mask_token)');
  });

  it('rejects tokenizer.json files it cannot run', () => {
    const json = bertUncasedTokenizerJson();
    expect(
      engineError(() => BertTokenizer.fromTokenizerJson({ ...json, normalizer: { type: 'NFKC' } })).message,
    ).toContain('"NFKC"');
    expect(
      engineError(() => BertTokenizer.fromTokenizerJson({ ...json, model: { type: 'BPE', vocab: {} } })).code,
    ).toBe('TOKENIZER_UNSUPPORTED');
    expect(engineError(() => BertTokenizer.fromTokenizerJson({ ...json, model: undefined })).code).toBe(
      'TOKENIZER_BAD_CONFIG',
    );
    expect(engineError(() => BertTokenizer.fromHuggingFaceFiles({})).code).toBe('TOKENIZER_MISSING_FILES');
  });

  it('rejects Japanese BERT tokenizers that segment words with MeCab or split per character', () => {
    const vocab = '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n日\n本\n';
    // tohoku-nlp/bert-base-japanese and bert-base-japanese-char (their published tokenizer_config.json).
    const mecab = { do_lower_case: false, word_tokenizer_type: 'mecab', subword_tokenizer_type: 'wordpiece' };
    const character = { do_lower_case: false, word_tokenizer_type: 'mecab', subword_tokenizer_type: 'character' };
    for (const config of [mecab, character, { subword_tokenizer_type: 'character' }]) {
      const error = engineError(() => BertTokenizer.fromVocabTxt(vocab, config));
      expect(error.code).toBe('TOKENIZER_UNSUPPORTED');
      expect(error.message).toContain('tokenizer_type');
      expect(
        engineError(() =>
          BertTokenizer.fromHuggingFaceFiles({ tokenizerJson: bertUncasedTokenizerJson(), tokenizerConfig: config }),
        ).code,
      ).toBe('TOKENIZER_UNSUPPORTED');
    }
    // The plain settings (BertJapaneseTokenizer's defaults) are BERT's own and load.
    const plain = BertTokenizer.fromVocabTxt(vocab, {
      do_lower_case: false,
      word_tokenizer_type: 'basic',
      subword_tokenizer_type: 'wordpiece',
    });
    expect(plain.encode('日本語', null, { addSpecialTokens: false }).tokens).toEqual(['日', '本', '[UNK]']);
  });
});

describe('input text', () => {
  it('encodes empty and whitespace-only text as [CLS] [SEP]', () => {
    for (const text of ['', ' ', ' \t\n\r\u00a0\u3000']) {
      expect(tokenizer.encode(text).ids).toEqual([101, 102]);
    }
    expect(tokenizer.encode('', '').ids).toEqual([101, 102, 102]);
  });

  it('drops control characters, U+0000 and U+FFFD without splitting the word', () => {
    const encoding = tokenizer.encode('hel\u0000lo\u200b wor\ufffdld\u0007');
    expect(encoding.tokens).toEqual(['[CLS]', 'hello', 'world', '[SEP]']);
    // As in Rust, a removed character belongs to no token: "hello" ends at its last kept "o".
    expect(encoding.offsets).toEqual([
      [0, 0],
      [0, 6],
      [8, 14],
      [0, 0],
    ]);
  });

  it('gives emoji UTF-16 offsets and one [UNK] each', () => {
    const text = 'I 😂 love 🤗!';
    const encoding = tokenizer.encode(text);
    expect(encoding.tokens).toEqual(['[CLS]', 'i', '[UNK]', 'love', '[UNK]', '!', '[SEP]']);
    expect(encoding.offsets.slice(1, -1).map(([s, e]) => text.slice(s, e))).toEqual(['I', '😂', 'love', '🤗', '!']);
  });

  it('strips accents and lower-cases, with offsets on the original characters', () => {
    const text = 'Café RÉSUMÉ nai\u0308ve';
    const encoding = tokenizer.encode(text);
    expect(encoding.tokens.slice(1, -1)).toEqual(['cafe', 'resume', 'naive']);
    expect(encoding.offsets.slice(1, -1).map(([s, e]) => text.slice(s, e))).toEqual(['Café', 'RÉSUMÉ', 'nai\u0308ve']);
  });

  it('keeps accents when tokenizer_config.json says strip_accents: false, and case with do_lower_case: false', () => {
    const keepAccents = BertTokenizer.fromVocabTxt(vocabTxt, { strip_accents: false });
    expect(keepAccents.tokenize('Café')).not.toEqual(['cafe']);
    expect(keepAccents.tokenize('CAFE')).toEqual(['cafe']);
    const cased = BertTokenizer.fromVocabTxt(vocabTxt, { do_lower_case: false });
    expect(cased.tokenize('Hello')).not.toEqual(['hello']);
    expect(cased.tokenize('hello')).toEqual(['hello']);
  });

  it('splits CJK ideographs into single characters', () => {
    expect(tokenizer.tokenize('我爱ab中文')).toEqual(['我', '[UNK]', 'ab', '中', '文']);
    const noCjk = BertTokenizer.fromVocabTxt(vocabTxt, { tokenize_chinese_chars: false });
    expect(noCjk.tokenize('我爱ab中文')).toEqual(['[UNK]']);
  });

  it('turns words longer than 100 code points into one [UNK], counting code points not UTF-16 units', () => {
    expect(tiny.tokenize('a'.repeat(100))).toEqual(['a', ...Array(99).fill('##a')]);
    expect(tiny.tokenize('a'.repeat(101))).toEqual(['[UNK]']);
    expect(tiny.encode('a'.repeat(101)).offsets[1]).toEqual([0, 101]);
    // 100 emoji are 200 UTF-16 units but 100 characters: still split into pieces.
    expect(tiny.tokenize('😂'.repeat(100))).toHaveLength(100);
    expect(tiny.tokenize('😂'.repeat(101))).toEqual(['[UNK]']);
  });

  it('makes a word that cannot be covered by pieces a single [UNK]', () => {
    expect(tiny.tokenize('hellos worldz, hello')).toEqual(['hello', '##s', '[UNK]', ',', 'hello']);
  });

  it('never splits [MASK] or other special tokens in the text, even when lower-casing', () => {
    const encoding = tokenizer.encode('The capital is [MASK].[MASK][SEP]x', 'a [MASK]');
    expect(encoding.tokens).toEqual([
      '[CLS]',
      'the',
      'capital',
      'is',
      '[MASK]',
      '.',
      '[MASK]',
      '[SEP]',
      'x',
      '[SEP]',
      'a',
      '[MASK]',
      '[SEP]',
    ]);
    expect(encoding.ids.filter((id) => id === tokenizer.maskTokenId)).toHaveLength(3);
    expect(encoding.offsets[4]).toEqual([15, 21]);
    // Matching is exact: other spellings are ordinary text.
    expect(tokenizer.tokenize('[mask] [ MASK]')).toEqual(['[', 'mask', ']', '[', 'mask', ']']);
  });

  it('rejects non-string input with a clear error', () => {
    expect(engineError(() => tokenizer.encode(undefined as unknown as string)).message).toContain(
      'text must be a string',
    );
  });

  it.skipIf(!hasSharedData)('gives the same result on the ASCII fast path and the general path (../shared)', () => {
    const general = BertTokenizer.fromVocabTxt(vocabTxt);
    general.forceGeneralPath = true;
    const texts = loadDatasetTexts().flatMap(({ texts }) => texts.slice(0, 400));
    const asciiTexts = texts.filter((t) => /^[\x20-\x7e]*$/.test(t));
    expect(asciiTexts.length).toBeGreaterThan(2000);
    for (const text of [...texts, 'Mixed\tTABS\r\nand  ~`^$ symbols!!'])
      expect(general.encode(text), text).toEqual(tokenizer.encode(text));
  });

  it('gives the same result on the ASCII fast path and the general path (vendored texts)', () => {
    const general = BertTokenizer.fromVocabTxt(vocabTxt);
    general.forceGeneralPath = true;
    const texts = loadFixtureTexts().flatMap(({ texts }) => texts);
    const asciiTexts = texts.filter((t) => /^[\x20-\x7e]*$/.test(t));
    expect(asciiTexts.length).toBeGreaterThan(80);
    for (const text of [...texts, 'Mixed\tTABS\r\nand  ~`^$ symbols!!'])
      expect(general.encode(text), text).toEqual(tokenizer.encode(text));
  });
});

describe('truncation and padding options', () => {
  const long = 'one two three four five six seven eight nine ten';

  it('truncates singles to maxLength including [CLS] and [SEP]', () => {
    const encoding = tokenizer.encode(long, null, { truncation: true, maxLength: 5 });
    expect(encoding.tokens).toEqual(['[CLS]', 'one', 'two', 'three', '[SEP]']);
  });

  it('cuts both sequences of a long pair, giving the odd token to the longer one', () => {
    // 10 + 6 tokens, budget 9 - 3 = 6 → 3 each; budget 10 - 3 = 7 → 3 + 4 (the longer, first, gets 4).
    const short = 'a b c d e f';
    expect(tokenizer.encode(long, short, { truncation: 'longest_first', maxLength: 9 }).tokenTypeIds).toEqual([
      0, 0, 0, 0, 0, 1, 1, 1, 1,
    ]);
    expect(tokenizer.encode(long, short, { truncation: 'longest_first', maxLength: 10 }).tokens.join(' ')).toBe(
      '[CLS] one two three four [SEP] a b c [SEP]',
    );
  });

  it('throws actionable errors for impossible truncation', () => {
    expect(engineError(() => tokenizer.encode(long, null, { truncation: 'only_second', maxLength: 4 })).code).toBe(
      'TOKENIZER_TRUNCATION',
    );
    expect(
      engineError(() => tokenizer.encode('a', long, { truncation: 'only_first', maxLength: 6 })).message,
    ).toContain('first sequence has only 1');
    expect(engineError(() => tokenizer.encode('a', 'b', { truncation: true, maxLength: 2 })).message).toContain(
      'maxLength ≥ 3',
    );
    expect(engineError(() => tokenizer.encode('a', null, { truncation: true })).message).toContain('needs maxLength');
    expect(
      engineError(() => tokenizer.encode('a', null, { truncation: 'from_the_middle' as never, maxLength: 4 })).code,
    ).toBe('TOKENIZER_BAD_OPTIONS');
  });

  it('uses model_max_length from tokenizer_config.json as the default maxLength', () => {
    const limited = BertTokenizer.fromVocabTxt(vocabTxt, { model_max_length: 4 });
    expect(limited.encode(long, null, { truncation: true }).ids).toHaveLength(4);
    expect(limited.encode(long, null, { padding: 'max_length', truncation: true }).ids).toHaveLength(4);
    expect(BertTokenizer.fromVocabTxt(vocabTxt, { model_max_length: 1e30 }).config.modelMaxLength).toBeNull();
  });

  it('pads a batch to its longest encoding, or to a multiple, with [PAD] and attention 0', () => {
    const batch = tokenizer.encodeBatch(['hello', ['hello world', 'again']], { padding: 'longest' });
    expect(batch.map((e) => e.ids.length)).toEqual([6, 6]);
    expect(batch[0]).toEqual<Encoding>({
      ids: [101, 7592, 102, 0, 0, 0],
      tokenTypeIds: [0, 0, 0, 0, 0, 0],
      attentionMask: [1, 1, 1, 0, 0, 0],
      tokens: ['[CLS]', 'hello', '[SEP]', '[PAD]', '[PAD]', '[PAD]'],
      offsets: [
        [0, 0],
        [0, 5],
        [0, 0],
        [0, 0],
        [0, 0],
        [0, 0],
      ],
      specialTokensMask: [1, 0, 1, 1, 1, 1],
    });
    expect(batch[1].tokenTypeIds).toEqual([0, 0, 0, 0, 1, 1]);
    expect(tokenizer.encodeBatch(['hello'], { padding: 'longest', padToMultipleOf: 8 })[0].ids).toHaveLength(8);
    expect(tokenizer.encode('hello', null, { padding: 'max_length', maxLength: 7 }).attentionMask).toEqual([
      1, 1, 1, 0, 0, 0, 0,
    ]);
    expect(tokenizer.encode(long, null, { padding: 'max_length', maxLength: 4 }).ids).toHaveLength(12);
  });

  it('leaves out special tokens on request but keeps the pair type ids', () => {
    const encoding = tokenizer.encode('hello there', 'big world', { addSpecialTokens: false });
    expect(encoding.tokens).toEqual(['hello', 'there', 'big', 'world']);
    expect(encoding.tokenTypeIds).toEqual([0, 0, 1, 1]);
  });
});

describe('decode', () => {
  it('joins ## pieces and cleans spaces before punctuation', () => {
    const ids = tokenizer.encode("Unaffable, isn't it? I'm sure they've done it.").ids;
    expect(tokenizer.decode(ids)).toBe("[CLS] unaffable, isn't it? i'm sure they've done it. [SEP]");
    expect(tokenizer.decode(ids, { skipSpecialTokens: true })).toBe("unaffable, isn't it? i'm sure they've done it.");
    expect(tokenizer.decode(ids, { skipSpecialTokens: true, cleanUpTokenizationSpaces: false })).toBe(
      "unaffable , isn ' t it ? i ' m sure they ' ve done it .",
    );
  });

  it('skips [PAD], [UNK] and [MASK] with skipSpecialTokens, and keeps a leading ## like HF', () => {
    expect(tokenizer.decode([101, 7592, 100, 103, 102, 0, 0], { skipSpecialTokens: true })).toBe('hello');
    expect(tokenizer.decode([2080, 7592])).toBe('##o hello');
    expect(tokenizer.decodeBatch([[7592], [2088]])).toEqual(['hello', 'world']);
  });

  it('rejects ids outside the vocabulary', () => {
    expect(engineError(() => tokenizer.decode([7592, 30522])).message).toContain('[0, 30522)');
  });
});

describe('export', () => {
  it('round-trips vocab.txt exactly', () => {
    expect(tokenizer.toVocabTxt()).toBe(vocabTxt);
    expect(tokenizer.vocabSize).toBe(30522);
  });

  it('reloads an equivalent tokenizer from toVocabTxt + toTokenizerConfig', () => {
    const custom = BertTokenizer.fromVocabTxt(vocabTxt, {
      do_lower_case: true,
      strip_accents: false,
      model_max_length: 64,
    });
    const config = custom.toTokenizerConfig();
    expect(config).toMatchObject({
      tokenizer_class: 'BertTokenizer',
      do_lower_case: true,
      strip_accents: false,
      model_max_length: 64,
      mask_token: '[MASK]',
    });
    const reloaded = BertTokenizer.fromVocabTxt(custom.toVocabTxt(), JSON.parse(JSON.stringify(config)));
    for (const text of ['Héllo wörld [MASK]!', 'plain text', '中文 naïve'])
      expect(reloaded.encode(text)).toEqual(custom.encode(text));
    expect(reloaded.config).toEqual(custom.config);
  });

  it('exposes token ↔ id lookups for prompt label words', () => {
    expect(tokenizer.tokenToId('great')).toBe(2307);
    expect(tokenizer.idToToken(2307)).toBe('great');
    expect(tokenizer.tokenToId('not-a-token')).toBeUndefined();
    expect([...tokenizer.specialTokenIds].sort((a, b) => a - b)).toEqual([0, 100, 101, 102, 103]);
  });
});
