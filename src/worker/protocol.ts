/**
 * The typed, versioned message protocol between the UI (main thread) and the engine worker.
 *
 * Requests carry an id; the worker answers each with exactly one `result` or `error` message
 * carrying the same id. Unsolicited events (training progress, download progress, logs) use
 * `event`. Bump PROTOCOL_VERSION on any incompatible change: both sides check it.
 */
import type { ProjectRecord, RunHistory, StorageInfo } from './project-store';
import type {
  AdaptationPlan,
  AdaptResult,
  CachedHubModel,
  CapabilityReport,
  ColumnMapping,
  CrossValidationPlan,
  CrossValidationProgress,
  CrossValidationResult,
  EmbeddingMapMethod,
  EmbeddingMapResult,
  EvaluateFileResult,
  Example,
  MapPhase,
  FillMaskCandidate,
  FineTunePlan as EngineFineTunePlan,
  FineTuneSettings,
  LoopRunState,
  MethodSpec,
  Metrics,
  ModelSource,
  NearestExample,
  ModelSummary,
  ParsedDatasetResult,
  Prediction,
  PredictFileProgress,
  RunEstimate,
  SelfTestResult,
  SuggestPromptsParams,
  SuggestPromptsResult,
  TextInput,
  TrainingSummary,
  ZeroShotParams,
  ZeroShotResult,
} from '../engine/studio';

export type { ProjectRecord, StorageInfo };

export type {
  AdaptationPlan,
  AdaptResult,
  CachedHubModel,
  RunEstimate,
  ColumnMapping as DatasetColumnMapping,
  CrossValidationPlan,
  CrossValidationProgress,
  CrossValidationResult,
  EmbeddingMapResult,
  EvaluateFileResult,
  Example,
  FineTuneSettings,
  MethodSpec,
  ModelSource,
  ParsedDatasetResult,
  SuggestPromptsParams,
  SuggestPromptsResult,
  ZeroShotParams,
  ZeroShotResult,
};

/**
 * Where a run's starting weights came from, recorded by the session when the run starts (a
 * training job needs it, docs/ARCHITECTURE.md "Training jobs"): 'tuned' — continued from weights
 * trained earlier in the studio; 'hub' — a Hub model at a commit; 'url' — a model folder served with
 * the studio (the embedded models); 'session' — weights only this page holds (a dropped folder or
 * zip, a model reopened from browser storage, an adapted model), named by a token that changes
 * whenever the base weights do.
 */
export type RunStart =
  | { kind: 'tuned' }
  | { kind: 'hub'; repo: string; revision: string; exact: boolean; baseUrl?: string; name: string }
  | { kind: 'url'; baseUrl: string; name: string }
  | { kind: 'session'; token: string; name: string; description: string };

/** The engine's plan of a run, with where the run started from (set by the session for new runs). */
export type FineTunePlan = EngineFineTunePlan & { start?: RunStart };

/** Version 2: one training door (settings as "auto" nulls, plans with resolved values), file predictions. */
export const PROTOCOL_VERSION = 2;

/** The capability report plus its one-line summary for the header badge. */
export type HelloResult = CapabilityReport & { summary: string };

/** One mapped dataset row (row = the row number a spreadsheet shows). */
export interface DatasetExample {
  text: string;
  textPair?: string;
  label: string | null;
  row: number;
}

/** What training needs: the rows, an optional dev set, the method and the user's settings (null = auto). */
export interface TrainingRequest {
  train: Example[];
  dev: Example[] | null;
  settings: FineTuneSettings;
  method: MethodSpec;
  /** Names the run in the project; with it, the session checkpoints the run so a reload can resume it. */
  runId?: string;
  /** Seconds between checkpoints (default 15; test builds use 0: at every loss readback). */
  checkpointEverySeconds?: number;
  /**
   * 'base' (default): the run starts from the weights the model had when loadModel/loadSavedModel
   * loaded it into this session, so runs never stack silently; 'current': from the weights as they
   * are now (continues the previous run's training). A continued checkpoint restores its own weights.
   */
  startFrom?: 'base' | 'current';
}

/**
 * k-fold cross-validation (docs/ARCHITECTURE.md, "Cross-validation"): the rows of a training
 * request (no dev set: the folds are the held-out rows), `folds` models each scored on its fold,
 * then the final model on all rows. `startFrom` as for a run: every fold starts from those weights.
 */
export type CrossValidationRequest = Omit<TrainingRequest, 'runId' | 'checkpointEverySeconds'> & { folds: number };

/** What the studio finds in browser storage at start. */
export interface LoadedProject {
  project: ProjectRecord | null;
  /** The newest run checkpoint (a run a reload interrupted), without its bytes. */
  checkpoint: {
    runId: string;
    step: number;
    savedAt: number;
    model: { name: string; source: string };
    /** The run's charts up to the checkpoint. */
    history: RunHistory;
  } | null;
  /** The model a finished run (or adaptation) left, kept so a reload reopens it (loadSavedModel). */
  savedModel: { name: string; runId: string | null; savedAt: number } | null;
  /** Runs whose models are kept (exportable from the runs list). */
  runModels: string[];
  storage: StorageInfo;
}

/** "Adapt to my texts": continued masked-language-model training on the loaded texts. */
export interface AdaptParams {
  /** Texts (labeled and unlabeled rows alike; labels are not used). */
  texts: string[];
  /** Optimizer steps. */
  steps: number;
  /** Peak learning rate; default 1e-4 (continued pretraining of a pretrained encoder). */
  learningRate?: number;
  seed?: number;
}

/** The predictions CSV of a whole file. */
export interface PredictFileResultMessage {
  fileName: string;
  csv: Uint8Array;
  rows: number;
  labels: string[];
  textColumn: string;
  warnings: string[];
}

/** Every request type with its parameters and result. */
export interface RequestMap {
  /** Bring up the backend (once) and report capabilities. */
  /** `kernels`: our own WebGPU kernels ('fused', default) or TensorFlow.js's stock ops ('stock'). */
  hello: { params: { backend: string | null; kernels?: 'fused' | 'stock' | null }; result: HelloResult };
  /** Small matmul + softmax on the active backend, with timings. */
  selfTest: { params: Record<string, never>; result: SelfTestResult };
  /** Replace the session's model. Refused while training runs. */
  loadModel: { params: { source: ModelSource }; result: ModelSummary };
  /** What a run would do with these rows and settings, every value resolved; starts nothing. */
  planTraining: { params: TrainingRequest; result: FineTunePlan };
  /**
   * How long the run would take here: its plan, and the encoder's forward and backward pass timed on
   * one real batch (nothing is updated). Waits for a running training's step boundary.
   */
  estimateTraining: { params: TrainingRequest; result: { estimate: RunEstimate; totalSteps: number } };
  /** Start fine-tuning by method; events follow. */
  startTraining: { params: TrainingRequest; result: FineTunePlan };
  /**
   * Start k-fold cross-validation in the training slot (pause / resume / stop as for a run);
   * `crossValidation` events say which fold runs, `crossValidationDone` gives the estimate, and
   * `trainingDone` follows for the final model trained on all rows.
   */
  startCrossValidation: { params: CrossValidationRequest; result: CrossValidationPlan };
  /** Continue MLM pretraining on the user's texts (task-adaptive pretraining); uses the training slot. */
  startAdapt: { params: AdaptParams; result: AdaptationPlan };
  /** Pause at the next step boundary (a `trainingState` event says when it happened). */
  pauseTraining: { params: Record<string, never>; result: { state: string } };
  resumeTraining: { params: Record<string, never>; result: { state: string } };
  /** Stops at the next step boundary; the best weights are kept. Resolves when stopped. */
  stopTraining: { params: Record<string, never>; result: { state: string } };
  /**
   * Class probabilities with the weights as they are now (also during training). `trainingStep`:
   * optimizer steps taken by the running training when the answer was computed (null when none runs).
   */
  predict: {
    params: { inputs: TextInput[] };
    result: {
      labels: string[];
      predictions: Prediction[];
      trainingStep: number | null;
      /** SetFit models trained in this session: the 3 most similar training examples per input (else null). */
      nearest: NearestExample[][] | null;
    };
  };
  /** Predictions for a whole file (CSV/TSV/JSONL, one text column is enough); `predictProgress` events follow. */
  predictFile: {
    params: { file: Blob | Uint8Array; fileName: string; textColumn?: string | null };
    result: PredictFileResultMessage;
  };
  /**
   * Metrics of the model as it is now on a labeled test file (CSV/TSV/JSONL, columns detected as in
   * the Data panel unless given); scored in chunks between training steps.
   */
  evaluateFile: {
    params: { file: Blob | Uint8Array; fileName: string; mapping?: ColumnMapping | null };
    result: EvaluateFileResult;
  };
  fillMask: { params: { text: string; topK: number }; result: FillMaskCandidate[][] };
  /** The loaded tokenizer's pieces and ids for `text` (no special tokens). */
  tokenize: { params: { text: string }; result: { tokens: string[]; ids: number[] } };
  suggestPrompts: { params: SuggestPromptsParams; result: SuggestPromptsResult };
  /** Which Hub repos are already in the download cache. */
  hubCacheStatus: { params: { repos: string[]; baseUrl?: string }; result: Record<string, boolean> };
  /** Hub models in the download cache under this Hub base URL (repo, commit, size), largest first. */
  hubCacheList: { params: { baseUrl?: string }; result: CachedHubModel[] };
  /**
   * Deletes the cached files of `repo` (at `commit`, or all its commits), or with no repo the whole download
   * cache; answers with the list as it is afterwards.
   */
  hubCacheDelete: { params: { repo?: string; commit?: string; baseUrl?: string }; result: CachedHubModel[] };
  /** Class probabilities through a cloze prompt on the MLM head (no training); works during training. */
  zeroShot: { params: ZeroShotParams; result: ZeroShotResult };
  embed: { params: { inputs: TextInput[] }; result: number[][] };
  /**
   * The Data panel's map (docs/ARCHITECTURE.md, "The embedding map"): every input's embedding with
   * the weights as they are now, laid out by PCA (default) or UMAP; embedded (and UMAP's neighbour
   * search and epochs run) in chunks between training steps and other requests, `mapProgress`
   * events follow. 3 to 20,000 inputs, 10,000 for UMAP (MAP_TOO_FEW_ROWS / MAP_TOO_MANY_ROWS
   * otherwise); `maxLength` as for training (default: embed's).
   */
  embeddingMap: {
    params: { inputs: TextInput[]; method?: EmbeddingMapMethod; maxLength?: number };
    result: EmbeddingMapResult;
  };
  /** The model as a zipped Hugging Face folder, with extra files (model card, metrics) beside it. */
  exportModel: {
    params: { dtype: 'F32' | 'F16'; extraFiles?: Record<string, Uint8Array>; folderName?: string };
    result: { zip: Uint8Array };
  };
  /** Parse a CSV/TSV/JSONL file, detect (or apply) the column mapping, summarise it. */
  parseDataset: {
    params: { bytes: Uint8Array; fileName: string; mapping?: ColumnMapping };
    result: ParsedDatasetResult;
  };
  /** The saved project, the newest run checkpoint and storage usage (at start). */
  loadProject: { params: Record<string, never>; result: LoadedProject };
  /** Merges fields into the saved project (dataset, model origin, UI settings, runs). */
  saveProject: { params: { patch: ProjectRecord }; result: { storage: StorageInfo } };
  /** Deletes the saved project and every checkpoint. */
  clearProject: { params: Record<string, never>; result: { storage: StorageInfo } };
  /** A run's kept model as a zipped Hugging Face folder. */
  exportRunModel: { params: { runId: string; extraFiles?: Record<string, Uint8Array> }; result: { zip: Uint8Array } };
  /**
   * A run as a training bundle for Hugging Face transformers (zip): job.json, the run's split,
   * train.py, and the starting weights when they are not on the Hub. Refused while training.
   */
  exportRunJob: {
    params: {
      runId: string;
      plan: FineTunePlan;
      losses: { step: number; loss: number }[];
      bestDevAccuracy: number | null;
    };
    result: { zip: Uint8Array; includedWeightBytes: number | null; model: string };
  };
  /** Deletes a run's checkpoint and model from browser storage. */
  deleteRun: { params: { runId: string }; result: { storage: StorageInfo } };
  /** Makes the trained model kept in browser storage the session's model again. */
  loadSavedModel: { params: Record<string, never>; result: ModelSummary };
  /** Puts back the weights the model had when it was loaded into this session ("base"). Refused while training. */
  resetToBase: { params: Record<string, never>; result: ModelSummary };
  /** Continues a checkpointed run from its step (same losses as if never interrupted); events follow. */
  continueRun: { params: { runId: string }; result: FineTunePlan };
  /** Test builds only: make the worker die with an uncaught error, to exercise crash recovery. */
  debugCrash: { params: { message: string }; result: never };
  /** Test builds only: destroy the GPU device, as a driver reset would lose it. */
  debugLoseDevice: { params: Record<string, never>; result: { destroyed: boolean } };
  /** Test builds only: the next storage write fails as a full quota would. */
  debugFailStorage: { params: Record<string, never>; result: Record<string, never> };
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
      /** Null until the pace after the first step is known. */
      etaSeconds: number | null;
      /** Seconds the run's first step took here (it also compiles the GPU programs). */
      firstStepSeconds: number | null;
    }
  | { kind: 'evaluated'; step: number; epoch: number; isBest: boolean; metrics: Metrics }
  /** Sent when the state really changes (a pause takes effect at the next step boundary). */
  | { kind: 'trainingState'; state: Exclude<LoopRunState, 'finished'> }
  | {
      kind: 'trainingDone';
      summary: TrainingSummary<Metrics>;
      model: ModelSummary;
      /** SetFit's second stage: the logistic-regression head fitted on the kept weights' embeddings. */
      setfitHead?: { iterations: number; converged: boolean } | null;
    }
  | ({ kind: 'predictProgress'; fileName: string } & PredictFileProgress)
  /**
   * The embedding map's progress: rows embedded so far (phase 'embed': once at 0, then after each
   * chunk), then for UMAP rows whose neighbours are found (phase 'neighbors') and layout epochs done
   * (phase 'layout').
   */
  | { kind: 'mapProgress'; done: number; total: number; phase: MapPhase }
  /** A run's checkpoint was written: a reload from here on can resume at `step`. */
  | { kind: 'checkpointSaved'; runId: string; step: number }
  /** The GPU device was lost; the backend and the model are being brought back. */
  | { kind: 'deviceLost'; message: string }
  /** The GPU device was lost and the backend brought up again (maybe another one). */
  | { kind: 'backendChanged'; capability: HelloResult }
  /** The model was loaded again after a lost device (its weights went with the device). */
  | { kind: 'modelReloaded'; model: ModelSummary }
  /** A run interrupted by a lost device continues from its checkpoint at `step`: losses after it are reported again. */
  | { kind: 'runRecovering'; runId: string; step: number; message: string }
  /** The trained model was kept in browser storage (after a run or an adaptation). */
  | { kind: 'modelSaved'; name: string; runId: string | null }
  /** Saving to browser storage failed (e.g. the quota is full); what was saved before is kept. */
  | { kind: 'storageError'; code: string; message: string }
  /** Adaptation (continued MLM pretraining on the user's texts) finished or was stopped. */
  | { kind: 'adaptDone'; result: AdaptResult }
  /** Cross-validation started a fold (or the final model), or scored one. */
  | { kind: 'crossValidation'; progress: CrossValidationProgress }
  /** Cross-validation's estimate (complete: false when stopped before every fold was scored). */
  | { kind: 'crossValidationDone'; result: CrossValidationResult }
  /** Whether the model's weights are the base weights (as loaded; after resetToBase) or were trained since. */
  | { kind: 'weightsState'; atBase: boolean }
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
