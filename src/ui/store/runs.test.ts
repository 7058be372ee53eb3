import { describe, expect, it } from 'vitest';
import type { Metrics } from '../../engine/studio';
import type { FineTunePlan } from '../../worker/protocol';
import { emaSmooth } from './helpers';
import type { SavedRun } from './projectSlice';
import { overlaySeries, runRows } from './runs';
import { LOSS_EMA_ALPHA } from './trainingSlice';

const metrics = (accuracy: number, macroF1: number) => ({ accuracy, macroF1 }) as Metrics;

function run(runId: string, losses: number[], evals: [number, number][], extra: Partial<SavedRun> = {}): SavedRun {
  return {
    runId,
    method: 'head',
    startedAt: 1_000,
    endedAt: 61_000,
    status: 'finished',
    plan: { epochs: 3, learningRate: 2e-5, batchSize: 8, seed: 42, devCount: 6 } as FineTunePlan,
    losses: losses.map((loss, i) => ({ step: i + 1, loss })),
    lrPoints: [],
    evaluations: evals.map(([step, accuracy]) => ({
      step,
      epoch: 1,
      isBest: false,
      metrics: metrics(accuracy, accuracy / 2),
    })),
    summary: null,
    ...extra,
  };
}

describe('runs side by side', () => {
  it('merges the ticked runs by step, each with its own smoothed loss', () => {
    const a = run('a', [0.7, 0.6, 0.5], [[3, 0.5]]);
    const b = run('b', [0.9, 0.8], [[2, 0.75]]);
    const loss = overlaySeries([a, b], 'loss');
    expect(loss.map((p) => p.step)).toEqual([1, 2, 3]);
    const smoothedA = emaSmooth([0.7, 0.6, 0.5], LOSS_EMA_ALPHA);
    expect(loss.map((p) => p.a)).toEqual(smoothedA);
    // Run b has no step 3: the point has no value for it (the chart connects over it).
    expect(loss[2]).not.toHaveProperty('b');
    expect(loss[1].b).toBeCloseTo(emaSmooth([0.9, 0.8], LOSS_EMA_ALPHA)[1], 12);
    expect(overlaySeries([a, b], 'accuracy')).toEqual([
      { step: 2, b: 0.75 },
      { step: 3, a: 0.5 },
    ]);
  });

  it('lists each run with its settings, best dev score and duration', () => {
    const finished = run(
      'a',
      [0.7],
      [
        [1, 0.5],
        [2, 0.8],
        [3, 0.6],
      ],
    );
    const summarised = run('b', [0.7], [[1, 0.9]], {
      summary: { bestMetrics: metrics(0.7, 0.65) } as SavedRun['summary'],
    });
    const running = run('c', [], [], { status: 'running', endedAt: null, startedAt: 100_000 });
    const rows = runRows([finished, summarised, running], 130_000);
    expect(rows.map((r) => [r.number, r.bestAccuracy, r.bestMacroF1, r.seconds, r.status])).toEqual([
      [1, 0.8, 0.4, 60, 'finished'],
      // The summary's best (after restoring the best weights) wins over the raw evaluations.
      [2, 0.7, 0.65, 60, 'finished'],
      [3, null, null, 30, 'running'],
    ]);
    expect(rows[0].settings).toBe('3 ep · lr 2.0e-5 · batch 8 · seed 42');
  });
});
