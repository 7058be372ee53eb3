import { loadModelFromDir } from '../../engine/studio/node';
import { UsageError, intFlag, requireString } from '../args';
import { printJson, setupBackend, wantsJson, type Command } from '../context';

export const fillMaskCommand: Command = {
  name: 'fill-mask',
  summary: 'top-k words for each [MASK] in a text, from the MLM head',
  usage: 'fewshot fill-mask --model DIR [--top-k 5] "text with [MASK]"',
  flags: {
    model: { type: 'string', placeholder: 'DIR', help: 'Hugging Face model folder' },
    'top-k': { type: 'string', placeholder: 'K', help: 'candidates per mask (default 5)' },
  },
  async run(args, io) {
    const dir = requireString(args, 'model', 'the model folder');
    const text = args.positionals.join(' ');
    if (!text)
      throw new UsageError('Give the text as an argument, e.g. fewshot fill-mask --model DIR "the movie was [MASK] ."');
    const topK = intFlag(args, 'top-k', 5, { min: 1, max: 1000 });
    await setupBackend(args);
    const model = await loadModelFromDir(dir);
    const masks = await model.fillMask(text, topK);
    model.dispose();
    if (wantsJson(args)) {
      printJson(io, { text, masks });
      return 0;
    }
    masks.forEach((candidates, m) => {
      if (masks.length > 1) io.stdout(`[MASK] #${m + 1}\n`);
      const width = Math.max(...candidates.map((c) => c.token.length));
      for (const c of candidates) io.stdout(`${c.token.padEnd(width)}  ${c.probability.toFixed(4)}\n`);
    });
    return 0;
  },
};
