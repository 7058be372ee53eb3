/**
 * Training-step benchmark: the one loop's step function (`trainStep`, train/loop.ts) exactly as the
 * studio trains (gradAccumSteps = 1: inputs → BERT forward with dropout → loss → `tf.variableGrads` →
 * AdamW with global-norm clipping), on synthetic batches of exactly `seqLen` tokens, timed and counted
 * (docs/ARCHITECTURE.md, "Performance"). Three steps (`objective`): the classifier head (softmax
 * cross-entropy on the pooled output), the prompt method (the MLM head at one [MASK] per row, cross-
 * entropy over the verbalizer's words) and MLM pretraining (15 % of the tokens masked, cross-entropy
 * over the vocabulary at the gathered masked positions). `kernels` picks our WebGPU kernels or the
 * stock ops (kernels/mode.ts) for the case, so the two compare in one run.
 *
 * Protocol:
 * 1. Fresh parameters (`initBertParams`) and optimizer; `warmupSteps` steps (pipelines compile, the
 *    buffer pool fills). Memory snapshot A.
 * 2. `steps` timed steps. Each step is timed from its start until its loss has been read back
 *    (`await loss.data()`), so the time includes GPU completion; mean = window / steps. That one
 *    sync readback per step belongs to the measurement and is NOT in the counts (counting is paused
 *    around it); the trainer itself reads the loss asynchronously every `lossReadEvery` (4) steps.
 *    Any readback in the counts is therefore one the step makes on its own (a bug on webgpu).
 * 3. Memory snapshot B: live tensors and bytes (and on webgpu the buffer pool) must equal A.
 *
 * Pure engine code: the caller has already picked the backend (Node: `initNodeBackend`; browser
 * worker: `initBestBackend`). Returns a plain JSON-serialisable object.
 */
import * as tf from '@tensorflow/tfjs';
import { bertPreset, countParameters, type BertConfig, type BertPresetName } from '../bert/config';
import { disposeBertParams, initBertParams, type BertParams } from '../bert/params';
import { namedParams } from '../bert/params';
import { setKernelMode, kernelMode, type KernelMode } from '../kernels/mode';
import { ClassifierObjective } from '../methods/classifier';
import { maskedBatchTensors, maskedLmLoss } from '../methods/mlm';
import { PromptObjective } from '../methods/prompt';
import { maskBatch, type MaskedBatch } from '../pretrain/masking';
import type { PromptExample } from '../prompt/zero-shot';
import type { TrainingObjective } from '../train/objective';
import { Rng } from '../util/rng';
import { makeBatches, type Batch, type EncodedExample } from '../train/batches';
import { DEFAULT_MAX_GRAD_NORM, DEFAULT_WEIGHT_DECAY } from '../train/defaults';
import { dropoutSeedFor, trainStep } from '../train/loop';
import { AdamW } from '../train/optim';
import {
  Counters,
  diffCounts,
  emptyCounts,
  memorySnapshot,
  type CountSnapshot,
  type MemorySnapshot,
} from './instrument';

/** Which training step a case times. */
export type BenchObjective = 'classifier' | 'prompt' | 'mlm';

export const BENCH_OBJECTIVES: readonly BenchObjective[] = ['classifier', 'prompt', 'mlm'];

/** A case's name: `<preset>-b<batch>-t<seq>`, with `-prompt` / `-mlm` for those steps. */
export function benchCaseName(preset: string, batchSize: number, seqLen: number, objective: BenchObjective): string {
  return `${preset}-b${batchSize}-t${seqLen}${objective === 'classifier' ? '' : `-${objective}`}`;
}

export interface TrainStepBenchOptions {
  preset: BertPresetName;
  /** The step timed. Default 'classifier'. */
  objective?: BenchObjective;
  /** Our WebGPU kernels ('fused') or TensorFlow.js's stock ops; only webgpu tells them apart. Default 'fused'. */
  kernels?: KernelMode;
  /** Examples per step. */
  batchSize: number;
  /** Tokens per example, special tokens included; every example has exactly this many (no padding). */
  seqLen: number;
  /** Timed steps (at least 1). */
  steps: number;
  /** Untimed steps first (compile pipelines, fill the buffer pool). Default 2. */
  warmupSteps?: number;
  /** Vocabulary size; default the preset's (30,522, bert-base's). Tests use small ones (speed). */
  vocabSize?: number;
  /** Classifier outputs. Default 2. */
  numLabels?: number;
  /** Dropout on, as in training. Default true. */
  dropout?: boolean;
  /** Seed of weights, data and dropout. Default 0. */
  seed?: number;
  /**
   * Soft budget for the whole case (setup + warm-up + timed), ms. After warm-up the timed steps are
   * cut to what fits at the last warm-up step's pace (never below 1); the cut is recorded.
   */
  timeBudgetMs?: number;
  /** Progress lines (e.g. "warmup 1/2: 2310 ms"). */
  onLog?: (message: string) => void;
}

/** Per-step means over the timed window (integers when every step did the same). */
export type PerStepCounts = CountSnapshot;

export interface TrainStepBenchResult {
  /** Result format version. */
  schema: 1;
  /** e.g. "tiny-b16-t64". */
  case: string;
  backend: string;
  objective: BenchObjective;
  /** The kernel setting the case ran with (the same ops on cpu/wasm either way). */
  kernels: KernelMode;
  preset: BertPresetName;
  batchSize: number;
  seqLen: number;
  warmupSteps: number;
  /** Timed steps actually run. */
  steps: number;
  requestedSteps: number;
  /** Why fewer steps than requested ran (time budget), else null. */
  stepsCut: string | null;
  dropout: boolean;
  model: {
    layers: number;
    hidden: number;
    heads: number;
    intermediate: number;
    vocab: number;
    parameters: number;
    trainableParameters: number;
  };
  /** Model FLOPs of one step (forward + backward matmuls/attention + AdamW), an estimate. */
  flopsPerStep: number;
  timing: {
    /** Each timed step, start → its loss read back. */
    stepMs: number[];
    medianMs: number;
    meanMs: number;
    minMs: number;
    maxMs: number;
    /** Sum of the timed steps. */
    windowMs: number;
    examplesPerSecond: number;
    /** Achieved model GFLOP/s (flopsPerStep / meanMs). */
    gflopsPerSecond: number;
    warmupMs: number[];
    /** Parameter init + optimizer allocation + batch building. */
    setupMs: number;
  };
  /** Mean counts per timed step (see instrument.ts for what each means on each backend). */
  perStep: PerStepCounts;
  /** True when every timed step had exactly the same counts (then perStep values are integers). */
  perStepExact: boolean;
  /** Counts of the first warm-up step (pipeline compiles, pool misses). */
  firstStep: CountSnapshot;
  shapes: {
    /** Distinct kernel output shapes (`dtype[dims]`) in the timed window. */
    distinct: number;
    /** Shapes in the timed window never seen during warm-up (should be 0). */
    newAfterWarmup: number;
  };
  memory: {
    afterWarmup: MemorySnapshot;
    afterSteps: MemorySnapshot;
    /** Live tensors, tensor bytes and (webgpu) pool bytes/buffers unchanged over the timed steps. */
    flat: boolean;
    /** Compiled pipelines added during the timed window (webgpu; should be 0). */
    newPipelines: number | null;
  };
  /** First warm-up loss and last timed loss (sanity: finite, around ln(numLabels) at init). */
  loss: { first: number; last: number };
  /** Which instrumentation hooks were installed. */
  hooks: string[];
}

/** Model FLOPs of one training step (multiply-add = 2 FLOPs; backward ≈ 2× forward). */
export function estimateTrainStepFlops(config: BertConfig, batchSize: number, seqLen: number, numLabels = 2): number {
  const H = config.hidden_size,
    I = config.intermediate_size,
    L = config.num_hidden_layers;
  const N = batchSize * seqLen;
  const layerMatmuls = 2 * N * (4 * H * H + 2 * H * I); // q, k, v, out; ffn in + out
  const attention = 2 * 2 * batchSize * seqLen * seqLen * H; // scores + context
  const heads = 2 * batchSize * (H * H + H * numLabels); // pooler + classifier
  const forward = L * (layerMatmuls + attention) + heads;
  const trainable = countParameters({ ...config, num_labels: numLabels }) - (H * H + 3 * H + config.vocab_size); // minus MLM head
  const adamw = 12 * trainable; // moments, bias correction, decay, update, clipping norm
  return 3 * forward + adamw;
}

/** Deterministic synthetic examples of exactly `seqLen` tokens: [CLS] random ids [SEP]. */
function syntheticExamples(
  count: number,
  seqLen: number,
  vocab: number,
  numLabels: number,
  seed: number,
): EncodedExample[] {
  let state = (seed * 2654435761 + 12345) >>> 0;
  const rand = (n: number) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
  const lo = vocab > 2000 ? 1000 : 4; // skip the special tokens of the bert-base vocab (or [PAD] … of a small one)
  return Array.from({ length: count }, (_, i) => {
    const ids = new Array<number>(seqLen);
    for (let t = 0; t < seqLen; t++) ids[t] = lo + rand(Math.max(1, vocab - lo));
    ids[0] = Math.min(101, vocab - 1); // [CLS]
    if (seqLen > 1) ids[seqLen - 1] = Math.min(102, vocab - 1); // [SEP]
    return { inputIds: ids, label: i % numLabels };
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const sameCounts = (a: CountSnapshot, b: CountSnapshot) =>
  (Object.keys(a) as (keyof CountSnapshot)[]).every((k) => a[k] === b[k]);

function memoryFlat(a: MemorySnapshot, b: MemorySnapshot): boolean {
  return (
    a.numTensors === b.numTensors &&
    a.numBytes === b.numBytes &&
    a.numDataBuffers === b.numDataBuffers &&
    a.gpuBytesUsed === b.gpuBytesUsed &&
    a.gpuBytesAllocated === b.gpuBytesAllocated &&
    a.gpuBuffersUsed === b.gpuBuffersUsed &&
    a.gpuBuffersFree === b.gpuBuffersFree
  );
}

/** The objective a case trains and the batches it cycles through (all built before the timing). */
interface StepObjective<TBatch = unknown> {
  objective: Pick<TrainingObjective<TBatch, unknown>, 'lossFor' | 'parameters'>;
  batches: TBatch[];
  dispose(): void;
}

/**
 * The step of `kind` on the synthetic examples: the studio's classifier and prompt objectives as they
 * train, and the pretraining loss on masked copies of the examples (masking.ts, 15 % of the tokens).
 */
function makeStepObjective(
  kind: BenchObjective,
  params: BertParams,
  config: BertConfig,
  labels: string[],
  examples: EncodedExample[],
  batches: Batch[],
  settings: { epochs: number; batchSize: number; learningRate: number; maxLength: number; seed: number },
  seed: number,
): StepObjective {
  const V = config.vocab_size;
  const maskId = Math.min(103, V - 1); // [MASK] in the bert-base vocab
  if (kind === 'classifier') {
    const objective = new ClassifierObjective(params, config, labels, examples, [], settings);
    return { objective, batches, dispose: () => objective.dispose() };
  }
  if (kind === 'prompt') {
    // "{text} [MASK] [SEP]": the [MASK] just before the final [SEP]; one verbalizer word per label.
    const promptExamples: PromptExample[] = examples.map((e) => {
      const inputIds = Array.from(e.inputIds);
      const maskPosition = Math.max(1, inputIds.length - 2);
      inputIds[maskPosition] = maskId;
      return { ...e, inputIds, maskPosition };
    });
    const wordIds = labels.map((_, i) => Math.max(0, V - 1 - i)); // distinct ordinary tokens
    const verbalizer = {
      labels,
      words: labels.map((l) => [l.toLowerCase()]),
      wordIds,
      wordLabel: labels.map((_, i) => i),
      warnings: [],
    };
    const objective = new PromptObjective(params, config, verbalizer, promptExamples, [], settings);
    return {
      objective,
      batches: batches.map((batch) => ({ batch, aux: null })),
      dispose: () => objective.dispose(),
    };
  }
  const special = new Set([0, Math.min(101, V - 1), Math.min(102, V - 1), maskId]);
  const pool = Array.from({ length: V }, (_, id) => id).filter((id) => !special.has(id));
  const vocab = {
    maskId,
    padId: 0,
    vocabSize: V,
    special,
    isContinuation: new Uint8Array(V),
    randomPool: Int32Array.from(pool),
  };
  const rng = new Rng(seed).fork('masking');
  const masked: MaskedBatch[] = batches.map((batch) =>
    maskBatch(
      Array.from(batch.indices, (i) => Array.from(examples[i].inputIds)),
      batch.seqLen,
      vocab,
      rng,
    ),
  );
  const parameters = namedParams(params, config).filter((p) => p.group === 'encoder' || p.group === 'mlm');
  const objective = {
    parameters,
    lossFor: (batch: MaskedBatch, context: { training: boolean; dropoutSeed?: number }) => {
      const inputs = maskedBatchTensors(batch);
      return () => maskedLmLoss(params, config, inputs, context).loss;
    },
  };
  return { objective: objective as StepObjective['objective'], batches: masked, dispose: () => {} };
}

/** Runs one benchmark case on the active backend. Frees everything it allocated. */
export async function benchmarkTrainStep(options: TrainStepBenchOptions): Promise<TrainStepBenchResult> {
  const { preset, batchSize, seqLen } = options;
  const warmupSteps = Math.max(0, options.warmupSteps ?? 2);
  const requestedSteps = Math.max(1, Math.floor(options.steps));
  const numLabels = options.numLabels ?? 2;
  const dropout = options.dropout ?? true;
  const seed = options.seed ?? 0;
  const log = options.onLog ?? (() => {});
  const id2label = Object.fromEntries(Array.from({ length: numLabels }, (_, i) => [String(i), `LABEL_${i}`]));
  const config = bertPreset(preset, {
    ...(options.vocabSize ? { vocab_size: options.vocabSize } : {}),
    id2label,
    max_position_embeddings: Math.max(seqLen, preset === 'micro' ? 128 : 512),
  });
  const backend = tf.getBackend();
  const objectiveKind = options.objective ?? 'classifier';
  const kernels = options.kernels ?? 'fused';
  const caseName = benchCaseName(preset, batchSize, seqLen, objectiveKind);
  const kernelsBefore = kernelMode();
  setKernelMode(kernels);

  const started = performance.now();
  const params: BertParams = initBertParams(config, seed);
  const distinctBatches = Math.max(1, Math.min(4, warmupSteps + requestedSteps));
  const examples = syntheticExamples(distinctBatches * batchSize, seqLen, config.vocab_size, numLabels, seed);
  const batches: Batch[] = makeBatches(examples, {
    batchSize,
    maxLength: seqLen,
    padMultiple: 1,
    shuffle: false,
    seed,
  });
  const labels = Object.values(id2label);
  const settings = { epochs: 1, batchSize, learningRate: 5e-5, maxLength: seqLen, seed };
  const stepObjective = makeStepObjective(objectiveKind, params, config, labels, examples, batches, settings, seed);
  const optimizer = new AdamW(
    stepObjective.objective.parameters.map((p) => ({ name: p.name, variable: p.variable })),
    { weightDecay: DEFAULT_WEIGHT_DECAY, maxGradNorm: DEFAULT_MAX_GRAD_NORM },
  );
  const setupMs = performance.now() - started;
  let stepIndex = 0;

  /** One optimizer step of the training loop (one micro-batch); returns the kept loss. */
  const step = (): tf.Scalar => {
    const batch = stepObjective.batches[stepIndex % stepObjective.batches.length];
    const context = { training: dropout, dropoutSeed: dropout ? dropoutSeedFor(seed, stepIndex) : undefined };
    stepIndex += 1;
    return trainStep(stepObjective.objective, [batch], optimizer, settings.learningRate, context);
  };

  const counters = Counters.install();
  try {
    const before = counters.snapshot();
    let firstStep = emptyCounts();
    let firstLoss = NaN;
    const warmupMs: number[] = [];
    for (let i = 0; i < warmupSteps; i++) {
      const t0 = performance.now();
      const loss = step();
      if (i === 0) firstStep = diffCounts(counters.snapshot(), before);
      counters.pause();
      const value = (await loss.data())[0];
      counters.resume();
      loss.dispose();
      if (i === 0) firstLoss = value;
      warmupMs.push(performance.now() - t0);
      log(`${caseName} warmup ${i + 1}/${warmupSteps}: ${warmupMs[i].toFixed(0)} ms`);
    }
    const warmShapes = counters.shapeSet();
    counters.resetShapes();
    const afterWarmup = memorySnapshot();

    let steps = requestedSteps;
    let stepsCut: string | null = null;
    if (options.timeBudgetMs !== undefined && warmupMs.length > 0) {
      const spent = performance.now() - started;
      const pace = warmupMs[warmupMs.length - 1];
      const fit = Math.max(1, Math.floor((options.timeBudgetMs - spent) / Math.max(pace, 1e-3)));
      if (fit < steps) {
        stepsCut = `time budget ${(options.timeBudgetMs / 1000).toFixed(0)} s: ${fit} of ${requestedSteps} timed steps fit at ${pace.toFixed(0)} ms/step`;
        steps = fit;
        log(`${caseName}: ${stepsCut}`);
      }
    }

    const stepMs: number[] = [];
    const perStepCounts: CountSnapshot[] = [];
    const windowStart = counters.snapshot();
    let lastLoss = NaN;
    for (let i = 0; i < steps; i++) {
      const c0 = counters.snapshot();
      const t0 = performance.now();
      const loss = step();
      perStepCounts.push(diffCounts(counters.snapshot(), c0));
      counters.pause(); // the measurement's own sync readback is not part of the step
      lastLoss = (await loss.data())[0];
      if (Number.isNaN(firstLoss)) firstLoss = lastLoss;
      stepMs.push(performance.now() - t0);
      counters.resume();
      loss.dispose();
      log(`${caseName} step ${i + 1}/${steps}: ${stepMs[i].toFixed(0)} ms`);
    }
    const totals = diffCounts(counters.snapshot(), windowStart);
    const windowShapes = counters.shapeSet();
    const afterSteps = memorySnapshot();

    const perStep = emptyCounts();
    for (const key of Object.keys(perStep) as (keyof CountSnapshot)[]) perStep[key] = totals[key] / steps;
    const windowMs = stepMs.reduce((a, b) => a + b, 0);
    const meanMs = windowMs / steps;
    const flopsPerStep = estimateTrainStepFlops(config, batchSize, seqLen, numLabels);
    const parameters = countParameters({ ...config, num_labels: numLabels });
    return {
      schema: 1,
      case: caseName,
      backend,
      objective: objectiveKind,
      kernels,
      preset,
      batchSize,
      seqLen,
      warmupSteps,
      steps,
      requestedSteps,
      stepsCut,
      dropout,
      model: {
        layers: config.num_hidden_layers,
        hidden: config.hidden_size,
        heads: config.num_attention_heads,
        intermediate: config.intermediate_size,
        vocab: config.vocab_size,
        parameters,
        trainableParameters: stepObjective.objective.parameters.reduce((n, p) => n + p.variable.size, 0),
      },
      flopsPerStep,
      timing: {
        stepMs,
        medianMs: median(stepMs),
        meanMs,
        minMs: Math.min(...stepMs),
        maxMs: Math.max(...stepMs),
        windowMs,
        examplesPerSecond: (batchSize * steps) / (windowMs / 1000),
        gflopsPerSecond: flopsPerStep / (meanMs / 1000) / 1e9,
        warmupMs,
        setupMs,
      },
      perStep,
      perStepExact: perStepCounts.every((c) => sameCounts(c, perStepCounts[0])),
      firstStep,
      shapes: {
        distinct: windowShapes.size,
        newAfterWarmup: [...windowShapes].filter((s) => !warmShapes.has(s)).length,
      },
      memory: {
        afterWarmup,
        afterSteps,
        flat: memoryFlat(afterWarmup, afterSteps),
        newPipelines:
          afterWarmup.pipelines === null || afterSteps.pipelines === null
            ? null
            : afterSteps.pipelines - afterWarmup.pipelines,
      },
      loss: { first: firstLoss, last: lastLoss },
      hooks: [...counters.hooks],
    };
  } finally {
    counters.uninstall();
    optimizer.dispose();
    stepObjective.dispose();
    disposeBertParams(params, config);
    setKernelMode(kernelsBefore);
  }
}
