/**
 * An uncaught WebGPU error during a run (docs/ARCHITECTURE.md, "Backends") stops it with a clear
 * message instead of training on results that cannot be trusted. The error is fed in through the
 * same function the device's `uncapturederror` listener calls (Node has no WebGPU device here).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportWebGpuError, takeWebGpuErrors } from '../engine/studio';
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

describe('Session: uncaught GPU errors', () => {
  it('stops the run with GPU_VALIDATION_ERROR naming the error, and the session stays usable', async () => {
    const events: WorkerEventPayload[] = [];
    const session = new Session((e) => events.push(e), { cache: null });
    await session.loadModel({ kind: 'url', baseUrl: server.url, name: 'golden' });
    takeWebGpuErrors();
    await session.startTraining({
      train: toyExamples(32, 3),
      dev: null,
      settings: { epochs: 50, batchSize: 8, seed: 1 },
      method: { kind: 'head' },
    });
    await waitFor(() => (events.some((e) => e.kind === 'progress') ? true : undefined));
    reportWebGpuError('The number of storage buffers (42) in the Compute stage exceeds the maximum (8).');
    const failure = await waitFor(() => events.find((e) => e.kind === 'trainingError'));
    expect(failure).toMatchObject({ kind: 'trainingError', code: 'GPU_VALIDATION_ERROR' });
    expect((failure as { message: string }).message).toMatch(/storage buffers \(42\)[\s\S]*cannot be trusted/);
    expect(events.some((e) => e.kind === 'trainingDone')).toBe(false);
    expect(takeWebGpuErrors()).toEqual([]);
    // The session answers and can train again.
    expect((await session.predict([{ text: 'a text' }])).predictions).toHaveLength(1);
  });
});
