/**
 * The one training loop (docs/ARCHITECTURE.md, "The training loop and its methods"). Every method
 * — classifier head, prompt (LM-BFF), masked LM — trains through it; a method supplies only its
 * loss, its batches and its evaluation (./objective.ts).
 *
 * Per optimizer step: up to `gradAccumSteps` micro-batches (never across an epoch end) → loss and
 * gradients of each (`tf.variableGrads`, dropout seeded by the step) → summed in the one
 * GradAccumulator when there are several → AdamW with global-norm clipping at the scheduled
 * learning rate. No blocking readback: losses stay on the device and are read with one async
 * `data()` every `lossReadEvery` steps; a NaN/Inf loss stops the run and restores good weights.
 * Evaluations (every `evalEvery` steps, at epoch ends, at the end) keep the best weights on the
 * device (a tie goes to the later step) and stop early after `patience` evaluations without
 * improvement. At the end the best weights are restored — unless the dev set has fewer than
 * SMALL_DEV_ROWS rows, where the whole schedule runs (no early stop) and the last weights are kept
 * (see `finishWith`). `run()` adds pause,
 * resume and stop at step boundaries. The whole state can be captured and restored (./loop-state.ts).
 *
 * Why one file of ~500 lines: every feature here reads and writes the same private run state
 * (pending losses, snapshots, counters, pause/stop flags); the step itself (./step.ts), the event
 * types (./events.ts) and the state format (./loop-state.ts) live apart.
 */
import * as tf from '@tensorflow/tfjs';
import { EngineError } from '../errors';
import type { BatchSource, Evaluation, Fingerprint, LoopOptions, TrainingObjective } from './objective';

export type { LoopOptions };
import type {
  EvaluationInfo,
  FinishReason,
  LoopCallbacks,
  LoopRunState,
  ProgressInfo,
  RunHooks,
  StepLoss,
  TrainingSummary,
} from './events';
import { AdamW, GradAccumulator } from './optim';
import { dropoutSeedFor, trainStep } from './step';

export type {
  EvaluationInfo,
  FinishReason,
  LoopCallbacks,
  LoopRunState,
  ProgressInfo,
  RunHooks,
  StepLoss,
  TrainingSummary,
};
export { dropoutSeedFor, trainStep };
import { captureLoopState, restoreLoopState, validateLoopState, type LoopState } from './loop-state';
import { makeLrSchedule } from './schedule';
import { SMALL_DEV_ROWS } from '../util/stats';

interface PendingLoss {
  step: number;
  loss: tf.Scalar;
  lr: number;
  examples: number;
  tokens: number;
}

/** Weights kept on the device, one clone per trained parameter (objective order). */
type Snapshot = tf.Tensor[];

export class TrainingLoop<
  TBatch,
  TMetrics,
  TObjective extends TrainingObjective<TBatch, TMetrics> = TrainingObjective<TBatch, TMetrics>,
> {
  readonly optimizer: AdamW;
  private readonly schedule: (step: number) => number;
  private readonly accumulator: GradAccumulator | null;
  private stepCount = 0;
  private pending: PendingLoss[] = [];
  private best: { snapshot: Snapshot; step: number; metrics: TMetrics; score: number; rows?: number } | null = null;
  /** Weights from before training; dropped once a best evaluation exists (never needed again). */
  private initial: Snapshot | null;
  private evalsWithoutImprovement = 0;
  private finished: TrainingSummary<TMetrics> | null = null;
  private disposed = false;
  /** Examples and tokens trained on (across restores). */
  examplesSeen = 0;
  tokensSeen = 0;
  // Pace of this session (not stored: a restored run measures its own).
  private sessionStartStep = 0;
  /** When this session's first step began, and when its loss was read (the ETA's pace starts there). */
  private firstStepStart: number | null = null;
  private firstStepRead: { at: number; step: number } | null = null;
  private reportStart = performance.now();
  private reportExamples = 0;
  private reportTokens = 0;
  // run() control.
  private runState: LoopRunState = 'idle';
  private pauseRequested = false;
  private stopRequested = false;
  private wake: (() => void) | null = null;

  constructor(
    readonly objective: TObjective,
    readonly options: LoopOptions,
    private readonly callbacks: LoopCallbacks<TMetrics> = {},
  ) {
    validateLoopOptions(options);
    const named = objective.parameters.map((p) => ({ name: p.name, variable: p.variable }));
    this.optimizer = new AdamW(named, { weightDecay: options.weightDecay, maxGradNorm: options.maxGradNorm });
    this.schedule = makeLrSchedule({
      kind: options.schedule,
      peakLr: options.learningRate,
      totalSteps: options.totalSteps,
      warmupSteps: options.warmupSteps,
    });
    this.accumulator = options.gradAccumSteps > 1 ? new GradAccumulator() : null;
    this.initial = options.keepInitial ? this.snapshot() : null;
  }

  /** Optimizer steps done. */
  get step(): number {
    return this.stepCount;
  }

  get totalSteps(): number {
    return this.options.totalSteps;
  }

  get data(): BatchSource<TBatch> {
    return this.objective.data;
  }

  get isFinished(): boolean {
    return this.finished !== null;
  }

  get summary(): TrainingSummary<TMetrics> | null {
    return this.finished;
  }

  get state(): LoopRunState {
    return this.runState;
  }

  /** Learning rate of optimizer step `step` (0-based). */
  learningRateAt(step: number): number {
    return this.schedule(step);
  }

  /** Values that must match for a saved state to continue this run exactly. */
  fingerprint(): Fingerprint {
    const o = this.options;
    return {
      method: this.objective.kind,
      totalSteps: o.totalSteps,
      learningRate: o.learningRate,
      schedule: o.schedule,
      warmupSteps: o.warmupSteps,
      weightDecay: o.weightDecay,
      maxGradNorm: o.maxGradNorm,
      gradAccumSteps: o.gradAccumSteps,
      seed: o.seed,
      dropout: o.dropout,
      ...this.objective.fingerprint(),
    };
  }

  /** Runs one optimizer step (and a due evaluation); false when training is over (then `finish`). */
  async runStep(): Promise<boolean> {
    if (this.finished || this.disposed || this.stepCount >= this.options.totalSteps) return false;
    const data = this.objective.data;
    const micro: TBatch[] = [];
    for (let i = 0; i < this.options.gradAccumSteps; i++) {
      // Accumulation never crosses an epoch end, so epoch-end evaluations see whole epochs.
      if (i > 0 && data.atEpochEnd) break;
      const batch = await data.next();
      if (batch === null) break;
      micro.push(batch);
    }
    if (micro.length === 0) return false;
    if (this.stepCount === this.sessionStartStep) this.firstStepStart = performance.now();

    const lr = this.schedule(this.stepCount);
    const context = {
      training: this.options.dropout,
      dropoutSeed: this.options.dropout ? dropoutSeedFor(this.options.seed, this.stepCount) : undefined,
    };
    const loss = trainStep(this.objective, micro, this.optimizer, lr, context, this.accumulator);
    this.stepCount += 1;
    let examples = 0;
    let tokens = 0;
    for (const b of micro) {
      const size = this.objective.size(b);
      examples += size.examples;
      tokens += size.tokens;
    }
    this.examplesSeen += examples;
    this.tokensSeen += tokens;
    this.reportExamples += examples;
    this.reportTokens += tokens;
    this.pending.push({ step: this.stepCount, loss, lr, examples, tokens });

    const o = this.options;
    const done = this.stepCount >= o.totalSteps;
    const dueEval =
      (o.evalEvery > 0 && this.stepCount % o.evalEvery === 0) ||
      (o.evalAtEpochEnd && data.atEpochEnd) ||
      (o.evalAtEnd && done);
    // The session's first step is read at once: its end says when the GPU programs are compiled.
    const firstOfSession = this.stepCount === this.sessionStartStep + 1;
    const dueRead = this.stepCount % o.lossReadEvery === 0 || dueEval || done || firstOfSession;
    if (dueRead && !(await this.readLosses())) return false;
    if (dueEval) {
      await this.evaluateAndTrack();
      if (this.finished) return false;
    }
    return !done;
  }

  /**
   * Runs steps until the run ends, honouring pause/resume/stop at step boundaries, then finishes.
   * `betweenSteps` runs at every boundary (the worker serves playground requests there) and
   * `beforeStep` right before each step starts.
   */
  async run(hooks: RunHooks = {}): Promise<TrainingSummary<TMetrics>> {
    this.setRunState('running');
    try {
      for (;;) {
        await hooks.betweenSteps?.();
        if (this.stopRequested) break;
        if (this.pauseRequested) {
          // Steps are queued on the device without waiting for them: read what is pending first,
          // so that "paused" is said only once every step has run and been reported.
          if (this.pending.length > 0 && !(await this.readLosses())) break;
          this.setRunState('paused');
          await new Promise<void>((resolve) => (this.wake = resolve));
          this.wake = null;
          if (!this.stopRequested) this.setRunState('running');
          continue;
        }
        await hooks.beforeStep?.();
        if (!(await this.runStep())) break;
      }
      return await this.finish(this.stopRequested ? 'stopped' : 'completed');
    } finally {
      this.setRunState('finished');
    }
  }

  /** Asks `run()` to pause at the next step boundary. */
  pause(): void {
    if (this.runState === 'running') this.pauseRequested = true;
  }

  resume(): void {
    this.pauseRequested = false;
    this.wake?.();
  }

  /** Asks `run()` to stop at the next step boundary (the best weights are kept). */
  stop(): void {
    if (this.runState === 'finished' || this.runState === 'idle') return;
    this.stopRequested = true;
    this.setRunState('stopping');
    this.wake?.();
  }

  private setRunState(state: LoopRunState): void {
    if (this.runState === state) return;
    this.runState = state;
    this.callbacks.onStateChange?.(state);
  }

  /** Evaluates now (outside the cadence), without tracking it. */
  async evaluate(): Promise<Evaluation<TMetrics> | null> {
    return this.objective.evaluate();
  }

  /** Ends training (completed, or stopped by the user) and restores the best weights. Idempotent. */
  async finish(reason: 'completed' | 'stopped' = 'completed'): Promise<TrainingSummary<TMetrics>> {
    if (!this.finished && this.pending.length > 0) await this.readLosses();
    if (!this.finished) {
      this.finishWith(
        reason,
        reason === 'stopped'
          ? `Stopped by the user after ${this.stepCount} steps.`
          : `Finished ${this.stepCount} steps.`,
      );
    }
    return this.finished!;
  }

  /** Ends a run whose step threw (GPU lost, out of memory): keeps the best weights when there are some. */
  fail(message: string): TrainingSummary<TMetrics> {
    for (const p of this.pending) p.loss.dispose();
    this.pending = [];
    if (!this.finished) this.finishWith('stopped', message);
    return this.finished!;
  }

  /**
   * Restores the weights to keep and writes the summary, which always says which weights were kept
   * and why. On a dev set of fewer than SMALL_DEV_ROWS rows the last weights are kept even when a
   * best snapshot exists: there a score moves in steps of 1/rows (more than 5 points), so the "best"
   * step is mostly the luckiest one, and with ties it used to be the earliest (a user's 6-row dev set kept
   * step 4 of 44, exporting a barely trained model). The last weights have seen all the training.
   */
  private finishWith(reason: FinishReason, message: string): void {
    const best = this.best;
    const tinyDev = best?.rows !== undefined && best.rows < SMALL_DEV_ROWS;
    let restored: TrainingSummary<TMetrics>['restored'] = 'last';
    let kept: string;
    if (best && tinyDev) {
      kept =
        `Kept the last weights (step ${this.stepCount}): with ${best.rows} dev rows the best-scoring step ` +
        `(${best.step}) is not a reliable choice, and early stopping was off for the same reason.`;
    } else if (best && best.snapshot.length > 0) {
      this.restore(best.snapshot);
      restored = 'best';
      kept = `Restored the best weights (step ${best.step}, ${this.objective.scoreName} ${best.score.toFixed(3)}).`;
    } else if (best) {
      kept = `Kept the last weights (step ${this.stepCount}): restoring the best weights is switched off.`;
    } else {
      kept = `Kept the last weights (step ${this.stepCount}): there was no evaluation to choose by.`;
    }
    this.finished = {
      reason,
      steps: this.stepCount,
      bestStep: best?.step ?? null,
      bestMetrics: best?.metrics ?? null,
      restored,
      message: `${message} ${kept}`,
    };
  }

  /** Reads pending losses (one async readback) and reports progress; false when training diverged. */
  private async readLosses(): Promise<boolean> {
    const pending = this.pending;
    this.pending = [];
    if (pending.length === 0) return true;
    const stacked = tf.stack(pending.map((p) => p.loss)); // [n]
    const values = await stacked.data();
    stacked.dispose();
    for (const p of pending) p.loss.dispose();
    const losses: StepLoss[] = pending.map((p, i) => ({
      step: p.step,
      loss: values[i],
      lr: p.lr,
      examples: p.examples,
      tokens: p.tokens,
    }));
    const bad = losses.find((l) => !Number.isFinite(l.loss));
    if (bad) {
      this.diverge(bad.step, bad.loss);
      return false;
    }
    const now = performance.now();
    const seconds = Math.max(1e-3, (now - this.reportStart) / 1000);
    this.firstStepRead ??= { at: now, step: this.stepCount };
    const paced = this.stepCount - this.firstStepRead.step;
    const etaSeconds =
      paced > 0
        ? (this.options.totalSteps - this.stepCount) / (paced / Math.max(1e-3, (now - this.firstStepRead.at) / 1000))
        : null;
    const firstStepSeconds =
      this.firstStepStart === null ? null : Math.max(0, (this.firstStepRead.at - this.firstStepStart) / 1000);
    const data = this.objective.data;
    this.callbacks.onProgress?.({
      step: this.stepCount,
      totalSteps: this.options.totalSteps,
      epoch: Math.max(1, data.epoch),
      epochs: data.epochs ?? 1,
      loss: losses.reduce((s, l) => s + l.loss, 0) / losses.length,
      losses,
      learningRate: losses[losses.length - 1].lr,
      examplesPerSecond: this.reportExamples / seconds,
      tokensPerSecond: this.reportTokens / seconds,
      etaSeconds,
      firstStepSeconds,
    });
    this.reportStart = now;
    this.reportExamples = 0;
    this.reportTokens = 0;
    return true;
  }

  private diverge(step: number, loss: number): void {
    const restorable = this.best && this.best.snapshot.length > 0 ? this.best : null;
    const source = restorable ? 'best' : this.initial ? 'initial' : 'last';
    if (restorable) this.restore(restorable.snapshot);
    else if (this.initial) this.restore(this.initial);
    const lower = (this.options.learningRate / 10).toExponential(0);
    const what = Number.isNaN(loss) ? 'NaN' : loss > 0 ? 'infinite' : '-infinite';
    const kept =
      source === 'best'
        ? `The best weights (step ${this.best!.step}) were restored.`
        : source === 'initial'
          ? 'The weights from before training were restored.'
          : 'The weights were left as they are.';
    this.finished = {
      reason: 'diverged',
      steps: this.stepCount,
      bestStep: this.best?.step ?? null,
      bestMetrics: this.best?.metrics ?? null,
      restored: source,
      message:
        `Training stopped at step ${step}: the loss became ${what}. ${kept} ` +
        (this.options.maxGradNorm > 0
          ? `Try a lower learning rate (e.g. ${lower}).`
          : `Try a lower learning rate (e.g. ${lower}) or turn gradient clipping on.`),
    };
    this.callbacks.onLog?.('warn', this.finished.message);
  }

  private async evaluateAndTrack(): Promise<void> {
    const evaluation = await this.objective.evaluate();
    if (!evaluation) return;
    // A tie moves the best to the later step (same score, more training), but only a higher score
    // counts as improvement for early stopping, so a plateau still stops the run.
    const improved = !this.best || evaluation.score > this.best.score;
    const isBest = improved || evaluation.score === this.best!.score;
    if (isBest) {
      if (this.options.keepBest) {
        if (this.best) tf.dispose(this.best.snapshot);
        this.best = { snapshot: this.snapshot(), step: this.stepCount, ...evaluation };
        if (this.initial) tf.dispose(this.initial);
        this.initial = null;
      } else {
        this.best = { snapshot: [], step: this.stepCount, ...evaluation };
      }
    }
    if (improved) this.evalsWithoutImprovement = 0;
    else this.evalsWithoutImprovement += 1;
    const epoch = Math.max(1, this.objective.data.epoch);
    this.callbacks.onEvaluated?.({ step: this.stepCount, epoch, ...evaluation, isBest });
    const o = this.options;
    // Early stopping reads the same noisy score: on a small dev set "no improvement in 3
    // evaluations" is chance, and stopping then would keep mid-schedule weights (see finishWith).
    const smallDev = evaluation.rows !== undefined && evaluation.rows < SMALL_DEV_ROWS;
    if (!smallDev && o.patience > 0 && this.evalsWithoutImprovement >= o.patience && this.stepCount < o.totalSteps) {
      this.finishWith('early-stopped', `No ${this.objective.scoreName} improvement in ${o.patience} evaluations.`);
    }
  }

  private snapshot(): Snapshot {
    return this.objective.parameters.map((p) => tf.keep(p.variable.clone()));
  }

  private restore(snapshot: Snapshot): void {
    this.objective.parameters.forEach((p, i) => p.variable.assign(snapshot[i]));
  }

  /**
   * The loop's whole state as plain typed arrays + JSON (weights, AdamW moments, step, data
   * position, method state, best-so-far). Pending losses are read (and reported) first.
   */
  async captureState(): Promise<LoopState> {
    if (this.pending.length > 0) await this.readLosses();
    return captureLoopState({
      fingerprint: this.fingerprint(),
      kind: this.objective.kind,
      step: this.stepCount,
      parameters: this.objective.parameters,
      optimizer: this.optimizer,
      data: this.objective.data.getState(),
      method: this.objective.getState?.() ?? null,
      best: this.best,
      initial: this.initial,
      evalsWithoutImprovement: this.evalsWithoutImprovement,
      examplesSeen: this.examplesSeen,
      tokensSeen: this.tokensSeen,
    });
  }

  /**
   * Continues from a captured state: the following steps compute exactly the losses of the run it
   * was captured from. A state of another method, model shape or setting is refused, naming what
   * differs, before anything changes.
   */
  restoreState(state: LoopState): void {
    if (this.disposed) throw new EngineError('TRAIN_DISPOSED', 'This training run was disposed.');
    const target = {
      fingerprint: this.fingerprint(),
      kind: this.objective.kind,
      parameters: this.objective.parameters,
      optimizer: this.optimizer,
    };
    validateLoopState(state, target);
    // Position the data and the method (they check their part); undo if that is refused.
    const previous = { data: this.objective.data.getState(), method: this.objective.getState?.() ?? null };
    let restored: ReturnType<typeof restoreLoopState<TMetrics>>;
    try {
      this.objective.data.setState(state.json.data);
      if (state.json.method !== null) this.objective.setState?.(state.json.method);
      restored = restoreLoopState<TMetrics>(state, target);
    } catch (error) {
      this.objective.data.setState(previous.data);
      if (previous.method !== null) this.objective.setState?.(previous.method);
      throw error;
    }
    for (const p of this.pending) p.loss.dispose();
    this.pending = [];
    if (this.best) tf.dispose(this.best.snapshot);
    if (this.initial) tf.dispose(this.initial);
    this.stepCount = restored.step;
    this.best = restored.best as typeof this.best;
    this.initial = restored.initial;
    this.evalsWithoutImprovement = restored.evalsWithoutImprovement;
    this.examplesSeen = restored.examplesSeen;
    this.tokensSeen = restored.tokensSeen;
    this.finished = null;
    this.sessionStartStep = restored.step;
    this.firstStepStart = null;
    this.firstStepRead = null;
    this.reportStart = performance.now();
    this.reportExamples = 0;
    this.reportTokens = 0;
  }

  /** Frees optimizer state, snapshots and the method's tensors (not the model's parameters). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.optimizer.dispose();
    this.accumulator?.dispose();
    for (const p of this.pending) p.loss.dispose();
    this.pending = [];
    if (this.best) tf.dispose(this.best.snapshot);
    if (this.initial) tf.dispose(this.initial);
    this.best = null;
    this.initial = null;
    this.objective.dispose();
    this.objective.data.close?.();
  }
}

function validateLoopOptions(o: LoopOptions): void {
  const positive = (name: keyof LoopOptions) => {
    const v = o[name] as number;
    if (!Number.isInteger(v) || v < 1)
      throw new EngineError('TRAIN_BAD_OPTIONS', `${name} must be a positive integer, got ${v}.`);
  };
  positive('totalSteps');
  positive('gradAccumSteps');
  positive('lossReadEvery');
  if (!Number.isInteger(o.evalEvery) || o.evalEvery < 0)
    throw new EngineError('TRAIN_BAD_OPTIONS', `evalEvery must be 0 or a positive integer, got ${o.evalEvery}.`);
  if (!Number.isInteger(o.patience) || o.patience < 0)
    throw new EngineError('TRAIN_BAD_OPTIONS', `patience must be 0 or a positive integer, got ${o.patience}.`);
  if (!(o.learningRate >= 0) || !Number.isFinite(o.learningRate))
    throw new EngineError(
      'TRAIN_BAD_OPTIONS',
      `The learning rate must be a finite number >= 0, got ${o.learningRate}.`,
    );
}
