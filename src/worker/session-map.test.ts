/**
 * The Data panel's map through the worker session (issue 21): the rows' embeddings projected on two
 * principal components, one chunk per queue turn with `mapProgress` events, also while a training
 * run steps; refusals keep the engine's codes. Golden micro model on wasm.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { embeddingMap, type FineTuneSettings } from '../engine/studio';
import { initNodeBackend } from '../engine/studio/node';
import { serveFolder, type StaticServer } from '../../tests/support/static-server';
import { toyExamples } from '../../tests/support/toy-data';
import { waitFor } from '../../tests/support/wait';
import type { WorkerEventPayload } from './protocol';
import { Session } from './session';

let server: StaticServer;

beforeAll(async () => {
  await initNodeBackend('wasm');
  server = await serveFolder('tests/fixtures/golden-micro/model', '/models/golden/');
});

afterAll(async () => {
  await server.close();
});

const inputs = (count: number, seed: number) => toyExamples(count, seed).map((e) => ({ text: e.text }));

describe('embeddingMap in the session', () => {
  it('maps the rows chunk by chunk with progress events, as the engine does', async () => {
    const events: WorkerEventPayload[] = [];
    const session = new Session((e) => events.push(e), { cache: null });
    await session.loadModel({ kind: 'url', baseUrl: `${server.url}`, name: 'golden' });
    const rows = inputs(300, 5);
    const enqueue = vi.spyOn(session.scheduler, 'enqueue');
    const map = await session.embeddingMap(rows, { maxLength: 16 });
    // 300 rows: two chunks of at most 256, each one queue turn.
    expect(enqueue).toHaveBeenCalledTimes(2);
    const progress = events.flatMap((e) => (e.kind === 'mapProgress' ? [[e.done, e.total]] : []));
    expect(progress).toEqual([
      [0, 300],
      [256, 300],
      [300, 300],
    ]);
    expect(map).toMatchObject({ method: 'pca', rows: 300, dimensions: 32 });
    expect(map.points).toHaveLength(600);
    expect(map.explained![0]).toBeGreaterThanOrEqual(map.explained![1]);
    expect(map.explained![0] + map.explained![1]).toBeLessThanOrEqual(1 + 1e-9);
    const direct = await embeddingMap(session.currentModel!, rows, { maxLength: 16 });
    expect(Array.from(map.points)).toEqual(Array.from(direct.points));

    await expect(session.embeddingMap(rows.slice(0, 2))).rejects.toMatchObject({ code: 'MAP_TOO_FEW_ROWS' });

    // UMAP: the same embeddings, laid out in queue turns that report their epochs.
    events.length = 0;
    const umap = await session.embeddingMap(rows.slice(0, 40), { method: 'umap', maxLength: 16 });
    expect(umap).toMatchObject({ method: 'umap', rows: 40, explained: null });
    const phases = events.flatMap((e) => (e.kind === 'mapProgress' ? [e.phase] : []));
    expect(phases.slice(0, 2)).toEqual(['embed', 'embed']);
    expect(phases.filter((p) => p === 'layout').length).toBeGreaterThan(2);
    const last = events.filter((e) => e.kind === 'mapProgress').at(-1);
    expect(last).toMatchObject({ phase: 'layout', done: umap.iterations, total: umap.iterations });
    session.currentModel?.dispose();
  });

  it('draws while a training run steps, between its steps', async () => {
    const events: WorkerEventPayload[] = [];
    const session = new Session((e) => events.push(e), { cache: null });
    await session.loadModel({ kind: 'url', baseUrl: `${server.url}`, name: 'golden' });
    const settings: FineTuneSettings = {
      epochs: 500,
      learningRate: 3e-3,
      batchSize: 4,
      maxLength: 16,
      seed: 1,
      dropout: false,
      patience: 0,
    };
    await session.startTraining({ train: toyExamples(16, 3), dev: null, settings, method: { kind: 'head' } });
    // The first steps ran before the map is asked for.
    await waitFor(() => events.find((e) => e.kind === 'progress'));
    const before = (await session.predict([{ text: 'x' }])).trainingStep!;
    const map = await session.embeddingMap(inputs(600, 8), { maxLength: 16 });
    const after = (await session.predict([{ text: 'x' }])).trainingStep!;
    expect(map.rows).toBe(600);
    expect(map.points.every(Number.isFinite)).toBe(true);
    expect(session.scheduler.trainingState).toBe('running');
    // Training went on stepping while the three chunks were embedded: at least one step before each.
    expect(after).toBeGreaterThanOrEqual(before + 3);
    await session.stop();
    session.currentModel?.dispose();
  });
});
