/**
 * Tokenizer throughput: sentences per second encoding the SST-2 test texts with the
 * bert-base-uncased vocab, on one core in Node. Prints one JSON line.
 *
 *   npx tsx scripts/bench-tokenizer.ts [--rounds 5] [--max-length 128]
 *
 * Reports the median of several rounds over all texts with the word cache warm (as in training,
 * where the same dataset is encoded every epoch) and, separately, one pass with the word cache
 * emptied (after a JIT warm-up pass, so it measures the cache, not the compiler).
 */
import fs from 'node:fs';
import path from 'node:path';
import { BertTokenizer } from '../src/engine/tokenizer/index';
import { parseCsv } from '../src/engine/tokenizer/test-support';

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

const rounds = argument('rounds', 5);
const maxLength = argument('max-length', 128);
const shared = path.resolve(process.cwd(), '../shared/data');
if (!fs.existsSync(shared)) {
  console.error(
    `bench-tokenizer reads SST-2 and the bert-base-uncased vocab from ../shared/data, not found at ${shared}.`,
  );
  process.exit(1);
}
const [header, ...rows] = parseCsv(fs.readFileSync(path.join(shared, 'datasets/sst2/test.csv'), 'utf8'));
const textColumn = header.indexOf('text');
const texts = rows.map((row) => row[textColumn]);
const tokenizer = BertTokenizer.fromVocabTxt(
  fs.readFileSync(path.join(shared, 'tokenizer/bert-base-uncased/vocab.txt'), 'utf8'),
);
const options = { truncation: true, maxLength } as const;

/** Encodes every text once; returns seconds and the token count (so the work cannot be skipped). */
function pass(): { seconds: number; tokens: number } {
  let tokens = 0;
  const start = performance.now();
  for (const text of texts) tokens += tokenizer.encode(text, null, options).ids.length;
  return { seconds: (performance.now() - start) / 1000, tokens };
}

pass(); // JIT warm-up
tokenizer.clearCache();
const cold = pass();
const warm: number[] = [];
for (let r = 0; r < rounds; r++) warm.push(texts.length / pass().seconds);
warm.sort((a, b) => a - b);
const median = warm[Math.floor(warm.length / 2)];

console.log(
  JSON.stringify({
    bench: 'tokenizer',
    dataset: 'sst2/test.csv',
    sentences: texts.length,
    meanTokens: +(cold.tokens / texts.length).toFixed(1),
    maxLength,
    coldSentencesPerSec: Math.round(texts.length / cold.seconds),
    sentencesPerSec: Math.round(median),
    rounds,
    node: process.version,
  }),
);
