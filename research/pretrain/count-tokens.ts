/**
 * Counts packed sequences and tokens of a corpus, as `fewshot pretrain` would see it (same
 * reader, tokenizer and packing). With `--out FILE` it also writes those sequences for the PyTorch
 * trainer (`research/pretrain/torch_pretrain.py`), so both trainers see the same token stream.
 *
 *   npx tsx research/pretrain/count-tokens.ts --vocab public/models/micro-random/vocab.txt --max-len 128 ../shared/data/corpus
 *   npx tsx research/pretrain/count-tokens.ts --vocab ../shared/data/tokenizer/bert-base-uncased/vocab.txt \
 *     --max-len 128 --out /tmp/corpus-128.u16 ../shared/data/corpus
 *
 * `--out` format: little-endian uint16 token ids, `sequences × max-len`, each sequence `[CLS] … [SEP]`
 * padded with id 0 ([PAD]); a JSON sidecar `<out>.json` records the shape, vocabulary and files.
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
const vocab = take('--vocab', 'public/models/micro-random/vocab.txt');
const maxLength = Number(take('--max-len', '128'));
const out = take('--out', '');
const tokenizer = BertTokenizer.fromVocabTxt(readFileSync(vocab, 'utf8'));
if (out && tokenizer.vocabSize > 65536)
  throw new Error(`--out: a vocabulary of ${tokenizer.vocabSize} pieces does not fit uint16 ids`);
const { files, warnings } = await listCorpusFiles(args.length > 0 ? args : ['../shared/data/corpus']);
for (const w of warnings) console.error(`warning: ${w}`);
const started = Date.now();
const rows: Uint16Array[] = []; // each [maxLength], zero-padded; only kept with --out
let sequences = 0;
let tokens = 0;
let unk = 0;
for await (const seq of packSequences(fileCorpusSource(files), tokenizer, maxLength, CORPUS_START)) {
  sequences++;
  tokens += seq.ids.length;
  for (const id of seq.ids) if (id === tokenizer.unkTokenId) unk++;
  if (out) {
    const row = new Uint16Array(maxLength);
    row.set(seq.ids);
    rows.push(row);
  }
}
if (out) {
  const flat = new Uint16Array(rows.length * maxLength); // [sequences * maxLength]
  rows.forEach((row, i) => flat.set(row, i * maxLength));
  writeFileSync(out, Buffer.from(flat.buffer));
  const meta = { sequences, maxLength, tokens, vocab, vocabSize: tokenizer.vocabSize, files: files.map((f) => f.path) };
  writeFileSync(`${out}.json`, `${JSON.stringify(meta, null, 2)}\n`);
}
const bytes = files.reduce((n, f) => n + f.bytes, 0);
console.log(
  JSON.stringify({
    files: files.length,
    megabytes: +(bytes / 1e6).toFixed(1),
    sequences,
    tokens,
    unkShare: +(unk / tokens).toFixed(5),
    bytesPerToken: +(bytes / tokens).toFixed(2),
    seconds: (Date.now() - started) / 1000,
  }),
);
