/**
 * Counts packed sequences and tokens of a corpus, as `fewshot pretrain` would see it (same
 * reader, tokenizer and packing). Usage:
 *   npx tsx scripts/pretrain/count-tokens.ts --vocab public/models/micro-random/vocab.txt --max-len 128 ../shared/data/corpus
 */
import { readFileSync } from 'node:fs';
import { CORPUS_START, packSequences } from '../../src/engine/pretrain/corpus';
import { fileCorpusSource, listCorpusFiles } from '../../src/engine/pretrain/node-corpus';
import { BertTokenizer } from '../../src/engine/tokenizer';

const args = process.argv.slice(2);
const take = (flag: string, fallback: string): string => {
  const i = args.indexOf(flag);
  if (i < 0) return fallback;
  const [value] = args.splice(i, 2).slice(1);
  return value;
};
const vocab = take('--vocab', 'public/models/micro-random/vocab.txt');
const maxLength = Number(take('--max-len', '128'));
const tokenizer = BertTokenizer.fromVocabTxt(readFileSync(vocab, 'utf8'));
const { files, warnings } = await listCorpusFiles(args.length > 0 ? args : ['../shared/data/corpus']);
for (const w of warnings) console.error(`warning: ${w}`);
const started = Date.now();
let sequences = 0;
let tokens = 0;
let unk = 0;
for await (const seq of packSequences(fileCorpusSource(files), tokenizer, maxLength, CORPUS_START)) {
  sequences++;
  tokens += seq.ids.length;
  for (const id of seq.ids) if (id === tokenizer.unkTokenId) unk++;
}
const bytes = files.reduce((n, f) => n + f.bytes, 0);
console.log(
  JSON.stringify({ files: files.length, megabytes: +(bytes / 1e6).toFixed(1), sequences, tokens, unkShare: +(unk / tokens).toFixed(5), bytesPerToken: +(bytes / tokens).toFixed(2), seconds: (Date.now() - started) / 1000 }),
);
