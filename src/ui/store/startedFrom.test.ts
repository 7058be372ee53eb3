import { describe, expect, it } from 'vitest';
import type { FineTunePlan } from '../../worker/protocol';
import { createStudioStore } from './index';

const metrics = { n: 2, accuracy: 1, macroF1: 0.5, perClass: [], confusion: [], predictions: [] };
const plan = { method: 'head', epochs: 1, learningRate: 1e-3, batchSize: 4, devCount: 2 } as unknown as FineTunePlan;

describe('methods table: where a run started', () => {
  it('records whether each finished run started from the base or from tuned weights', () => {
    const store = createStudioStore();
    const done = () =>
      store.getState().applyTrainingEvent({
        kind: 'trainingDone',
        summary: { reason: 'completed', steps: 1, bestStep: 1, bestMetrics: metrics, restored: 'best', message: '' },
        model: { prompt: null } as never,
      });
    store.getState().setTraining({ plan, runStartedFrom: 'base' });
    done();
    store.getState().setTraining({ runStartedFrom: 'tuned' });
    done();
    // A resumed run: not known, so the row says nothing.
    store.getState().setTraining({ runStartedFrom: null });
    done();
    expect(store.getState().methodRuns.map((r) => r.startedFrom)).toEqual(['base', 'tuned', undefined]);
  });
});
