/**
 * The runs list's numbers (docs/USER_GUIDE.md, "Runs side by side"): one row per run and the
 * series of the runs the user ticks, merged by step for one chart.
 */
import { emaSmooth } from './helpers';
import type { SavedRun } from './projectSlice';
import { LOSS_EMA_ALPHA } from './trainingSlice';

export interface RunRow {
  runId: string;
  /** 1-based position among the project's runs: "Run 3". */
  number: number;
  method: SavedRun['method'];
  /** The settings that differ most often between runs, resolved by the engine's plan. */
  settings: string;
  bestAccuracy: number | null;
  bestMacroF1: number | null;
  devCount: number | null;
  /** Wall time from start to end (or to now for a running run), seconds. */
  seconds: number | null;
  status: SavedRun['status'];
}

export function runRows(runs: readonly SavedRun[], now = Date.now()): RunRow[] {
  return runs.map((run, i) => {
    const plan = run.plan;
    // The run's best dev score: the summary's when it finished, else the best evaluation so far.
    const best =
      run.summary?.bestMetrics ??
      run.evaluations.reduce<SavedRun['evaluations'][number]['metrics'] | null>(
        (acc, e) => (acc === null || e.metrics.accuracy > acc.accuracy ? e.metrics : acc),
        null,
      );
    return {
      runId: run.runId,
      number: i + 1,
      method: run.method,
      settings: plan
        ? `${plan.epochs} ep · lr ${plan.learningRate.toExponential(1)} · batch ${plan.batchSize}${plan.setfit ? ` pairs · R ${plan.setfit.iterations} · C ${plan.setfit.C}` : ''} · seed ${plan.seed}`
        : '—',
      bestAccuracy: best ? best.accuracy : null,
      bestMacroF1: best ? best.macroF1 : null,
      devCount: plan ? plan.devCount : null,
      seconds:
        run.status === 'running'
          ? (now - run.startedAt) / 1000
          : run.endedAt
            ? (run.endedAt - run.startedAt) / 1000
            : null,
      status: run.status,
    };
  });
}

/** One chart point: the step and each ticked run's value at it (absent where the run has none). */
export type OverlayPoint = { step: number } & Record<string, number>;

/**
 * The ticked runs' curves merged by step: `loss` is each run's smoothed training loss (the same
 * smoothing as the live chart), `accuracy` its dev accuracy at each evaluation.
 */
export function overlaySeries(runs: readonly SavedRun[], kind: 'loss' | 'accuracy'): OverlayPoint[] {
  const byStep = new Map<number, OverlayPoint>();
  const put = (step: number, runId: string, value: number) => {
    const point = byStep.get(step) ?? ({ step } as OverlayPoint);
    point[runId] = value;
    byStep.set(step, point);
  };
  for (const run of runs) {
    if (kind === 'loss') {
      const smoothed = emaSmooth(
        run.losses.map((p) => p.loss),
        LOSS_EMA_ALPHA,
      );
      run.losses.forEach((p, i) => put(p.step, run.runId, smoothed[i]));
    } else {
      for (const e of run.evaluations) put(e.step, run.runId, e.metrics.accuracy);
    }
  }
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}
