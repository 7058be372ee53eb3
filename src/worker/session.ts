/**
 * The worker's one session: exactly one model, at most one training run, one queue
 * (scheduler.ts). It translates protocol requests into calls through the engine's door
 * (engine/studio) and engine callbacks into protocol events; it does not orchestrate training
 * itself. Playground requests are served between training steps with the weights of that moment;
 * progress events are throttled to at most 10 per second without dropping loss points.
 */
import {
  BrowserDownloadCache,
  EngineError,
  clearHubCache,
  memoryLimitsFromAdapter,
  deleteCachedHubModel,
  listCachedHubModels,
  deserializeLoopState,
  serializeLoopState,
  hubCacheStatus,
  loadModel,
  predictFile,
  evaluateFile,
  embeddingMap,
  type EmbeddingMapMethod,
  type EmbeddingMapResult,
  startAdaptation,
  startCrossValidation,
  startFineTune,
  planFineTune,
  suggestPrompts,
  zeroShot,
  exportBundle,
  bundleFiles,
  isGpuDeviceLost,
  takeWebGpuErrors,
  describeCapability,
  type CachedHubModel,
  type CapabilityReport,
  type ColumnMapping,
  type CrossValidationPlan,
  type EvaluateFileResult,
  type DownloadCache,
  type FewShotModel,
  type FineTuneRun,
  type LimitsReport,
  type LoopCallbacks,
  type LoopRunState,
  type MemoryLimits,
  type Metrics,
  type ModelSource,
  type ModelSummary,
  type ModelWeightsSnapshot,
  type ProgressInfo,
  type SuggestPromptsParams,
  type SuggestPromptsResult,
  type TextInput,
  type TrainingSummary,
  type ZeroShotParams,
  type ZeroShotResult,
  STUDIO_VERSION,
  estimateRun,
  type RunEstimate,
  folderBytes,
  jobBundleFiles,
  makeJobSpec,
  type JobModel,
} from '../engine/studio';
import { storageInfo, type ProjectRecord, type ProjectStore, type RunHistory } from './project-store';
import type {
  AdaptationPlan,
  AdaptParams,
  CrossValidationRequest,
  LoadedProject,
  FineTunePlan,
  PredictFileResultMessage,
  RunStart,
  TrainingRequest,
  WorkerEventPayload,
} from './protocol';
import { SessionScheduler, type Runnable } from './scheduler';

/** At most this many progress events per second reach the UI. */
export const MAX_PROGRESS_EVENTS_PER_SECOND = 10;

export interface SessionOptions {
  /** Download cache for Hub models (Cache Storage in the browser). Default: browser cache when available. */
  cache?: DownloadCache | null;
  /** Adapter limits from the capability report (null on wasm/cpu: no GPU limit applies). */
  limits?: LimitsReport | null;
  /** Where the project and run checkpoints are kept; null keeps nothing across reloads. */
  projectStore?: ProjectStore | null;
}

/** Training examples the playground shows next to a SetFit prediction (the most similar first). */
const NEAREST_EXAMPLES = 3;

/** Seconds between checkpoints of a running training by default: a reload loses at most this much. */
export const DEFAULT_CHECKPOINT_SECONDS = 15;

type Emit = (event: WorkerEventPayload) => void;
type ProgressEvent = Extract<WorkerEventPayload, { kind: 'progress' }>;

export class Session {
  private model: FewShotModel | null = null;
  /** The running training or adaptation, if any. */
  private active: Runnable | null = null;
  readonly scheduler = new SessionScheduler();
  private readonly cache: DownloadCache | null;
  private limits: LimitsReport | null;
  private pendingLosses: { step: number; loss: number }[] = [];
  private lastProgressAt = 0;
  private progressTimer: ReturnType<typeof setTimeout> | null = null;
  private latestProgress: ProgressEvent | null = null;
  private readonly projectStore: ProjectStore | null;
  /** Where the current model can be loaded from again ('saved': the project store's copy). */
  private modelOrigin: ModelSource | 'saved' | null = null;
  /** Why the GPU device was lost, until the backend is rebuilt. */
  private lostDevice: string | null = null;
  private rebuildBackend: (() => Promise<CapabilityReport>) | null = null;
  /** The run id of the training in the slot, if it has one. */
  private activeRunId: string | null = null;
  /**
   * The "base" weights: the model as loadModel / loadSavedModel loaded it into this session (so a
   * reopened saved model's base is that saved model). Runs start from it unless asked to continue.
   * Kept on the CPU rather than reloaded from the model's origin: a dropped folder cannot be read
   * again, a Hub model may need the network, the saved copy is replaced by every finished run, and
   * a lost GPU device would take GPU copies with it; one readback is cheaper than a reload. Taken
   * lazily, just before the first run or adaptation changes the weights (takeBase), so loading a
   * model (the start of the studio) pays no readback; null while the weights are still the base.
   */
  private base: ModelWeightsSnapshot | null = null;
  /** Whether the weights are the base weights now (false from the start of a run or adaptation). */
  private atBase = true;
  /** What the base weights are, for the runs that start from them (a training job names it). */
  private baseStart: RunStart | null = null;

  constructor(
    private readonly emit: Emit,
    options: SessionOptions = {},
  ) {
    this.cache =
      options.cache !== undefined ? options.cache : typeof caches !== 'undefined' ? new BrowserDownloadCache() : null;
    this.limits = options.limits ?? null;
    this.projectStore = options.projectStore ?? null;
  }

  setLimits(limits: LimitsReport | null): void {
    this.limits = limits;
  }

  get hasModel(): boolean {
    return this.model !== null;
  }

  private requireModel(): FewShotModel {
    if (!this.model) throw new EngineError('NO_MODEL', 'No model is loaded yet. Load a model first.');
    return this.model;
  }

  private assertNotTraining(what: string): void {
    if (this.scheduler.trainingState !== 'idle') {
      throw new EngineError(
        'BUSY_TRAINING',
        `Cannot ${what} while training is ${this.scheduler.trainingState}. Stop training first.`,
      );
    }
  }

  private memoryLimits(): MemoryLimits | null {
    return memoryLimitsFromAdapter(this.limits);
  }

  /** Loads a model and makes it the session's model; the previous one stays if anything goes wrong. */
  async loadModel(source: ModelSource): Promise<ModelSummary> {
    const summary = await this.replaceModel(source);
    this.keepBase(source);
    // A dropped folder cannot be read again after a reload: keep its files like a trained model's.
    if (source.kind === 'files') await this.saveTrainedModel(null);
    return summary;
  }

  private async replaceModel(source: ModelSource): Promise<ModelSummary> {
    this.assertNotTraining('load another model');
    const summary = await this.swapModel(source);
    this.modelOrigin = source;
    return summary;
  }

  private async swapModel(source: ModelSource): Promise<ModelSummary> {
    const next = await loadModel(source, {
      cache: this.cache,
      onProgress: (p) => this.emit({ kind: 'download', file: p.file, loaded: p.loaded, total: p.total }),
    });
    return this.scheduler.enqueue(async () => {
      if (this.scheduler.trainingState !== 'idle') {
        next.dispose();
        this.assertNotTraining('load another model');
      }
      this.model?.dispose();
      this.model = next;
      return next.summary();
    });
  }

  /** Callbacks that turn loop events into protocol events. */
  private loopCallbacks<M>(onEvaluated?: LoopCallbacks<M>['onEvaluated']): LoopCallbacks<M> {
    return {
      onProgress: (p: ProgressInfo) => {
        // An uncaught WebGPU error means some dispatch did nothing: stop rather than train on.
        const gpuErrors = takeWebGpuErrors();
        if (gpuErrors.length > 0)
          throw new EngineError(
            'GPU_VALIDATION_ERROR',
            `The GPU rejected part of the computation (${gpuErrors[0]}), so this run's results cannot be trusted and it was stopped. Please report this message; training on the wasm backend (?backend=wasm) avoids it.`,
          );
        this.queueProgress({
          kind: 'progress',
          step: p.step,
          totalSteps: p.totalSteps,
          epoch: p.epoch,
          epochs: p.epochs,
          losses: p.losses.map((l) => ({ step: l.step, loss: l.loss })),
          learningRate: p.learningRate,
          examplesPerSecond: p.examplesPerSecond,
          etaSeconds: p.etaSeconds,
          firstStepSeconds: p.firstStepSeconds,
        });
      },
      onEvaluated,
      onLog: (level, message) => this.emit({ kind: 'log', level, message }),
      onStateChange: (state: LoopRunState) => {
        // Every loss up to the pause reaches the UI before the pause does (progress is throttled).
        if (state === 'paused') this.flushProgress();
        if (state === 'paused' || state === 'running' || state === 'stopping')
          this.emit({ kind: 'trainingState', state });
      },
    };
  }

  /** The plan a run would follow (every setting resolved), without starting it. */
  planTraining(request: TrainingRequest): Promise<FineTunePlan> {
    return this.scheduler.enqueue(async () =>
      planFineTune(
        this.requireModel(),
        { train: request.train, dev: request.dev },
        request.method,
        request.settings,
        this.memoryLimits(),
      ),
    );
  }

  /**
   * The run's plan and how long it would take here (docs/USER_GUIDE.md, "Train"): the encoder's
   * forward and backward pass timed on one real batch, between training steps if one runs.
   */
  estimateTraining(request: TrainingRequest): Promise<{ estimate: RunEstimate; totalSteps: number }> {
    return this.scheduler.enqueue(async () => {
      const model = this.requireModel();
      const plan = planFineTune(
        model,
        { train: request.train, dev: request.dev },
        request.method,
        request.settings,
        this.memoryLimits(),
      );
      return { estimate: await estimateRun(model, plan), totalSteps: plan.totalSteps };
    });
  }

  /** Validates, prepares and starts training; resolves with the plan once the run has started. */
  async startTraining(request: TrainingRequest): Promise<FineTunePlan> {
    return this.runFineTune(request, null);
  }

  /**
   * Continues a checkpointed run (a reload or a lost device interrupted it): the same request
   * starts the run, the checkpoint's loop state is restored, and training goes on from its step with
   * exactly the losses an uninterrupted run would have had.
   */
  async continueRun(runId: string): Promise<FineTunePlan> {
    this.assertNotTraining('continue a run');
    const store = this.requireStore();
    const checkpoint = await store.loadCheckpoint(runId);
    if (!checkpoint)
      throw new EngineError(
        'RESUME_NO_CHECKPOINT',
        `There is no saved checkpoint of run ${runId} any more; start a new run.`,
      );
    const model = this.requireModel();
    // By name: a model reopened from browser storage has another source but the same weights
    // layout; restoreState checks every tensor's name and shape anyway.
    const { name } = model.summary();
    if (name !== checkpoint.model.name) {
      throw new EngineError(
        'RESUME_OTHER_MODEL',
        `Run ${runId} trained ${checkpoint.model.name} (${checkpoint.model.source}), but ${name} is loaded. Load that model again, then resume.`,
      );
    }
    // Written by this session's checkpointer from a TrainingRequest (see checkpointer()).
    const request = checkpoint.request as TrainingRequest;
    return this.runFineTune({ ...request, runId }, checkpoint.state, checkpoint.history);
  }

  private requireStore(): ProjectStore {
    if (!this.projectStore)
      throw new EngineError(
        'STORAGE_UNAVAILABLE',
        'This browser gives the studio no storage (IndexedDB), so nothing is saved across reloads.',
      );
    return this.projectStore;
  }

  private async runFineTune(
    request: TrainingRequest,
    state: Uint8Array | null,
    previous: RunHistory | null = null,
  ): Promise<FineTunePlan> {
    this.assertNotTraining('start another training run');
    // A continued checkpoint restores its own weights (restoreState below), so only new runs reset.
    const fromBase = !state && (request.startFrom ?? 'base') === 'base';
    let start: RunStart | undefined;
    await this.scheduler.enqueue(async () => {
      this.assertNotTraining('start another training run');
      if (!state) start = fromBase || this.atBase ? (this.baseStart ?? undefined) : { kind: 'tuned' };
      await this.prepareWeights(fromBase);
    });
    const model = this.requireModel();
    const data = { train: request.train, dev: request.dev };
    let checkpoint: (() => void) | null = null;
    // What the run reported, kept with each checkpoint so a resumed run's charts match it.
    const history: RunHistory = previous ? structuredClone(previous) : { losses: [], lrPoints: [], evaluations: [] };
    const callbacks = this.loopCallbacks<Metrics>((e) => {
      const evaluated = { step: e.step, epoch: e.epoch, isBest: e.isBest, metrics: e.metrics };
      history.evaluations.push(evaluated);
      // Not a progress flush: that would bypass the 10-per-second throttle.
      this.emit({ kind: 'evaluated', ...evaluated });
    });
    const onProgress = callbacks.onProgress!;
    callbacks.onProgress = (p) => {
      onProgress(p);
      history.losses.push(...p.losses.map((l) => ({ step: l.step, loss: l.loss })));
      history.lrPoints.push({ step: p.step, lr: p.learningRate });
      checkpoint?.();
    };
    const run = startFineTune(model, data, request.method, request.settings, {
      limits: this.memoryLimits(),
      callbacks,
    });
    if (state) {
      try {
        run.loop.restoreState(deserializeLoopState(state, `checkpoint of run ${request.runId}`));
      } catch (error) {
        run.dispose();
        throw error;
      }
    }
    if (run.plan.memory.note) this.emit({ kind: 'log', level: 'warn', message: run.plan.memory.note });
    if (request.runId && this.projectStore) checkpoint = this.checkpointer(request, run.loop, history);
    this.activeRunId = request.runId ?? null;
    this.startRunning({
      loop: run.loop,
      finish: async (outcome) => {
        checkpoint = null;
        // A failed readback may be the first sign of a lost device: let the browser say so first.
        if (outcome.kind === 'failed') await isGpuDeviceLost();
        if (this.lostDevice !== null) {
          // The weights were on the lost device: nothing of this run can be read any more. The
          // recovery reloads the model and continues from the last checkpoint (recoverDevice).
          setTimeout(() => void this.recoverDevice(request.runId ?? null), 0);
          return;
        }
        if (outcome.kind === 'failed') {
          // The checkpoint stays: a run whose device was lost can be resumed.
          run.fail(`${outcome.message} Training stopped; the last good weights were kept.`);
          this.emit({
            kind: 'trainingError',
            code: outcome.code,
            message: `${outcome.message} Training stopped; the last good weights were kept.`,
          });
          return;
        }
        const summary: TrainingSummary<Metrics> = await run.finish(outcome.reason);
        if (request.runId) await this.projectStore?.removeCheckpoint(request.runId).catch(() => undefined);
        const head = run.setfitHead();
        this.emit({
          kind: 'trainingDone',
          summary,
          model: model.summary(),
          setfitHead: head && { iterations: head.iterations, converged: head.converged },
        });
        if (request.runId) await this.saveTrainedModel(request.runId);
      },
      dispose: () => run.dispose(),
    });
    return start ? { ...run.plan, start } : run.plan;
  }

  /**
   * k-fold cross-validation in the training slot (docs/ARCHITECTURE.md, "Cross-validation"): the
   * engine's driver trains each fold through the one door, scored on its fold, then the final model
   * on all rows; the scheduler drives it like one run (playground requests between steps, pause,
   * stop). Every fold starts from the base weights, or from the current ones with startFrom
   * 'current'. Not checkpointed: a reload loses a cross-validation in progress.
   */
  async startCrossValidation(request: CrossValidationRequest): Promise<CrossValidationPlan> {
    this.assertNotTraining('start cross-validation');
    const fromBase = (request.startFrom ?? 'base') === 'base';
    const start = await this.scheduler.enqueue(async () => {
      this.assertNotTraining('start cross-validation');
      await this.prepareWeights(fromBase);
      return fromBase && this.base ? this.base : this.requireModel().snapshotWeights();
    });
    const model = this.requireModel();
    const cv = startCrossValidation(
      model,
      { train: request.train, dev: request.dev },
      request.method,
      request.settings,
      {
        folds: request.folds,
        start,
        limits: this.memoryLimits(),
        callbacks: this.loopCallbacks<Metrics>(),
        onFold: (progress) => {
          // The previous fold's last losses reach the UI before it hears that the next fold starts.
          this.flushProgress();
          this.emit({ kind: 'crossValidation', progress });
        },
      },
    );
    if (cv.plan.finalPlan.memory.note)
      this.emit({ kind: 'log', level: 'warn', message: cv.plan.finalPlan.memory.note });
    this.activeRunId = null;
    this.startRunning({
      loop: cv,
      finish: async (outcome) => {
        if (outcome.kind === 'failed') await isGpuDeviceLost();
        if (this.lostDevice !== null) {
          setTimeout(() => void this.recoverDevice(null), 0);
          return;
        }
        this.emit({ kind: 'crossValidationDone', result: cv.result() });
        if (outcome.kind === 'failed') {
          this.emit({
            kind: 'trainingError',
            code: outcome.code,
            message: `${outcome.message} Cross-validation stopped.`,
          });
          return;
        }
        const summary = await cv.finish();
        if (summary) {
          this.emit({ kind: 'trainingDone', summary, model: model.summary() });
          await this.saveTrainedModel(null);
        } else if (fromBase) {
          // Stopped before the final model: the driver put the starting weights (the base) back.
          this.setAtBase(true);
        }
      },
      dispose: () => cv.dispose(),
    });
    return cv.plan;
  }

  /**
   * Returns a trigger that, when due (every `checkpointEverySeconds`, checked at each loss
   * readback), saves the loop's state at the next step boundary through the queue.
   */
  private checkpointer(request: TrainingRequest, loop: FineTuneRun['loop'], history: RunHistory): () => void {
    const store = this.projectStore!;
    const everyMs = 1000 * (request.checkpointEverySeconds ?? DEFAULT_CHECKPOINT_SECONDS);
    const model = this.requireModel().summary();
    let lastSavedAt = Date.now();
    let pending = false;
    return () => {
      if (pending || Date.now() - lastSavedAt < everyMs) return;
      pending = true;
      void this.scheduler
        .enqueue(async () => {
          if (this.active?.loop !== loop || loop.isFinished) return;
          const state = await loop.captureState();
          const finite = [...state.tensors].every(
            ([name, t]) => !name.startsWith('param:') || t.data.every(Number.isFinite),
          );
          // A checkpoint read while the device is being lost may be garbage: keep the previous one.
          if (!finite || loop.isFinished || this.lostDevice !== null) return;
          await store.saveCheckpoint({
            runId: request.runId!,
            step: loop.step,
            savedAt: Date.now(),
            request,
            model: { name: model.name, source: model.source },
            state: serializeLoopState(state),
            history: {
              losses: history.losses.filter((l) => l.step <= loop.step),
              lrPoints: history.lrPoints.filter((l) => l.step <= loop.step),
              evaluations: history.evaluations.filter((e) => e.step <= loop.step),
            },
          });
          lastSavedAt = Date.now();
          // The UI saves its charts with each checkpoint: it must have every loss up to this step first.
          this.flushProgress();
          this.emit({ kind: 'checkpointSaved', runId: request.runId!, step: loop.step });
        })
        .catch(async (error) => {
          // A readback that failed because the device went is not a storage problem (recovery follows).
          if (this.lostDevice !== null || (await isGpuDeviceLost(200))) return;
          this.emit({ kind: 'storageError', ...describeFailure(error) });
        })
        .finally(() => {
          pending = false;
        });
    };
  }

  /**
   * Keeps the model as a finished run (or adaptation) left it, so a reload reopens the trained
   * model and not the base one. A failure (a full quota) is reported and loses nothing else.
   */
  private async saveTrainedModel(runId: string | null): Promise<void> {
    const store = this.projectStore;
    const model = this.model;
    if (!store || !model) return;
    try {
      const files = await model.exportFiles({ dtype: 'F32' });
      const name = model.summary().name;
      await store.saveModel({ name, runId, savedAt: Date.now(), files: Object.fromEntries(files) });
      // From now on the stored copy is what a lost device reloads (the base model would lose the training).
      if (this.model === model) this.modelOrigin = 'saved';
      this.emit({ kind: 'modelSaved', name, runId });
    } catch (error) {
      this.emit({ kind: 'storageError', ...describeFailure(error) });
    }
  }

  /** Makes the saved trained model (see saveTrainedModel) the session's model again; it becomes the base. */
  async loadSavedModel(): Promise<ModelSummary> {
    const summary = await this.reopenSavedModel();
    this.keepBase();
    return summary;
  }

  /**
   * The model just loaded (or just adapted) is the base; its snapshot is taken when first needed.
   * `source`: where it was loaded from, when the base is exactly that (not adapted, not reopened).
   */
  private keepBase(source: ModelSource | null = null): void {
    this.base = null;
    this.setAtBase(true);
    const model = this.requireModel();
    if (source?.kind === 'hub') {
      this.baseStart = {
        kind: 'hub',
        repo: source.repo,
        revision: model.hubCommit ?? source.revision ?? 'main',
        exact: model.hubCommit !== null,
        ...(source.baseUrl ? { baseUrl: source.baseUrl } : {}),
        name: model.name,
      };
    } else if (source?.kind === 'url') {
      this.baseStart = { kind: 'url', baseUrl: source.baseUrl, name: source.name };
    } else {
      const token = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
      this.baseStart = { kind: 'session', token, name: model.name, description: model.source };
    }
  }

  /**
   * Runs inside the queue before a run or an adaptation changes the weights: snapshots them while
   * they are still the base (once), or puts the base back for a run that starts from it.
   */
  private async prepareWeights(startFromBase: boolean): Promise<void> {
    if (this.atBase) this.base ??= await this.requireModel().snapshotWeights();
    else if (startFromBase) this.restoreBase();
  }

  private setAtBase(atBase: boolean): void {
    this.atBase = atBase;
    this.emit({ kind: 'weightsState', atBase });
  }

  /** Whether the weights are the base weights now (tests read it; the UI gets `weightsState` events). */
  get weightsAtBase(): boolean {
    return this.atBase;
  }

  /** Puts the base weights back (the Model panel's "Reset to base model"). */
  async resetToBase(): Promise<ModelSummary> {
    this.assertNotTraining('reset the model');
    return this.scheduler.enqueue(async () => {
      this.assertNotTraining('reset the model');
      // Still the base (nothing trained since the load): nothing to put back.
      if (!this.atBase) this.restoreBase();
      return this.requireModel().summary();
    });
  }

  /** Runs inside the queue, between playground requests, with no training in the slot. */
  private restoreBase(): void {
    const model = this.requireModel();
    if (!this.base)
      throw new EngineError('NO_BASE_WEIGHTS', 'The base weights of this model are not kept; load it again.');
    model.restoreWeights(this.base);
    this.setAtBase(true);
  }

  private async reopenSavedModel(): Promise<ModelSummary> {
    const saved = await this.requireStore().loadModel();
    if (!saved) throw new EngineError('RESUME_NO_CHECKPOINT', 'No trained model is saved in this browser any more.');
    // As a dropped folder: base names, with the path inside the folder, so a sentence-transformers
    // model's `1_Pooling/config.json` is told apart from its `config.json`.
    const files = Object.entries(saved.files).map(([path, bytes]) => ({
      name: path.split('/').pop() ?? path,
      size: bytes.byteLength,
      webkitRelativePath: `saved/${path}`,
      arrayBuffer: async () => bytes.slice().buffer,
    }));
    const when = new Date(saved.savedAt).toISOString().slice(0, 16).replace('T', ' ');
    const description = `saved in this browser (${saved.runId ? `after ${saved.runId}` : 'adapted or opened'}, ${when} UTC)`;
    const summary = await this.replaceModel({ kind: 'files', files, name: saved.name, description });
    this.modelOrigin = 'saved';
    return summary;
  }

  /** A run's model, kept in browser storage, as a zipped Hugging Face folder (the runs list's Export). */
  async exportRunModel(runId: string, extraFiles?: Record<string, Uint8Array>) {
    const saved = await this.requireStore().loadModel(runId);
    if (!saved)
      throw new EngineError(
        'RUN_MODEL_NOT_KEPT',
        `The model of run ${runId} is not kept any more (the studio keeps the newest 5 runs' models); its charts and scores are.`,
      );
    return { zip: bundleFiles(saved.files, { extraFiles }) };
  }

  /**
   * A run as a training bundle for Hugging Face transformers (docs/ARCHITECTURE.md, "Training
   * jobs"): the plan the run was started with (kept by the UI), its first losses, and the starting
   * weights — named on the Hub, or included when only this page holds them.
   */
  async exportRunJob(params: {
    runId: string;
    plan: FineTunePlan;
    losses: { step: number; loss: number }[];
    bestDevAccuracy: number | null;
  }): Promise<{ zip: Uint8Array; includedWeightBytes: number | null; model: string }> {
    const { runId, plan } = params;
    const start = plan.start;
    if (!start || !Array.isArray(plan.trainExamples)) {
      throw new EngineError(
        'JOB_RUN_TOO_OLD',
        `Run ${runId} was recorded by an earlier version of the studio, which did not keep what a training job needs (its training split and starting model). Train it again to export its job.`,
      );
    }
    if (start.kind === 'tuned') {
      throw new EngineError(
        'JOB_CONTINUED_RUN',
        `Run ${runId} continued from weights trained earlier in the studio, so no model that can be downloaded or included is its starting point. Untick "Continue from the current weights", train again, and export that run's job.`,
      );
    }
    this.assertNotTraining('export a training job');
    return this.scheduler.enqueue(async () => {
      this.assertNotTraining('export a training job');
      let model: JobModel;
      let modelFiles: Map<string, Uint8Array> | null = null;
      if (start.kind === 'hub') {
        model = { source: 'hub', repo: start.repo, revision: start.revision, name: start.name };
      } else {
        if (start.kind === 'url') {
          // A model served with the studio (the embedded ones) can be read again at any time.
          const loaded = await loadModel({ kind: 'url', baseUrl: start.baseUrl, name: start.name }, { cache: null });
          try {
            modelFiles = await loaded.exportFiles({ dtype: 'F32' });
          } finally {
            loaded.dispose();
          }
        } else {
          if (this.baseStart?.kind !== 'session' || this.baseStart.token !== start.token) {
            throw new EngineError(
              'JOB_WEIGHTS_GONE',
              `Run ${runId} started from ${start.description}, whose weights this page no longer holds (another model was loaded, or the page was reloaded since). Load that model again and train a new run to export its job, or use \`fewshot train --job-out\` from the command line.`,
            );
          }
          modelFiles = await this.baseFiles();
        }
        model = {
          source: 'included',
          path: 'model',
          bytes: folderBytes(modelFiles),
          name: start.name,
          origin: start.kind === 'url' ? `the studio's embedded model ${start.name}` : start.description,
        };
      }
      const spec = makeJobSpec({
        plan,
        model,
        createdBy: `FewShot Studio ${STUDIO_VERSION}`,
        run: { id: runId, losses: params.losses, bestDevAccuracy: params.bestDevAccuracy },
      });
      const files = jobBundleFiles({ spec, train: plan.trainExamples, dev: plan.devExamples, modelFiles });
      return {
        zip: bundleFiles(Object.fromEntries(files), { folderName: `${runId}-training-job` }),
        includedWeightBytes: model.source === 'included' ? model.bytes : null,
        model: model.source === 'hub' ? `${model.repo}@${model.revision.slice(0, 12)}` : model.name,
      };
    });
  }

  /** The base weights as a Hugging Face folder; the current weights are put back afterwards. Inside the queue. */
  private async baseFiles(): Promise<Map<string, Uint8Array>> {
    const model = this.requireModel();
    if (this.atBase) return model.exportFiles({ dtype: 'F32' });
    if (!this.base)
      throw new EngineError('NO_BASE_WEIGHTS', 'The base weights of this model are not kept; load it again.');
    const current = await model.snapshotWeights();
    model.restoreWeights(this.base);
    try {
      return await model.exportFiles({ dtype: 'F32' });
    } finally {
      model.restoreWeights(current);
    }
  }

  /** Deletes a run's checkpoint and model from browser storage (the UI drops its record). */
  async deleteRun(runId: string) {
    if (this.active && this.activeRunId === runId) this.assertNotTraining('delete the run that is training');
    await this.requireStore().removeRun(runId);
    return { storage: await storageInfo() };
  }

  /** The saved project, the newest run checkpoint, the saved trained model and storage usage. */
  async loadProject(): Promise<LoadedProject> {
    const store = this.projectStore;
    const saved = store ? await store.loadModel() : null;
    return {
      project: store ? await store.loadProject() : null,
      checkpoint: store ? await store.latestCheckpoint() : null,
      savedModel: saved ? { name: saved.name, runId: saved.runId, savedAt: saved.savedAt } : null,
      runModels: store ? await store.savedRunModels() : [],
      storage: await storageInfo(),
    };
  }

  async saveProject(patch: ProjectRecord) {
    await this.requireStore().saveProject(patch);
    return { storage: await storageInfo() };
  }

  async clearProject() {
    await this.requireStore().clear();
    return { storage: await storageInfo() };
  }

  /**
   * "Adapt to my texts" (continued masked-LM training on the user's texts) in the training slot:
   * pause / resume / stop work the same; the playground keeps answering between steps.
   */
  async startAdapt(params: AdaptParams): Promise<AdaptationPlan> {
    this.assertNotTraining('adapt the model');
    await this.scheduler.enqueue(async () => {
      this.assertNotTraining('adapt the model');
      await this.prepareWeights(false);
    });
    const model = this.requireModel();
    const run = await startAdaptation(
      model,
      params.texts,
      { steps: params.steps, learningRate: params.learningRate, seed: params.seed },
      this.loopCallbacks(),
    );
    this.activeRunId = null;
    this.startRunning({
      loop: run.loop,
      finish: async (outcome) => {
        if (outcome.kind === 'failed') await isGpuDeviceLost();
        if (this.lostDevice !== null) {
          setTimeout(() => void this.recoverDevice(null), 0);
          return;
        }
        if (outcome.kind === 'failed') {
          run.loop.fail(outcome.message);
          this.emit({ kind: 'trainingError', code: outcome.code, message: `${outcome.message} Adaptation stopped.` });
          return;
        }
        const result = await run.finish(outcome.reason);
        if (result.reason === 'diverged') this.emit({ kind: 'log', level: 'warn', message: result.message });
        // Adapting prepares the model to be fine-tuned: the adapted weights become the base the next
        // runs start from (as they would after a reload, which reopens the saved adapted model).
        // Directly, not through the queue: the training slot is still this adaptation's.
        if (this.model === model) this.keepBase();
        this.emit({ kind: 'adaptDone', result });
        await this.saveTrainedModel(null);
      },
      dispose: () => run.dispose(),
    });
    return run.plan;
  }

  /** Hands a started run to the scheduler; its end is reported through `finish`. */
  private startRunning(runnable: Runnable): void {
    this.active = runnable;
    this.setAtBase(false);
    this.emit({ kind: 'trainingState', state: 'running' });
    void this.scheduler
      .runTraining(runnable, describeFailure, () => this.flushProgress())
      .catch((error) => this.emit({ kind: 'trainingError', ...describeFailure(error) }))
      .finally(() => {
        this.active = null;
        this.emit({ kind: 'trainingState', state: 'idle' });
      });
  }

  /**
   * The GPU device is gone (docs/ARCHITECTURE.md, "Lost device"): every tensor on it is lost. A
   * running training fails at its next GPU readback (a paused one is stopped); then the backend is
   * rebuilt (WebGPU on a new device, or wasm), the model is loaded again, and an interrupted run
   * continues from its last checkpoint with the losses it would have had.
   */
  deviceLost(reason: string, rebuild: () => Promise<CapabilityReport>): void {
    if (this.lostDevice !== null) return;
    this.lostDevice = reason;
    this.rebuildBackend = rebuild;
    this.emit({
      kind: 'deviceLost',
      message: `The GPU device was lost (${reason}). The studio is bringing the backend and the model back.`,
    });
    if (!this.active) void this.recoverDevice(null);
    else if (this.scheduler.trainingState === 'paused') void this.stop();
  }

  private async recoverDevice(runId: string | null): Promise<void> {
    const reason = this.lostDevice ?? 'unknown reason';
    try {
      // The failed run's slot is freed once its finish has returned.
      while (this.active) await new Promise((resolve) => setTimeout(resolve, 20));
      try {
        this.model?.dispose();
      } catch {
        // Its buffers went with the device.
      }
      this.model = null;
      const capability = await this.rebuildBackend!();
      this.lostDevice = null;
      this.emit({ kind: 'backendChanged', capability: { ...capability, summary: describeCapability(capability) } });
      const origin = this.modelOrigin;
      // Not loadModel / loadSavedModel: the base stays the one taken at load (it is on the CPU).
      const summary =
        origin === 'saved' ? await this.reopenSavedModel() : origin ? await this.replaceModel(origin) : null;
      // Reloaded from its origin, the model has its base weights again; the saved copy may be trained.
      if (summary && origin !== 'saved') this.setAtBase(true);
      if (summary) this.emit({ kind: 'modelReloaded', model: summary });
      const checkpoint = runId && this.projectStore ? await this.projectStore.loadCheckpoint(runId) : null;
      if (runId && checkpoint && summary) {
        this.emit({
          kind: 'runRecovering',
          runId,
          step: checkpoint.step,
          message: `The GPU device was lost (${reason}); training continues on ${describeCapability(capability)} from step ${checkpoint.step}, the last checkpoint.`,
        });
        await this.continueRun(runId);
      } else if (runId !== null) {
        this.emit({
          kind: 'trainingError',
          code: 'GPU_DEVICE_LOST',
          message: `The GPU device was lost (${reason}) before the run had a checkpoint. The model was loaded again on ${describeCapability(capability)}; start the run again.`,
        });
      }
    } catch (error) {
      const { message } = describeFailure(error);
      this.emit({
        kind: 'trainingError',
        code: 'GPU_DEVICE_LOST',
        message: `The GPU device was lost (${reason}) and could not be brought back: ${message} Reload the page; your project is saved.`,
      });
    }
  }

  pause(): string {
    this.active?.loop.pause();
    return this.active ? 'pausing' : 'idle';
  }

  resume(): string {
    this.active?.loop.resume();
    return this.active ? 'running' : 'idle';
  }

  async stop(): Promise<string> {
    if (!this.active) return 'idle';
    await this.scheduler.stop();
    return this.scheduler.trainingState;
  }

  predict(inputs: TextInput[]) {
    return this.scheduler.enqueue(async () => {
      const model = this.requireModel();
      // Answered between steps: the weights are those after `step` optimizer steps.
      return {
        labels: model.labels,
        predictions: await model.predict(inputs),
        trainingStep: this.active ? this.active.loop.step : null,
        nearest: model.hasSetFitExamples ? await model.nearestExamples(inputs, NEAREST_EXAMPLES) : null,
      };
    });
  }

  /** Predictions for a whole file, chunk by chunk through the queue (training keeps stepping in between). */
  async predictFile(
    file: Blob | Uint8Array,
    fileName: string,
    textColumn?: string | null,
  ): Promise<PredictFileResultMessage> {
    const model = this.requireModel();
    const source = file instanceof Uint8Array ? file : (file.stream() as ReadableStream<Uint8Array>);
    const result = await predictFile(model, source, fileName, {
      textColumn: textColumn ?? null,
      totalBytes: file instanceof Uint8Array ? file.byteLength : file.size,
      runChunk: (predict) =>
        this.scheduler.enqueue(async () => {
          if (this.model !== model)
            throw new EngineError('PREDICT_MODEL_CHANGED', 'Another model was loaded; start the prediction again.');
          return predict();
        }),
      onProgress: (p) => this.emit({ kind: 'predictProgress', fileName, ...p }),
    });
    return {
      fileName,
      csv: result.csv,
      rows: result.rows,
      labels: result.labels,
      textColumn: result.textColumn,
      warnings: result.warnings,
    };
  }

  /** Metrics on a labeled test file with the weights as they are now; chunks go through the queue. */
  async evaluateFile(
    file: Blob | Uint8Array,
    fileName: string,
    mapping: ColumnMapping | null,
  ): Promise<EvaluateFileResult> {
    const model = this.requireModel();
    const bytes = file instanceof Uint8Array ? file : new Uint8Array(await file.arrayBuffer());
    return evaluateFile(model, bytes, fileName, {
      mapping,
      runChunk: (predict) =>
        this.scheduler.enqueue(async () => {
          if (this.model !== model)
            throw new EngineError('PREDICT_MODEL_CHANGED', 'Another model was loaded; evaluate the file again.');
          return predict();
        }),
    });
  }

  fillMask(text: string, topK: number) {
    return this.scheduler.enqueue(async () => this.requireModel().fillMask(text, topK));
  }

  /** Zero-shot classification through a cloze prompt, with the weights as they are now. */
  zeroShot(params: ZeroShotParams): Promise<ZeroShotResult> {
    return this.scheduler.enqueue(async () => zeroShot(this.requireModel(), params));
  }

  suggestPrompts(params: SuggestPromptsParams): Promise<SuggestPromptsResult> {
    return this.scheduler.enqueue(async () => suggestPrompts(this.requireModel(), params));
  }

  hubCacheStatus(repos: string[], baseUrl?: string): Promise<Record<string, boolean>> {
    return hubCacheStatus(repos, this.cache, baseUrl);
  }

  hubCacheList(baseUrl?: string): Promise<CachedHubModel[]> {
    return listCachedHubModels(this.cache, baseUrl);
  }

  /** Deletes one repo's cached files (one commit, or all), or everything without a repo; the loaded model stays. */
  async hubCacheDelete(repo?: string, commit?: string, baseUrl?: string): Promise<CachedHubModel[]> {
    if (repo === undefined) await clearHubCache(this.cache);
    else await deleteCachedHubModel(this.cache, repo, { commit, baseUrl });
    return listCachedHubModels(this.cache, baseUrl);
  }

  /** The model's tokenizer pieces and ids for `text` (no special tokens). */
  tokenize(text: string) {
    return this.scheduler.enqueue(async () => this.requireModel().tokenize(text));
  }

  /** Token count per input with the model's tokenizer (special tokens included, no truncation). */
  tokenLengths(inputs: TextInput[]) {
    return this.scheduler.enqueue(async () => this.requireModel().tokenLengths(inputs));
  }

  embed(inputs: TextInput[]) {
    return this.scheduler.enqueue(async () => this.requireModel().embed(inputs));
  }

  /**
   * The embedding map of `inputs` (docs/ARCHITECTURE.md, "The embedding map") with the weights as
   * they are now: one chunk of embeddings (or of UMAP's neighbour search or epochs) per queue turn
   * and at most one per training step, so training steps and playground requests run in between;
   * `mapProgress` events after each chunk. Fails if another model is loaded meanwhile.
   */
  async embeddingMap(
    inputs: TextInput[],
    options: { method?: EmbeddingMapMethod; maxLength?: number } = {},
  ): Promise<EmbeddingMapResult> {
    const model = this.requireModel();
    return embeddingMap(model, inputs, {
      method: options.method,
      maxLength: options.maxLength,
      runChunk: async (work) => {
        // One chunk per training step at most: a running training keeps its pace.
        await this.scheduler.nextStep();
        return this.scheduler.enqueue(async () => {
          if (this.model !== model)
            throw new EngineError('MAP_MODEL_CHANGED', 'Another model was loaded; draw the map again.');
          return work();
        });
      },
      onProgress: (done, total, phase) => this.emit({ kind: 'mapProgress', done, total, phase }),
    });
  }

  exportModel(dtype: 'F32' | 'F16', extraFiles?: Record<string, Uint8Array>, folderName?: string) {
    return this.scheduler.enqueue(async () => ({
      zip: await exportBundle(this.requireModel(), { dtype, extraFiles, folderName }),
    }));
  }

  /** The session's model (tests and the dataset parser read its tokenizer). */
  get currentModel(): FewShotModel | null {
    return this.model;
  }

  private queueProgress(event: ProgressEvent): void {
    this.pendingLosses.push(...event.losses);
    this.latestProgress = event;
    const interval = 1000 / MAX_PROGRESS_EVENTS_PER_SECOND;
    const now = Date.now();
    if (now - this.lastProgressAt >= interval) {
      this.flushProgress();
    } else if (!this.progressTimer) {
      this.progressTimer = setTimeout(() => this.flushProgress(), interval - (now - this.lastProgressAt));
    }
  }

  private flushProgress(): void {
    if (this.progressTimer) clearTimeout(this.progressTimer);
    this.progressTimer = null;
    if (!this.latestProgress) return;
    this.emit({ ...this.latestProgress, losses: this.pendingLosses });
    this.pendingLosses = [];
    this.latestProgress = null;
    this.lastProgressAt = Date.now();
  }
}

/** Maps failures inside a step (GPU out of memory, lost device) to a code and an explanation. */
export function describeFailure(error: unknown): { code: string; message: string } {
  if (error instanceof EngineError) return { code: error.code, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  if (/out of memory|OOM|allocation/i.test(message)) {
    return {
      code: 'GPU_OUT_OF_MEMORY',
      message: `The GPU ran out of memory (${message}). Lower the batch size or the max length.`,
    };
  }
  if (/device (was )?lost|device is lost|DeviceLost/i.test(message)) {
    return {
      code: 'GPU_DEVICE_LOST',
      message: `The GPU device was lost (${message}). If the studio does not bring it back by itself, reload the page: your project and the run's last checkpoint are saved.`,
    };
  }
  return { code: 'TRAINING_FAILED', message };
}
