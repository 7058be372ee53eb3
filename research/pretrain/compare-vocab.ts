/**
 * How several WordPiece vocabularies split the pretraining corpus and the few-shot datasets:
 * pieces per word (fertility), the share of words that stay one piece, and the share of words that
 * become [UNK]. Input for choosing the default model's vocabulary (research/PRETRAINING-LOG.md).
 *
 *   npx tsx research/pretrain/compare-vocab.ts ../shared/data/tokenizer/bert-base-uncased/vocab.txt /tmp/v8k.txt ...
 *
 * Words are BERT-normalised (lower case, accents stripped, punctuation split), counted once per
 * occurrence; datasets are the test splits' text column of sst2, trec, ag_news and sms_spam.
 */
import { readFileSync } from 'node:fs';
import { readDataFile } from '../../src/engine/studio/node';
import { CORPUS_START } from '../../src/engine/pretrain/corpus';
import { fileCorpusSource, listCorpusFiles } from '../../src/engine/pretrain/node-corpus';
import { BertTokenizer } from '../../src/engine/tokenizer';
import { WordCounter, splitStats } from '../../src/engine/tokenizer/wordpiece-trainer';

const vocabs = process.argv.slice(2);
if (vocabs.length === 0) throw new Error('usage: compare-vocab.ts VOCAB.txt...');
const DATASETS = ['sst2', 'trec', 'ag_news', 'sms_spam'];

const texts = new Map<string, WordCounter>();
const corpus = new WordCounter();
const { files } = await listCorpusFiles(['../shared/data/corpus']);
for await (const chunk of fileCorpusSource(files).chunks(CORPUS_START)) corpus.add(chunk.text);
texts.set('corpus', corpus);
for (const name of DATASETS) {
  const counter = new WordCounter();
  for (const row of (await readDataFile(`../shared/data/datasets/${name}/test.csv`)).rows) counter.add(row.text);
  texts.set(name, counter);
}

const table: Record<string, Record<string, { piecesPerWord: number; singlePiece: number; unknown: number }>> = {};
for (const path of vocabs) {
  const tokenizer = BertTokenizer.fromVocabTxt(readFileSync(path, 'utf8'));
  const row: (typeof table)[string] = {};
  for (const [name, counter] of texts) {
    const split = splitStats(tokenizer, counter);
    row[name] = {
      piecesPerWord: +split.piecesPerWord.toFixed(3),
      singlePiece: +split.singlePieceShare.toFixed(4),
      unknown: +split.unknownShare.toFixed(5),
    };
  }
  table[`${path} (${tokenizer.vocabSize})`] = row;
}
console.log(JSON.stringify(table, null, 2));
