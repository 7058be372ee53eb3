import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BERT_PRESETS,
  BertTokenizer,
  EngineError,
  createModelFromPreset,
  fileErrorReason,
  initSinusoidalPositions,
  startPretraining,
  type FewShotModel,
  type MlmEvaluation,
  type PretrainOptions,
} from '../../engine/studio';
import {
  fileCheckpointStore,
  fileCorpusSource,
  listCorpusFiles,
  loadModelFromDir,
  checkOutputFolder,
  readStateStep,
  saveModelToDir,
  writeFileAtomic,
} from '../../engine/studio/node';
import { UsageError, intFlag, numberFlag, requireString, stringFlag, type ParsedArgs } from '../args';
import { printJson, setupBackend, wantsJson, type Command } from '../context';
import { ProgressBar, formatDuration } from '../progress';
import { corpusPaths } from './vocab';

/** File names inside --out. */
export const PRETRAIN_FILES = {
  checkpoint: 'checkpoint.safetensors',
  log: 'pretrain_log.jsonl',
  summary: 'pretrain_summary.json',
} as const;

async function buildModel(args: ParsedArgs, maxLen: number, seed: number): Promise<FewShotModel> {
  const modelDir = stringFlag(args, 'model');
  const preset = stringFlag(args, 'preset');
  if (modelDir && preset)
    throw new UsageError(
      'give either --model DIR (continue pretraining a model) or --preset NAME --vocab FILE (from scratch), not both.',
    );
  if (modelDir) return loadModelFromDir(modelDir, { seed });
  if (!preset) throw new UsageError('--model DIR or --preset micro|tiny|mini (with --vocab FILE) is required.');
  if (!(BERT_PRESETS as readonly string[]).includes(preset))
    throw new UsageError(`--preset must be one of ${BERT_PRESETS.join(', ')}, got "${preset}".`);
  const vocabPath = requireString(args, 'vocab', 'the vocab.txt of the model to pretrain from scratch');
  const tokenizer = BertTokenizer.fromVocabTxt(await readFile(vocabPath, 'utf8'));
  return createModelFromPreset(preset, tokenizer, { maxLength: maxLen, seed });
}

export const pretrainCommand: Command = {
  name: 'pretrain',
  summary: 'masked-language-model pretraining on .txt files (resumable), writes a Hugging Face folder',
  usage:
    'fewshot pretrain --corpus PATH... --out DIR (--model DIR | --preset micro|tiny|mini --vocab FILE) --steps N [--position-init sinusoidal --max-len 128 --batch-size 32 --lr X --warmup N --mask-prob 0.15 --whole-word --seed N --checkpoint-every-minutes 10 --checkpoint-every-steps N --eval-every N --held-out N --held-out-every K --dtype f16 --resume]',
  flags: {
    corpus: {
      type: 'string',
      multiple: true,
      placeholder: 'PATH',
      help: '.txt file or folder (recursively, *.txt), one passage per line; repeatable',
    },
    out: {
      type: 'string',
      placeholder: 'DIR',
      help: `output folder: ${PRETRAIN_FILES.checkpoint}, ${PRETRAIN_FILES.log}, and the final Hugging Face model`,
    },
    model: { type: 'string', placeholder: 'DIR', help: 'continue pretraining this Hugging Face model folder' },
    preset: {
      type: 'string',
      placeholder: 'NAME',
      help: `start from random weights of a preset (${BERT_PRESETS.join(', ')})`,
    },
    vocab: { type: 'string', placeholder: 'FILE', help: 'vocab.txt for --preset' },
    'position-init': {
      type: 'string',
      placeholder: 'keep|sinusoidal',
      help: 'sinusoidal: start the position table from sin/cos rows (learns word order sooner; docs/PRETRAINING.md). Default keep',
    },
    steps: { type: 'string', placeholder: 'N', help: 'optimizer steps in the whole run (required)' },
    'max-len': { type: 'string', placeholder: 'N', help: 'tokens per packed sequence (default 128)' },
    'batch-size': { type: 'string', placeholder: 'N', help: 'sequences per step (default 32)' },
    lr: { type: 'string', placeholder: 'X', help: 'peak learning rate (default 1e-3; use ~1e-4 for base-size models)' },
    warmup: {
      type: 'string',
      placeholder: 'N',
      help: 'linear warmup steps, then linear decay to 0 (default 6% of --steps)',
    },
    'weight-decay': { type: 'string', placeholder: 'X', help: 'AdamW weight decay (default 0.01)' },
    'mask-prob': {
      type: 'string',
      placeholder: 'P',
      help: 'share of tokens to predict (default 0.15; 80% [MASK], 10% random, 10% unchanged)',
    },
    'whole-word': { type: 'boolean', help: 'mask all word pieces of a word together' },
    'no-dropout': { type: 'boolean', help: 'disable dropout while training' },
    seed: { type: 'string', placeholder: 'N', help: 'seed for init, masking and dropout (default 42)' },
    'held-out': { type: 'string', placeholder: 'N', help: 'packed sequences held out for evaluation (default 64)' },
    'held-out-every': {
      type: 'string',
      placeholder: 'K',
      help: 'hold out sequences 0, K, 2K, … so the slice spans several files (default 1: the first N)',
    },
    'eval-every': {
      type: 'string',
      placeholder: 'N',
      help: 'held-out MLM loss/accuracy every N steps (default 500; 0 = only at the end)',
    },
    'checkpoint-every-minutes': {
      type: 'string',
      placeholder: 'M',
      help: 'checkpoint every M minutes (default 10; 0 = off)',
    },
    'checkpoint-every-steps': { type: 'string', placeholder: 'N', help: 'checkpoint every N steps (default 0 = off)' },
    resume: { type: 'boolean', help: `continue from DIR/${PRETRAIN_FILES.checkpoint} (same options required)` },
    dtype: { type: 'string', placeholder: 'f32|f16', help: 'weights dtype of the final model (default f32)' },
  },
  async run(args, io) {
    const paths = corpusPaths(args);
    if (paths.length === 0) throw new UsageError('--corpus PATH is required (a .txt file or a folder of them).');
    const outDir = requireString(args, 'out', 'where to write checkpoints, the log and the final model');
    const steps = stringFlag(args, 'steps') ? intFlag(args, 'steps', 1, { min: 1 }) : undefined;
    if (steps === undefined)
      throw new UsageError(
        '--steps N is required (optimizer steps in the whole run; the learning rate decays to 0 there).',
      );
    const maxLength = intFlag(args, 'max-len', 128, { min: 8, max: 4096 });
    const seed = intFlag(args, 'seed', 42, { min: 0 });
    const dtype = (stringFlag(args, 'dtype') ?? 'f32').toUpperCase();
    if (dtype !== 'F32' && dtype !== 'F16') throw new UsageError('--dtype must be f32 or f16.');
    const maskProb = numberFlag(args, 'mask-prob', 0.15)!;
    if (!(maskProb > 0 && maskProb < 1)) throw new UsageError('--mask-prob must be in (0, 1).');
    const options: PretrainOptions = {
      totalSteps: steps,
      maxLength,
      batchSize: intFlag(args, 'batch-size', 32, { min: 1, max: 4096 }),
      learningRate: numberFlag(args, 'lr', 1e-3),
      warmupSteps: stringFlag(args, 'warmup') ? intFlag(args, 'warmup', 0, { min: 0 }) : undefined,
      weightDecay: numberFlag(args, 'weight-decay', 0.01),
      maskProb,
      wholeWord: args.flags['whole-word'] === true,
      dropout: args.flags['no-dropout'] !== true,
      seed,
      heldOutSequences: intFlag(args, 'held-out', 64, { min: 0 }),
      heldOutEvery: intFlag(args, 'held-out-every', 1, { min: 1 }),
      evalEvery: intFlag(args, 'eval-every', 500, { min: 0 }),
      lossReadEvery: 10,
    };
    const checkpointEvery = {
      everyMinutes: numberFlag(args, 'checkpoint-every-minutes', 10)!,
      everySteps: intFlag(args, 'checkpoint-every-steps', 0, { min: 0 }),
    };
    const resume = args.flags.resume === true;
    const positionInit = stringFlag(args, 'position-init') ?? 'keep';
    if (positionInit !== 'keep' && positionInit !== 'sinusoidal')
      throw new UsageError(`--position-init must be keep or sinusoidal, got "${positionInit}".`);
    const checkpointPath = join(outDir, PRETRAIN_FILES.checkpoint);
    const logPath = join(outDir, PRETRAIN_FILES.log);
    if (!resume && existsSync(checkpointPath)) {
      throw new UsageError(`${checkpointPath} exists: pass --resume to continue that run, or choose another --out.`);
    }
    if (resume && !existsSync(checkpointPath))
      throw new EngineError('PRETRAIN_NO_CHECKPOINT', `--resume: there is no ${checkpointPath} to resume from.`);

    await checkOutputFolder(outDir, { modelDir: stringFlag(args, 'model') });
    const backend = await setupBackend(args);
    const { files, warnings } = await listCorpusFiles(paths);
    for (const w of warnings) io.stderr(`warning: ${w}\n`);
    const source = fileCorpusSource(files);
    const model = await buildModel(args, maxLength, seed);
    // With --resume the checkpoint's weights replace these anyway.
    if (positionInit === 'sinusoidal' && !resume) initSinusoidalPositions(model);
    await mkdir(outDir, { recursive: true });

    // The log keeps only lines up to the checkpoint step when resuming (the rest is recomputed).
    let log: string[] = [];
    if (resume) {
      const keepUpTo = (await readStateStep(checkpointPath)) ?? 0;
      const old = existsSync(logPath) ? (await readFile(logPath, 'utf8')).split('\n').filter(Boolean) : [];
      log = old.filter((line) => {
        try {
          return (JSON.parse(line) as { step: number }).step <= keepUpTo;
        } catch {
          return false;
        }
      });
    }
    await writeFileAtomic(logPath, log.length > 0 ? `${log.join('\n')}\n` : '', { what: 'log' });
    // Appends are chained so lines land in order; `logDone` resolves when all are written. Most
    // appends are not awaited, so a failed one (disk full) is kept here rather than thrown (an
    // unhandled rejection would crash with a stack trace), and stops the run after the step. (A
    // kill mid-append leaves at most a partial last line, which a resume drops.)
    const logFailure: { error: EngineError | null } = { error: null };
    let logDone: Promise<void> = Promise.resolve();
    const appendLog = (entry: Record<string, unknown>): Promise<void> => {
      const line = `${JSON.stringify({ ...entry, time: new Date().toISOString() })}\n`;
      logDone = logDone.then(async () => {
        if (logFailure.error) return;
        await appendFile(logPath, line).catch((error: unknown) => {
          const code = (error as NodeJS.ErrnoException).code;
          logFailure.error = new EngineError(
            'PRETRAIN_LOG_WRITE_FAILED',
            `Could not add to the log ${logPath}: ${fileErrorReason(error) ?? (error as Error).message}${code ? ` (${code})` : ''}. ` +
              (existsSync(checkpointPath)
                ? `The checkpoint ${checkpointPath} keeps the last saved state; continue with --resume once the log can be written.`
                : 'No checkpoint was saved yet.'),
          );
        });
      });
      return logDone;
    };

    const bar = new ProgressBar(io, 10_000);
    let lastLoss = NaN;
    let sessionTokens = 0;
    let sessionStart: number;
    let sessionStartStep: number;
    const evaluations: MlmEvaluation[] = [];
    const logEvaluation = (e: MlmEvaluation) =>
      void appendLog({
        step: e.step,
        eval_loss: e.loss,
        eval_accuracy: e.accuracy,
        unigram_baseline: e.unigramBaseline,
        eval_tokens: e.count,
      });
    let interrupted = false;
    const onSignal = () => {
      interrupted = true;
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const run = await startPretraining(
      model,
      source,
      { ...options, resume, checkpoint: { store: fileCheckpointStore(checkpointPath), ...checkpointEvery } },
      {
        onProgress: (p) => {
          for (const l of p.losses) {
            sessionTokens += l.tokens;
            lastLoss = l.loss;
            void appendLog({ step: l.step, loss: l.loss, lr: l.lr, tokens: l.tokens });
          }
        },
        onEvaluated: ({ metrics: e }) => {
          evaluations.push(e);
          logEvaluation(e);
          io.stderr(
            `${io.stderrIsTTY ? '\n' : ''}step ${e.step}: held-out MLM loss ${e.loss.toFixed(4)}, accuracy ${e.accuracy.toFixed(4)} (unigram baseline ${e.unigramBaseline.toFixed(4)})\n`,
          );
        },
        onCheckpoint: (c) =>
          void appendLog({ step: c.step, checkpoint: PRETRAIN_FILES.checkpoint, bytes: c.bytes, seconds: c.seconds }),
        onLog: (level, message) => io.stderr(`${level}: ${message}\n`),
      },
    ).catch((error: unknown) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      model.dispose();
      throw error;
    });
    const loop = run.loop;
    try {
      const o = run.options;
      io.stderr(
        `${run.resumed ? `Resuming at step ${loop.step}` : 'Pretraining'} ${model.name} (${model.config.num_hidden_layers} layers, hidden ${model.config.hidden_size}, vocab ${model.config.vocab_size}) on ${source.description}; ` +
          `backend ${backend.label}, ${o.totalSteps} steps × ${o.batchSize} sequences × ${o.maxLength} tokens, lr ${o.learningRate} (warmup ${o.warmupSteps}), mask ${o.maskProb}${o.wholeWord ? ' whole-word' : ''}, seed ${o.seed}, ${o.heldOutSequences} held-out sequences${o.heldOutEvery > 1 ? ` (every ${o.heldOutEvery}th)` : ''}\n`,
      );
      sessionStart = Date.now();
      sessionStartStep = loop.step;
      while (!interrupted && (await run.step())) {
        // A log line that could not be written stops the run here, before another step.
        await logDone;
        if (logFailure.error) throw logFailure.error;
        const elapsed = (Date.now() - sessionStart) / 1000;
        const done = loop.step - sessionStartStep;
        const tps = sessionTokens / Math.max(elapsed, 1e-9);
        const eta = (elapsed / Math.max(done, 1)) * (o.totalSteps - loop.step);
        bar.update(
          loop.step,
          o.totalSteps,
          `loss ${Number.isFinite(lastLoss) ? lastLoss.toFixed(4) : '-'} ${tps.toFixed(0)} tok/s ETA ${formatDuration(eta)}`,
        );
      }
      const summaryOfLoop = await loop.finish(interrupted ? 'stopped' : 'completed');
      bar.done();
      if (summaryOfLoop.reason === 'diverged') {
        await logDone;
        io.stderr(
          `${summaryOfLoop.message}\nThe checkpoint ${checkpointPath} keeps the last good state; no model was exported.\n`,
        );
        return 1;
      }
      if (interrupted) {
        await run.checkpoint();
        await logDone;
        io.stderr(
          `Interrupted: saved ${checkpointPath} at step ${loop.step}; continue with the same command plus --resume. Exporting the weights reached so far…\n`,
        );
      }
      // An interrupted run still leaves a usable Hugging Face folder of the weights reached (a
      // long run stopped between sessions is worth using), with its held-out score in the summary.
      const seconds = (Date.now() - sessionStart) / 1000;
      const final = evaluations.at(-1)?.step === loop.step ? evaluations.at(-1)! : await run.evaluate();
      if (evaluations.at(-1) !== final) logEvaluation(final);
      const summary = {
        steps: loop.step,
        tokensSeen: loop.tokensSeen,
        finished: !interrupted,
        session: {
          steps: loop.step - sessionStartStep,
          seconds,
          tokensPerSecond: sessionTokens / Math.max(seconds, 1e-9),
        },
        heldOut: final,
        options: run.options,
        corpus: files.map((f) => ({ path: f.path, bytes: f.bytes })),
        backend: backend.name,
      };
      await logDone;
      if (logFailure.error) throw logFailure.error;
      // The model, the summary, and the run's checkpoint and log carried over, in one
      // all-or-nothing write of the folder.
      const keep = new Set<string>([PRETRAIN_FILES.checkpoint, PRETRAIN_FILES.log]);
      await saveModelToDir(model, outDir, {
        dtype,
        extraFiles: new Map([
          [PRETRAIN_FILES.summary, new TextEncoder().encode(`${JSON.stringify(summary, null, 2)}\n`)],
        ]),
        preserve: (file) => keep.has(file),
      });
      io.stderr(
        `${interrupted ? `Stopped at step ${loop.step} of ${o.totalSteps}` : `Done: ${loop.step} steps`}, held-out MLM loss ${final.loss.toFixed(4)}, accuracy ${final.accuracy.toFixed(4)} (unigram baseline ${final.unigramBaseline.toFixed(4)}), ` +
          `${summary.session.tokensPerSecond.toFixed(0)} tokens/s. Saved the model to ${outDir}\n`,
      );
      if (wantsJson(args)) printJson(io, summary);
      return interrupted ? 130 : 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      run.dispose();
      model.dispose();
    }
  },
};
