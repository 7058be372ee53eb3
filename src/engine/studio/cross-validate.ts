/**
 * k-fold cross-validation through the door (docs/ARCHITECTURE.md, "Cross-validation"): a driver
 * around `startFineTune`, never a second training loop. Each fold's model starts from the same
 * starting weights (the session's base, or the weights the caller passes), trains on the other
 * folds exactly as a normal run trains (same defaults, same loop), and is scored on its own fold,
 * which it never saw: the fold is not its dev set, so no checkpoint choice or early stop peeks at
 * it. Then the final model trains the same way on all rows. Pause, resume and stop reach the fold
 * that is running; the worker's scheduler drives this object exactly like a single run's loop.
 */
import { buildLabelVocab, type Example } from '../data/dataset';
import { DEFAULT_CV_FOLDS, MAX_CV_FOLDS, stratifiedFolds } from '../data/folds';
import { requireTrainingData } from '../data/validate';
import { EngineError } from '../errors';
import { DEFAULT_SEED } from '../train/defaults';
import type { LoopCallbacks, LoopRunState, RunHooks, TrainingSummary } from '../train/loop';
import type { Metrics } from '../train/metrics';
import { meanStd } from '../util/stats';
import type { FewShotModel, ModelWeightsSnapshot } from './fewshot-model';
import {
  planFineTune,
  startFineTune,
  type FineTunePlan,
  type FineTuneRun,
  type FineTuneSettings,
  type MethodSpec,
} from './fine-tune';
import type { MemoryLimits } from './memory';

export { DEFAULT_CV_FOLDS, MAX_CV_FOLDS };

/** One fold's model, scored on the fold it did not train on. */
export interface FoldResult {
  /** 1-based. */
  fold: number;
  trainRows: number;
  /** Rows of this fold (scored). */
  testRows: number;
  steps: number;
  accuracy: number;
  macroF1: number;
  /** Rows of this fold predicted right (accuracy × testRows). */
  correct: number;
  /** How the fold's training ended ('diverged': its starting weights were scored). */
  reason: TrainingSummary<Metrics>['reason'];
}

/** The estimate: mean ± sample standard deviation over the folds, and each fold's numbers. */
export interface CrossValidationResult {
  folds: number;
  /** Labeled rows after validation (each scored exactly once when every fold ran). */
  rows: number;
  method: MethodSpec['kind'];
  labels: string[];
  /** Over the folds that ran (all of them when `complete`). */
  accuracy: { mean: number; std: number };
  macroF1: { mean: number; std: number };
  perFold: FoldResult[];
  /** False when the run was stopped before every fold had been scored. */
  complete: boolean;
  /** Plain words: "accuracy 71 % ± 6 (5-fold cross-validation, 40 rows)". */
  text: string;
}

/** Where a cross-validation run is: training fold `fold` of `folds`, or the final model on all rows. */
export interface CrossValidationProgress {
  phase: 'fold' | 'final';
  /** 1-based fold being trained ('final': equal to folds). */
  fold: number;
  folds: number;
  /** Folds scored so far. */
  results: FoldResult[];
}

/** What a cross-validation run will do (the Train panel shows it; `fewshot train --cv` prints it). */
export interface CrossValidationPlan {
  folds: number;
  rows: number;
  labels: string[];
  /** Rows per fold (each fold is scored by the model trained on the others). */
  foldSizes: number[];
  /** Fold 1's training plan (the others differ only by their rows). */
  foldPlan: FineTunePlan;
  /** The final model's plan: every row, no dev split. */
  finalPlan: FineTunePlan;
}

export interface CrossValidationOptions {
  folds?: number;
  /**
   * The weights every fold and the final model start from (FewShotModel.snapshotWeights). Default:
   * a snapshot of the model's weights when the run starts.
   */
  start?: ModelWeightsSnapshot;
  limits?: MemoryLimits | null;
  /** Each fold's and the final run's loop events (progress, logs, state changes). */
  callbacks?: LoopCallbacks<Metrics>;
  /** Called when a fold (or the final model) starts, and with each fold's score. */
  onFold?: (progress: CrossValidationProgress) => void;
}

/** Every fold and the final model train without a dev split: the held-out fold is the only score. */
const NO_DEV: FineTuneSettings = { devFraction: 0 };

/** "71 %" */
const pct = (x: number) => `${Math.round(100 * x)} %`;

/** Mean ± std of each fold's scores, and the sentence the studio and the CLI show. */
export function summarizeFolds(
  perFold: readonly FoldResult[],
  folds: number,
  rows: number,
  method: MethodSpec['kind'],
  labels: readonly string[],
): CrossValidationResult {
  const accuracy = meanStd(perFold.map((f) => f.accuracy));
  const macroF1 = meanStd(perFold.map((f) => f.macroF1));
  const complete = perFold.length === folds;
  const text = complete
    ? `accuracy ${pct(accuracy.mean)} ± ${Math.round(100 * accuracy.std)} (${folds}-fold cross-validation, ${rows} rows) · macro-F1 ${macroF1.mean.toFixed(2)} ± ${macroF1.std.toFixed(2)}`
    : perFold.length === 0
      ? `cross-validation stopped before any fold was scored (${folds} folds, ${rows} rows)`
      : `accuracy ${pct(accuracy.mean)} ± ${Math.round(100 * accuracy.std)} on ${perFold.length} of ${folds} folds only (stopped; ${rows} rows)`;
  return { folds, rows, method, labels: [...labels], accuracy, macroF1, perFold: [...perFold], complete, text };
}

interface Prepared {
  rows: Example[];
  labels: string[];
  folds: number[][];
}

/** Validates the rows once (the folds split what a run would train on) and deals the folds. */
function prepareFolds(data: { train: readonly Example[]; dev?: readonly Example[] | null }, k: number, seed: number) {
  if (data.dev && data.dev.length > 0)
    throw new EngineError(
      'CV_DEV_GIVEN',
      'Cross-validation makes its own held-out folds from the training rows; leave out the dev set (or train normally to score on it).',
    );
  if (!Number.isInteger(k) || k < 2 || k > MAX_CV_FOLDS)
    throw new EngineError('FOLDS_BAD_K', `Cross-validation takes 2 to ${MAX_CV_FOLDS} folds; got ${k}.`);
  const checked = requireTrainingData(data.train);
  const rows = checked.train;
  const labels = buildLabelVocab(rows);
  return {
    rows,
    labels,
    folds: stratifiedFolds(
      rows.map((r) => r.label as string),
      k,
      seed,
    ),
  } satisfies Prepared;
}

/** Training rows of fold `i`: every row of the other folds, in file order. */
function split(prepared: Prepared, i: number): { train: Example[]; test: Example[] } {
  const held = new Set(prepared.folds[i]);
  return {
    train: prepared.rows.filter((_, r) => !held.has(r)),
    test: prepared.folds[i].map((r) => prepared.rows[r]),
  };
}

/** The plan of a cross-validation run, without training anything. */
export function planCrossValidation(
  model: FewShotModel,
  data: { train: readonly Example[]; dev?: readonly Example[] | null },
  method: MethodSpec,
  settings: FineTuneSettings = {},
  options: { folds?: number; limits?: MemoryLimits | null } = {},
): CrossValidationPlan {
  const prepared = prepareFolds(data, options.folds ?? DEFAULT_CV_FOLDS, settings.seed ?? DEFAULT_SEED);
  return planFrom(model, prepared, method, settings, options.limits ?? null);
}

function planFrom(
  model: FewShotModel,
  prepared: Prepared,
  method: MethodSpec,
  settings: FineTuneSettings,
  limits: MemoryLimits | null,
): CrossValidationPlan {
  const noDev = { ...settings, ...NO_DEV };
  return {
    folds: prepared.folds.length,
    rows: prepared.rows.length,
    labels: prepared.labels,
    foldSizes: prepared.folds.map((f) => f.length),
    foldPlan: planFineTune(model, { train: split(prepared, 0).train }, method, noDev, limits),
    finalPlan: planFineTune(model, { train: prepared.rows }, method, noDev, limits),
  };
}

/**
 * A started cross-validation: `run(hooks)` trains fold after fold and then the final model, each
 * through `startFineTune` and its loop's own `run(hooks)`; `step`, `state`, `pause`, `resume` and
 * `stop` speak for the run in progress, so the worker's scheduler drives this like one loop.
 */
export class CrossValidationRun {
  readonly plan: CrossValidationPlan;
  private current: FineTuneRun | null = null;
  /** The final model's run, once it has started (its plan and summary are the model's). */
  private finalRun: FineTuneRun | null = null;
  private readonly results: FoldResult[] = [];
  private stopRequested = false;
  private pauseRequested = false;
  private started = false;
  private done = false;
  private disposed = false;
  private start: ModelWeightsSnapshot | null;

  constructor(
    private readonly model: FewShotModel,
    private readonly method: MethodSpec,
    private readonly settings: FineTuneSettings,
    private readonly options: CrossValidationOptions,
    private readonly prepared: Prepared,
  ) {
    this.start = options.start ?? null;
    this.plan = planFrom(model, prepared, method, settings, options.limits ?? null);
  }

  /** Optimizer steps of the run in progress (each fold counts from 0). */
  get step(): number {
    return this.current?.loop.step ?? 0;
  }

  get state(): LoopRunState {
    if (this.done) return 'finished';
    if (!this.started) return 'idle';
    if (this.stopRequested) return 'stopping';
    const inner = this.current?.loop.state;
    // Between two folds (and while a fold's loop starts up) the cross-validation is still running.
    return inner === 'paused' || inner === 'stopping' ? inner : 'running';
  }

  /** Folds scored so far. */
  get foldResults(): FoldResult[] {
    return [...this.results];
  }

  /** The estimate from the folds scored so far. */
  result(): CrossValidationResult {
    return summarizeFolds(this.results, this.plan.folds, this.plan.rows, this.method.kind, this.plan.labels);
  }

  /** The final model's run (null until every fold has been scored and it has started). */
  get final(): FineTuneRun | null {
    return this.finalRun;
  }

  pause(): void {
    if (this.done) return;
    // Between folds there is no loop to ask: the next one pauses at its first boundary.
    this.pauseRequested = true;
    this.current?.loop.pause();
  }

  resume(): void {
    this.pauseRequested = false;
    this.current?.loop.resume();
  }

  stop(): void {
    if (this.done) return;
    this.stopRequested = true;
    this.current?.loop.stop();
  }

  /**
   * Trains and scores every fold, then the final model on all rows. Resolves with the final run's
   * summary, or — stopped before the final model — a 'stopped' summary, the starting weights put
   * back (nothing half-trained is left in the model).
   */
  async run(hooks: RunHooks = {}): Promise<TrainingSummary<Metrics>> {
    if (this.started) throw new EngineError('INTERNAL', 'internal: a cross-validation run runs once');
    this.started = true;
    try {
      this.start ??= await this.model.snapshotWeights();
      const k = this.prepared.folds.length;
      for (let i = 0; i < k && !this.stopRequested; i++) {
        const { train, test } = split(this.prepared, i);
        this.options.onFold?.({ phase: 'fold', fold: i + 1, folds: k, results: this.foldResults });
        if (this.stopRequested) break;
        const summary = await this.train(train, hooks);
        if (summary.reason === 'stopped' && this.stopRequested) break;
        // Scored on the fold it never saw, with the weights its run kept (the last ones: no dev split).
        const metrics = await this.current!.evaluate(test);
        this.results.push({
          fold: i + 1,
          trainRows: train.length,
          testRows: test.length,
          steps: summary.steps,
          accuracy: metrics.accuracy,
          macroF1: metrics.macroF1,
          correct: Math.round(metrics.accuracy * metrics.n),
          reason: summary.reason,
        });
        this.current!.dispose();
        this.current = null;
        this.options.onFold?.({ phase: 'fold', fold: i + 1, folds: k, results: this.foldResults });
      }
      if (this.stopRequested) {
        this.current?.dispose();
        this.current = null;
        this.model.restoreWeights(this.start);
        const message = `Cross-validation stopped after ${this.results.length} of ${k} folds; the model's weights are as before the run.`;
        return { reason: 'stopped', steps: 0, bestStep: null, bestMetrics: null, restored: 'last', message };
      }
      this.options.onFold?.({ phase: 'final', fold: k, folds: k, results: this.foldResults });
      const summary = await this.train(this.prepared.rows, hooks);
      this.finalRun = this.current;
      this.current = null;
      return summary;
    } finally {
      this.done = true;
    }
  }

  /** One fold's (or the final) training: the starting weights, then the one door and its loop. */
  private async train(rows: readonly Example[], hooks: RunHooks): Promise<TrainingSummary<Metrics>> {
    this.model.restoreWeights(this.start!);
    const run = startFineTune(
      this.model,
      { train: rows },
      this.method,
      { ...this.settings, ...NO_DEV },
      { limits: this.options.limits ?? null, callbacks: this.options.callbacks ?? {} },
    );
    this.current = run;
    return run.loop.run({
      ...hooks,
      betweenSteps: async () => {
        await hooks.betweenSteps?.();
        // A stop or pause asked for before this loop existed (between folds) reaches it here.
        if (this.stopRequested) run.loop.stop();
        else if (this.pauseRequested && run.loop.state === 'running') run.loop.pause();
      },
    }) as Promise<TrainingSummary<Metrics>>;
  }

  /** Makes the model keep what the final run trained (its labels or prompt); call after `run`. */
  async finish(): Promise<TrainingSummary<Metrics> | null> {
    return this.finalRun ? this.finalRun.finish() : null;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.current?.dispose();
    this.finalRun?.dispose();
  }
}

/**
 * Validates the rows, deals the stratified folds and returns the run, ready for `run(hooks)`.
 * Refused before any training: a dev set given (CV_DEV_GIVEN), a number of folds outside 2–10 or
 * above the rarest label's count (FOLDS_BAD_K), data that cannot be trained on (TRAIN_INVALID_DATA).
 */
export function startCrossValidation(
  model: FewShotModel,
  data: { train: readonly Example[]; dev?: readonly Example[] | null },
  method: MethodSpec,
  settings: FineTuneSettings = {},
  options: CrossValidationOptions = {},
): CrossValidationRun {
  const k = options.folds ?? DEFAULT_CV_FOLDS;
  const prepared = prepareFolds(data, k, settings.seed ?? DEFAULT_SEED);
  return new CrossValidationRun(model, method, settings, options, prepared);
}
