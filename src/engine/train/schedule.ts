/**
 * Learning-rate schedules, as pure functions of the optimizer step. `lr(step)` is the rate for the
 * update with 0-based index `step` (the first update uses `lr(0)`), matching Hugging Face's
 * `get_linear_schedule_with_warmup` / `get_constant_schedule_with_warmup` driven by a LambdaLR,
 * so loss curves can be compared step for step with a PyTorch reference. Note that with warmup,
 * as in HF, `lr(0) = 0`: the first update only moves the Adam moments.
 */
import { EngineError } from '../errors';
import { DEFAULT_WARMUP_RATIO, warmupStepsFor } from './defaults';

export type ScheduleKind = 'linear' | 'constant';

export interface ScheduleOptions {
  /** 'linear' (default): warm up linearly to peakLr, then decay linearly to 0 at totalSteps. 'constant': warm up, then stay at peakLr. */
  kind?: ScheduleKind;
  /** Learning rate at the end of warmup. */
  peakLr: number;
  /** Number of optimizer updates in the whole run. */
  totalSteps: number;
  /**
   * Fraction of totalSteps spent warming up. Default DEFAULT_WARMUP_RATIO (0.1) for 'linear' (the BERT paper and HF
   * recipes: warmup guards the freshly initialised head and Adam's noisy early second moments),
   * 0 for 'constant'. Ignored when warmupSteps is given.
   */
  warmupRatio?: number;
  /** Explicit warmup length in steps (overrides warmupRatio). */
  warmupSteps?: number;
}

/** Returns `lr(step)`; steps past totalSteps give 0 for 'linear' and peakLr for 'constant'. */
export function makeLrSchedule(options: ScheduleOptions): (step: number) => number {
  const kind = options.kind ?? 'linear';
  const { peakLr, totalSteps } = options;
  if (!(peakLr >= 0) || !Number.isFinite(peakLr)) {
    throw new EngineError('SCHEDULE_BAD_OPTIONS', `peakLr must be a finite number >= 0, got ${peakLr}.`);
  }
  if (!Number.isInteger(totalSteps) || totalSteps < 1) {
    throw new EngineError('SCHEDULE_BAD_OPTIONS', `totalSteps must be a positive integer, got ${totalSteps}.`);
  }
  const ratio = options.warmupRatio ?? (kind === 'linear' ? DEFAULT_WARMUP_RATIO : 0);
  if (!(ratio >= 0 && ratio <= 1)) {
    throw new EngineError('SCHEDULE_BAD_OPTIONS', `warmupRatio must be in [0, 1], got ${ratio}.`);
  }
  const warmup = options.warmupSteps ?? warmupStepsFor(totalSteps, ratio);
  if (!Number.isInteger(warmup) || warmup < 0) {
    throw new EngineError('SCHEDULE_BAD_OPTIONS', `warmupSteps must be a non-negative integer, got ${warmup}.`);
  }
  return (step: number): number => {
    if (step < warmup) return (peakLr * step) / Math.max(1, warmup);
    if (kind === 'constant') return peakLr;
    return peakLr * Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmup));
  };
}
