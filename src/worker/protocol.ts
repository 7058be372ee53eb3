/**
 * The typed, versioned message protocol between the UI (main thread) and the engine worker.
 *
 * Requests carry an id; the worker answers each with exactly one `result` or `error` message
 * carrying the same id. Unsolicited events (training progress, download progress, logs) use
 * `event`. Bump PROTOCOL_VERSION on any incompatible change: both sides check it.
 */
import type { CapabilityReport } from '../engine/backend';
import type { SelfTestResult } from '../engine/selftest';
import type { FillMaskCandidate, ModelSummary, Prediction, TextInput } from '../engine/pipeline/fewshot-model';
import type { FineTuneOverrides, MemoryPlan } from '../engine/pipeline/fine-tune';
import type { DataIssue } from '../engine/data/validate';
import type { Example } from '../engine/data/dataset';
import type { Metrics } from '../engine/train/metrics';
import type { TrainingSummary } from '../engine/train/trainer';

export const PROTOCOL_VERSION = 1;

/** The capability report plus its one-line summary for the header badge. */
export type HelloResult = CapabilityReport & { summary: string };

/** Where a model comes from. */
export type ModelSource =
  /** A folder of static files on the studio's own origin (the embedded default model). */
  | { kind: 'url'; baseUrl: string; name: string }
  /** A Hugging Face Hub repository (or a mirror with the same URL layout). */
  | { kind: 'hub'; repo: string; revision?: string; baseUrl?: string }
  /** Files of a dropped or picked folder. */
  | { kind: 'files'; files: File[]; name: string };

/** What the UI learns about a training run when it starts. */
/** Classifier head on [CLS] (default), or LM-BFF prompt fine-tuning through the MLM head. */
export type TrainingMethod =
  { kind: 'head' } | { kind: 'prompt'; template: string; verbalizer: Record<string, string[]> };

export interface TrainingPlan {
  method: TrainingMethod['kind'];
  /** Template / verbalizer warnings for the prompt method. */
  promptWarnings: string[];
  labels: string[];
  trainCount: number;
  devCount: number;
  autoSplit: boolean;
  totalSteps: number;
  epochs: number;
  batchSize: number;
  gradAccumSteps: number;
  learningRate: number;
  maxLength: number;
  seed: number;
  truncated: { train: number; dev: number };
  issues: DataIssue[];
  splitNotes: string[];
  memory: MemoryPlan;
  /** Dev rows as used (texts + labels), so the UI can show examples behind metric cells. */
  devExamples: Example[];
}

/** Column roles in a dataset file. */
export interface DatasetColumnMapping {
  text: string;
  textPair: string | null;
  label: string | null;
}

/** One mapped dataset row (row = 1-based data-row number in the file). */
export interface DatasetExample {
  text: string;
  textPair?: string;
  label: string | null;
  row: number;
}

/** A parsed dataset file, ready for the data panel. */
export interface ParsedDatasetResult {
  fileName: string;
  format: string;
  columns: string[];
  /** The mapping used: the one passed in, or the detected one. */
  mapping: DatasetColumnMapping;
  /** Why each column was chosen (empty when the mapping was given). */
  reasons: string[];
  examples: DatasetExample[];
  warnings: string[];
  /** Token count per example with the session model's tokenizer; null when no model is loaded. */
  tokenLengths: number[] | null;
}

/** A cloze prompt asked without training: `{text} It was [MASK].` plus label words per class. */
export interface ZeroShotParams {
  template: string;
  /** Label → one or more label words, in label order. */
  verbalizer: Record<string, string[]>;
  /** Divide by the label-word prior measured on a content-free input ("calibrate before use"). */
  calibrate: boolean;
  /** Texts to score (the playground box). */
  inputs: TextInput[];
  /** Labeled rows: the prompt is also scored on the dev split training would use (20 %, this seed). */
  labeled: Example[] | null;
  /** Seed of the dev split; the Train panel's seed, so both score the same rows. Default 42. */
  seed?: number;
}

export interface ZeroShotResult {
  labels: string[];
  predictions: Prediction[];
  /** Template / verbalizer warnings (unknown words, label words split into pieces). */
  warnings: string[];
  /** Accuracy of the prompt on the dev split, or null without labeled data. */
  evaluation: { accuracy: number; macroF1: number; n: number; autoSplit: boolean } | null;
  /** Why there is no evaluation although labeled rows were given. */
  evaluationNote: string | null;
}

/** "Adapt to my texts": continued masked-language-model pretraining on the loaded texts. */
export interface AdaptParams {
  /** Texts (labeled and unlabeled rows alike; labels are not used). */
  texts: string[];
  /** Optimizer steps. */
  steps: number;
  /** Peak learning rate; default 1e-4 (continued pretraining of a pretrained encoder). */
  learningRate?: number;
  seed?: number;
}

export interface AdaptPlan {
  steps: number;
  batchSize: number;
  maxLength: number;
  /** Packed training sequences and held-out sequences (every 10th, for the before/after score). */
  sequences: number;
  heldOut: number;
  learningRate: number;
}

export interface AdaptResult {
  plan: AdaptPlan;
  stepsDone: number;
  reason: 'completed' | 'stopped';
  /** Held-out MLM loss / accuracy on the user's own texts before and after adaptation. */
  before: { loss: number; accuracy: number };
  after: { loss: number; accuracy: number };
}

/** Prompt suggestions for the loaded labeled data (LM-BFF-style automatic search, simplified). */
export interface SuggestPromptsParams {
  /** Template the label words are searched for. */
  template: string;
  labeled: Example[];
  /** Seed of the train/dev split (the Train panel's). */
  seed?: number;
  /** Words per label. Default 8. */
  topK?: number;
}

export interface SuggestPromptsResult {
  labels: string[];
  /** Per label: words most probable at the [MASK] for that label's training rows and least for the others. */
  words: Record<string, { word: string; score: number }[]>;
  /** Library prompts for these labels (plus label-name words), ranked by zero-shot dev accuracy. */
  ranked: {
    template: string;
    verbalizer: Record<string, string[]>;
    accuracy: number;
    macroF1: number;
    error: string | null;
  }[];
  devCount: number;
}

/** Every request type with its parameters and result. */
export interface RequestMap {
  /** Bring up the backend (once) and report capabilities. */
  hello: { params: { backend: string | null }; result: HelloResult };
  /** Small matmul + softmax on the active backend, with timings. */
  selfTest: { params: Record<string, never>; result: SelfTestResult };
  /** Replace the session's model. Refused while training runs. */
  loadModel: { params: { source: ModelSource }; result: ModelSummary };
  /** Start fine-tuning the classifier head on labeled rows; events follow. */
  startTraining: {
    params: { train: Example[]; dev: Example[] | null; overrides: FineTuneOverrides; method?: TrainingMethod };
    result: TrainingPlan;
  };
  /** Continue MLM pretraining on the user's texts (task-adaptive pretraining); uses the training slot. */
  startAdapt: { params: AdaptParams; result: AdaptPlan };
  pauseTraining: { params: Record<string, never>; result: { state: string } };
  resumeTraining: { params: Record<string, never>; result: { state: string } };
  /** Stops at the next step boundary; the best weights are kept. Resolves when stopped. */
  stopTraining: { params: Record<string, never>; result: { state: string } };
  /** Classifier probabilities, with the weights as they are now (also during training). */
  /** `trainingStep`: optimizer steps taken by the running training when the answer was computed (null when none runs). */
  predict: {
    params: { inputs: TextInput[] };
    result: { labels: string[]; predictions: Prediction[]; trainingStep: number | null };
  };
  fillMask: { params: { text: string; topK: number }; result: FillMaskCandidate[][] };
  suggestPrompts: { params: SuggestPromptsParams; result: SuggestPromptsResult };
  /** Which Hub repos are already in the download cache. */
  hubCacheStatus: { params: { repos: string[]; baseUrl?: string }; result: Record<string, boolean> };
  /** Class probabilities through a cloze prompt on the MLM head (no training); works during training. */
  zeroShot: { params: ZeroShotParams; result: ZeroShotResult };
  embed: { params: { inputs: TextInput[] }; result: number[][] };
  /** The model as a Hugging Face folder: file name → bytes. */
  exportModel: { params: { dtype: 'F32' | 'F16' }; result: { files: Record<string, Uint8Array> } };
  /** Parse a CSV/TSV/JSONL file, detect (or apply) the column mapping, count tokens. */
  parseDataset: {
    params: { bytes: Uint8Array; fileName: string; mapping?: DatasetColumnMapping };
    result: ParsedDatasetResult;
  };
  /** Test builds only: make the worker die with an uncaught error, to exercise crash recovery. */
  debugCrash: { params: { message: string }; result: never };
}

export type RequestType = keyof RequestMap;

/** A request as posted to the worker. */
export type WorkerRequest = {
  [K in RequestType]: { v: typeof PROTOCOL_VERSION; id: number; type: K; params: RequestMap[K]['params'] };
}[RequestType];

/** Stable error codes; the UI picks its wording and recovery action by code. */
export type ErrorCode = 'BAD_REQUEST' | 'PROTOCOL_VERSION' | 'NOT_READY' | 'BUSY_TRAINING' | 'INTERNAL' | (string & {}); // engine codes (EngineError.code) pass through unchanged

/** Streaming events not tied to a request. */
export type WorkerEventPayload =
  | { kind: 'log'; level: 'info' | 'warn'; message: string }
  | { kind: 'download'; file: string; loaded: number; total: number | null }
  | {
      kind: 'progress';
      step: number;
      totalSteps: number;
      epoch: number;
      epochs: number;
      /** Every loss read back since the previous progress event (none are dropped by throttling). */
      losses: { step: number; loss: number }[];
      learningRate: number;
      examplesPerSecond: number;
      etaSeconds: number;
    }
  | { kind: 'evaluated'; step: number; epoch: number; isBest: boolean; metrics: Metrics }
  | { kind: 'trainingState'; state: 'running' | 'paused' | 'stopping' | 'idle' }
  | { kind: 'trainingDone'; summary: TrainingSummary; model: ModelSummary }
  /** Adaptation (continued MLM pretraining on the user's texts) finished or was stopped. */
  | { kind: 'adaptDone'; result: AdaptResult }
  | { kind: 'trainingError'; code: string; message: string };

/** Everything the worker posts back. */
export type WorkerMessage =
  | { v: typeof PROTOCOL_VERSION; type: 'result'; id: number; request: RequestType; result: unknown }
  | { v: typeof PROTOCOL_VERSION; type: 'error'; id: number | null; code: ErrorCode; message: string }
  | { v: typeof PROTOCOL_VERSION; type: 'event'; event: WorkerEventPayload }
  | { v: typeof PROTOCOL_VERSION; type: 'ready' };

export function isWorkerRequest(value: unknown): value is WorkerRequest {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<WorkerRequest>;
  return typeof candidate.id === 'number' && typeof candidate.type === 'string' && typeof candidate.v === 'number';
}
