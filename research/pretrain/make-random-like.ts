/**
 * Writes a randomly initialised model with exactly the config and vocabulary of an existing
 * folder: the "no pretraining" baseline for the few-shot table of a pretrained model's card.
 * Usage: npx tsx research/pretrain/make-random-like.ts MODEL_DIR OUT_DIR [seed]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBertConfig } from '../../src/engine/bert/config';
import { FewShotModel } from '../../src/engine/studio';
import { saveModelToDir } from '../../src/engine/studio/node';
import { initNodeBackend } from '../../src/engine/tf/node';
import { BertTokenizer } from '../../src/engine/tokenizer';

const [like, outDir, seedText] = process.argv.slice(2);
if (!like || !outDir) {
  console.error('Usage: npx tsx research/pretrain/make-random-like.ts MODEL_DIR OUT_DIR [seed]');
  process.exit(2);
}
await initNodeBackend('wasm');
const config = parseBertConfig(JSON.parse(readFileSync(join(like, 'config.json'), 'utf8')), 'config.json');
const tokenizer = BertTokenizer.fromHuggingFaceFiles({
  vocabTxt: readFileSync(join(like, 'vocab.txt'), 'utf8'),
  tokenizerConfig: JSON.parse(readFileSync(join(like, 'tokenizer_config.json'), 'utf8')),
});
const model = FewShotModel.fromConfig(config, tokenizer, { name: 'random-init', seed: Number(seedText ?? 20261128) });
await saveModelToDir(model, outDir, { dtype: 'F32' });
model.dispose();
console.log(`wrote ${outDir}`);
