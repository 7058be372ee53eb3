/**
 * How each file under `tests/fixtures/` that comes from `../shared` is cut from it. One definition
 * serves both `scripts/vendor-test-fixtures.ts` (writes the files) and
 * `tests/vendored-fixtures.test.ts` (checks them against `../shared` whenever it is present), so a
 * copy cannot drift from its source unnoticed.
 */

/** The model whose rows of `bert_tokenizer_cases.jsonl` use the bert-base-uncased vocabulary. */
export const CASES_MODEL = 'Xenova/bert-base-uncased';
/**
 * The models whose rows of `bert_tokenizer_cases.jsonl` the multilingual tokenizer test checks:
 * BERT WordPiece tokenizers (BertNormalizer + BertPreTokenizer) with cased, uncased, Chinese and
 * many-language vocabularies. Their normaliser settings, and why the others are left out, are in
 * `src/engine/tokenizer/multilingual-cases.test.ts`.
 */
export const WORDPIECE_CASE_MODELS = [
  'Xenova/bert-base-cased',
  'google-bert/bert-base-cased',
  'Xenova/distilbert-base-cased-distilled-squad',
  'Xenova/bert-base-multilingual-cased-ner-hrl',
  'distilbert/distilbert-base-multilingual-cased',
  'Xenova/distiluse-base-multilingual-cased-v2',
  'Xenova/LaBSE',
  'Xenova/rubert-base-cased',
  'Xenova/bge-small-zh-v1.5',
  'Xenova/bge-base-zh-v1.5',
  'Xenova/bert-base-multilingual-uncased-sentiment',
  'Xenova/indobert-base-p1',
  'Xenova/distilbert-base-uncased-finetuned-sst-2-english',
] as const;
/** Lines of dict_devil.txt kept: enough for a 600-token WordPiece vocabulary (200 lines just reach it). */
export const CORPUS_LINES = 300;
/** Rows per label kept from each SST-2 file: the e2e specs take up to 12 of each from train.csv. */
export const SST2_ROWS_PER_LABEL = 20;

const SST2_NOTE = `# sst2 (a slice for the tests)

The first ${SST2_ROWS_PER_LABEL} positive and the first ${SST2_ROWS_PER_LABEL} negative rows of \`../shared/data/datasets/sst2/train.csv\`
and of \`test.csv\`, in file order (written by \`scripts/vendor-test-fixtures.ts\`). The note that comes
with the full files follows.

`;

/** The first `perLabel` rows of each label, in file order (one row per line in these files). */
function firstRowsPerLabel(csv: string, perLabel: number): string {
  const [header, ...rows] = csv.split('\n').filter((line) => line.length > 0);
  const kept: Record<string, number> = {};
  const picked = rows.filter((row) => {
    const label = row.slice(row.lastIndexOf(',') + 1);
    kept[label] = (kept[label] ?? 0) + 1;
    return kept[label] <= perLabel;
  });
  return [header, ...picked].join('\n') + '\n';
}

/**
 * Contents of every vendored file, by path under `tests/fixtures/`, derived from the `../shared`
 * files that `readShared` (given a path under `../shared/data/`) returns.
 */
export function deriveVendoredFixtures(readShared: (dataPath: string) => string): Record<string, string> {
  const caseLines = readShared('tokenizer/bert_tokenizer_cases.jsonl')
    .split('\n')
    .filter((line) => line.trim().length > 0);
  const modelOf = (line: string): string => (JSON.parse(line) as { model: string }).model;
  const cases = caseLines.filter((line) => modelOf(line) === CASES_MODEL);
  const otherModels: readonly string[] = WORDPIECE_CASE_MODELS;
  const otherCases = caseLines.filter((line) => otherModels.includes(modelOf(line)));
  // The vocabulary is left out: it is public/models/fewshot-mini/vocab.txt, the same 30,522 tokens.
  const tokenizerJson = JSON.parse(readShared('tokenizer/bert-base-uncased/tokenizer.json')) as {
    model: Record<string, unknown>;
  };
  const withoutVocab = { ...tokenizerJson, model: { ...tokenizerJson.model, vocab: {} } };
  const corpus = readShared('corpus/dict_devil.txt').split('\n').slice(0, CORPUS_LINES);
  return {
    'tokenizer/bert_tokenizer_cases.bert-base-uncased.jsonl': cases.join('\n') + '\n',
    'tokenizer/bert_tokenizer_cases.other-wordpiece.jsonl': otherCases.join('\n') + '\n',
    'tokenizer/bert-base-uncased.tokenizer-without-vocab.json': JSON.stringify(withoutVocab, null, 2) + '\n',
    'corpus/dict_devil.head.txt': corpus.join('\n') + '\n',
    'datasets/sst2/train.csv': firstRowsPerLabel(readShared('datasets/sst2/train.csv'), SST2_ROWS_PER_LABEL),
    'datasets/sst2/test.csv': firstRowsPerLabel(readShared('datasets/sst2/test.csv'), SST2_ROWS_PER_LABEL),
    'datasets/sst2/SOURCE.md': SST2_NOTE + readShared('datasets/sst2/SOURCE.md'),
  };
}
