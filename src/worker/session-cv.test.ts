/**
 * Honest evaluation through the worker session (issue 24): cross-validation runs in the training
 * slot (fold events, the estimate, then the final model's trainingDone; stop puts the base back),
 * and a labeled test file is scored with the model as it is. Golden micro model on wasm.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../engine/studio/node';
import { serveFolder, type StaticServer } from '../../tests/support/static-server';
import { toyCsv, toyExamples } from '../../tests/support/toy-data';
import type { CrossValidationRequest, WorkerEventPayload } from './protocol';
import { Session } from './session';
import { waitFor } from '../../tests/support/wait';

let server: StaticServer;

beforeAll(async () => {
  await initNodeBackend('wasm');
  server = await serveFolder('tests/fixtures/golden-micro/model', '/models/golden/');
});

afterAll(async () => {
  await server.close();
});

const request: CrossValidationRequest = {
  train: toyExamples(18, 4),
  dev: null,
  settings: { epochs: 2, learningRate: 3e-3, batchSize: 4, maxLength: 16, seed: 1, dropout: false },
  method: { kind: 'head' },
  folds: 3,
};

describe('cross-validation in the session', () => {
  it('reports each fold, the estimate, then the final model; a test file is scored with it', async () => {
    const events: WorkerEventPayload[] = [];
    const session = new Session((e) => events.push(e), { cache: null });
    await session.loadModel({ kind: 'url', baseUrl: `${server.url}`, name: 'golden' });
    const plan = await session.startCrossValidation(request);
    expect(plan.folds).toBe(3);
    expect(plan.finalPlan.trainCount).toBe(18);
    await waitFor(() => (events.some((e) => e.kind === 'trainingState' && e.state === 'idle') ? true : undefined));
    const folds = events.flatMap((e) =>
      e.kind === 'crossValidation' ? [`${e.progress.phase} ${e.progress.fold}`] : [],
    );
    expect(folds).toEqual(['fold 1', 'fold 1', 'fold 2', 'fold 2', 'fold 3', 'fold 3', 'final 3']);
    const done = events.find((e) => e.kind === 'crossValidationDone');
    expect(done?.kind === 'crossValidationDone' && done.result.complete).toBe(true);
    expect(done?.kind === 'crossValidationDone' && done.result.text).toMatch(/3-fold cross-validation, 18 rows/);
    // The final model comes after the estimate, trained on all 18 rows.
    const doneAt = events.findIndex((e) => e.kind === 'crossValidationDone');
    const trained = events.findIndex((e) => e.kind === 'trainingDone');
    expect(trained).toBeGreaterThan(doneAt);
    expect(session.weightsAtBase).toBe(false);

    const file = new TextEncoder().encode(toyCsv(8, 11));
    const scored = await session.evaluateFile(file, 'test.csv', null);
    expect(scored.rows).toBe(8);
    expect(scored.metrics.confusion.flat().reduce((a, b) => a + b, 0)).toBe(8);
    await expect(
      session.evaluateFile(new TextEncoder().encode('text,label\ngreat day,happy\n'), 'bad.csv', null),
    ).rejects.toMatchObject({ code: 'EVAL_UNKNOWN_LABELS', message: expect.stringMatching(/row 2 has "happy"/) });
    session.currentModel?.dispose();
  });

  it('stops at a fold, scores no more folds and puts the base weights back', async () => {
    const events: WorkerEventPayload[] = [];
    let stopped: Promise<string> | null = null;
    const session: Session = new Session(
      (e) => {
        events.push(e);
        // Stop as soon as fold 1 is scored (deterministic: from inside the run, not after a delay).
        if (e.kind === 'crossValidation' && e.progress.results.length === 1 && !stopped) stopped = session.stop();
      },
      { cache: null },
    );
    await session.loadModel({ kind: 'url', baseUrl: `${server.url}`, name: 'golden' });
    await session.startCrossValidation(request);
    await waitFor(() => stopped ?? undefined);
    expect(await stopped).toBe('idle');
    await waitFor(() => (events.some((e) => e.kind === 'trainingState' && e.state === 'idle') ? true : undefined));
    const done = events.find((e) => e.kind === 'crossValidationDone');
    expect(done?.kind === 'crossValidationDone' && done.result.complete).toBe(false);
    expect(done?.kind === 'crossValidationDone' && done.result.perFold.length).toBe(1);
    expect(events.some((e) => e.kind === 'trainingDone')).toBe(false);
    expect(session.weightsAtBase).toBe(true);
    session.currentModel?.dispose();
  });
});
