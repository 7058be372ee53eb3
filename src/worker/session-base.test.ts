/**
 * Runs start clean (issue 24): a run starts from the base weights (as the model was loaded into
 * the session) unless asked to continue from the current ones; resetToBase puts the base back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../engine/studio/node';
import type { Example } from '../engine/studio';
import { serveFolder, type StaticServer } from '../../tests/support/static-server';
import type { TrainingRequest, WorkerEventPayload } from './protocol';
import { Session } from './session';
import { toyExamples } from '../../tests/support/toy-data';
import { waitFor } from '../../tests/support/wait';

let server: StaticServer;

beforeAll(async () => {
  await initNodeBackend('wasm');
  server = await serveFolder('tests/fixtures/golden-micro/model', '/models/golden/');
});

afterAll(async () => {
  await server.close();
});

describe('runs start clean', () => {
  it('starts every run from the base weights unless asked to continue; resetToBase restores the base', async () => {
    const events: WorkerEventPayload[] = [];
    const session = new Session((e) => events.push(e), { cache: null });
    await session.loadModel({ kind: 'url', baseUrl: `${server.url}`, name: 'golden' });
    expect(session.weightsAtBase).toBe(true);
    const probe: Example[] = [{ text: 'the cat sat great' }, { text: 'a bad dog ran' }] as Example[];
    const fresh = await session.predict(probe);

    const request: TrainingRequest = {
      train: toyExamples(16, 3),
      dev: null,
      settings: { epochs: 2, learningRate: 3e-3, batchSize: 8, seed: 1, dropout: false, patience: 0 },
      method: { kind: 'head' },
    };
    /** Trains to the end and returns every loss of the run, in step order. */
    const run = async (startFrom?: 'base' | 'current') => {
      const from = events.length;
      await session.startTraining(startFrom ? { ...request, startFrom } : request);
      await waitFor(() =>
        events.slice(from).some((e) => e.kind === 'trainingState' && e.state === 'idle') ? true : undefined,
      );
      expect(events.slice(from).some((e) => e.kind === 'trainingDone')).toBe(true);
      return events
        .slice(from)
        .flatMap((e) => (e.kind === 'progress' ? e.losses : []))
        .map((l) => l.loss);
    };

    const first = await run();
    expect(first.length).toBe(4);
    expect(session.weightsAtBase).toBe(false);
    // Without a reset, this run would start from the first run's weights and lose less.
    const second = await run();
    expect(second).toEqual(first);
    const continued = await run('current');
    expect(continued[0]).not.toBe(first[0]);
    expect(continued[0]).toBeLessThan(first[0]);

    const trained = await session.predict(probe);
    expect(trained.labels).toEqual(['pos', 'neg']);
    await session.resetToBase();
    expect(session.weightsAtBase).toBe(true);
    expect(events.filter((e) => e.kind === 'weightsState').at(-1)).toEqual({ kind: 'weightsState', atBase: true });
    const reset = await session.predict(probe);
    expect(reset.labels).toEqual(fresh.labels);
    expect(reset.predictions).toEqual(fresh.predictions);
    expect(session.currentModel!.summary()).toMatchObject({ labels: fresh.labels });

    // An adaptation's weights become the base: later runs start from them, not the loaded model.
    const from = events.length;
    await session.startAdapt({
      texts: toyExamples(120, 11).map((e) => e.text),
      steps: 3,
      learningRate: 1e-2,
      seed: 1,
    });
    await waitFor(() => (events.slice(from).some((e) => e.kind === 'adaptDone') ? true : undefined));
    await waitFor(() => (session.scheduler.trainingState === 'idle' ? true : undefined));
    expect(session.weightsAtBase).toBe(true);
    const adapted = await run();
    expect(adapted[0]).not.toBe(first[0]);
    expect(await run()).toEqual(adapted);
  }, 120_000);

  it('refuses to reset while training runs', async () => {
    const session = new Session(() => undefined, { cache: null });
    await session.loadModel({ kind: 'url', baseUrl: `${server.url}`, name: 'golden' });
    await session.startTraining({
      train: toyExamples(16, 3),
      dev: null,
      settings: { epochs: 50, learningRate: 3e-3, batchSize: 8, seed: 1, dropout: false, patience: 0 },
      method: { kind: 'head' },
    });
    await expect(session.resetToBase()).rejects.toMatchObject({ code: 'BUSY_TRAINING' });
    await session.stop();
  }, 60_000);
});
