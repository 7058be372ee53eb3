/**
 * The project in browser storage (docs/USER_GUIDE.md, "Your data"): what the studio saves as the
 * user works (the dataset file and its mapping, the model's origin, the settings, every run's
 * charts) and how a reload reopens it. The worker owns the storage (src/worker/project-store.ts)
 * and also keeps the run checkpoints and the trained model; this module decides what the UI saves
 * and when, and puts the saved state back into the store.
 */
import type { DatasetColumnMapping, LoadedProject, ModelSource, WorkerEventPayload } from '../../worker/protocol';
import type { ProjectRecord } from '../../worker/project-store';
import { errorInfo, getClient, onEngineEvent } from './client';
import { emaSmooth, formatBytes } from './helpers';
import { metricsFiles } from './modelCard';
import { useStudio, type StudioState } from './index';
import type { SavedRun, SavedUi } from './projectSlice';
import { LOSS_EMA_ALPHA, type LossPoint } from './trainingSlice';

/** Runs kept in the project (oldest dropped first): charts of more are rarely looked at. */
const MAX_SAVED_RUNS = 20;
/** Settings are saved this long after the last change, so typing a number saves once. */
const UI_SAVE_DELAY_MS = 400;

onEngineEvent(handleProjectEvent);

/** Saves part of the project; a failure (a full quota) is shown and loses nothing stored before. */
async function save(patch: ProjectRecord): Promise<void> {
  if (useStudio.getState().projectStatus !== 'ready') return;
  try {
    const { storage } = await getClient().request('saveProject', { patch });
    useStudio.getState().setProject({ storage, storageError: null });
  } catch (error) {
    useStudio.getState().setProject({ storageError: errorInfo(error) });
  }
}

/** A new run's id: unique in this browser, sortable by start time. */
export function newRunId(): string {
  return `run-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** Keeps the loaded dataset file (its bytes, so a reload parses it again) and its column mapping. */
export function keepDataset(fileName: string, bytes: Uint8Array, mapping: DatasetColumnMapping): void {
  void save({ dataset: { fileName, bytes, mapping } });
}

/**
 * Records where the model came from. Embedded and Hub models are loaded again from there; a dropped
 * folder cannot be read again, so the worker keeps its files (as it keeps a trained model) and the
 * origin is cleared.
 */
export function keepModelOrigin(source: ModelSource, name: string): void {
  if (source.kind === 'files') void save({ model: null });
  else void save({ model: { source, name, at: Date.now() } });
}

function savedUi(state: StudioState): SavedUi {
  return {
    settings: state.settings,
    trainMethod: state.trainMethod,
    zsTemplate: state.zsTemplate,
    zsWords: state.zsWords,
    methodRuns: state.methodRuns,
  };
}

function saveRuns(): void {
  void save({ runs: useStudio.getState().runs, ui: savedUi(useStudio.getState()) });
}

/** The charts of the current run, as the project keeps them. */
function currentRunRecord(state: StudioState, base: SavedRun): SavedRun {
  return {
    ...base,
    plan: state.plan ?? base.plan,
    losses: state.losses.map((p) => ({ step: p.step, loss: p.loss })),
    lrPoints: state.lrPoints,
    evaluations: state.evaluations,
    summary: state.summary,
  };
}

function updateRun(runId: string, update: (run: SavedRun) => SavedRun): void {
  const { runs, setProject } = useStudio.getState();
  setProject({ runs: runs.map((r) => (r.runId === runId ? update(r) : r)) });
}

/** A run started: it joins the project's runs (the oldest drop out past MAX_SAVED_RUNS). */
export function startedRun(runId: string, method: 'head' | 'prompt' | 'setfit'): void {
  const { runs, setProject } = useStudio.getState();
  const run: SavedRun = {
    runId,
    method,
    startedAt: Date.now(),
    endedAt: null,
    status: 'running',
    plan: null,
    losses: [],
    lrPoints: [],
    evaluations: [],
    summary: null,
  };
  setProject({
    runId,
    runs: [...runs, run].slice(-MAX_SAVED_RUNS),
    lastCheckpointStep: null,
    resumable: null,
    deviceNotice: null,
  });
  saveRuns();
}

function handleProjectEvent(event: WorkerEventPayload): void {
  const state = useStudio.getState();
  const runId = state.runId;
  switch (event.kind) {
    case 'checkpointSaved':
      // The charts are saved with each checkpoint, so a reload shows them up to the step it resumes from.
      state.setProject({ lastCheckpointStep: event.step });
      updateRun(event.runId, (run) => currentRunRecord(useStudio.getState(), run));
      saveRuns();
      break;
    case 'trainingDone':
      if (!runId) break;
      // (This listener may run before the training slice applies the event: take the summary from it.)
      updateRun(runId, (run) => ({
        ...currentRunRecord(useStudio.getState(), run),
        summary: event.summary,
        status: 'finished',
        endedAt: Date.now(),
      }));
      saveRuns();
      break;
    case 'trainingError':
      if (!runId || !state.runs.some((r) => r.runId === runId && r.status === 'running')) break;
      updateRun(runId, (run) => ({
        ...currentRunRecord(useStudio.getState(), run),
        status: 'failed',
        endedAt: Date.now(),
      }));
      saveRuns();
      break;
    case 'deviceLost':
      state.setProject({ deviceNotice: event.message });
      break;
    case 'backendChanged':
      state.setEngine({ capability: event.capability });
      break;
    case 'modelReloaded':
      state.setModel({ model: event.model });
      break;
    case 'runRecovering': {
      // Losses after the checkpoint are computed again: the charts go back to it first.
      const run = state.runs.find((r) => r.runId === event.runId);
      const current = run ? currentRunRecord(state, run) : null;
      if (current) useStudio.setState(runCharts(current, event.step));
      state.setProject({ deviceNotice: event.message, lastCheckpointStep: event.step });
      break;
    }
    case 'modelSaved':
      if (event.runId && !state.runModels.includes(event.runId))
        state.setProject({ runModels: [...state.runModels, event.runId] });
      break;
    case 'storageError':
      state.setProject({ storageError: { code: event.code, message: event.message } });
      break;
    default:
      break;
  }
}

let uiTimer: ReturnType<typeof setTimeout> | null = null;

/** Saves the settings whenever they change (debounced), once the project is open. */
function watchSettings(): void {
  useStudio.subscribe((state, previous) => {
    if (state.projectStatus !== 'ready') return;
    const changed =
      state.settings !== previous.settings ||
      state.trainMethod !== previous.trainMethod ||
      state.zsTemplate !== previous.zsTemplate ||
      state.zsWords !== previous.zsWords;
    if (!changed) return;
    if (uiTimer) clearTimeout(uiTimer);
    uiTimer = setTimeout(() => {
      uiTimer = null;
      void save({ ui: savedUi(useStudio.getState()) });
    }, UI_SAVE_DELAY_MS);
  });
}

/** A run's charts in the store's form (smoothing recomputed), trimmed to `upToStep` when given. */
export function runCharts(run: SavedRun, upToStep: number | null = null) {
  const keep = (step: number) => upToStep === null || step <= upToStep;
  const raw = run.losses.filter((p) => keep(p.step));
  const smoothed = emaSmooth(
    raw.map((p) => p.loss),
    LOSS_EMA_ALPHA,
  );
  const losses: LossPoint[] = raw.map((p, i) => ({ ...p, smoothed: smoothed[i] }));
  return {
    losses,
    lrPoints: run.lrPoints.filter((p) => keep(p.step)),
    evaluations: run.evaluations.filter((e) => keep(e.step)),
  };
}

/** How the start reopens the model and the data (the actions that load them live in actions.ts). */
export interface ProjectLoaders {
  loadModel: (source: ModelSource, name: string) => Promise<boolean>;
  loadHubModel: (repo: string) => Promise<boolean>;
  loadSavedModel: () => Promise<boolean>;
  /** The embedded default, when the project names no model (before the data: one parse, not two). */
  loadDefaultModel: () => Promise<boolean>;
  loadDataset: (fileName: string, bytes: Uint8Array, mapping: DatasetColumnMapping) => Promise<boolean>;
}

function isSavedUi(value: unknown): value is SavedUi {
  return typeof value === 'object' && value !== null && 'settings' in value && 'trainMethod' in value;
}

/**
 * Reopens the saved project: the model (the trained one if a run or an adaptation finished after
 * the model was chosen), the dataset, the settings and the runs with the last one's charts; an
 * interrupted run is offered for resuming. Returns whether a model was loaded. With no storage
 * (or nothing saved) it does nothing and the studio starts as new.
 */
export async function restoreProject(loaders: ProjectLoaders): Promise<boolean> {
  const { setProject } = useStudio.getState();
  setProject({ projectStatus: 'restoring' });
  let loaded: LoadedProject;
  try {
    loaded = await getClient().request('loadProject', {});
  } catch (error) {
    setProject({ projectStatus: 'unavailable', storageError: errorInfo(error) });
    return false;
  }
  // Ask the browser not to evict the project under storage pressure (it may say no; usage shows either way).
  void navigator.storage
    ?.persist?.()
    .then(async () => {
      const persisted = await navigator.storage.persisted();
      const storage = useStudio.getState().storage;
      if (storage) useStudio.getState().setProject({ storage: { ...storage, persisted } });
    })
    .catch(() => undefined);
  const { project, checkpoint, savedModel, storage, runModels } = loaded;
  setProject({ storage, runModels });
  const notes: string[] = [];
  let modelLoaded = false;
  const origin = project?.model ?? null;
  if (savedModel && (!origin || savedModel.savedAt >= (origin.at ?? 0))) {
    modelLoaded = await loaders.loadSavedModel();
    if (modelLoaded) notes.push(`the model ${savedModel.name} as your last run left it`);
  } else if (origin) {
    modelLoaded =
      origin.source.kind === 'hub'
        ? await loaders.loadHubModel(origin.source.repo)
        : await loaders.loadModel(origin.source, origin.name);
    if (modelLoaded) notes.push(`the model ${origin.name}`);
  }
  // The data's token counts need the tokenizer: with a model loaded first it is parsed once.
  if (!modelLoaded && project?.dataset) modelLoaded = await loaders.loadDefaultModel();
  if (project?.dataset) {
    const { fileName, bytes, mapping } = project.dataset;
    if (await loaders.loadDataset(fileName, bytes, mapping)) notes.push(`the data ${fileName}`);
  }
  const ui = isSavedUi(project?.ui) ? project.ui : null;
  if (ui) {
    useStudio.getState().setSettings(ui.settings);
    useStudio.getState().setTraining({ trainMethod: ui.trainMethod, methodRuns: ui.methodRuns ?? [] });
    useStudio.getState().setPlayground({ zsTemplate: ui.zsTemplate, zsWords: ui.zsWords });
  }
  const runs = (project?.runs ?? []) as SavedRun[];
  const interrupted = checkpoint ? runs.find((r) => r.runId === checkpoint.runId) : undefined;
  // A run that was running when the page went away, with no checkpoint to resume from, ended there.
  const settled = runs.map((r) =>
    r.status === 'running' && r.runId !== interrupted?.runId ? { ...r, status: 'failed' as const } : r,
  );
  const last = interrupted ?? settled.at(-1);
  if (last) {
    // An interrupted run's charts come with its checkpoint (saved in the same write, so they end
    // exactly at its step); a finished run's from its record.
    const charts =
      interrupted && checkpoint
        ? { ...last, ...checkpoint.history, evaluations: checkpoint.history.evaluations as SavedRun['evaluations'] }
        : last;
    useStudio.getState().setTraining({ plan: last.plan, summary: last.summary });
    useStudio.setState(runCharts(charts, interrupted && checkpoint ? checkpoint.step : null));
    notes.push(`${runs.length} run${runs.length === 1 ? '' : 's'}`);
  }
  setProject({
    runs: settled,
    runId: last?.runId ?? null,
    resumable:
      interrupted && checkpoint
        ? { runId: checkpoint.runId, step: checkpoint.step, savedAt: checkpoint.savedAt }
        : null,
    restoredNote: notes.length > 0 ? `Reopened your project: ${notes.join(', ')}.` : null,
    projectStatus: 'ready',
  });
  watchSettings();
  return modelLoaded;
}

/**
 * Continues the interrupted run from its checkpoint: the charts keep what was logged up to that
 * step and the worker goes on from there with the losses an uninterrupted run would have had.
 */
export async function continueInterruptedRun(): Promise<void> {
  const state = useStudio.getState();
  const resumable = state.resumable;
  if (!resumable || state.trainingState !== 'idle') return;
  const run = state.runs.find((r) => r.runId === resumable.runId);
  // The charts on screen came with the checkpoint (restoreProject): keep them up to its step. The
  // run's own record may lag behind them (it is saved separately, after each checkpoint).
  const shown = run ? runCharts(currentRunRecord(state, run), resumable.step) : null;
  state.resetTraining(run?.plan ?? state.plan);
  if (shown) useStudio.setState(shown);
  // The checkpoint holds its own weights; where its run started is not known here.
  state.setTraining({ trainingState: 'starting', adaptPlan: null, runStartedFrom: null });
  state.setProject({ runId: resumable.runId });
  try {
    const continued = await getClient().request('continueRun', { runId: resumable.runId });
    // Where the run started was recorded when it started (a training job needs it).
    const plan = run?.plan?.start ? { ...continued, start: run.plan.start } : continued;
    useStudio.getState().setTraining({ plan });
    useStudio.getState().setProject({ resumable: null, lastCheckpointStep: resumable.step });
    updateRun(resumable.runId, (r) => ({ ...r, status: 'running', endedAt: null }));
  } catch (error) {
    useStudio.getState().setTraining({ trainingState: 'idle', trainingError: errorInfo(error) });
  }
}

/** Forgets the interrupted run's offer (its checkpoint is replaced by the next run's). */
export function dismissResume(): void {
  useStudio.getState().setProject({ resumable: null });
}

/** Deletes everything the studio stored in this browser; the session itself goes on as it is. */
export async function clearSavedProject(): Promise<void> {
  try {
    const { storage } = await getClient().request('clearProject', {});
    useStudio.getState().setProject({
      storage,
      storageError: null,
      resumable: null,
      runs: [],
      runModels: [],
      comparedRuns: [],
      restoredNote: null,
    });
  } catch (error) {
    useStudio.getState().setProject({ storageError: errorInfo(error) });
  }
}

/** Test builds only: the next storage write fails as a full quota would. */
export async function failNextStorageWriteForTest(): Promise<void> {
  await getClient().request('debugFailStorage', {});
}

/** Test builds only: destroys the worker's GPU device (a lost device cannot be caused otherwise). */
export async function loseGpuDeviceForTest(): Promise<boolean> {
  return (await getClient().request('debugLoseDevice', {})).destroyed;
}

let exportsInProgress = 0;

/** Runs an export, with the leave warning on until it is done. */
export async function whileExporting<T>(work: () => Promise<T>): Promise<T> {
  exportsInProgress += 1;
  try {
    return await work();
  } finally {
    exportsInProgress -= 1;
  }
}

/**
 * Asks before the tab is closed or reloaded while a run is going (its steps since the last
 * checkpoint would be lost) or an export is being made.
 */
export function installLeaveWarning(): void {
  window.addEventListener('beforeunload', (event) => {
    const training = useStudio.getState().trainingState !== 'idle';
    if (!training && exportsInProgress === 0) return;
    event.preventDefault();
    // Chrome before 119 shows the dialog only when returnValue is set.
    event.returnValue = '';
  });
}

/** Ticks or unticks a run for the overlay charts. */
export function toggleComparedRun(runId: string): void {
  const { comparedRuns, setProject } = useStudio.getState();
  setProject({
    comparedRuns: comparedRuns.includes(runId) ? comparedRuns.filter((id) => id !== runId) : [...comparedRuns, runId],
  });
}

/** Deletes a run: its record, charts, checkpoint and kept model. */
export async function deleteRun(runId: string): Promise<void> {
  try {
    const { storage } = await getClient().request('deleteRun', { runId });
    const state = useStudio.getState();
    state.setProject({
      storage,
      runs: state.runs.filter((r) => r.runId !== runId),
      runModels: state.runModels.filter((id) => id !== runId),
      comparedRuns: state.comparedRuns.filter((id) => id !== runId),
      resumable: state.resumable?.runId === runId ? null : state.resumable,
    });
    saveRuns();
  } catch (error) {
    useStudio.getState().setProject({ storageError: errorInfo(error) });
  }
}

/** A run's kept model as a zipped Hugging Face folder, with its dev metrics. */
export async function exportRunModel(runId: string): Promise<{ fileName: string; blob: Blob }> {
  return whileExporting(async () => {
    const run = useStudio.getState().runs.find((r) => r.runId === runId);
    const best = run?.summary?.bestMetrics;
    const extraFiles = run?.plan && best ? metricsFiles(run.plan, best) : {};
    const { zip } = await getClient().request('exportRunModel', { runId, extraFiles });
    return { fileName: `${runId}-fewshot.zip`, blob: new Blob([zip as BlobPart], { type: 'application/zip' }) };
  });
}

/**
 * A run as a training bundle for Hugging Face transformers (docs/USER_GUIDE.md, "Bigger than a
 * browser"): its split, settings and starting model, with train.py. The note says what the bundle
 * holds (the weights included and how big, or the Hub model it downloads).
 */
export async function exportRunJob(runId: string): Promise<{ fileName: string; blob: Blob; note: string }> {
  return whileExporting(async () => {
    const run = useStudio.getState().runs.find((r) => r.runId === runId);
    if (!run?.plan) throw new Error(`Run ${runId} has no plan: it never started, so there is no job to export.`);
    const bestDevAccuracy =
      run.summary?.bestMetrics?.accuracy ??
      run.evaluations.reduce<number | null>(
        (m, e) => (m === null || e.metrics.accuracy > m ? e.metrics.accuracy : m),
        null,
      );
    const result = await getClient().request('exportRunJob', {
      runId,
      plan: run.plan,
      losses: run.losses.slice(0, 50),
      bestDevAccuracy,
    });
    const note =
      result.includedWeightBytes === null
        ? `The bundle downloads ${result.model} from the Hugging Face Hub when it runs.`
        : `The starting weights (${result.model}, ${formatBytes(result.includedWeightBytes)}) are included: they are not on the Hugging Face Hub.`;
    return {
      fileName: `${runId}-training-job.zip`,
      blob: new Blob([result.zip as BlobPart], { type: 'application/zip' }),
      note,
    };
  });
}
