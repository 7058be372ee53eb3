/**
 * The training job spec (`job.json`): everything a run needs to be run again elsewhere — the
 * method, its prompt, the label order, every resolved hyperparameter, the data files of the exact
 * split and the starting model — so that the bundle's `train.py` (Hugging Face Trainer) and our own
 * `fewshot train --job` train the same run (docs/ARCHITECTURE.md, "Training jobs").
 *
 * The spec is versioned: a reader refuses a newer version with the version it found, and never
 * guesses at fields it does not know.
 */
import { EngineError } from '../errors';
import type { PromptConfig } from '../prompt/config';
import { parseTemplate } from '../prompt/template';
import { SMALL_DEV_ROWS } from '../util/stats';
import type { FineTunePlan, FineTuneSettings, MethodSpec } from '../studio/fine-tune';

/** Identifies a job.json among other JSON files. */
export const JOB_FORMAT = 'fewshot-studio-training-job';
/** FewShot Studio's version, written into job.json's createdBy (a test keeps it equal to package.json's). */
export const STUDIO_VERSION = '0.1.0';
/** Version this code writes and the newest it reads. */
export const JOB_VERSION = 1;

/** Where the run's starting weights come from. */
export type JobModel =
  /** A Hugging Face Hub repository at the exact commit the run loaded. */
  | { source: 'hub'; repo: string; revision: string; name: string }
  /** Weights shipped in the bundle (a dropped folder, the embedded model): a Hugging Face folder at `path`. */
  | { source: 'included'; path: string; bytes: number; name: string; origin: string };

export interface JobSpec {
  format: typeof JOB_FORMAT;
  version: number;
  /** ISO time the bundle was made. */
  created: string;
  createdBy: string;
  method: 'head' | 'prompt';
  /** Template and label words of the prompt method; null for the head method. */
  prompt: { template: string; verbalizer: Record<string, string[]> } | null;
  /** Class names in id order (config.json's id2label). */
  labels: string[];
  data: {
    /** CSV files relative to job.json, header `text,label` or `text,text_pair,label`. */
    train: string;
    dev: string;
    trainRows: number;
    devRows: number;
    /** Whether the rows have a second text (the `text_pair` column). */
    textPair: boolean;
  };
  /** Longest sequence in tokens, template and special tokens included. */
  maxLength: number;
  /** Longest text in tokens (what the user set or the data suggested). */
  textMaxLength: number;
  epochs: number;
  batchSize: number;
  gradAccumSteps: number;
  learningRate: number;
  /** 'linear': linear warmup to learningRate, then linear decay to 0 (HF `get_linear_schedule_with_warmup`). */
  schedule: 'linear';
  warmupRatio: number;
  weightDecay: number;
  /** AdamW moments and epsilon (torch.optim.AdamW defaults); no decay on biases and LayerNorm. */
  adam: { beta1: number; beta2: number; epsilon: number };
  maxGradNorm: number;
  seed: number;
  dropout: boolean;
  classWeights: 'balanced' | 'none';
  /** Evaluate on dev every N optimizer steps (and at the end). */
  evalEvery: number;
  /** Early-stop after N evaluations without improvement (0: off). */
  patience: number;
  /**
   * Restore the best-scoring evaluation's weights at the end; false keeps the last weights (a dev set
   * under SMALL_DEV_ROWS rows, where the best step is mostly luck: docs/ARCHITECTURE.md, "Training jobs").
   */
  keepBestCheckpoint: boolean;
  model: JobModel;
  /** The run the job was made from: its first losses, so a rerun can be compared step by step. */
  run: { id: string | null; losses: { step: number; loss: number }[]; bestDevAccuracy: number | null } | null;
}

/** AdamW settings of our optimizer (engine/train/optim.ts defaults). */
const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } as const;
/** How many of the run's first losses job.json keeps for comparison. */
export const JOB_KEPT_LOSSES = 20;

export interface MakeJobSpecOptions {
  plan: FineTunePlan;
  model: JobModel;
  createdBy: string;
  run?: { id: string | null; losses: readonly { step: number; loss: number }[]; bestDevAccuracy: number | null };
  now?: Date;
}

/** The job of a planned (or finished) run. */
export function makeJobSpec(options: MakeJobSpecOptions): JobSpec {
  const { plan } = options;
  if (plan.method === 'setfit')
    throw new EngineError(
      'JOB_METHOD_UNSUPPORTED',
      'A training job replays the classifier-head and prompt methods; SetFit runs are not exported as jobs yet. Export the trained model instead.',
    );
  const s = plan.settings;
  const rows = [...plan.trainExamples, ...plan.devExamples];
  return {
    format: JOB_FORMAT,
    version: JOB_VERSION,
    created: (options.now ?? new Date()).toISOString(),
    createdBy: options.createdBy,
    method: plan.method,
    prompt: plan.prompt
      ? {
          template: plan.prompt.template,
          verbalizer: Object.fromEntries(
            Object.entries(plan.prompt.verbalizer).map(([label, words]) => [
              label,
              typeof words === 'string' ? [words] : [...words],
            ]),
          ),
        }
      : null,
    labels: [...plan.labels],
    data: {
      train: 'data/train.csv',
      dev: 'data/dev.csv',
      trainRows: plan.trainExamples.length,
      devRows: plan.devExamples.length,
      textPair: rows.some((r) => r.textPair !== undefined && r.textPair !== null),
    },
    maxLength: plan.maxLength,
    textMaxLength: s.maxLength,
    epochs: s.epochs,
    batchSize: s.batchSize,
    gradAccumSteps: s.gradAccumSteps,
    learningRate: s.learningRate,
    schedule: 'linear',
    warmupRatio: s.warmupRatio,
    weightDecay: s.weightDecay,
    adam: { ...ADAM },
    maxGradNorm: s.maxGradNorm,
    seed: s.seed,
    dropout: s.dropout,
    classWeights: s.classWeights,
    evalEvery: s.evalEvery,
    patience: s.patience,
    keepBestCheckpoint: plan.devExamples.length >= SMALL_DEV_ROWS,
    model: options.model,
    run: options.run
      ? {
          id: options.run.id,
          losses: options.run.losses.slice(0, JOB_KEPT_LOSSES).map((l) => ({ step: l.step, loss: l.loss })),
          bestDevAccuracy: options.run.bestDevAccuracy,
        }
      : null,
  };
}

/** The method and settings that make our own trainer run the job (nothing left on "auto"). */
export function jobTrainingSetup(spec: JobSpec): { method: MethodSpec; settings: FineTuneSettings } {
  const method: MethodSpec =
    spec.method === 'prompt' && spec.prompt
      ? { kind: 'prompt', template: spec.prompt.template, verbalizer: spec.prompt.verbalizer }
      : { kind: 'head' };
  return {
    method,
    settings: {
      epochs: spec.epochs,
      batchSize: spec.batchSize,
      gradAccumSteps: spec.gradAccumSteps,
      learningRate: spec.learningRate,
      maxLength: spec.textMaxLength,
      seed: spec.seed,
      weightDecay: spec.weightDecay,
      warmupRatio: spec.warmupRatio,
      maxGradNorm: spec.maxGradNorm,
      classWeights: spec.classWeights,
      evalEvery: spec.evalEvery,
      patience: spec.patience,
      dropout: spec.dropout,
    },
  };
}

/** The prompt config a job's model keeps (config.json `fewshot_prompt`). */
export function jobPrompt(spec: JobSpec): PromptConfig | null {
  return spec.prompt ? { template: spec.prompt.template, verbalizer: spec.prompt.verbalizer } : null;
}

type Json = Record<string, unknown>;

/**
 * Reads and validates a job.json. Throws JOB_BAD_SPEC naming the field and what was expected,
 * JOB_NEWER_VERSION for a spec written by a newer studio.
 */
export function parseJobSpec(text: string, fileName = 'job.json'): JobSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new EngineError(
      'JOB_BAD_SPEC',
      `${fileName} is not valid JSON (${(error as Error).message}). Export the job again from the studio or \`fewshot train --job-out\`.`,
    );
  }
  const bad = (field: string, expected: string): never => {
    throw new EngineError('JOB_BAD_SPEC', `${fileName}: "${field}" must be ${expected}.`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('(top level)', 'a JSON object');
  const o = raw as Json;
  if (o.format !== JOB_FORMAT)
    throw new EngineError(
      'JOB_BAD_SPEC',
      `${fileName} is not a FewShot Studio training job (its "format" is ${JSON.stringify(o.format ?? null)}, expected "${JOB_FORMAT}").`,
    );
  if (typeof o.version !== 'number' || !Number.isInteger(o.version) || o.version < 1)
    return bad('version', 'a positive integer');
  if (o.version > JOB_VERSION)
    throw new EngineError(
      'JOB_NEWER_VERSION',
      `${fileName} is a version ${o.version} training job; this version of FewShot Studio reads versions up to ${JOB_VERSION}. Update FewShot Studio (npm install) or export the job again with this version.`,
    );
  const str = (v: unknown, field: string): string => (typeof v === 'string' ? v : bad(field, 'a string'));
  const num = (v: unknown, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number =>
    typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max
      ? v
      : bad(field, `a number in [${min}, ${max}]`);
  const int = (v: unknown, field: string, min: number): number =>
    Number.isInteger(v) && (v as number) >= min ? (v as number) : bad(field, `an integer ≥ ${min}`);
  const obj = (v: unknown, field: string): Json =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : bad(field, 'an object');

  const method = o.method === 'head' || o.method === 'prompt' ? o.method : bad('method', '"head" or "prompt"');
  if (!Array.isArray(o.labels) || o.labels.length < 2 || !o.labels.every((l) => typeof l === 'string' && l.length > 0))
    return bad('labels', 'a list of at least 2 label names');
  const labels = o.labels as string[];
  if (new Set(labels).size !== labels.length) return bad('labels', 'a list of distinct label names');
  let prompt: JobSpec['prompt'] = null;
  if (method === 'prompt') {
    const p = obj(o.prompt, 'prompt');
    const template = str(p.template, 'prompt.template');
    parseTemplate(template);
    const verbalizer = obj(p.verbalizer, 'prompt.verbalizer');
    const words: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
    for (const label of labels) {
      const list = verbalizer[label];
      if (!Array.isArray(list) || list.length === 0 || !list.every((w) => typeof w === 'string' && w.trim()))
        return bad(`prompt.verbalizer.${label}`, 'a non-empty list of label words');
      words[label] = [...(list as string[])];
    }
    const extra = Object.keys(verbalizer).filter((k) => !labels.includes(k));
    if (extra.length > 0) return bad('prompt.verbalizer', `keyed by the labels only (not ${extra.join(', ')})`);
    prompt = { template, verbalizer: { ...words } };
  }
  const data = obj(o.data, 'data');
  const relativePath = (v: unknown, field: string) => {
    const path = str(v, field);
    if (path.startsWith('/') || path.split(/[\\/]/).includes('..') || /^[a-z]:/i.test(path))
      return bad(field, 'a path inside the bundle (no "..", not absolute)');
    return path;
  };
  const m = obj(o.model, 'model');
  let model: JobModel;
  if (m.source === 'hub') {
    model = {
      source: 'hub',
      repo: str(m.repo, 'model.repo'),
      revision: str(m.revision, 'model.revision'),
      name: str(m.name, 'model.name'),
    };
  } else if (m.source === 'included') {
    model = {
      source: 'included',
      path: relativePath(m.path, 'model.path'),
      bytes: num(m.bytes, 'model.bytes', 0),
      name: str(m.name, 'model.name'),
      origin: str(m.origin, 'model.origin'),
    };
  } else return bad('model.source', '"hub" or "included"');
  const adam = obj(o.adam, 'adam');
  let run: JobSpec['run'] = null;
  if (o.run !== null && o.run !== undefined) {
    const r = obj(o.run, 'run');
    if (!Array.isArray(r.losses)) return bad('run.losses', 'a list');
    run = {
      id: r.id === null ? null : str(r.id, 'run.id'),
      losses: (r.losses as unknown[]).map((l, i) => {
        const entry = obj(l, `run.losses[${i}]`);
        return { step: int(entry.step, `run.losses[${i}].step`, 1), loss: num(entry.loss, `run.losses[${i}].loss`, 0) };
      }),
      bestDevAccuracy: r.bestDevAccuracy === null ? null : num(r.bestDevAccuracy, 'run.bestDevAccuracy', 0, 1),
    };
  }
  if (o.schedule !== 'linear') return bad('schedule', '"linear"');
  if (typeof o.dropout !== 'boolean') return bad('dropout', 'true or false');
  const classWeights =
    o.classWeights === 'balanced' || o.classWeights === 'none'
      ? o.classWeights
      : bad('classWeights', '"balanced" or "none"');
  return {
    format: JOB_FORMAT,
    version: o.version,
    created: str(o.created, 'created'),
    createdBy: str(o.createdBy, 'createdBy'),
    method,
    prompt,
    labels: [...labels],
    data: {
      train: relativePath(data.train, 'data.train'),
      dev: relativePath(data.dev, 'data.dev'),
      trainRows: int(data.trainRows, 'data.trainRows', 1),
      devRows: int(data.devRows, 'data.devRows', 0),
      textPair: typeof data.textPair === 'boolean' ? data.textPair : bad('data.textPair', 'true or false'),
    },
    maxLength: int(o.maxLength, 'maxLength', 4),
    textMaxLength: int(o.textMaxLength, 'textMaxLength', 1),
    epochs: int(o.epochs, 'epochs', 1),
    batchSize: int(o.batchSize, 'batchSize', 1),
    gradAccumSteps: int(o.gradAccumSteps, 'gradAccumSteps', 1),
    learningRate: num(o.learningRate, 'learningRate', 0, 1),
    schedule: 'linear',
    warmupRatio: num(o.warmupRatio, 'warmupRatio', 0, 1),
    weightDecay: num(o.weightDecay, 'weightDecay', 0, 1),
    adam: {
      beta1: num(adam.beta1, 'adam.beta1', 0, 1),
      beta2: num(adam.beta2, 'adam.beta2', 0, 1),
      epsilon: num(adam.epsilon, 'adam.epsilon', 0, 1),
    },
    maxGradNorm: num(o.maxGradNorm, 'maxGradNorm', 0),
    seed: int(o.seed, 'seed', 0),
    dropout: o.dropout,
    classWeights,
    evalEvery: int(o.evalEvery, 'evalEvery', 1),
    patience: int(o.patience, 'patience', 0),
    keepBestCheckpoint:
      typeof o.keepBestCheckpoint === 'boolean' ? o.keepBestCheckpoint : bad('keepBestCheckpoint', 'true or false'),
    model,
    run,
  };
}
