/**
 * Tokenizer parity beyond bert-base-uncased: cased, Chinese and many-language BERT WordPiece
 * vocabularies (see docs/ARCHITECTURE.md, "Tests": the tokenizer is checked against the Hugging
 * Face Rust tokenizers).
 *
 * 1. Golden rows. `bert_tokenizer_cases.jsonl` (vendored slice: `OTHER_WORDPIECE_CASES_PATH`) holds
 *    the expected tokens and ids of the published tokenizers of the models in `MODELS`, but their
 *    vocabularies are not in the repository. For each model we rebuild a vocabulary from its rows:
 *    every token seen is put at the id it was seen with, [CLS]/[SEP] at the ids that open and close
 *    every row, and every other id gets a placeholder (`<gap 123>`) that no text can produce (a
 *    word never contains a space). Our tokenizer (from vocab.txt + tokenizer_config.json and from
 *    tokenizer.json) and the Rust tokenizer (npm `tokenizers`) must then give exactly the expected
 *    tokens and ids, with the model's real normaliser settings.
 *
 *    Why a subset vocabulary gives the same result as the full one: WordPiece is greedy
 *    longest-match-first. At each position of a word it takes the longest vocabulary entry that
 *    starts there ("##"-prefixed after the first piece). Take a word whose expected output is pieces
 *    p1..pn: every p_i is in the subset, and any longer match at the same position would be an entry
 *    of the subset, hence of the full vocabulary, which the published tokenizer would have preferred
 *    to p_i; so the subset picks p_i at every step and gives p1..pn. A word whose expected output is
 *    [UNK] has no full tiling by greedy steps in the full vocabulary; in the subset it stays [UNK]
 *    unless pieces seen in other rows happen to tile it, which would show here as a failure, never as
 *    a false pass. Normalisation, pre-tokenisation and the 100-character word limit do not depend on
 *    the vocabulary at all, so they are checked as they are.
 *
 * 2. Japanese and Korean. The rows have no Japanese or Korean text, so a few sentences are checked
 *    against the Rust tokenizer: with the full bert-base-uncased vocabulary and its real tokenizer.json
 *    (uncased: NFD + accent stripping turns で into て and Hangul syllables into conjoining jamo), and
 *    with a small hand-written cased vocabulary under bert-base-multilingual-cased's settings (cased:
 *    kana and Hangul syllables kept whole, kanji one word each), whose expected tokens are also
 *    written out below from the published algorithm.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Tokenizer as OracleTokenizer } from 'tokenizers';
import { WORDPIECE_CASE_MODELS } from '../../../tests/support/vendored-fixtures';
import { BertTokenizer } from './index';
import {
  OTHER_WORDPIECE_CASES_PATH,
  TOKENIZER_JSON_WITHOUT_VOCAB_PATH,
  bertUncasedTokenizerJson,
  loadOracle,
  readText,
} from './test-support';

interface GoldenCase {
  model: string;
  case: string;
  text: string;
  text_pair: string | null;
  tokens: string[];
  ids: number[];
  decoded: string;
}

/** The published normaliser settings of one model, and where they were read. */
interface ModelSettings {
  doLowerCase: boolean;
  /** `null`: follows `doLowerCase`, as in Hugging Face. */
  stripAccents: boolean | null;
  tokenizeChineseChars: boolean;
  /** What was checked (the model's tokenizer_config.json on the Hugging Face Hub, Dec 2026). */
  checked: string;
}

const CASED = { doLowerCase: false, stripAccents: null, tokenizeChineseChars: true } as const;
const UNCASED = { doLowerCase: true, stripAccents: null, tokenizeChineseChars: true } as const;

/**
 * Left out of `bert_tokenizer_cases.jsonl`'s models: Xenova/herbert-large-cased (BPE with `</w>`),
 * Xenova/paraphrase-multilingual-MiniLM-L12-v2 and Xenova/multilingual-e5-small (SentencePiece
 * Unigram, `▁` pieces), Xenova/kobert (monologg/kobert's tokenizer is SentencePiece,
 * tokenization_kobert.py with tokenizer_78b3253a26.model), and the English-only models whose
 * settings were not checked (scibert, UMLSBert, SapBERT, spanbert, ernie-gram-zh,
 * language_detection-ONNX).
 */
const MODELS: Record<(typeof WORDPIECE_CASE_MODELS)[number], ModelSettings> = {
  'Xenova/bert-base-cased': { ...CASED, checked: 'google-bert/bert-base-cased: {"do_lower_case": false}' },
  'google-bert/bert-base-cased': { ...CASED, checked: 'google-bert/bert-base-cased: {"do_lower_case": false}' },
  'Xenova/distilbert-base-cased-distilled-squad': {
    ...CASED,
    checked: 'DistilBertTokenizer init configuration: distilbert-base-cased-distilled-squad do_lower_case false',
  },
  'Xenova/bert-base-multilingual-cased-ner-hrl': {
    ...CASED,
    checked: 'fine-tuned bert-base-multilingual-cased, whose tokenizer_config.json is {"do_lower_case": false}',
  },
  'distilbert/distilbert-base-multilingual-cased': {
    ...CASED,
    checked: 'distilbert/distilbert-base-multilingual-cased: {"do_lower_case": false, "model_max_length": 512}',
  },
  'Xenova/distiluse-base-multilingual-cased-v2': {
    ...CASED,
    checked: 'sentence-transformers/distiluse-base-multilingual-cased(-v1): do_lower_case false, strip_accents null',
  },
  'Xenova/LaBSE': {
    ...CASED,
    checked: 'sentence-transformers/LaBSE: do_lower_case false, tokenize_chinese_chars true, strip_accents null',
  },
  'Xenova/rubert-base-cased': {
    ...CASED,
    checked: 'DeepPavlov/rubert-base-cased: {"do_lower_case": false} ("fix: set do_lower_case to false")',
  },
  'Xenova/bge-small-zh-v1.5': {
    ...CASED,
    checked: 'BAAI/bge-small-zh-v1.5: do_lower_case false, strip_accents null, tokenize_chinese_chars true',
  },
  'Xenova/bge-base-zh-v1.5': {
    ...UNCASED,
    checked: 'BAAI/bge-base-zh(-v1.5): do_lower_case true, strip_accents null, tokenize_chinese_chars true',
  },
  'Xenova/bert-base-multilingual-uncased-sentiment': {
    ...UNCASED,
    checked: 'nlptown/bert-base-multilingual-uncased-sentiment: do_lower_case true, strip_accents null',
  },
  'Xenova/indobert-base-p1': {
    ...UNCASED,
    checked: 'indobenchmark/indobert-base-p1: do_lower_case true, strip_accents null, tokenize_chinese_chars true',
  },
  'Xenova/distilbert-base-uncased-finetuned-sst-2-english': {
    ...UNCASED,
    checked: 'DistilBertTokenizer init configuration: distilbert-base-uncased do_lower_case true',
  },
};

const rows: GoldenCase[] = readText(OTHER_WORDPIECE_CASES_PATH)
  .split('\n')
  .filter((line) => line.trim().length > 0)
  .map((line) => JSON.parse(line) as GoldenCase);

/** A vocabulary entry no text can produce: BERT words never contain a space. */
const placeholder = (id: number): string => `<gap ${id}>`;

/** The vocabulary (token per id) rebuilt from one model's rows; throws on any contradiction. */
function rebuildVocab(modelRows: GoldenCase[]): string[] {
  const byId = new Map<number, string>();
  const put = (id: number, token: string, where: string): void => {
    const before = byId.get(id);
    if (before !== undefined && before !== token) throw new Error(`${where}: id ${id} is both ${before} and ${token}`);
    byId.set(id, token);
  };
  for (const row of modelRows) {
    if (row.text_pair !== null) throw new Error(`${row.case}: pairs are not expected in these rows`);
    if (row.ids.length !== row.tokens.length + 2) throw new Error(`${row.case}: ids are not [CLS] tokens [SEP]`);
    put(row.ids[0], '[CLS]', row.case);
    put(row.ids[row.ids.length - 1], '[SEP]', row.case);
    row.tokens.forEach((token, k) => put(row.ids[k + 1], token, row.case));
  }
  const seen = new Map([...byId].map(([id, token]) => [token, id]));
  if (seen.size !== byId.size) throw new Error('a token was seen with two ids');
  const size = Math.max(...byId.keys()) + 1;
  const vocab = Array.from({ length: size }, (_, id) => byId.get(id) ?? placeholder(id));
  // [PAD], [MASK] (and [UNK] where no row has one) are needed to build a tokenizer but never come out
  // of these rows' texts (none contains "[" followed by a name): they go after the last seen id.
  for (const special of ['[UNK]', '[PAD]', '[MASK]']) if (!seen.has(special)) vocab.push(special);
  return vocab;
}

/** tokenizer_config.json with the model's normaliser settings. */
function tokenizerConfigOf(settings: ModelSettings) {
  return {
    do_lower_case: settings.doLowerCase,
    strip_accents: settings.stripAccents,
    tokenize_chinese_chars: settings.tokenizeChineseChars,
  };
}

/** bert-base-uncased's tokenizer.json with another vocabulary and normaliser (ids of specials rewritten). */
function tokenizerJsonOf(vocab: string[], settings: ModelSettings) {
  const json = JSON.parse(readText(TOKENIZER_JSON_WITHOUT_VOCAB_PATH));
  const idOf = new Map(vocab.map((token, id) => [token, id]));
  json.model.vocab = Object.fromEntries(idOf);
  for (const added of json.added_tokens) added.id = idOf.get(added.content);
  for (const special of Object.values(json.post_processor.special_tokens) as { tokens: string[]; ids: number[] }[]) {
    special.ids = special.tokens.map((token) => idOf.get(token) as number);
  }
  json.normalizer = {
    type: 'BertNormalizer',
    clean_text: true,
    handle_chinese_chars: settings.tokenizeChineseChars,
    strip_accents: settings.stripAccents,
    lowercase: settings.doLowerCase,
  };
  return json;
}

/** Non-special tokens and all ids of our encoding. */
function ours(tokenizer: BertTokenizer, text: string) {
  const encoding = tokenizer.encode(text);
  return { tokens: encoding.tokens.filter((_, k) => encoding.specialTokensMask[k] === 0), ids: encoding.ids };
}

async function oracleOf(oracle: OracleTokenizer, text: string) {
  const encoding = await oracle.encode(text);
  const special = encoding.getSpecialTokensMask();
  return { tokens: encoding.getTokens().filter((_, k) => special[k] === 0), ids: encoding.getIds() };
}

describe('golden rows of cased, Chinese and many-language BERT tokenizers', () => {
  it('has rows for every model checked, and only for those', () => {
    const models = new Set(rows.map((row) => row.model));
    expect([...models].sort()).toEqual(Object.keys(MODELS).sort());
    expect(rows.length).toBe(140);
  });

  it('covers Chinese and accented Latin for cased and uncased vocabularies', () => {
    const isCased = (row: GoldenCase) => !MODELS[row.model as keyof typeof MODELS].doLowerCase;
    const chinese = (row: GoldenCase) => /[\u4e00-\u9fff]/.test(row.text);
    const accented = (row: GoldenCase) => /[à-ÿ]/.test(row.text) && row.tokens.some((t) => /[a-z]/i.test(t));
    for (const [name, has] of [
      ['Chinese', chinese],
      ['accented Latin', accented],
    ] as const) {
      expect(rows.filter((row) => has(row) && isCased(row)).length, `${name}, cased`).toBeGreaterThan(0);
      expect(rows.filter((row) => has(row) && !isCased(row)).length, `${name}, uncased`).toBeGreaterThan(0);
    }
    // Cased keeps accents and case, uncased drops both: the rows must show each.
    const row = (model: string, name: string) => rows.find((r) => r.model === model && r.case === name);
    expect(row('Xenova/bert-base-multilingual-cased-ner-hrl', 'SIMPLE_WITH_ACCENTS')?.tokens).toEqual([
      'H',
      '##él',
      '##lo',
    ]);
    expect(row('Xenova/bert-base-multilingual-uncased-sentiment', 'BASIC')?.tokens).toEqual([
      'un',
      '##wan',
      '##ted',
      ',',
      'running',
    ]);
  });

  for (const [model, settings] of Object.entries(MODELS)) {
    describe(model, () => {
      const modelRows = rows.filter((row) => row.model === model);
      const vocab = rebuildVocab(modelRows);
      const config = tokenizerConfigOf(settings);
      const fromVocab = BertTokenizer.fromVocabTxt(vocab.join('\n') + '\n', config);
      const json = tokenizerJsonOf(vocab, settings);
      const fromJson = BertTokenizer.fromTokenizerJson(json);
      let oracle: OracleTokenizer;
      beforeAll(() => {
        oracle = loadOracle(json);
      });

      it(`uses the published settings (${settings.checked})`, () => {
        for (const tokenizer of [fromVocab, fromJson]) {
          expect(tokenizer.config.lowercase).toBe(settings.doLowerCase);
          expect(tokenizer.config.stripAccents ?? tokenizer.config.lowercase).toBe(
            settings.stripAccents ?? settings.doLowerCase,
          );
          expect(tokenizer.config.handleChineseChars).toBe(settings.tokenizeChineseChars);
        }
      });

      it(`gives the published tokens and ids for its ${modelRows.length} rows (vocab.txt, tokenizer.json, Rust)`, async () => {
        for (const row of modelRows) {
          const label = `${row.case}: ${JSON.stringify(row.text)}`;
          const expected = { tokens: row.tokens, ids: row.ids };
          expect(ours(fromVocab, row.text), `${label} (vocab.txt)`).toEqual(expected);
          expect(ours(fromJson, row.text), `${label} (tokenizer.json)`).toEqual(expected);
          expect(await oracleOf(oracle, row.text), `${label} (Rust tokenizer on the rebuilt vocabulary)`).toEqual(
            expected,
          );
        }
      });
    });
  }
});

/** Japanese and Korean sentences (the rows have none), with an accented Latin one alongside. */
const JAPANESE = '東京で日本語を勉強しています。';
const KOREAN = '안녕하세요, 세계!';
const ACCENTED = 'Über Zürich';

describe('Japanese and Korean, uncased: the full bert-base-uncased vocabulary against the Rust tokenizer', () => {
  const json = bertUncasedTokenizerJson();
  const tokenizer = BertTokenizer.fromTokenizerJson(json);
  let oracle: OracleTokenizer;
  beforeAll(() => {
    oracle = loadOracle(json);
  });

  it('matches the Rust tokenizer on Japanese, Korean and accented Latin', async () => {
    for (const text of [JAPANESE, KOREAN, ACCENTED, `${JAPANESE} ${KOREAN}`]) {
      expect(ours(tokenizer, text), text).toEqual(await oracleOf(oracle, text));
    }
  });

  it('splits kanji one per word, strips the voicing mark of で and decomposes Hangul into jamo', () => {
    const { tokens } = ours(tokenizer, JAPANESE);
    expect(tokens.slice(0, 2)).toEqual(['東', '京']);
    // で = て + U+3099 (a non-spacing mark) after NFD; uncased BERT drops the mark.
    expect(tokens[2]).toBe('て');
    expect(tokens).toContain('語');
    const korean = ours(tokenizer, KOREAN).tokens.join(' ');
    expect(korean).not.toMatch(/[\uac00-\ud7af]/); // no precomposed syllable survives NFD
    expect(korean).toMatch(/[\u1100-\u11ff]/); // conjoining jamo do
    expect(ours(tokenizer, ACCENTED).tokens).toEqual(['uber', 'zurich']);
  });
});

describe('Japanese and Korean, cased: bert-base-multilingual-cased settings against the Rust tokenizer', () => {
  // A small cased vocabulary with what the sentences need (ids are line numbers, not mBERT's).
  const vocab = [
    '[PAD]',
    '[UNK]',
    '[CLS]',
    '[SEP]',
    '[MASK]',
    '東',
    '京',
    'で',
    'て',
    '日',
    '本',
    '語',
    'を',
    '勉',
    '強',
    'し',
    '##て',
    '##い',
    '##ま',
    '##す',
    '。',
    '안녕',
    '##하세요',
    '##하',
    ',',
    '세계',
    '!',
    'Über',
    'Zürich',
    'uber',
    'zurich',
  ];
  const settings: ModelSettings = { ...CASED, checked: 'bert-base-multilingual-cased: {"do_lower_case": false}' };
  const fromVocab = BertTokenizer.fromVocabTxt(vocab.join('\n') + '\n', tokenizerConfigOf(settings));
  const json = tokenizerJsonOf(vocab, settings);
  const fromJson = BertTokenizer.fromTokenizerJson(json);
  let oracle: OracleTokenizer;
  beforeAll(() => {
    oracle = loadOracle(json);
  });

  const expected: [string, string[]][] = [
    [JAPANESE, ['東', '京', 'で', '日', '本', '語', 'を', '勉', '強', 'し', '##て', '##い', '##ま', '##す', '。']],
    [KOREAN, ['안녕', '##하세요', ',', '세계', '!']],
    [ACCENTED, ['Über', 'Zürich']],
  ];

  it('keeps case, accents, kana voicing marks and Hangul syllables; splits kanji one per word', async () => {
    for (const [text, tokens] of expected) {
      const ids = [2, ...tokens.map((token) => vocab.indexOf(token)), 3];
      expect(ours(fromVocab, text), `${text} (vocab.txt)`).toEqual({ tokens, ids });
      expect(ours(fromJson, text), `${text} (tokenizer.json)`).toEqual({ tokens, ids });
      expect(await oracleOf(oracle, text), `${text} (Rust)`).toEqual({ tokens, ids });
    }
  });

  it('gives the same text the uncased treatment when do_lower_case is true', async () => {
    const uncased: ModelSettings = { ...UNCASED, checked: '' };
    const lower = BertTokenizer.fromVocabTxt(vocab.join('\n') + '\n', tokenizerConfigOf(uncased));
    const lowerOracle = loadOracle(tokenizerJsonOf(vocab, uncased));
    expect(ours(lower, ACCENTED).tokens).toEqual(['uber', 'zurich']);
    expect(ours(lower, JAPANESE).tokens[2]).toBe('て');
    for (const text of [JAPANESE, KOREAN, ACCENTED]) {
      expect(ours(lower, text), text).toEqual(await oracleOf(lowerOracle, text));
    }
  });
});
