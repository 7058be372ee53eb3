import { loadModelFromDir } from '../../engine/studio/node';
import { requireString } from '../args';
import { setupBackend, type Command } from '../context';
import { TEXT_INPUT_FLAGS, collectTextInputs } from '../datafile';

export const embedCommand: Command = {
  name: 'embed',
  summary:
    'sentence embeddings as JSONL ({"text", "embedding"} per line): a sentence-transformers folder’s pooling, else mean',
  usage: 'fewshot embed --model DIR (--input FILE | --text "…" [--text "…"])',
  flags: {
    model: { type: 'string', placeholder: 'DIR', help: 'Hugging Face model folder' },
    ...TEXT_INPUT_FLAGS,
  },
  async run(args, io) {
    const dir = requireString(args, 'model', 'the model folder');
    const inputs = await collectTextInputs(args, (w) => io.stderr(`warning: ${w}\n`));
    await setupBackend(args);
    const model = await loadModelFromDir(dir);
    const vectors = await model.embed(inputs);
    model.dispose();
    for (const [i, embedding] of vectors.entries())
      io.stdout(`${JSON.stringify({ text: inputs[i].text, embedding: embedding.map((x) => Number(x.toFixed(6))) })}\n`);
    return 0;
  },
};
