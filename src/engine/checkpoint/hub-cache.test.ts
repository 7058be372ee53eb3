import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryDownloadCache } from './cache';
import { clearHubCache, deleteCachedHubModel, listCachedHubModels } from './hub-cache';
import { createHubSource, hubRefKey } from './hub-source';
import { loadCheckpointFiles } from './load';
import { writeSafetensors } from './safetensors';
import { FakeHub } from './test-hub-server';

const weights = (n: number) =>
  writeSafetensors([{ name: 'w', shape: [n], data: new Float32Array(n).fill(0.5) }], { dtype: 'F32' });
const config = JSON.stringify({ model_type: 'bert' });
const vocab = '[PAD]\n[UNK]\n';

const hub = new FakeHub();
let baseUrl: string;
let small: string;
let bigA: string;
let bigB: string;

beforeAll(async () => {
  baseUrl = await hub.start();
  small = hub.commit('org/small', { 'config.json': config, 'vocab.txt': vocab, 'model.safetensors': weights(16) });
  bigA = hub.commit('org/big', { 'config.json': config, 'vocab.txt': vocab, 'model.safetensors': weights(1024) });
  bigB = hub.commit('org/big', { 'config.json': config, 'vocab.txt': vocab, 'model.safetensors': weights(2048) });
});

afterAll(() => hub.stop());

beforeEach(() => hub.reset());

const load = (cache: MemoryDownloadCache, repo: string, revision?: string) =>
  loadCheckpointFiles(createHubSource({ repo, revision, baseUrl, cache, backoffMs: 1 }));

/** Sum of the sizes of the files a model of the fake Hub has. */
const sizeOf = (n: number) => config.length + vocab.length + weights(n).byteLength;

describe('Hub models in the download cache', () => {
  it('lists cached models with their commit, branches and size; deletes one; clears all', async () => {
    const cache = new MemoryDownloadCache();
    await load(cache, 'org/small');
    await load(cache, 'org/big', bigA); // an older commit, by hash
    await load(cache, 'org/big'); // main = bigB

    const listed = await listCachedHubModels(cache, baseUrl);
    expect(listed).toEqual([
      {
        repo: 'org/big',
        commit: bigB,
        refs: ['main'],
        files: ['config.json', 'model.safetensors', 'vocab.txt'],
        bytes: sizeOf(2048),
      },
      {
        repo: 'org/big',
        commit: bigA,
        refs: [],
        files: ['config.json', 'model.safetensors', 'vocab.txt'],
        bytes: sizeOf(1024),
      },
      {
        repo: 'org/small',
        commit: small,
        refs: ['main'],
        files: ['config.json', 'model.safetensors', 'vocab.txt'],
        bytes: sizeOf(16),
      },
    ]);
    // Another base URL sees none of them.
    expect(await listCachedHubModels(cache, 'https://huggingface.co')).toEqual([]);

    // Delete one commit of one repo: its files, remembered 404s and refs go; the rest stays.
    const removed = await deleteCachedHubModel(cache, 'org/big', { commit: bigB, baseUrl });
    // 3 files, 5 remembered 404s (tokenizer.json, tokenizer_config.json, special_tokens_map.json, modules.json,
    // setfit_head.json), the main ref.
    expect(removed).toBe(9);
    expect(cache.keys().filter((k) => k.includes(bigB))).toEqual([]);
    expect(await cache.get(hubRefKey('org/big', 'main', baseUrl))).toBeNull();
    expect((await listCachedHubModels(cache, baseUrl)).map((m) => `${m.repo}@${m.commit}`)).toEqual([
      `org/big@${bigA}`,
      `org/small@${small}`,
    ]);

    // The next load of org/big@main downloads again.
    hub.reset();
    await load(cache, 'org/big');
    expect(hub.seen('GET').filter((r) => r.startsWith('GET /cdn/'))).toHaveLength(1);

    // Without a commit, every commit of the repo goes.
    await deleteCachedHubModel(cache, 'org/big', { baseUrl });
    expect((await listCachedHubModels(cache, baseUrl)).map((m) => m.repo)).toEqual(['org/small']);
    expect(cache.keys().filter((k) => k.includes('/org/big/'))).toEqual([]);

    await clearHubCache(cache);
    expect(await listCachedHubModels(cache, baseUrl)).toEqual([]);
    expect(cache.keys()).toEqual([]);
  });

  it('lists nothing without a cache, or when the cache fails', async () => {
    expect(await listCachedHubModels(null)).toEqual([]);
    expect(await deleteCachedHubModel(null, 'org/x')).toBe(0);
    const broken = new MemoryDownloadCache();
    broken.list = () => Promise.reject(new Error('quota'));
    expect(await listCachedHubModels(broken, baseUrl)).toEqual([]);
  });
});
