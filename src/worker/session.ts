/**
 * The worker's one session: exactly one model (with its tokenizer), one optimizer state and one
 * training run at a time, behind one queue (scheduler.ts). Training runs step by step; playground
 * requests are served between steps with the weights of that moment; pause/resume/stop act at
 * step boundaries. Progress events are throttled to at most 10 per second without dropping loss
 * points (they are batched into the next event).
 */
import type { LimitsReport } from '../engine/backend';
import {
  BrowserDownloadCache,
  createFileListSource,
  createHubSource,
  createUrlFolderSource,
  hubFileUrl,
  loadCheckpointFiles,
  type CheckpointSource,
  type DownloadCache,
} from '../engine/checkpoint';
import { EngineError } from '../engine/errors';
import { FewShotModel, type ModelSummary, type TextInput } from '../engine/pipeline/fewshot-model';
import {
  createTrainer,
  prepareFineTune,
  type FineTuneOverrides,
  type MemoryLimits,
} from '../engine/pipeline/fine-tune';
import type { Example } from '../engine/data/dataset';
import type { ClassifierTrainer, TrainerCallbacks } from '../engine/train/trainer';
import { preparePromptFineTune } from '../engine/pipeline/prompt-fine-tune';
import type { PromptTrainer } from '../engine/prompt/trainer';
import {
  PROMPT_LIBRARY,
  buildVerbalizer,
  compileTemplate,
  evaluatePrompt,
  findRecipe,
  labelNameVerbalizer,
  predictWithPrompt,
  rankPrompts,
  recipeCandidates,
  suggestLabelWords,
  type PromptCandidate,
} from '../engine/prompt';
import { prepareAdaptation } from '../engine/pretrain/adapt';
import type { SuggestPromptsParams, SuggestPromptsResult } from './protocol';
import type {
  AdaptParams,
  AdaptPlan,
  ModelSource,
  TrainingMethod,
  TrainingPlan,
  WorkerEventPayload,
  ZeroShotParams,
  ZeroShotResult,
} from './protocol';
import { SessionScheduler } from './scheduler';

/** At most this many progress events per second reach the UI. */
export const MAX_PROGRESS_EVENTS_PER_SECOND = 10;

/**
 * Share of the adapter's largest buffer size used as the budget for a whole training step. WebGPU
 * does not report total memory; real GPUs have several times `maxBufferSize`, so 2× is a
 * conservative budget that still admits base-size models at moderate batch sizes.
 */
const STEP_BUDGET_BUFFER_MULTIPLE = 2;

export interface SessionOptions {
  /** Download cache for Hub models (Cache Storage in the browser). Default: browser cache when available. */
  cache?: DownloadCache | null;
  /** Adapter limits from the capability report (null on wasm/cpu: no GPU limit applies). */
  limits?: LimitsReport | null;
}

type Emit = (event: WorkerEventPayload) => void;

export class Session {
  private model: FewShotModel | null = null;
  private trainer: ClassifierTrainer | PromptTrainer | null = null;
  readonly scheduler = new SessionScheduler();
  private readonly cache: DownloadCache | null;
  private limits: LimitsReport | null;
  private pendingLosses: { step: number; loss: number }[] = [];
  private lastProgressAt = 0;
  private progressTimer: ReturnType<typeof setTimeout> | null = null;
  private latestProgress: Extract<WorkerEventPayload, { kind: 'progress' }> | null = null;

  constructor(
    private readonly emit: Emit,
    options: SessionOptions = {},
  ) {
    this.cache =
      options.cache !== undefined ? options.cache : typeof caches !== 'undefined' ? new BrowserDownloadCache() : null;
    this.limits = options.limits ?? null;
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

  private sourceFor(source: ModelSource): { checkpoint: CheckpointSource; name: string; description: string } {
    switch (source.kind) {
      case 'url':
        return {
          checkpoint: createUrlFolderSource(source.baseUrl),
          name: source.name,
          description: `embedded (${source.baseUrl})`,
        };
      case 'hub': {
        const hub = createHubSource({
          repo: source.repo,
          revision: source.revision,
          baseUrl: source.baseUrl,
          cache: this.cache ?? undefined,
        });
        return {
          checkpoint: hub,
          name: source.repo,
          description: `${source.baseUrl ?? 'https://huggingface.co'}/${source.repo}@${source.revision ?? 'main'}`,
        };
      }
      case 'files':
        return {
          checkpoint: createFileListSource(source.files),
          name: source.name,
          description: `folder "${source.name}"`,
        };
    }
  }

  /**
   * Loads a model and makes it the session's model. The previous model stays in place (and
   * usable) if anything goes wrong.
   */
  async loadModel(source: ModelSource): Promise<ModelSummary> {
    this.assertNotTraining('load another model');
    const { checkpoint, name, description } = this.sourceFor(source);
    const files = await loadCheckpointFiles(checkpoint, {
      onProgress: (p) => this.emit({ kind: 'download', file: p.file, loaded: p.loaded, total: p.total }),
    });
    return this.scheduler.enqueue(async () => {
      this.assertNotTraining('load another model');
      const next = FewShotModel.fromCheckpoint(files, { name, source: description });
      this.model?.dispose();
      this.model = next;
      return next.summary();
    });
  }

  /** Validates, prepares and starts training; resolves with the plan once the run has started. */
  async startTraining(
    train: Example[],
    dev: Example[] | null,
    overrides: FineTuneOverrides,
    method: TrainingMethod = { kind: 'head' },
  ): Promise<TrainingPlan> {
    this.assertNotTraining('start another training run');
    const model = this.requireModel();
    const limits: MemoryLimits | null = this.limits
      ? {
          maxBufferBytes: this.limits.maxStorageBufferBindingSize,
          totalBudgetBytes: this.limits.maxBufferSize * STEP_BUDGET_BUFFER_MULTIPLE,
        }
      : null;
    const prepared = prepareFineTune(model, { train, dev }, overrides, limits);
    if (prepared.memory.note) this.emit({ kind: 'log', level: 'warn', message: prepared.memory.note });
    const prompt = method.kind === 'prompt' ? preparePromptFineTune(model, prepared, method) : null;
    const callbacks: TrainerCallbacks = {
      onProgress: (p) =>
        this.queueProgress({
          kind: 'progress',
          step: p.step,
          totalSteps: p.totalSteps,
          epoch: p.epoch,
          epochs: p.epochs,
          losses: p.losses,
          learningRate: p.learningRate,
          examplesPerSecond: p.examplesPerSecond,
          etaSeconds: p.etaSeconds,
        }),
      onEvaluated: (e) => {
        // Not a progress flush: that would bypass the 10-per-second throttle.
        this.emit({ kind: 'evaluated', step: e.step, epoch: e.epoch, isBest: e.isBest, metrics: e.metrics });
      },
      onLog: (level, message) => this.emit({ kind: 'log', level, message }),
    };
    const trainer = prompt ? prompt.createTrainer(callbacks) : createTrainer(model, prepared, callbacks);
    // The playground follows the method being trained: through the prompt (with the weights as they
    // are at each step) or through the classifier head.
    model.setPrompt(prompt ? prompt.config : null);
    this.trainer = trainer;
    const plan: TrainingPlan = {
      method: method.kind,
      promptWarnings: prompt?.warnings ?? [],
      labels: prepared.labels,
      trainCount: prepared.train.length,
      devCount: prepared.dev.length,
      autoSplit: prepared.autoSplit,
      totalSteps: trainer.totalSteps,
      epochs: prepared.options.epochs,
      batchSize: prepared.options.batchSize,
      gradAccumSteps: prepared.options.gradAccumSteps ?? 1,
      learningRate: prepared.options.learningRate,
      maxLength: prompt ? prompt.maxLength : prepared.options.maxLength,
      seed: prepared.options.seed,
      truncated: prepared.truncated,
      issues: prepared.issues,
      splitNotes: prepared.splitNotes,
      memory: prepared.memory,
      devExamples: prepared.devExamples,
    };
    let stopRequested = false;
    this.stopRequested = () => (stopRequested = true);
    this.emit({ kind: 'trainingState', state: 'running' });
    void this.scheduler
      .startTraining({
        step: async () => ({ done: !(await trainer.runStep()) }),
        finish: async (reason, error) => {
          this.flushProgress();
          try {
            if (reason === 'failed') {
              const failure = describeFailure(error);
              // Keep the last good weights: restore the best (or initial) snapshot via finish().
              await trainer.finish('stopped').catch(() => undefined);
              this.emit({
                kind: 'trainingError',
                code: failure.code,
                message: `${failure.message} Training stopped; the last good weights were kept.`,
              });
            } else {
              const summary = await trainer.finish(stopRequested ? 'stopped' : 'completed');
              if (!prompt) model.markClassifierTrained();
              this.emit({ kind: 'trainingDone', summary, model: model.summary() });
            }
          } finally {
            trainer.dispose();
            this.trainer = null;
            this.emit({ kind: 'trainingState', state: 'idle' });
          }
        },
      })
      .catch((error) => this.emit({ kind: 'trainingError', ...describeFailure(error) }));
    return plan;
  }

  private stopRequested: () => void = () => {};

  /**
   * "Adapt to my texts" (task-adaptive pretraining, Gururangan et al. 2020): continues MLM
   * pretraining of the session's model on the user's texts, in the training slot (pause / resume /
   * stop work the same; the playground keeps answering between steps). Every 10th packed sequence
   * is held out to report the MLM loss on the user's texts before and after.
   */
  async startAdapt(params: AdaptParams): Promise<AdaptPlan> {
    this.assertNotTraining('adapt the model');
    const model = this.requireModel();
    const { pretrainer, plan } = prepareAdaptation(model, params.texts, params, {
      onLosses: (losses) => {
        const last = losses.at(-1);
        if (!last) return;
        this.queueProgress({
          kind: 'progress',
          step: last.step,
          totalSteps: params.steps,
          epoch: 1,
          epochs: 1,
          losses: losses.map((l) => ({ step: l.step, loss: l.loss })),
          learningRate: last.lr,
          examplesPerSecond: 0,
          etaSeconds: 0,
        });
      },
      onLog: (level, message) => this.emit({ kind: 'log', level: level === 'warning' ? 'warn' : 'info', message }),
    });
    await pretrainer.init(false);
    const before = await pretrainer.evaluate();
    let stopRequested = false;
    this.stopRequested = () => (stopRequested = true);
    this.emit({ kind: 'trainingState', state: 'running' });
    void this.scheduler
      .startTraining({
        step: async () => ({ done: !(await pretrainer.step()) || pretrainer.stepCount >= params.steps }),
        finish: async (reason, error) => {
          try {
            await pretrainer.flushLosses();
            this.flushProgress();
            if (reason === 'failed') {
              const failure = describeFailure(error);
              this.emit({
                kind: 'trainingError',
                code: failure.code,
                message: `${failure.message} Adaptation stopped.`,
              });
              return;
            }
            const after = await pretrainer.evaluate();
            this.emit({
              kind: 'adaptDone',
              result: {
                plan,
                stepsDone: pretrainer.stepCount,
                reason: stopRequested ? 'stopped' : 'completed',
                before: { loss: before.loss, accuracy: before.accuracy },
                after: { loss: after.loss, accuracy: after.accuracy },
              },
            });
          } finally {
            pretrainer.dispose();
            this.emit({ kind: 'trainingState', state: 'idle' });
          }
        },
      })
      .catch((error) => this.emit({ kind: 'trainingError', ...describeFailure(error) }));
    return plan;
  }

  pause(): string {
    if (this.scheduler.pause()) this.emit({ kind: 'trainingState', state: 'paused' });
    return this.scheduler.trainingState;
  }

  resume(): string {
    if (this.scheduler.resume()) this.emit({ kind: 'trainingState', state: 'running' });
    return this.scheduler.trainingState;
  }

  async stop(): Promise<string> {
    if (this.scheduler.trainingState === 'idle') return 'idle';
    this.stopRequested();
    this.emit({ kind: 'trainingState', state: 'stopping' });
    await this.scheduler.stop();
    return this.scheduler.trainingState;
  }

  predict(inputs: TextInput[]) {
    return this.scheduler.enqueue(async () => {
      const model = this.requireModel();
      // Answered between steps: the weights are those after `trainer.step` optimizer steps.
      return {
        labels: model.labels,
        predictions: await model.predict(inputs),
        trainingStep: this.trainer?.step ?? null,
      };
    });
  }

  fillMask(text: string, topK: number) {
    return this.scheduler.enqueue(async () => this.requireModel().fillMask(text, topK));
  }

  /**
   * Zero-shot classification through a cloze prompt, with the weights as they are now. With labeled
   * rows, the prompt is also scored on the dev split that training would use (same validation,
   * seed and fraction as prepareFineTune), so the number compares with the fine-tuned model's.
   */
  zeroShot(params: ZeroShotParams): Promise<ZeroShotResult> {
    return this.scheduler.enqueue(async () => {
      const model = this.requireModel();
      const labels = Object.keys(params.verbalizer);
      const template = compileTemplate(params.template, model.tokenizer);
      const verbalizer = buildVerbalizer(params.verbalizer, labels, model.tokenizer);
      const prompt = {
        config: { template: params.template, verbalizer: params.verbalizer, calibrate: params.calibrate },
        template,
        verbalizer,
      };
      const predictions = params.inputs.length > 0 ? await predictWithPrompt(model, prompt, params.inputs) : [];
      let evaluation: ZeroShotResult['evaluation'] = null;
      let evaluationNote: string | null = null;
      if (params.labeled && params.labeled.length > 0) {
        const prepared = prepareFineTune(model, { train: params.labeled, dev: null }, { seed: params.seed });
        const missing = prepared.labels.filter((l) => !labels.includes(l));
        if (missing.length > 0)
          evaluationNote = `No label words for ${missing.map((l) => `"${l}"`).join(', ')}: give every label of the data at least one word to score the prompt on the dev split.`;
        else if (prepared.devExamples.length === 0) evaluationNote = 'The dev split is empty (too few labeled rows).';
        else {
          const rows = prepared.devExamples.map((e) => ({
            text: e.text,
            textPair: e.textPair ?? null,
            label: e.label!,
          }));
          const metrics = await evaluatePrompt(model, template, verbalizer, rows, { calibrate: params.calibrate });
          evaluation = {
            accuracy: metrics.accuracy,
            macroF1: metrics.macroF1,
            n: metrics.n,
            autoSplit: prepared.autoSplit,
          };
        }
      }
      return {
        labels,
        predictions,
        warnings: [...template.warnings, ...verbalizer.warnings],
        evaluation,
        evaluationNote,
      };
    });
  }

  /**
   * Label-word suggestions from the training split (never the dev rows, which rank the prompts) and
   * library prompts for these labels ranked by zero-shot accuracy on the dev split training uses.
   */
  suggestPrompts(params: SuggestPromptsParams): Promise<SuggestPromptsResult> {
    return this.scheduler.enqueue(async () => {
      const model = this.requireModel();
      const prepared = prepareFineTune(model, { train: params.labeled, dev: null }, { seed: params.seed });
      const labels = prepared.labels;
      const asInput = (e: Example) => ({ text: e.text, textPair: e.textPair ?? null, label: e.label! });
      const suggestions = await suggestLabelWords(model, params.template, prepared.trainExamples.map(asInput), labels, {
        topK: params.topK ?? 8,
      });
      const words = Object.fromEntries(
        Object.entries(suggestions).map(([label, list]) => [
          label,
          list.map((w) => ({ word: w.word, score: w.score })),
        ]),
      );
      const recipe = findRecipe(null, labels);
      const candidates: PromptCandidate[] = recipe ? recipeCandidates(recipe, labels, model.tokenizer) : [];
      // Label names as words under every library template not already covered.
      try {
        const byName = labelNameVerbalizer(labels, model.tokenizer);
        const templates = recipe
          ? recipe.templates
          : [...new Set(PROMPT_LIBRARY.flatMap((r) => r.templates.slice(0, 1)))];
        for (const template of templates) candidates.push({ template, verbalizer: byName });
      } catch {
        /* some label has no usable word: the library verbalizers (if any) still rank */
      }
      const top = Object.fromEntries(labels.map((l) => [l, words[l]?.[0] ? [words[l][0].word] : []]));
      if (labels.every((l) => top[l].length > 0)) candidates.push({ template: params.template, verbalizer: top });
      const dev = prepared.devExamples.map(asInput);
      const ranked = dev.length > 0 ? await rankPrompts(model, candidates, dev, labels) : [];
      const normalize = (v: PromptCandidate['verbalizer']) =>
        Object.fromEntries(Object.entries(v).map(([l, w]) => [l, typeof w === 'string' ? [w] : [...w]]));
      return {
        labels,
        words,
        ranked: ranked.map((r) => ({
          template: r.template,
          verbalizer: normalize(r.verbalizer),
          accuracy: r.accuracy,
          macroF1: r.macroF1,
          error: r.error,
        })),
        devCount: dev.length,
      };
    });
  }

  /**
   * Which Hub repos are fully in the download cache (config.json plus safetensors or
   * pytorch_model.bin weights), so the picker can say "cached" before anything is fetched.
   */
  async hubCacheStatus(repos: string[], baseUrl?: string): Promise<Record<string, boolean>> {
    const cache = this.cache;
    const status: Record<string, boolean> = {};
    for (const repo of repos) {
      if (!cache) {
        status[repo] = false;
        continue;
      }
      const has = async (file: string) =>
        (await cache.get(hubFileUrl(repo, file, { baseUrl })).catch(() => null))?.kind === 'file';
      status[repo] =
        (await has('config.json')) && ((await has('model.safetensors')) || (await has('pytorch_model.bin')));
    }
    return status;
  }

  /** Token count per input with the model's tokenizer (special tokens included, no truncation). */
  tokenLengths(inputs: TextInput[]) {
    return this.scheduler.enqueue(async () => this.requireModel().tokenLengths(inputs));
  }

  embed(inputs: TextInput[]) {
    return this.scheduler.enqueue(async () => this.requireModel().embed(inputs));
  }

  exportModel(dtype: 'F32' | 'F16') {
    return this.scheduler.enqueue(async () => {
      const files = await this.requireModel().exportFiles({ dtype });
      return { files: Object.fromEntries(files) };
    });
  }

  private queueProgress(event: Extract<WorkerEventPayload, { kind: 'progress' }>): void {
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
function describeFailure(error: unknown): { code: string; message: string } {
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
      message: `The GPU device was lost (${message}). Reload the page to get a fresh device.`,
    };
  }
  return { code: 'TRAINING_FAILED', message };
}
