/**
 * The one vocabulary of the training loop's events and results (docs/ARCHITECTURE.md, "The
 * training loop and its methods"): progress with every loss read back, evaluations, log lines,
 * state changes, and the summary of a finished run.
 */

/** One optimizer step as read back. */
export interface StepLoss {
  step: number;
  loss: number;
  /** Learning rate the step used. */
  lr: number;
  examples: number;
  /** Real (non-padding) tokens. */
  tokens: number;
}

export interface ProgressInfo {
  /** Optimizer steps done. */
  step: number;
  totalSteps: number;
  /** 1-based epoch of the last step (1 for streams). */
  epoch: number;
  epochs: number;
  /** Mean loss of the steps in this report (null when none were read). */
  loss: number | null;
  /** Every step read back since the previous report, oldest first. */
  losses: StepLoss[];
  learningRate: number;
  examplesPerSecond: number;
  tokensPerSecond: number;
  /**
   * Seconds left at the pace of this session after its first step; null until that pace is known
   * (the first step also compiles the GPU programs, so it says little about the others).
   */
  etaSeconds: number | null;
  /** Wall seconds of this session's first step (compiling included), from its first report on. */
  firstStepSeconds: number | null;
}

export interface EvaluationInfo<TMetrics> {
  step: number;
  epoch: number;
  metrics: TMetrics;
  score: number;
  /** True when this evaluation is the best so far, ties included (the later one wins; its weights are kept). */
  isBest: boolean;
}

export type FinishReason = 'completed' | 'early-stopped' | 'stopped' | 'diverged';

/** Where the loop is: `run()` reports changes when they really happen (at step boundaries). */
export type LoopRunState = 'idle' | 'running' | 'paused' | 'stopping' | 'finished';

export interface LoopCallbacks<TMetrics> {
  onProgress?: (info: ProgressInfo) => void;
  onEvaluated?: (info: EvaluationInfo<TMetrics>) => void;
  onLog?: (level: 'info' | 'warn', message: string) => void;
  onStateChange?: (state: LoopRunState) => void;
}

export interface TrainingSummary<TMetrics> {
  reason: FinishReason;
  steps: number;
  bestStep: number | null;
  bestMetrics: TMetrics | null;
  /** Weights at the end: the best evaluation's, the last ones, or those from before training. */
  restored: 'best' | 'last' | 'initial';
  message: string;
}

/** Hooks of `TrainingLoop.run`. */
export interface RunHooks {
  /** At every step boundary, paused or not (the worker serves queued requests here). */
  betweenSteps?: () => Promise<void>;
  /** Right before a step starts (nothing else may touch the model from here until it ends). */
  beforeStep?: () => Promise<void>;
}
