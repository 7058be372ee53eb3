/**
 * Writes the packed pretraining sequences of a corpus to one flat binary file, for the PyTorch
 * trainer (`scripts/pretrain/torch_pretrain.py`). It uses the same reader, tokenizer and packing as
 * `fewshot pretrain`, so both trainers see the same token stream.
 *
 *   npx tsx scripts/pretrain/dump-sequences.ts --vocab ../shared/data/tokenizer/bert-base-uncased/vocab.txt \
 *     --max-len 128 --out /tmp/corpus-128.u16 ../shared/data/corpus
 *
 * Format: little-endian uint16 token ids, `sequences × max-len`, each sequence `[CLS] … [SEP]`
 * padded with id 0 ([PAD]). A JSON sidecar `<out>.json` records the shape and the vocabulary.
 */
import { readFileSync, writeFileSync } from 'node:fs';
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
const vocabPath = take('--vocab', '../shared/data/tokenizer/bert-base-uncased/vocab.txt');
const maxLength = Number(take('--max-len', '128'));
const out = take('--out', '/tmp/corpus.u16');
const tokenizer = BertTokenizer.fromVocabTxt(readFileSync(vocabPath, 'utf8'));
if (tokenizer.vocabSize > 65536) throw new Error(`vocabulary of ${tokenizer.vocabSize} pieces does not fit uint16`);
const { files, warnings } = await listCorpusFiles(args.length > 0 ? args : ['../shared/data/corpus']);
for (const w of warnings) console.error(`warning: ${w}`);
const rows: Uint16Array[] = [];
let tokens = 0;
for await (const seq of packSequences(fileCorpusSource(files), tokenizer, maxLength, CORPUS_START)) {
  const row = new Uint16Array(maxLength); // [maxLength], zero = [PAD]
  row.set(seq.ids);
  rows.push(row);
  tokens += seq.ids.length;
}
const flat = new Uint16Array(rows.length * maxLength); // [sequences * maxLength]
rows.forEach((row, i) => flat.set(row, i * maxLength));
writeFileSync(out, Buffer.from(flat.buffer));
const meta = { sequences: rows.length, maxLength, tokens, vocab: vocabPath, vocabSize: tokenizer.vocabSize, files: files.map((f) => f.path) };
writeFileSync(`${out}.json`, `${JSON.stringify(meta, null, 2)}\n`);
console.log(JSON.stringify(meta));
