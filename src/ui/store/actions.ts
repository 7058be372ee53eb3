/**
 * Module-level actions: the bridge between the engine client and the store. Kept out of
 * components so worker events can update state without React.
 */
import type {
  ParsedDatasetResult,
  DatasetColumnMapping,
  MethodSpec,
  ModelSource,
  RunEstimate,
  TrainingRequest,
  WorkerEventPayload,
} from '../../worker/protocol';
import type { ModelSummary } from '../../engine/studio';
import { useStudio, type StudioState } from './index';
import { LONG_RUN_SECONDS, defaultLabelWords, formatDuration, mapLayoutFor, parseLabelWords } from './helpers';
import { EMBEDDED_MODELS, pickEmbeddedModel } from '../embeddedModels';
import { HUB_MODELS, hubBaseUrl } from '../hubModels';
import { buildModelCard, lossPlotSvg, metricsFiles } from './modelCard';
import { errorInfo, getClient, onEngineEvent } from './client';
import { keepDataset, keepModelOrigin, newRunId, restoreProject, startedRun, whileExporting } from './projectActions';

export { errorInfo, getClient };

onEngineEvent(handleEvent);

/** `?kernels=stock` runs TensorFlow.js's own ops instead of our WebGPU kernels (to compare them); else null. */
function kernelsFromUrl(): 'fused' | 'stock' | null {
  const value = new URLSearchParams(window.location.search).get('kernels');
  return value === 'stock' || value === 'fused' ? value : null;
}

/** Starts the worker and brings up the backend requested in the URL (`?backend=`). */
export async function startEngine(requestedBackend: string | null): Promise<void> {
  const { setEngine } = useStudio.getState();
  setEngine({ engineStatus: 'starting', requestedBackend, engineError: null });
  try {
    const capability = await getClient().request('hello', { backend: requestedBackend, kernels: kernelsFromUrl() });
    setEngine({ engineStatus: 'ready', capability });
    await runSelfTest();
    // The saved project first (its model, data, settings and runs); a new one starts on the default model.
    await restoreProject({
      loadModel,
      loadHubModel: (repo) => loadModel({ kind: 'hub', repo, baseUrl: hubBaseUrl() }, repo),
      loadSavedModel,
      loadDefaultModel,
      loadDataset: loadDatasetFile,
    });
    if (!useStudio.getState().model) await loadDefaultModel();
    await refreshHubCache();
  } catch (error) {
    if (useStudio.getState().engineStatus !== 'crashed')
      setEngine({ engineStatus: 'error', engineError: errorInfo(error) });
  }
}

export async function runSelfTest(): Promise<void> {
  const { setEngine } = useStudio.getState();
  setEngine({ selfTestStatus: 'running' });
  try {
    const selfTest = await getClient().request('selfTest', {});
    setEngine({ selfTest, selfTestStatus: 'done' });
  } catch (error) {
    setEngine({ selfTestStatus: 'error', engineError: errorInfo(error) });
  }
}

/** Brings a crashed engine back with the same backend request. */
export async function restartEngine(): Promise<void> {
  const { requestedBackend, setEngine } = useStudio.getState();
  setEngine({ capability: null, selfTest: null, selfTestStatus: 'idle' });
  useStudio.getState().setModel({ model: null, modelStatus: 'idle' });
  getClient().restart();
  await startEngine(requestedBackend);
}

/** Test builds only: crash the worker on purpose. */
export function crashEngineForTest(message: string): void {
  getClient()
    .request('debugCrash', { message })
    .catch(() => {});
}

// ---------------------------------------------------------------------------------------------
// Model, data, training, playground, export.

function handleEvent(event: WorkerEventPayload): void {
  const state = useStudio.getState();
  if (event.kind === 'download') {
    state.setModel({ download: { file: event.file, loaded: event.loaded, total: event.total } });
    return;
  }
  if (event.kind === 'weightsState') {
    state.setModel({ weightsAtBase: event.atBase });
    return;
  }
  if (event.kind === 'mapProgress') {
    if (state.mapStatus === 'running')
      state.setData({ mapProgress: { done: event.done, total: event.total, phase: event.phase } });
    return;
  }
  if (event.kind === 'predictProgress') {
    const job = state.fileJob;
    if (job && job.fileName === event.fileName && job.phase !== 'done' && job.phase !== 'failed')
      state.setEvaluate({ fileJob: { ...job, phase: event.phase, done: event.done, total: event.total } });
    return;
  }
  state.applyTrainingEvent(event);
  if (event.kind === 'trainingDone') {
    state.setModel({ model: event.model });
    state.setPlayground({ playLabels: event.model.labels });
  }
}

/** Loads a model; on failure the previous model stays and the error is shown in the model panel. */
export async function loadModel(source: ModelSource, displayName: string): Promise<boolean> {
  const ok = await replaceModel(displayName, () => getClient().request('loadModel', { source }));
  if (ok) keepModelOrigin(source, displayName);
  return ok;
}

/** Reopens the trained model kept in browser storage (a reload after a finished run). */
export function loadSavedModel(): Promise<boolean> {
  return replaceModel('the saved model', () => getClient().request('loadSavedModel', {}));
}

async function replaceModel(displayName: string, load: () => Promise<ModelSummary>): Promise<boolean> {
  const { setModel } = useStudio.getState();
  setModel({ modelStatus: 'loading', modelLoadingName: displayName, download: null, modelError: null });
  try {
    const model = await load();
    setModel({ model, modelStatus: 'ready', modelLoadingName: null, download: null });
    useStudio.getState().setPlayground({
      playLabels: model.labels,
      playPrediction: null,
      maskResults: null,
      playTokens: null,
    });
    // Token lengths depend on the tokenizer: recount the loaded data with the new one.
    const { dataset } = useStudio.getState();
    if (dataset) void remapDataset(dataset.mapping);
    return true;
  } catch (error) {
    setModel({ modelStatus: 'error', modelLoadingName: null, download: null, modelError: errorInfo(error) });
    return false;
  }
}

/** Puts back the weights the model had when it was loaded (the Model panel's "Reset to base model"). */
export async function resetToBaseModel(): Promise<string | null> {
  try {
    const model = await getClient().request('resetToBase', {});
    useStudio.getState().setModel({ model });
    useStudio.getState().setPlayground({ playLabels: model.labels, playPrediction: null, playTokens: null });
    return null;
  } catch (error) {
    return errorInfo(error).message;
  }
}

/** Asks the worker which picker repos are already downloaded (cache status in the Model panel). */
export async function refreshHubCache(): Promise<void> {
  try {
    const hubCached = await getClient().request('hubCacheStatus', {
      repos: HUB_MODELS.map((m) => m.repo),
      baseUrl: hubBaseUrl(),
    });
    useStudio.getState().setModel({ hubCached });
  } catch {
    /* status is a nicety; loading still works */
  }
}

/** Downloads (or reads from the cache) a Hub checkpoint and makes it the session's model. */
export async function loadHubModel(repo: string): Promise<boolean> {
  const ok = await loadModel({ kind: 'hub', repo, baseUrl: hubBaseUrl() }, repo);
  await refreshHubCache();
  return ok;
}

/** Loads a model shipped with the studio (public/models/<id>) from its own origin: no network. */
export function loadEmbeddedModel(id: string): Promise<boolean> {
  const baseUrl = new URL(`models/${id}/`, window.location.href).href;
  return loadModel({ kind: 'url', baseUrl, name: id }, id);
}

/** Loads the embedded model named by `?model=` (else the default one) from the studio's own origin. */
export async function loadDefaultModel(): Promise<boolean> {
  const { model, unknown } = pickEmbeddedModel(new URLSearchParams(window.location.search).get('model'));
  const ok = await loadEmbeddedModel(model.id);
  if (unknown !== null) {
    const known = EMBEDDED_MODELS.map((m) => m.id).join(', ');
    useStudio.getState().setModel({
      modelError: {
        code: 'UNKNOWN_EMBEDDED_MODEL',
        message: `?model=${unknown} is not an embedded model (${known}); loaded ${model.id} instead.`,
      },
    });
  }
  return ok;
}

/** Parses a dataset file in the worker. On failure the previous dataset stays. */
export async function loadDatasetFile(
  fileName: string,
  bytes: Uint8Array,
  mapping?: DatasetColumnMapping,
): Promise<boolean> {
  const { setData, setDataset } = useStudio.getState();
  setData({ dataStatus: 'parsing' });
  // Keep our own copy: the request transfers its buffer to the worker.
  const kept = bytes.slice();
  try {
    const result = await getClient().request('parseDataset', { bytes: bytes.slice(), fileName, mapping });
    setDataset(result, kept);
    keepDataset(fileName, kept, result.mapping);
    // Scores of methods on other data do not compare with this data's dev split.
    useStudio.getState().setTraining({ methodRuns: [] });
    return true;
  } catch (error) {
    setData({
      dataStatus: useStudio.getState().dataset ? 'ready' : 'idle',
      dataError: { ...errorInfo(error), fileName },
    });
    return false;
  }
}

export function remapDataset(mapping: DatasetColumnMapping): Promise<boolean> {
  const { dataset, datasetBytes } = useStudio.getState();
  if (!dataset || !datasetBytes) return Promise.resolve(false);
  return loadDatasetFile(dataset.fileName, datasetBytes, mapping);
}

/**
 * The training request for the loaded data, the chosen method and the settings (null = auto), or
 * an error sentence when the prompt's label words cannot be parsed.
 */
function trainingRequest(): TrainingRequest | { error: string } | null {
  const state = useStudio.getState();
  if (!state.dataset) return null;
  const train = state.dataset.examples.map((e) => ({
    text: e.text,
    ...(e.textPair === undefined ? {} : { textPair: e.textPair }),
    label: e.label,
    row: e.row,
    ...(e.missingLabel === undefined ? {} : { missingLabel: e.missingLabel }),
  }));
  let method: MethodSpec = { kind: 'head' };
  if (state.trainMethod === 'prompt') {
    // The prompt is shared with the playground's zero-shot box: what was tried there is what trains.
    const parsed = parseLabelWords(state.zsWords ?? datasetLabelWords());
    if ('error' in parsed) return { error: parsed.error };
    method = { kind: 'prompt', template: state.zsTemplate, verbalizer: parsed.verbalizer };
  } else if (state.trainMethod === 'setfit') {
    method = { kind: 'setfit', iterations: state.setfitIterations, C: state.setfitC };
  }
  return { train, dev: null, settings: state.settings, method };
}

/**
 * Seconds between run checkpoints: the worker's default, or `?checkpointSeconds=` in dev and test
 * builds (tests use 0: a checkpoint at every loss readback).
 */
function checkpointSeconds(): number | undefined {
  if (import.meta.env.MODE === 'production') return undefined;
  const value = new URLSearchParams(window.location.search).get('checkpointSeconds');
  return value === null || !Number.isFinite(Number(value)) ? undefined : Math.max(0, Number(value));
}

let draftTimer: ReturnType<typeof setTimeout> | null = null;
let draftRequest = 0;

/**
 * Asks the engine what a run would do with the current data and settings (every value resolved),
 * so the Train panel shows the real defaults before Start. Debounced; the newest answer wins.
 */
export function refreshDraftPlan(delayMs = 250): void {
  if (draftTimer) clearTimeout(draftTimer);
  draftTimer = setTimeout(() => {
    draftTimer = null;
    const state = useStudio.getState();
    const request = trainingRequest();
    if (!request || 'error' in request || !state.model || state.trainingState !== 'idle') {
      state.setTraining({ draftPlan: null, draftPlanError: request && 'error' in request ? request.error : null });
      return;
    }
    const id = ++draftRequest;
    // The data or the settings changed: an earlier time estimate no longer applies.
    state.setTraining({ runEstimate: null, estimateError: null });
    getClient()
      .request('planTraining', request)
      .then(
        (draftPlan) => id === draftRequest && useStudio.getState().setTraining({ draftPlan, draftPlanError: null }),
        (error) =>
          id === draftRequest &&
          useStudio.getState().setTraining({ draftPlan: null, draftPlanError: errorInfo(error).message }),
      );
  }, delayMs);
}

/**
 * "Estimate time": the worker times the encoder on one real batch of this run's data (nothing is
 * updated) and adds it up over the planned steps and evaluations.
 */
export async function estimateTrainingTime(): Promise<void> {
  const request = trainingRequest();
  if (!request || 'error' in request) return;
  useStudio.getState().setTraining({ estimating: true, estimateError: null, runEstimate: null });
  try {
    const runEstimate = await getClient().request('estimateTraining', request);
    useStudio.getState().setTraining({ runEstimate, estimating: false });
  } catch (error) {
    useStudio.getState().setTraining({ estimating: false, estimateError: errorInfo(error).message });
  }
}

/** The estimate in words, with advice when the run is long (over LONG_RUN_SECONDS, the engine's). */
export function estimateText(result: { estimate: RunEstimate; totalSteps: number }): string {
  const { estimate, totalSteps } = result;
  const seconds = (t: number) => (t < 10 ? t.toFixed(1) : String(Math.round(t)));
  const text =
    `About ${formatDuration(estimate.totalSeconds)} for ${totalSteps} ${totalSteps === 1 ? 'step' : 'steps'}: ` +
    `one step took ${seconds(estimate.stepSeconds)} s here on a batch of ${estimate.batch.rows} × ${estimate.batch.tokens} tokens ` +
    `(the first, which also compiles the GPU programs, ${seconds(estimate.firstSeconds)} s)` +
    (estimate.evaluations > 0
      ? `, plus ${estimate.evaluations} ${estimate.evaluations === 1 ? 'evaluation' : 'evaluations'} on the dev rows.`
      : '.');
  return estimate.totalSeconds > LONG_RUN_SECONDS
    ? `${text} That is long: a smaller model (Model panel, e.g. fewshot-tiny), a shorter max length or fewer epochs would be faster.`
    : text;
}

export async function startTraining(): Promise<void> {
  const state = useStudio.getState();
  const request = trainingRequest();
  if (!request) return;
  if ('error' in request) {
    state.setTraining({ trainingError: { code: 'PROMPT_BAD_LABEL_WORDS', message: request.error } });
    return;
  }
  state.resetTraining(null);
  // Continuing from base weights is the same as starting from them.
  const startFrom = state.continueFromCurrent ? 'current' : 'base';
  state.setTraining({
    trainingState: 'starting',
    adaptPlan: null,
    runStartedFrom: startFrom === 'current' && !state.weightsAtBase ? 'tuned' : 'base',
  });
  // Named runs are checkpointed by the worker, so a reload can resume them.
  const runId = newRunId();
  startedRun(runId, state.trainMethod);
  try {
    const plan = await getClient().request('startTraining', {
      ...request,
      runId,
      checkpointEverySeconds: checkpointSeconds(),
      startFrom,
    });
    useStudio.getState().setTraining({ plan });
    useStudio.getState().setPlayground({ playLabels: plan.labels });
  } catch (error) {
    useStudio.getState().setTraining({ trainingState: 'idle', trainingError: errorInfo(error) });
  }
}

/**
 * k-fold cross-validation on the loaded rows (the Train panel's "Cross-validate"): k models, each
 * scored on the fold it did not train on, then the final model on all rows. Folds: the user's
 * choice, else the engine's suggestion for this data.
 */
export async function startCrossValidation(): Promise<void> {
  const state = useStudio.getState();
  const request = trainingRequest();
  if (!request) return;
  if ('error' in request) {
    state.setTraining({ trainingError: { code: 'PROMPT_BAD_LABEL_WORDS', message: request.error } });
    return;
  }
  const folds = state.cvFolds ?? state.draftPlan?.crossValidation.folds ?? 5;
  state.resetTraining(null);
  // Not a saved run (no checkpoints, no run record): the previous run's record must not take this
  // one's trainingDone.
  state.setProject({ runId: null, lastCheckpointStep: null });
  const startFrom = state.continueFromCurrent ? 'current' : 'base';
  state.setTraining({
    trainingState: 'starting',
    adaptPlan: null,
    crossValidation: { plan: null, progress: null, result: null },
    runStartedFrom: startFrom === 'current' && !state.weightsAtBase ? 'tuned' : 'base',
  });
  try {
    const plan = await getClient().request('startCrossValidation', { ...request, folds, startFrom });
    const now = useStudio.getState();
    // The final model's plan is the run's plan (labels, settings); the folds' plans differ only in rows.
    now.setTraining({
      plan: plan.finalPlan,
      crossValidation: {
        plan,
        progress: now.crossValidation?.progress ?? null,
        result: now.crossValidation?.result ?? null,
      },
    });
    now.setPlayground({ playLabels: plan.labels });
  } catch (error) {
    useStudio.getState().setTraining({ trainingState: 'idle', crossValidation: null, trainingError: errorInfo(error) });
  }
}

/** Continues MLM pretraining on every text of the loaded data (labels unused). */
export async function startAdapt(steps: number): Promise<void> {
  const state = useStudio.getState();
  if (!state.dataset) return;
  const texts = state.dataset.examples.flatMap((e) => (e.textPair ? [e.text, e.textPair] : [e.text]));
  state.resetTraining(null);
  state.setTraining({ trainingState: 'starting', adaptPlan: null, adaptResult: null });
  try {
    const adaptPlan = await getClient().request('startAdapt', { texts, steps, seed: state.settings.seed ?? undefined });
    useStudio.getState().setTraining({ adaptPlan });
  } catch (error) {
    useStudio.getState().setTraining({ trainingState: 'idle', trainingError: errorInfo(error) });
  }
}

/** Asks the worker to pause; the panel says "pausing…" until the worker confirms at a step boundary. */
export async function pauseTraining(): Promise<void> {
  if (useStudio.getState().trainingState === 'running') useStudio.getState().setTraining({ trainingState: 'pausing' });
  const answer = await getClient()
    .request('pauseTraining', {})
    .catch(() => null);
  // Already idle (the run ended meanwhile) or refused: show what the worker says, not "pausing".
  if (useStudio.getState().trainingState === 'pausing' && answer?.state !== 'pausing')
    useStudio.getState().setTraining({ trainingState: answer?.state === 'idle' ? 'idle' : 'running' });
}
export async function resumeTraining(): Promise<void> {
  await getClient()
    .request('resumeTraining', {})
    .catch(() => undefined);
}
export async function stopTraining(): Promise<void> {
  await getClient()
    .request('stopTraining', {})
    .catch(() => undefined);
}

/**
 * The label-word lines the prompt boxes start with for the loaded data: the engine's choice for
 * the model's vocabulary (with a note per word that is not simply the label's name), else
 * words from the label names.
 */
export function datasetLabelWords(dataset: ParsedDatasetResult | null = useStudio.getState().dataset): string {
  const labels = [...new Set((dataset?.examples ?? []).map((e) => e.label).filter((l): l is string => l !== null))];
  return defaultLabelWords(labels, dataset?.labelWords?.verbalizer ?? null);
}

/** Labels of the loaded dataset, in first-seen order (what training would use). */
export function datasetLabels(): string[] {
  const examples = useStudio.getState().dataset?.examples ?? [];
  return [...new Set(examples.map((e) => e.label).filter((l): l is string => l !== null))];
}

/** Exports the model as a zipped Hugging Face folder (with a model card and metrics) and returns it with a file name. */
export function exportModelZip(): Promise<{ fileName: string; blob: Blob }> {
  return whileExporting(exportModelZipNow);
}

async function exportModelZipNow(): Promise<{ fileName: string; blob: Blob }> {
  const state = useStudio.getState();
  const extraFiles: Record<string, Uint8Array> = {};
  const encoder = new TextEncoder();
  const metrics = state.summary?.bestMetrics ?? state.evaluations.at(-1)?.metrics ?? null;
  const svg = lossPlotSvg(state.losses);
  if (svg) extraFiles['loss.svg'] = encoder.encode(svg);
  if (state.model) {
    const card = buildModelCard({
      model: state.model,
      dataFileName: state.dataset?.fileName ?? null,
      validation: state.validation,
      plan: state.plan,
      metrics,
      crossValidation: state.crossValidation?.result ?? null,
      methodRuns: state.methodRuns,
      backend: state.capability ? state.capability.backend : null,
      hasLossPlot: svg !== null,
    });
    extraFiles['README.md'] = encoder.encode(card);
  }
  const cv = state.crossValidation?.result ?? null;
  if (state.plan && (metrics || cv)) Object.assign(extraFiles, metricsFiles(state.plan, metrics, cv));
  const { zip } = await getClient().request('exportModel', { dtype: 'F32', extraFiles });
  const name = (useStudio.getState().model?.name ?? 'model').replace(/[^\w.-]+/g, '-');
  return { fileName: `${name}-fewshot.zip`, blob: new Blob([zip as BlobPart], { type: 'application/zip' }) };
}

/**
 * Predictions for a whole unlabeled file (Evaluate panel): the worker streams it, predicts in
 * chunks (between training steps when a run is going) and returns a CSV to download.
 */
export async function predictFileToCsv(file: File): Promise<void> {
  const { setEvaluate } = useStudio.getState();
  setEvaluate({
    fileJob: { fileName: file.name, phase: 'reading', done: 0, total: file.size, result: null, error: null },
  });
  try {
    const result = await getClient().request('predictFile', { file, fileName: file.name });
    const blob = new Blob([result.csv as BlobPart], { type: 'text/csv' });
    const job = useStudio.getState().fileJob;
    if (job?.result) URL.revokeObjectURL(job.result.url);
    setEvaluate({
      fileJob: {
        fileName: file.name,
        phase: 'done',
        done: result.rows,
        total: result.rows,
        error: null,
        result: {
          url: URL.createObjectURL(blob),
          downloadName: `${file.name.replace(/\.[^.]+$/, '')}-predictions.csv`,
          rows: result.rows,
          labels: result.labels,
          textColumn: result.textColumn,
          warnings: result.warnings,
        },
      },
    });
  } catch (error) {
    setEvaluate({
      fileJob: { fileName: file.name, phase: 'failed', done: 0, total: null, result: null, error: errorInfo(error) },
    });
  }
}

/**
 * Scores the model as it is now on a labeled test file (Evaluate panel, "Test file"): the worker
 * reads it with the Data panel's parser and column detection and returns full metrics.
 */
export async function evaluateTestFile(file: File): Promise<void> {
  const { setEvaluate } = useStudio.getState();
  setEvaluate({ testJob: { fileName: file.name, phase: 'scoring', result: null, error: null } });
  try {
    const result = await getClient().request('evaluateFile', { file, fileName: file.name });
    setEvaluate({ testJob: { fileName: file.name, phase: 'done', result, error: null } });
  } catch (error) {
    setEvaluate({ testJob: { fileName: file.name, phase: 'failed', result: null, error: errorInfo(error) } });
  }
}

/**
 * Tokens each text keeps: the run's plan, else the user's setting, else the data's 95th percentile
 * up to 128 (what "auto" would pick). The Data panel's red line and the map use it.
 */
export function cutLength(s: StudioState): number | null {
  return (
    s.plan?.maxLength ?? s.settings.maxLength ?? (s.validation?.tokens ? Math.min(128, s.validation.tokens.p95) : null)
  );
}

/**
 * Draws the Data panel's map (docs/ARCHITECTURE.md, "The embedding map"): every row's embedding with the
 * weights as they are now, laid out by the worker with the chosen method (PCA or UMAP); `mapProgress` events update the progress. A
 * result for a dataset that was replaced meanwhile is dropped.
 */
export async function drawEmbeddingMap(): Promise<void> {
  const state = useStudio.getState();
  const { dataset, model, setData } = state;
  if (!dataset || !model || state.mapStatus === 'running') return;
  const drawnWith = {
    modelName: model.name,
    atBase: state.weightsAtBase,
    runId: state.weightsAtBase ? null : state.runId,
  };
  setData({
    mapStatus: 'running',
    mapProgress: { done: 0, total: dataset.examples.length, phase: 'embed' },
    mapError: null,
  });
  try {
    const result = await getClient().request('embeddingMap', {
      inputs: dataset.examples.map((e) => ({ text: e.text, textPair: e.textPair ?? null })),
      method: mapLayoutFor(state.mapMethod, dataset.examples.length),
      maxLength: cutLength(state) ?? undefined,
    });
    if (useStudio.getState().dataset !== dataset) return;
    setData({ map: { result, dataset, ...drawnWith }, mapStatus: 'done', mapProgress: null, mapSelected: null });
  } catch (error) {
    if (useStudio.getState().dataset !== dataset) return;
    setData({ mapStatus: 'failed', mapProgress: null, mapError: errorInfo(error) });
  }
}
