import type { StateCreator } from 'zustand';
import type { Metrics, TrainingSummary } from '../../engine/studio';
import type {
  AdaptationPlan,
  AdaptResult,
  CrossValidationPlan,
  CrossValidationProgress,
  CrossValidationResult,
  FineTunePlan,
  RunEstimate,
  WorkerEventPayload,
} from '../../worker/protocol';
import { emaSmooth } from './helpers';

/** 'pausing': Pause was pressed and the worker has not yet stopped at a step boundary. */
export type TrainingState = 'idle' | 'starting' | 'running' | 'pausing' | 'paused' | 'stopping';

export interface LossPoint {
  step: number;
  loss: number;
  smoothed: number;
}

export interface Evaluation {
  step: number;
  epoch: number;
  isBest: boolean;
  metrics: Metrics;
}

/**
 * The Train panel's settings. null = auto: the engine picks the value from the data and the model
 * (and the plan it returns shows which value it picked).
 */
export interface TrainSettings {
  epochs: number | null;
  learningRate: number | null;
  batchSize: number | null;
  maxLength: number | null;
  seed: number | null;
  weightDecay: number | null;
  warmupRatio: number | null;
  maxGradNorm: number | null;
  gradAccumSteps: number | null;
  classWeights: 'balanced' | null;
  evalEvery: number | null;
  patience: number | null;
}

/** Everything on auto: the studio sends nulls and the engine's one set of defaults applies. */
export const DEFAULT_SETTINGS: TrainSettings = {
  epochs: null,
  learningRate: null,
  batchSize: null,
  maxLength: null,
  seed: null,
  weightDecay: null,
  warmupRatio: null,
  maxGradNorm: null,
  gradAccumSteps: null,
  classWeights: null,
  evalEvery: null,
  patience: null,
};

export interface TrainingProgress {
  step: number;
  totalSteps: number;
  epoch: number;
  epochs: number;
  examplesPerSecond: number;
  /** Null until the pace after the first step is known. */
  etaSeconds: number | null;
  /** Seconds the first step took (it also compiles the GPU programs). */
  firstStepSeconds: number | null;
}

/** One method's dev score on the loaded data, for the comparison table. */
export interface MethodRun {
  method: 'head' | 'prompt' | 'setfit' | 'zero-shot';
  /** Template and label words for prompt methods, hyperparameters for head. */
  detail: string;
  accuracy: number;
  macroF1: number;
  devCount: number;
  at: number;
  /** What the weights were when the run started (zero-shot: when it was scored); older records lack it. */
  startedFrom?: 'base' | 'tuned';
}

/** The running (or last) cross-validation: its plan, which fold runs, and the estimate. */
export interface CrossValidationState {
  plan: CrossValidationPlan | null;
  progress: CrossValidationProgress | null;
  result: CrossValidationResult | null;
}

export interface TrainingSlice {
  trainingState: TrainingState;
  /** Set while (and after) a cross-validation runs; null for a plain run. */
  crossValidation: CrossValidationState | null;
  /** Folds the user chose for cross-validation; null: the engine's suggestion (plan.crossValidation.folds). */
  cvFolds: number | null;
  /** Training method chosen in the Train panel. */
  trainMethod: 'head' | 'prompt' | 'setfit';
  /** SetFit's pair iterations R and head C as the user set them (null: auto). */
  setfitIterations: number | null;
  setfitC: number | null;
  /** SetFit's second stage in the last run: the head fitted on the kept weights (null: none yet / other method). */
  setfitHeadResult: { iterations: number; converged: boolean } | null;
  /** The running (or last) "adapt to my texts" run, and its before/after score. */
  adaptPlan: AdaptationPlan | null;
  adaptResult: AdaptResult | null;
  /** Dev scores of every method tried on the current data (newest last). */
  methodRuns: MethodRun[];
  addMethodRun: (run: MethodRun) => void;
  /** The Train panel's "Continue from the current weights" (off: each run starts from the base model). */
  continueFromCurrent: boolean;
  /** What the weights of the running (or last) run started from; null when not known (a resumed run). */
  runStartedFrom: 'base' | 'tuned' | null;
  settings: TrainSettings;
  /** The plan the engine would follow with the current data and settings (shown before Start). */
  draftPlan: FineTunePlan | null;
  /** Why there is no draft plan (e.g. the data cannot be trained on), or null. */
  draftPlanError: string | null;
  /** "Estimate time": the probe's answer for the current data and settings (cleared when they change). */
  runEstimate: { estimate: RunEstimate; totalSteps: number } | null;
  estimating: boolean;
  estimateError: string | null;
  plan: FineTunePlan | null;
  losses: LossPoint[];
  lrPoints: { step: number; lr: number }[];
  evaluations: Evaluation[];
  progress: TrainingProgress | null;
  summary: TrainingSummary<Metrics> | null;
  /** When the trainingDone event arrived (ms since epoch). */
  trainingDoneAt: number | null;
  trainingError: { code: string; message: string } | null;
  /** Log lines from the worker (last 50). */
  logs: { level: 'info' | 'warn'; message: string }[];
  setSettings: (patch: Partial<TrainSettings>) => void;
  resetTraining: (plan: FineTunePlan | null) => void;
  setTraining: (
    patch: Partial<
      Pick<
        TrainingSlice,
        | 'trainingState'
        | 'plan'
        | 'summary'
        | 'trainingError'
        | 'trainMethod'
        | 'setfitIterations'
        | 'setfitC'
        | 'methodRuns'
        | 'adaptPlan'
        | 'adaptResult'
        | 'draftPlan'
        | 'draftPlanError'
        | 'runEstimate'
        | 'estimating'
        | 'estimateError'
        | 'continueFromCurrent'
        | 'runStartedFrom'
        | 'crossValidation'
        | 'cvFolds'
      >
    >,
  ) => void;
  /** Applies one worker event about training. */
  applyTrainingEvent: (event: WorkerEventPayload) => void;
}

/** What a run shows before its first event. */
const EMPTY_RUN = {
  losses: [],
  lrPoints: [],
  evaluations: [],
  progress: null,
  summary: null,
  setfitHeadResult: null,
  trainingDoneAt: null,
  trainingError: null,
  crossValidation: null,
} satisfies Partial<TrainingSlice>;

/** Weight of history in the loss EMA. */
export const LOSS_EMA_ALPHA = 0.8;

export const createTrainingSlice: StateCreator<TrainingSlice, [], [], TrainingSlice> = (set, get) => ({
  trainingState: 'idle',
  cvFolds: null,
  trainMethod: 'head', // the classic method; prompt-based and SetFit are one click away
  setfitIterations: null,
  setfitC: null,
  methodRuns: [],
  adaptPlan: null,
  adaptResult: null,
  addMethodRun: (run) => set({ methodRuns: [...get().methodRuns, run].slice(-20) }),
  continueFromCurrent: false,
  runStartedFrom: null,
  settings: DEFAULT_SETTINGS,
  draftPlan: null,
  draftPlanError: null,
  runEstimate: null,
  estimating: false,
  estimateError: null,
  plan: null,
  ...EMPTY_RUN,
  logs: [],
  setSettings: (patch) => set({ settings: { ...get().settings, ...patch } }),
  resetTraining: (plan) => set({ plan, ...EMPTY_RUN }),
  setTraining: (patch) => set(patch),
  applyTrainingEvent: (event) => {
    switch (event.kind) {
      case 'progress': {
        const raw = [...get().losses.map((p) => ({ step: p.step, loss: p.loss })), ...event.losses];
        const smoothed = emaSmooth(
          raw.map((p) => p.loss),
          LOSS_EMA_ALPHA,
        );
        set({
          losses: raw.map((p, i) => ({ ...p, smoothed: smoothed[i] })),
          lrPoints: [...get().lrPoints, { step: event.step, lr: event.learningRate }],
          progress: {
            step: event.step,
            totalSteps: event.totalSteps,
            epoch: event.epoch,
            epochs: event.epochs,
            examplesPerSecond: event.examplesPerSecond,
            etaSeconds: event.etaSeconds,
            firstStepSeconds: event.firstStepSeconds,
          },
        });
        break;
      }
      case 'evaluated':
        set({
          evaluations: [
            ...get().evaluations,
            { step: event.step, epoch: event.epoch, isBest: event.isBest, metrics: event.metrics },
          ],
        });
        break;
      case 'trainingState':
        set({ trainingState: event.state });
        break;
      case 'trainingDone': {
        set({ summary: event.summary, trainingDoneAt: Date.now(), setfitHeadResult: event.setfitHead ?? null });
        const plan = get().plan;
        const best = event.summary.bestMetrics;
        if (plan && best) {
          const prompt = event.model.prompt;
          const detail = prompt
            ? `${prompt.template} · ${Object.entries(prompt.verbalizer)
                .map(([l, w]) => `${l}: ${w.join('/')}`)
                .join(', ')}`
            : plan.setfit
              ? `${plan.setfit.pairs} pairs × ${plan.epochs} epochs (R = ${plan.setfit.iterations}), lr ${plan.learningRate}, head C ${plan.setfit.C}`
              : `${plan.epochs} epochs, lr ${plan.learningRate}, batch ${plan.batchSize}`;
          get().addMethodRun({
            method: plan.method,
            detail,
            accuracy: best.accuracy,
            macroF1: best.macroF1,
            devCount: plan.devCount,
            at: Date.now(),
            ...(get().runStartedFrom ? { startedFrom: get().runStartedFrom! } : {}),
          });
        }
        break;
      }
      case 'crossValidation': {
        const current = get().crossValidation;
        const previous = current?.progress;
        // A new fold (or the final model) starts from step 0: its charts start empty.
        const { phase, fold, results } = event.progress;
        const starts = phase === 'final' || results.length < fold;
        const next = !previous || previous.phase !== phase || previous.fold !== fold;
        set({
          crossValidation: { plan: current?.plan ?? null, result: null, progress: event.progress },
          ...(starts && next ? { losses: [], lrPoints: [], evaluations: [], progress: null } : {}),
        });
        break;
      }
      case 'crossValidationDone': {
        const current = get().crossValidation;
        set({
          crossValidation: { plan: current?.plan ?? null, progress: current?.progress ?? null, result: event.result },
        });
        const r = event.result;
        if (r.complete) {
          get().addMethodRun({
            method: r.method,
            detail: `${r.folds}-fold cross-validation (mean of the folds, ± ${Math.round(100 * r.accuracy.std)} points)`,
            accuracy: r.accuracy.mean,
            macroF1: r.macroF1.mean,
            devCount: r.rows,
            at: Date.now(),
            ...(get().runStartedFrom ? { startedFrom: get().runStartedFrom! } : {}),
          });
        }
        break;
      }
      case 'adaptDone':
        set({ adaptResult: event.result });
        break;
      case 'trainingError':
        set({ trainingError: { code: event.code, message: event.message } });
        break;
      case 'log':
        set({ logs: [...get().logs, { level: event.level, message: event.message }].slice(-50) });
        break;
      default:
        break;
    }
  },
});
