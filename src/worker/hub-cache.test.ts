/** The session's Hub cache requests on a real download from a fake Hub (loopback server). */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryDownloadCache } from '../engine/studio';
import { initNodeBackend } from '../engine/studio/node';
import { FakeHub } from '../engine/checkpoint/test-hub-server';
import { Session } from './session';

const FOLDER = 'tests/fixtures/golden-micro/model';
const REPO = 'acme/golden-micro';
const hub = new FakeHub();
let commit: string;

beforeAll(async () => {
  await initNodeBackend('wasm');
  await hub.start();
  commit = hub.commit(
    REPO,
    Object.fromEntries(readdirSync(FOLDER).map((name) => [name, new Uint8Array(readFileSync(`${FOLDER}/${name}`))])),
  );
});

afterAll(() => hub.stop());

describe('Session Hub cache', () => {
  it('lists a downloaded model with its commit and size, deletes it, and clears all', async () => {
    const cache = new MemoryDownloadCache();
    const session = new Session(() => {}, { cache });
    const summary = await session.loadModel({ kind: 'hub', repo: REPO, baseUrl: hub.baseUrl });
    expect(summary.source).toContain(`@main (commit ${commit.slice(0, 12)})`);

    const [listed, ...others] = await session.hubCacheList(hub.baseUrl);
    expect(others).toEqual([]);
    expect(listed).toMatchObject({ repo: REPO, commit, refs: ['main'] });
    // safetensors is preferred, so pytorch_model.bin is never downloaded.
    const expectedBytes = ['config.json', 'vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json']
      .concat('model.safetensors')
      .reduce((sum, name) => sum + readFileSync(`${FOLDER}/${name}`).byteLength, 0);
    expect(listed.bytes).toBe(expectedBytes);
    expect(await session.hubCacheStatus([REPO], hub.baseUrl)).toEqual({ [REPO]: true });

    expect(await session.hubCacheDelete(REPO, commit, hub.baseUrl)).toEqual([]);
    expect(await session.hubCacheStatus([REPO], hub.baseUrl)).toEqual({ [REPO]: false });
    expect(session.currentModel?.summary().name).toBe(REPO); // the loaded model stays

    await session.loadModel({ kind: 'hub', repo: REPO, baseUrl: hub.baseUrl });
    expect(await session.hubCacheList(hub.baseUrl)).toHaveLength(1);
    expect(await session.hubCacheDelete(undefined, undefined, hub.baseUrl)).toEqual([]);
    expect(cache.keys()).toEqual([]);
  });
});
