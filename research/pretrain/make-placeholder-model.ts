/**
 * Writes the studio's embedded placeholder model: a randomly initialised micro BERT (2 layers,
 * hidden 32) with the real bert-base-uncased vocabulary, in Hugging Face layout with F16 weights.
 * It exists so the studio starts with no network; the pretrained default model (issue: pretraining)
 * replaces it. Usage: npx tsx research/pretrain/make-placeholder-model.ts [outDir]
 */
import { existsSync, readFileSync } from 'node:fs';
import { bertPreset } from '../../src/engine/bert/config';
import { FewShotModel } from '../../src/engine/studio';
import { saveModelToDir } from '../../src/engine/studio/node';
import { initNodeBackend } from '../../src/engine/tf/node';
import { BertTokenizer } from '../../src/engine/tokenizer';

const outDir = process.argv[2] ?? 'public/models/micro-random';
const vocabPath = '../shared/data/tokenizer/bert-base-uncased/vocab.txt';
if (!existsSync(vocabPath)) {
  console.error(`make-placeholder-model needs the shared bert-base-uncased vocab: ${vocabPath} not found.`);
  process.exit(1);
}
await initNodeBackend('wasm');
const vocab = readFileSync(vocabPath, 'utf8');
const tokenizer = BertTokenizer.fromVocabTxt(vocab, { do_lower_case: true, model_max_length: 128 });
// max_position_embeddings 128: enough for few-shot texts, small tables.
const config = bertPreset('micro', { max_position_embeddings: 128 });
const model = FewShotModel.fromConfig(config, tokenizer, { name: 'micro-random', seed: 20261128 });
await saveModelToDir(model, outDir, { dtype: 'F16' });
model.dispose();
console.log(`wrote ${outDir}`);
