/**
 * The door into the engine (docs/ARCHITECTURE.md, "The door"): every operation the worker and the
 * CLI need — bring up a backend, load a model, parse and summarise a dataset, plan and run
 * fine-tuning by method, adapt, zero-shot, suggest prompts, predict (texts or a whole file),
 * fill-mask, embed, map the embeddings, export — and the types that travel with them. The worker and the CLI import
 * only this module (and ./node.ts for file access in Node); ESLint enforces it. Browser-safe.
 */
export { EngineError, fileErrorReason } from '../errors';

// Backend and self-test.
export {
  describeCapability,
  destroyGpuDeviceForTest,
  initBestBackend,
  isGpuDeviceLost,
  rebuildBackend,
  reportWebGpuError,
  takeWebGpuErrors,
  watchGpuDevice,
  type BackendName,
  type CapabilityReport,
  type LimitsReport,
  type WasmPaths,
} from '../backend';
export { runSelfTest, type SelfTestResult } from '../selftest';
export { KERNEL_MODES, kernelMode, setKernelMode, type KernelMode } from '../kernels/mode';

// Models.
export {
  DEFAULT_MAX_LENGTH,
  FewShotModel,
  type FillMaskCandidate,
  type ModelSummary,
  type ModelWeightsSnapshot,
  type Prediction,
  type TextInput,
  type NearestExample,
  type SetFitExamples,
} from './fewshot-model';
export { hubCacheStatus, loadModel, type LoadProgress, type ModelSource } from './load';
export {
  BrowserDownloadCache,
  MemoryDownloadCache,
  hubFileUrl,
  listCachedHubModels,
  deleteCachedHubModel,
  clearHubCache,
  type CachedHubModel,
  type DownloadCache,
} from '../checkpoint';
export { BertTokenizer, type TruncationStrategy } from '../tokenizer';
export { formatBytes } from '../bert/config';

// Data.
export { parseDataset, type ParsedDatasetResult } from './data';
export type { Example } from '../data/dataset';
export type { DataIssue } from '../data/validate';
export type { ColumnMapping, DatasetSummary, DuplicateGroup, LengthStats, MappedExample } from '../data/types';
export { stratifiedFolds, type CrossValidationAdvice } from '../data/folds';

// Fine-tuning, adaptation, pretraining: methods on the one loop.
export {
  planFineTune,
  startFineTune,
  SETFIT_BATCH_PAIRS,
  SETFIT_HEAD_SOLVER,
  setfitLearningRate,
  type SetFitPlanPart,
  type FineTuneData,
  type FineTunePlan,
  type FineTuneRun,
  type FineTuneSettings,
  type MethodSpec,
  type ResolvedSettings,
} from './fine-tune';
export { memoryLimitsFromAdapter, type MemoryLimits, type MemoryPlan } from './memory';
export {
  startAdaptation,
  type AdaptableModel,
  type AdaptationPlan,
  type AdaptOptions,
  type AdaptResult,
  type AdaptRun,
} from './adapt';
export {
  BERT_PRESETS,
  createModelFromPreset,
  initSinusoidalPositions,
  startPretraining,
  type MlmEvaluation,
  type PretrainOptions,
  type PretrainRun,
  type PretrainRunOptions,
} from './pretrain';
export type { CheckpointSaved, CheckpointStore } from '../train/checkpointer';
export type {
  EvaluationInfo,
  FinishReason,
  LoopCallbacks,
  LoopRunState,
  ProgressInfo,
  RunHooks,
  StepLoss,
  TrainingSummary,
} from '../train/loop';
export { deserializeLoopState, serializeLoopState, type LoopState } from '../train/loop-state';
export { formatConfusionMatrix, type Metrics } from '../train/metrics';
export { SMALL_DEV_ROWS, formatAccuracyWithInterval, wilsonInterval, type ProportionInterval } from '../util/stats';
export { DEFAULT_SEED } from '../train/defaults';

// Prompts.
export {
  evaluatePromptOn,
  suggestPrompts,
  defaultLabelWordsFor,
  trainingSplit,
  zeroShot,
  type SuggestPromptsParams,
  type SuggestPromptsResult,
  type ZeroShotParams,
  type ZeroShotResult,
} from './prompts';
export { defaultPrompt } from '../prompt/search';
export type { DefaultLabelWords } from '../prompt/label-words';
export { parseVerbalizerJson, type VerbalizerSpec } from '../prompt/verbalizer';
export type { PromptConfig } from '../prompt/config';

// The Data panel's map: embeddings laid out in two dimensions by PCA or UMAP.
export {
  MAX_MAP_ROWS,
  MIN_MAP_ROWS,
  UMAP_MAX_ROWS,
  embeddingMap,
  type EmbeddingMapMethod,
  type MapPhase,
  type EmbeddingMapOptions,
  type EmbeddingMapResult,
} from './embedding-map';
export { evaluateFile, evaluateModel, type EvaluateFileResult, type EvaluateOptions } from './evaluate';
export {
  DEFAULT_CV_FOLDS,
  MAX_CV_FOLDS,
  CrossValidationRun,
  planCrossValidation,
  startCrossValidation,
  summarizeFolds,
  type CrossValidationOptions,
  type CrossValidationPlan,
  type CrossValidationProgress,
  type CrossValidationResult,
  type FoldResult,
} from './cross-validate';

// Predictions for a file, export, the few-shot benchmark protocol.
export {
  csvField,
  predictFile,
  predictionCsvLines,
  type PredictFileOptions,
  type PredictFileProgress,
  type PredictFileResult,
} from './predict-file';
export { bundleFiles, exportBundle, type ExportBundleOptions } from './export';
export { LONG_RUN_SECONDS, estimateRun, type RunEstimate } from './probe';
// Training jobs: a run as a bundle for Hugging Face transformers, and job.json read back.
export {
  JOB_VERSION,
  STUDIO_VERSION,
  folderBytes,
  jobBundleFiles,
  jobTrainingSetup,
  makeJobSpec,
  parseJobSpec,
  type JobModel,
  type JobSpec,
} from '../job';
export {
  DEFAULT_FEWSHOT_METHODS,
  FEWSHOT_METHODS,
  meanStd,
  runFewShotMethod,
  sampleFewShot,
  subsampleTest,
  usesPrompt,
  type FewShotMethod,
  type LabeledExample,
} from './bench-fewshot';
