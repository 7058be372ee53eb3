/**
 * A studio run exported as a training job (docs/ARCHITECTURE.md, "Training jobs"): the bundle
 * names or includes the run's starting weights, holds its split, and our own trainer reruns it
 * (`fewshot train --job`) with the run's losses.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend, loadModelFromDir } from '../src/engine/studio/node';
import { serveFolder, type StaticServer } from './support/static-server';
import { toyExamples } from './support/toy-data';
import { main } from '../src/cli/main';
import type { FineTunePlan, TrainingRequest, WorkerEventPayload } from '../src/worker/protocol';
import { Session } from '../src/worker/session';
import { waitFor } from './support/wait';

const GOLDEN_DIR = 'tests/fixtures/golden-micro/model';
let server: StaticServer;

beforeAll(async () => {
  await initNodeBackend('wasm');
  server = await serveFolder(GOLDEN_DIR, '/models/golden/');
});

afterAll(async () => {
  await server.close();
});

const request: TrainingRequest = {
  train: toyExamples(40, 9),
  dev: null,
  settings: { epochs: 2, learningRate: 3e-3, batchSize: 4, seed: 5 },
  method: { kind: 'head' },
};

/** Trains a named run to the end; its plan (with where it started) and every loss. */
async function train(session: Session, events: WorkerEventPayload[], runId: string, startFrom?: 'base' | 'current') {
  const from = events.length;
  const plan: FineTunePlan = await session.startTraining({ ...request, runId, ...(startFrom ? { startFrom } : {}) });
  await waitFor(() =>
    events.slice(from).some((e) => e.kind === 'trainingState' && e.state === 'idle') ? true : undefined,
  );
  const losses = events.slice(from).flatMap((e) => (e.kind === 'progress' ? e.losses : []));
  return { plan, losses };
}

/** Unzips a bundle into a fresh folder; returns the bundle's folder. */
async function unzipTo(zip: Uint8Array): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'fewshot-session-job-'));
  for (const [name, bytes] of Object.entries(unzipSync(zip))) {
    if (name.endsWith('/')) continue;
    await mkdir(dirname(join(root, name)), { recursive: true });
    await writeFile(join(root, name), bytes);
  }
  const [folder] = readdirSync(root);
  return join(root, folder);
}

const droppedGolden = () =>
  readdirSync(GOLDEN_DIR).map((name) => {
    const bytes = readFileSync(join(GOLDEN_DIR, name));
    return {
      name,
      size: bytes.byteLength,
      webkitRelativePath: `golden/${name}`,
      arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    };
  });

describe('exporting a run as a training job', () => {
  it('includes an embedded model, holds the split, and reruns with the same losses', async () => {
    const events: WorkerEventPayload[] = [];
    const session = new Session((e) => events.push(e), { cache: null });
    await session.loadModel({ kind: 'url', baseUrl: server.url, name: 'golden' });
    const { plan, losses } = await train(session, events, 'run-a');
    expect(plan.start).toEqual({ kind: 'url', baseUrl: server.url, name: 'golden' });

    const { zip, includedWeightBytes } = await session.exportRunJob({
      runId: 'run-a',
      plan,
      losses,
      bestDevAccuracy: 0.5,
    });
    const dir = await unzipTo(zip);
    expect(dir.endsWith('run-a-training-job')).toBe(true);
    const job = JSON.parse(readFileSync(join(dir, 'job.json'), 'utf8'));
    expect(job.model).toMatchObject({ source: 'included', path: 'model', name: 'golden', bytes: includedWeightBytes });
    expect(job.run.id).toBe('run-a');
    const csvRows = (file: string) => readFileSync(join(dir, file), 'utf8').trim().split(/\r\n/).length - 1;
    expect(csvRows('data/train.csv')).toBe(plan.trainCount);
    expect(csvRows('data/dev.csv')).toBe(plan.devCount);

    // Our own trainer reruns the bundle: the same losses as the studio run.
    let stdout = '';
    let stderr = '';
    const code = await main(
      ['train', '--job', join(dir, 'job.json'), '--out', join(dir, 'rerun'), '--backend', 'wasm', '--json'],
      { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), stderrIsTTY: false },
    );
    expect(code, stderr).toBe(0);
    const rerun = readFileSync(join(dir, 'rerun', 'train_log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((e) => e.loss !== undefined);
    expect(losses.length).toBeGreaterThanOrEqual(10);
    for (let i = 0; i < 10; i++) expect(Math.abs(rerun[i].loss - losses[i].loss)).toBeLessThan(1e-4);
    expect(JSON.parse(stdout).job.maxLossDifference).toBeLessThan(1e-4);
  }, 120_000);

  it("includes a dropped folder's base weights while the page holds them, refuses a continued run", async () => {
    const events: WorkerEventPayload[] = [];
    const session = new Session((e) => events.push(e), { cache: null });
    await session.loadModel({ kind: 'files', files: droppedGolden(), name: 'golden' });
    const first = await train(session, events, 'run-b');
    expect(first.plan.start).toMatchObject({ kind: 'session', name: 'golden' });
    // The second run continues from the first one's weights: no base to name or include.
    const continued = await train(session, events, 'run-c', 'current');
    expect(continued.plan.start).toEqual({ kind: 'tuned' });
    await expect(
      session.exportRunJob({ runId: 'run-c', plan: continued.plan, losses: continued.losses, bestDevAccuracy: null }),
    ).rejects.toMatchObject({ code: 'JOB_CONTINUED_RUN' });

    // The weights are trained now, yet the bundle holds the base weights the run started from.
    const { zip } = await session.exportRunJob({
      runId: 'run-b',
      plan: first.plan,
      losses: first.losses,
      bestDevAccuracy: null,
    });
    expect(session.weightsAtBase).toBe(false);
    const dir = await unzipTo(zip);
    const included = await loadModelFromDir(join(dir, 'model'));
    const original = await loadModelFromDir(GOLDEN_DIR);
    const body = async (m: typeof included) =>
      (await m.snapshotWeights()).values.filter((v) => !v.name.startsWith('classifier.'));
    const [a, b] = [await body(included), await body(original)];
    expect(a.map((v) => v.name)).toEqual(b.map((v) => v.name));
    a.forEach((v, i) => expect(Array.from(v.data)).toEqual(Array.from(b[i].data)));
    included.dispose();
    original.dispose();

    // Another model loaded: the dropped folder's weights are gone from the page, and the export says so.
    await session.loadModel({ kind: 'url', baseUrl: server.url, name: 'golden' });
    await expect(
      session.exportRunJob({ runId: 'run-b', plan: first.plan, losses: first.losses, bestDevAccuracy: null }),
    ).rejects.toMatchObject({ code: 'JOB_WEIGHTS_GONE', message: expect.stringContaining('no longer holds') });
  }, 120_000);

  it('refuses a run recorded before jobs existed', async () => {
    const session = new Session(() => undefined, { cache: null });
    await session.loadModel({ kind: 'url', baseUrl: server.url, name: 'golden' });
    const plan = session.planTraining(request);
    const { start: _start, ...old } = { ...(await plan), start: undefined };
    await expect(
      session.exportRunJob({ runId: 'old', plan: old, losses: [], bestDevAccuracy: null }),
    ).rejects.toMatchObject({
      code: 'JOB_RUN_TOO_OLD',
    });
  }, 60_000);
});
