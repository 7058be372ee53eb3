/**
 * `fewshot adapt`: continued masked-language-model training of a model on the texts of a data
 * file (task-adaptive pretraining) before fine-tuning; the same run as the studio's "Adapt to my
 * texts" (engine door: startAdaptation). For a large unlabeled corpus with checkpoints and resume,
 * use `fewshot pretrain --model`.
 */
import { startAdaptation } from '../../engine/studio';
import { checkOutputFolder, loadModelFromDir, readDataFile, saveModelToDir } from '../../engine/studio/node';
import { intFlag, numberFlag, requireString, stringFlag } from '../args';
import { printJson, setupBackend, wantsJson, type Command } from '../context';
import { ProgressBar } from '../progress';

export const adaptCommand: Command = {
  name: 'adapt',
  summary: 'adapt a model to your texts: continued MLM pretraining on a CSV/TSV/JSONL file (labels unused)',
  usage: 'fewshot adapt --model DIR --data FILE --out DIR [--steps 200 --lr 1e-4 --seed 42 --text-column NAME]',
  flags: {
    model: { type: 'string', placeholder: 'DIR', help: 'pretrained Hugging Face model folder' },
    data: { type: 'string', placeholder: 'FILE', help: 'texts to adapt to (CSV, TSV or JSONL; labeled or not)' },
    out: { type: 'string', placeholder: 'DIR', help: 'where to write the adapted model' },
    steps: { type: 'string', placeholder: 'N', help: 'optimizer steps (default 200)' },
    lr: { type: 'string', placeholder: 'X', help: 'peak learning rate (default 1e-4)' },
    seed: { type: 'string', placeholder: 'N', help: 'masking/dropout seed (default 42)' },
    'text-column': { type: 'string', placeholder: 'NAME', help: 'override the detected text column' },
    dtype: { type: 'string', placeholder: 'f32|f16', help: 'weights dtype of the written model (default f32)' },
    overwrite: { type: 'boolean', help: 'replace --out even if it holds files that are not an export of ours' },
  },
  async run(args, io) {
    const modelDir = requireString(args, 'model', 'the model folder to adapt');
    const dataPath = requireString(args, 'data', 'the file with your texts');
    const outDir = requireString(args, 'out', 'where to write the adapted model');
    const steps = intFlag(args, 'steps', 200, { min: 1, max: 100_000 });
    const dtype = (stringFlag(args, 'dtype') ?? 'f32').toUpperCase() === 'F16' ? 'F16' : 'F32';
    await checkOutputFolder(outDir, { modelDir, overwrite: args.flags.overwrite === true });
    const file = await readDataFile(dataPath, { text: stringFlag(args, 'text-column') });
    for (const w of file.warnings) io.stderr(`warning: ${w}\n`);
    const texts = file.rows.flatMap((r) => (r.textPair ? [r.text, r.textPair] : [r.text]));
    await setupBackend(args);
    const model = await loadModelFromDir(modelDir);
    const bar = new ProgressBar(io);
    let lastLoss = NaN;
    try {
      const run = await startAdaptation(
        model,
        texts,
        { steps, learningRate: numberFlag(args, 'lr', undefined), seed: intFlag(args, 'seed', 42, { min: 0 }) },
        {
          onProgress: (p) => {
            lastLoss = p.losses.at(-1)?.loss ?? lastLoss;
            bar.update(p.step, steps, `MLM loss ${Number.isFinite(lastLoss) ? lastLoss.toFixed(4) : '-'}`);
          },
          onLog: (level, message) => io.stderr(`${level}: ${message}\n`),
        },
      );
      const { plan } = run;
      io.stderr(
        `Adapting ${model.name} to ${texts.length} texts from ${dataPath}: ${plan.sequences} sequences of ${plan.maxLength} tokens (+${plan.heldOut} held out), ` +
          `${steps} steps, batch ${plan.batchSize}, lr ${plan.learningRate}\n`,
      );
      try {
        while (await run.loop.runStep()) {
          /* every step */
        }
        bar.done();
        const result = await run.finish();
        if (result.reason === 'diverged') {
          io.stderr(`${result.message}\nNothing was written to ${outDir}.\n`);
          return 1;
        }
        await saveModelToDir(model, outDir, { dtype });
        const { before, after } = result;
        io.stderr(
          `Held-out MLM loss on these texts ${before.loss.toFixed(4)} → ${after.loss.toFixed(4)}, masked-word accuracy ${(100 * before.accuracy).toFixed(1)}% → ${(100 * after.accuracy).toFixed(1)}%. ` +
            `Saved the adapted model to ${outDir}; fine-tune it with fewshot train --model ${outDir}\n`,
        );
        if (wantsJson(args)) printJson(io, { steps: result.stepsDone, plan, before, after });
        return 0;
      } finally {
        run.dispose();
      }
    } finally {
      model.dispose();
    }
  },
};
