import { formatBytes } from '../../engine/studio';
import { loadModelFromDir } from '../../engine/studio/node';
import { requireString } from '../args';
import { printJson, setupBackend, wantsJson, type Command } from '../context';

export const infoCommand: Command = {
  name: 'info',
  summary: 'show a model’s config, parameter count, size and heads',
  usage: 'fewshot info --model DIR',
  flags: { model: { type: 'string', placeholder: 'DIR', help: 'Hugging Face model folder' } },
  async run(args, io) {
    const dir = requireString(args, 'model', 'the model folder to describe');
    const backend = await setupBackend(args);
    const model = await loadModelFromDir(dir);
    const summary = model.summary();
    model.dispose();
    if (wantsJson(args)) {
      printJson(io, summary);
      return 0;
    }
    const lines = [
      `model        ${summary.name}  (${summary.source})`,
      `architecture BERT, ${summary.layers} layers, hidden ${summary.hidden}, ${summary.heads} heads, intermediate ${summary.intermediate}`,
      `vocabulary   ${summary.vocabSize} tokens, max ${summary.maxPositions} positions`,
      `parameters   ${summary.parameters.toLocaleString('en-US')} (${formatBytes(summary.weightBytes)} as float32)`,
      `weights      ${summary.weightFormat}`,
      `heads        loaded: ${summary.loadedHeads.join(', ') || 'none'}; fresh: ${summary.freshHeads.join(', ') || 'none'}`,
      `labels       ${summary.labels.join(', ') || '(none)'}`,
      ...(summary.sentenceTransformers
        ? [`embeddings   sentence-transformers: ${summary.sentenceTransformers.description}`]
        : []),
      ...summary.warnings.map((w) => `warning      ${w}`),
      `backend      ${backend.label}`,
    ];
    io.stdout(`${lines.join('\n')}\n`);
    return 0;
  },
};
