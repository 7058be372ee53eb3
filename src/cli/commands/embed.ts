import { loadModelFromDir } from '../../engine/pipeline/node';
import type { TextInput } from '../../engine/pipeline';
import { UsageError, requireString, stringFlag } from '../args';
import { setupBackend, type Command } from '../context';
import { readDataFile } from '../datafile';

export const embedCommand: Command = {
  name: 'embed',
  summary: 'mean-pooled sentence embeddings as JSONL ({"text", "embedding"} per line)',
  usage: 'fewshot embed --model DIR (--input FILE | --text "…" [--text "…"])',
  flags: {
    model: { type: 'string', placeholder: 'DIR', help: 'Hugging Face model folder' },
    input: { type: 'string', placeholder: 'FILE', help: 'CSV, TSV or JSONL with a text column' },
    text: { type: 'string', placeholder: 'TEXT', multiple: true, help: 'a text to embed (repeatable)' },
    'text-column': { type: 'string', placeholder: 'NAME', help: 'override the detected text column' },
  },
  async run(args, io) {
    const dir = requireString(args, 'model', 'the model folder');
    const texts = (args.flags.text as string[] | undefined) ?? [];
    const inputPath = stringFlag(args, 'input');
    if (!inputPath && texts.length === 0) throw new UsageError('Give --input FILE or at least one --text "…".');
    await setupBackend(args);
    const model = await loadModelFromDir(dir);
    let inputs: TextInput[] = texts.map((text) => ({ text }));
    if (inputPath) {
      const file = await readDataFile(inputPath, { text: stringFlag(args, 'text-column') });
      inputs = [...inputs, ...file.rows.map((r) => ({ text: r.text, textPair: r.textPair ?? null }))];
    }
    const vectors = await model.embed(inputs);
    model.dispose();
    for (const [i, embedding] of vectors.entries()) io.stdout(`${JSON.stringify({ text: inputs[i].text, embedding: embedding.map((x) => Number(x.toFixed(6))) })}\n`);
    return 0;
  },
};
