/**
 * The studio (worker session) and the CLI suggest the same prompts for the same data: both go
 * through the engine door's suggestPrompts with the training split's seed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main';
import { reviewsCsv } from './support/toy-data';
import { initNodeBackend, readDataFile } from '../src/engine/studio/node';
import { Session } from '../src/worker/session';
import { serveFolder, type StaticServer } from './support/static-server';

const GOLDEN = 'tests/fixtures/golden-micro/model';
let server: StaticServer;

beforeAll(async () => {
  await initNodeBackend('wasm');
  server = await serveFolder(GOLDEN, '/models/golden/');
});

afterAll(async () => {
  await server.close();
});

describe('prompt suggestions', () => {
  it('are the same from `fewshot zero-shot --suggest` and from the studio session', async () => {
    const data = join(mkdtempSync(join(tmpdir(), 'suggest-')), 'reviews.csv');
    writeFileSync(data, reviewsCsv());
    const template = '{text} it was [MASK] .';
    let stdout = '';
    const code = await main(
      ['zero-shot', '--model', GOLDEN, '--data', data, '--template', template, '--suggest', '4', '--json'],
      { stdout: (t) => (stdout += t), stderr: () => undefined, stderrIsTTY: false },
    );
    expect(code).toBe(0);
    const cli = JSON.parse(stdout);

    const session = new Session(() => {}, { cache: null });
    await session.loadModel({ kind: 'url', baseUrl: server.url, name: 'golden' });
    const rows = (await readDataFile(data)).rows;
    const studio = await session.suggestPrompts({ template, labeled: rows, seed: 42, topK: 4 });

    expect(studio.ranked.length).toBeGreaterThan(3);
    expect(cli.suggestions).toEqual(studio.words);
    expect(cli.ranked).toEqual(studio.ranked);
    expect(cli.rowCount).toBe(studio.rowCount);
  });
});
