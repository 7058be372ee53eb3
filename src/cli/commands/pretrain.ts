import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bertPreset, BERT_PRESETS, type BertPresetName } from '../../engine/bert/config';
import { EngineError } from '../../engine/errors';
import { setSinusoidalPositions } from '../../engine/bert/params';
import { FewShotModel } from '../../engine/pipeline/fewshot-model';
import { loadModelFromDir, saveModelToDir } from '../../engine/pipeline/node';
import {
  MlmPretrainer,
  readCheckpointState,
  type EvalResult,
  type PretrainOptions,
} from '../../engine/pretrain/trainer';
import { fileCorpusSource, listCorpusFiles } from '../../engine/pretrain/node-corpus';
import { fileCheckpointStore } from '../../engine/pretrain/node-store';
import { BertTokenizer } from '../../engine/tokenizer';
import { UsageError, intFlag, numberFlag, requireString, stringFlag, type ParsedArgs } from '../args';
import { printJson, setupBackend, wantsJson, type Command } from '../context';
import { ProgressBar, formatDuration } from '../progress';

/** File names inside --out. */
export const PRETRAIN_FILES = {
  checkpoint: 'checkpoint.safetensors',
  log: 'pretrain_log.jsonl',
  summary: 'pretrain_summary.json',
} as const;

/** Corpus paths from repeated --corpus flags and positional arguments (shared with `fewshot vocab`). */
export function corpusPaths(args: ParsedArgs): string[] {
  const value = args.flags.corpus;
  const list = Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
  return [...list, ...args.positionals];
}

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
  const base = bertPreset(preset as BertPresetName);
  const config = bertPreset(preset as BertPresetName, {
    vocab_size: tokenizer.vocabSize,
    max_position_embeddings: Math.max(base.max_position_embeddings, maxLen),
  });
  return FewShotModel.fromConfig(config, tokenizer, { name: `${preset}-pretrained`, seed });
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
      checkpointEveryMinutes: numberFlag(args, 'checkpoint-every-minutes', 10),
      checkpointEverySteps: intFlag(args, 'checkpoint-every-steps', 0, { min: 0 }),
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

    const backend = await setupBackend(args);
    const { files, warnings } = await listCorpusFiles(paths);
    for (const w of warnings) io.stderr(`warning: ${w}\n`);
    const source = fileCorpusSource(files);
    const model = await buildModel(args, maxLength, seed);
    // With --resume the checkpoint's weights replace these anyway.
    if (positionInit === 'sinusoidal' && !resume) setSinusoidalPositions(model.params);
    await mkdir(outDir, { recursive: true });

    // The log keeps only lines up to the checkpoint step when resuming (the rest is recomputed).
    let log: string[] = [];
    if (resume) {
      const state = readCheckpointState(new Uint8Array(await readFile(checkpointPath)), checkpointPath);
      const keepUpTo = state?.step ?? 0;
      const old = existsSync(logPath) ? (await readFile(logPath, 'utf8')).split('\n').filter(Boolean) : [];
      log = old.filter((line) => {
        try {
          return (JSON.parse(line) as { step: number }).step <= keepUpTo;
        } catch {
          return false;
        }
      });
    }
    await writeFile(logPath, log.length > 0 ? `${log.join('\n')}\n` : '');
    // Appends are chained so lines land in order; `logDone` resolves when all are written.
    let logDone: Promise<void> = Promise.resolve();
    const appendLog = (entry: Record<string, unknown>): Promise<void> => {
      const line = `${JSON.stringify({ ...entry, time: new Date().toISOString() })}\n`;
      logDone = logDone.then(() => appendFile(logPath, line));
      return logDone;
    };

    const bar = new ProgressBar(io, 10_000);
    let lastLoss = NaN;
    let sessionTokens = 0;
    let sessionStart: number;
    let sessionStartStep: number;
    const evaluations: EvalResult[] = [];
    const trainer = new MlmPretrainer(
      model.params,
      model.config,
      model.tokenizer,
      source,
      options,
      {
        onLosses: (losses) => {
          for (const l of losses) {
            sessionTokens += l.tokens;
            lastLoss = l.loss;
            void appendLog({ step: l.step, loss: l.loss, lr: l.lr, tokens: l.tokens });
          }
        },
        onEvaluated: (e) => {
          evaluations.push(e);
          void appendLog({
            step: e.step,
            eval_loss: e.loss,
            eval_accuracy: e.accuracy,
            unigram_baseline: e.unigramBaseline,
            eval_tokens: e.count,
          });
          io.stderr(
            `${io.stderrIsTTY ? '\n' : ''}step ${e.step}: held-out MLM loss ${e.loss.toFixed(4)}, accuracy ${e.accuracy.toFixed(4)} (unigram baseline ${e.unigramBaseline.toFixed(4)})\n`,
          );
        },
        onCheckpoint: (c) =>
          void appendLog({ step: c.step, checkpoint: PRETRAIN_FILES.checkpoint, bytes: c.bytes, seconds: c.seconds }),
        onLog: (level, message) => io.stderr(`${level}: ${message}\n`),
      },
      fileCheckpointStore(checkpointPath),
    );
    let interrupted = false;
    const onSignal = () => {
      interrupted = true;
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const resumed = await trainer.init(resume);
      const o = trainer.options;
      io.stderr(
        `${resumed ? `Resuming at step ${trainer.stepCount}` : 'Pretraining'} ${model.name} (${model.config.num_hidden_layers} layers, hidden ${model.config.hidden_size}, vocab ${model.config.vocab_size}) on ${source.description}; ` +
          `backend ${backend}, ${o.totalSteps} steps × ${o.batchSize} sequences × ${o.maxLength} tokens, lr ${o.learningRate} (warmup ${o.warmupSteps}), mask ${o.maskProb}${o.wholeWord ? ' whole-word' : ''}, seed ${o.seed}, ${o.heldOutSequences} held-out sequences${o.heldOutEvery > 1 ? ` (every ${o.heldOutEvery}th)` : ''}\n`,
      );
      sessionStart = Date.now();
      sessionStartStep = trainer.stepCount;
      while (!interrupted && (await trainer.step())) {
        const elapsed = (Date.now() - sessionStart) / 1000;
        const done = trainer.stepCount - sessionStartStep;
        const tps = sessionTokens / Math.max(elapsed, 1e-9);
        const eta = (elapsed / Math.max(done, 1)) * (o.totalSteps - trainer.stepCount);
        bar.update(
          trainer.stepCount,
          o.totalSteps,
          `loss ${Number.isFinite(lastLoss) ? lastLoss.toFixed(4) : '-'} ${tps.toFixed(0)} tok/s ETA ${formatDuration(eta)}`,
        );
      }
      await trainer.flushLosses();
      if (interrupted) {
        await trainer.saveCheckpoint();
        bar.done();
        await logDone;
        io.stderr(
          `Interrupted: saved ${checkpointPath} at step ${trainer.stepCount}; continue with the same command plus --resume. Exporting the weights reached so far…\n`,
        );
      } else bar.done();
      // An interrupted run still leaves a usable Hugging Face folder of the weights reached (a
      // long run stopped between sessions is worth using), with its held-out score in the summary.
      const seconds = (Date.now() - sessionStart) / 1000;
      const final = evaluations.at(-1)?.step === trainer.stepCount ? evaluations.at(-1)! : await trainer.evaluate();
      if (evaluations.at(-1) !== final)
        void appendLog({
          step: final.step,
          eval_loss: final.loss,
          eval_accuracy: final.accuracy,
          unigram_baseline: final.unigramBaseline,
          eval_tokens: final.count,
        });
      await saveModelToDir(model, outDir, { dtype });
      const summary = {
        steps: trainer.stepCount,
        tokensSeen: trainer.tokensSeen,
        finished: !interrupted,
        session: {
          steps: trainer.stepCount - sessionStartStep,
          seconds,
          tokensPerSecond: sessionTokens / Math.max(seconds, 1e-9),
        },
        heldOut: final,
        options: trainer.options,
        corpus: files.map((f) => ({ path: f.path, bytes: f.bytes })),
        backend,
      };
      await logDone;
      await writeFile(join(outDir, PRETRAIN_FILES.summary), `${JSON.stringify(summary, null, 2)}\n`);
      io.stderr(
        `${interrupted ? `Stopped at step ${trainer.stepCount} of ${o.totalSteps}` : `Done: ${trainer.stepCount} steps`}, held-out MLM loss ${final.loss.toFixed(4)}, accuracy ${final.accuracy.toFixed(4)} (unigram baseline ${final.unigramBaseline.toFixed(4)}), ` +
          `${summary.session.tokensPerSecond.toFixed(0)} tokens/s. Saved the model to ${outDir}\n`,
      );
      if (wantsJson(args)) printJson(io, summary);
      return interrupted ? 130 : 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      trainer.dispose();
      model.dispose();
    }
  },
};
