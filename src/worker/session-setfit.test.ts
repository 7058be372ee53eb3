/**
 * SetFit through the worker session (docs/ARCHITECTURE.md, "SetFit"): the run reports its head fit
 * with trainingDone, predictions carry the nearest training examples, a checkpointed run resumes in
 * a new session with the uninterrupted losses, and the kept model reopens as SetFit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../engine/studio/node';
import { serveFolder, type StaticServer } from '../../tests/support/static-server';
import { toyExamples } from '../../tests/support/toy-data';
import { waitFor } from '../../tests/support/wait';
import type { TrainingRequest, WorkerEventPayload } from './protocol';
import { memoryProjectStore } from './project-store';
import { Session } from './session';

let server: StaticServer;

beforeAll(async () => {
  await initNodeBackend('wasm');
  server = await serveFolder('tests/fixtures/golden-st/mean-normalize', '/models/st/');
});

afterAll(async () => {
  await server.close();
});

function collect() {
  const events: WorkerEventPayload[] = [];
  return { events, emit: (event: WorkerEventPayload) => events.push(event) };
}
const losses = (events: WorkerEventPayload[]) => events.flatMap((e) => (e.kind === 'progress' ? e.losses : []));
const done = (events: WorkerEventPayload[]) => events.find((e) => e.kind === 'trainingDone');

const request: TrainingRequest = {
  train: toyExamples(12, 3),
  dev: toyExamples(6, 77),
  settings: { epochs: 2, learningRate: 1e-3, batchSize: 4, seed: 4, patience: 0, evalEvery: 4 },
  method: { kind: 'setfit', iterations: 1 },
  runId: 'setfit-1',
  checkpointEverySeconds: 0,
};

describe('Session: SetFit', () => {
  it('trains, reports the head fit, answers with nearest examples, resumes exactly and reopens as SetFit', async () => {
    const store = memoryProjectStore();
    const first = collect();
    const interrupted = new Session(first.emit, { cache: null, projectStore: store });
    await interrupted.loadModel({ kind: 'url', baseUrl: server.url, name: 'st' });
    const plan = await interrupted.startTraining(request);
    expect(plan.setfit).toMatchObject({ iterations: 1, pairs: 24, pooling: 'mean', normalize: true });
    // 24 pairs in batches of 4, 2 epochs.
    expect(plan.totalSteps).toBe(12);
    await waitFor(() => (first.events.filter((e) => e.kind === 'checkpointSaved').length >= 2 ? true : undefined));
    interrupted.pause();
    const k = (await store.latestCheckpoint())!.step;
    expect(k).toBeGreaterThan(0);
    expect(k).toBeLessThan(plan.totalSteps);

    // A new session continues from the checkpoint.
    const second = collect();
    const resumed = new Session(second.emit, { cache: null, projectStore: store });
    await resumed.loadModel({ kind: 'url', baseUrl: server.url, name: 'st' });
    await resumed.continueRun('setfit-1');
    await waitFor(() => done(second.events));

    // The same run, never interrupted.
    const third = collect();
    const whole = new Session(third.emit, { cache: null });
    await whole.loadModel({ kind: 'url', baseUrl: server.url, name: 'st' });
    await whole.startTraining({ ...request, runId: undefined });
    await waitFor(() => done(third.events));
    const reference = losses(third.events);
    expect(reference).toHaveLength(plan.totalSteps);
    expect(losses(second.events)).toEqual(reference.slice(k));
    // Dev was scored during the body stage (a head fitted at each evaluation).
    expect(third.events.filter((e) => e.kind === 'evaluated').length).toBeGreaterThan(0);

    const finished = done(third.events) as Extract<WorkerEventPayload, { kind: 'trainingDone' }>;
    expect(finished.setfitHead).toMatchObject({ converged: true });
    expect(finished.setfitHead!.iterations).toBeGreaterThan(0);
    expect(finished.model.setfit).toMatchObject({ C: 1, examples: plan.trainCount });

    // Predictions: SetFit's probabilities and the nearest training examples.
    const texts = [{ text: request.train[0].text }, { text: 'a fresh sentence' }];
    const answer = await whole.predict(texts);
    expect(answer.labels).toEqual(plan.labels);
    expect(answer.nearest).toHaveLength(2);
    expect(answer.nearest![0]).toHaveLength(3);
    expect(answer.nearest![0][0].text).toBe(request.train[0].text);
    expect(answer.nearest![0][0].similarity).toBeCloseTo(1, 5);
    const resumedAnswer = await resumed.predict(texts);
    expect(resumedAnswer.predictions).toEqual(answer.predictions);

    // The kept model reopens (a reload) as SetFit with the same predictions, without training texts.
    await waitFor(() => (second.events.some((e) => e.kind === 'modelSaved') ? true : undefined));
    const reopened = new Session(() => {}, { cache: null, projectStore: store });
    await reopened.loadProject();
    const summary = await reopened.loadSavedModel();
    expect(summary.setfit).toMatchObject({ C: 1, examples: null });
    const again = await reopened.predict(texts);
    expect(again.nearest).toBeNull();
    again.predictions.forEach((p, i) =>
      p.probabilities.forEach((q, j) =>
        expect(Math.abs(q - answer.predictions[i].probabilities[j])).toBeLessThan(1e-5),
      ),
    );
    await interrupted.stop();
  });
});
