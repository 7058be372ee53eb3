import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { MemoryDownloadCache } from './cache';
import { createHubSource, hubFileUrl, hubRefKey, linkedSha256, parseLfsPointer, sha256Hex } from './hub-source';
import { loadCheckpointFiles } from './load';
import { writeSafetensors } from './safetensors';
import type { ReadProgress } from './source';
import { expectCodeAsync, sameBytes } from './test-fixtures';
import { FakeHub } from './test-hub-server';

const REPO = 'tiny-org/tiny-bert';

// A 1 MB model so the body arrives in many chunks and progress has something to report.
const bigWeights = new Float32Array(256 * 1024).map((_, i) => Math.sin(i));
const modelBytes = writeSafetensors([{ name: 'w', shape: [512, 512], data: bigWeights }], {
  dtype: 'F32',
  metadata: { format: 'pt' },
});
const configA = JSON.stringify({ model_type: 'bert', hidden_size: 512 });
const files = { 'config.json': configA, 'vocab.txt': '[PAD]\n[UNK]\n', 'model.safetensors': modelBytes };

const hub = new FakeHub();
let baseUrl: string;
let commitA: string;

beforeAll(async () => {
  baseUrl = await hub.start();
  commitA = hub.commit(REPO, files);
});

afterAll(() => hub.stop());

beforeEach(() => {
  hub.reset();
  hub.moveBranch(REPO, 'main', commitA);
});

const source = (cache?: MemoryDownloadCache, extra: { missingTtlMs?: number; repo?: string } = {}) =>
  createHubSource({ repo: extra.repo ?? REPO, baseUrl, cache, backoffMs: 1, missingTtlMs: extra.missingTtlMs });

describe('Hub source against a loopback Hub', () => {
  it('downloads a checkpoint pinned to the commit main resolves to, with progress that ends at the total', async () => {
    const events: ReadProgress[] = [];
    const hubSource = source();
    const loaded = await loadCheckpointFiles(hubSource, { onProgress: (p) => events.push({ ...p }) });
    expect(loaded.configJson).toEqual({ model_type: 'bert', hidden_size: 512 });
    expect(loaded.vocabTxt).toBe('[PAD]\n[UNK]\n');
    expect(loaded.weightFormat).toBe('safetensors');
    expect(sameBytes(loaded.tensors.get('w')!.data, bigWeights)).toBe(true);
    expect(hubSource.resolvedCommit()).toBe(commitA);

    const modelEvents = events.filter((e) => e.file === 'model.safetensors');
    expect(modelEvents.length).toBeGreaterThan(2);
    expect(modelEvents.every((e) => e.total === modelBytes.byteLength)).toBe(true);
    expect(modelEvents.every((e, i) => i === 0 || e.loaded > modelEvents[i - 1].loaded)).toBe(true);
    expect(modelEvents.at(-1)!.loaded).toBe(modelBytes.byteLength);

    // Only the first HEAD names the branch; every other request is at the commit it resolved to.
    const resolveRequests = hub.seen().filter((r) => r.includes('/resolve/'));
    expect(resolveRequests[0]).toBe(`HEAD /${REPO}/resolve/main/config.json`);
    expect(resolveRequests.slice(1).every((r) => r.includes(`/resolve/${commitA}/`))).toBe(true);
    // Probed optional files that do not exist cost one HEAD each and did not fail the load.
    expect(hub.seen()).toContain(`HEAD /${REPO}/resolve/${commitA}/tokenizer.json`);
    expect(hub.seen('GET').filter((r) => r.includes('tokenizer.json'))).toEqual([]);
  });

  it('verifies the sha256 of an LFS file and caches it under the commit', async () => {
    const cache = new MemoryDownloadCache();
    const bytes = await source(cache).read('model.safetensors');
    expect(sameBytes(bytes!, modelBytes)).toBe(true);
    const cached = await cache.get(hubFileUrl(REPO, 'model.safetensors', { baseUrl, revision: commitA }));
    expect(cached?.kind === 'file' && sameBytes(cached.bytes, modelBytes)).toBe(true);
    expect(await cache.get(hubRefKey(REPO, 'main', baseUrl))).toMatchObject({ kind: 'ref', commit: commitA });
    // Nothing is cached under the branch name: a moved branch can never serve old bytes as new.
    expect(cache.keys().filter((k) => k.includes('/resolve/main/'))).toEqual([]);
  });

  it('refuses a corrupted download of the right length, caches nothing, and the next try succeeds', async () => {
    const cache = new MemoryDownloadCache();
    hub.faults.set('model.safetensors', 'corrupt');
    const error = await expectCodeAsync(
      loadCheckpointFiles(source(cache)),
      'DOWNLOAD_CORRUPT',
      'model.safetensors',
      `expected sha256 ${createHash('sha256').update(modelBytes).digest('hex')}`,
      'got ',
      'it was not cached; try again',
    );
    expect(error.message).toContain(`/resolve/${commitA}/model.safetensors`);
    expect(cache.keys().filter((k) => k.endsWith('model.safetensors'))).toEqual([]);

    hub.faults.delete('model.safetensors');
    const again = await loadCheckpointFiles(source(cache));
    expect(sameBytes(again.tensors.get('w')!.data, bigWeights)).toBe(true);
    expect(cache.keys().filter((k) => k.endsWith('model.safetensors'))).toHaveLength(1);
  });

  it('serves a second load from the cache after one HEAD that revalidates main', async () => {
    const cache = new MemoryDownloadCache();
    await loadCheckpointFiles(source(cache));
    expect(hub.seen('GET').length).toBeGreaterThanOrEqual(3);
    hub.reset();
    const events: ReadProgress[] = [];
    const again = await loadCheckpointFiles(source(cache), { onProgress: (p) => events.push(p) });
    // Remembered 404s (tokenizer.json, ...) are served from the cache too.
    expect(hub.seen()).toEqual([`HEAD /${REPO}/resolve/main/config.json`]);
    expect(sameBytes(again.tensors.get('w')!.data, bigWeights)).toBe(true);
    expect(events.find((e) => e.file === 'model.safetensors')).toEqual({
      file: 'model.safetensors',
      loaded: modelBytes.byteLength,
      total: modelBytes.byteLength,
    });
  });

  it('follows main to a new commit when online, and loads the cached commit offline with a warning', async () => {
    const cache = new MemoryDownloadCache();
    const first = await loadCheckpointFiles(source(cache));
    expect(first.configJson.hidden_size).toBe(512);

    // main moves to a commit with another config.
    const commitB = hub.commit(REPO, {
      ...files,
      'config.json': JSON.stringify({ model_type: 'bert', hidden_size: 64 }),
    });
    hub.down = true;
    const offline = source(cache);
    const stale = await loadCheckpointFiles(offline);
    expect(offline.resolvedCommit()).toBe(commitA);
    expect(stale.configJson.hidden_size).toBe(512);
    expect(stale.warnings.join(' ')).toMatch(new RegExp(`Offline.*${REPO}@main.*${commitA.slice(0, 12)}`));

    hub.down = false;
    hub.requests.length = 0;
    const online = source(cache);
    const fresh = await loadCheckpointFiles(online);
    expect(online.resolvedCommit()).toBe(commitB);
    expect(fresh.configJson.hidden_size).toBe(64);
    expect(fresh.warnings.join(' ')).not.toContain('Offline');
    // Every download was at the new commit; the weights (same sha256) were still fetched under it, not mixed in.
    expect(hub.seen('GET').filter((r) => r.includes('/resolve/'))).toEqual([
      `GET /${REPO}/resolve/${commitB}/config.json`,
      `GET /${REPO}/resolve/${commitB}/vocab.txt`,
      `GET /${REPO}/resolve/${commitB}/model.safetensors`,
    ]);
    // Now main points at B even offline, and A stays loadable by its hash.
    hub.down = true;
    const pinnedA = await loadCheckpointFiles(createHubSource({ repo: REPO, revision: commitA, baseUrl, cache }));
    expect(pinnedA.configJson.hidden_size).toBe(512);
    const offlineB = source(cache);
    expect((await loadCheckpointFiles(offlineB)).configJson.hidden_size).toBe(64);
    expect(offlineB.resolvedCommit()).toBe(commitB);
  });

  it('offline with nothing cached fails with the network error', async () => {
    hub.down = true;
    await expectCodeAsync(source(new MemoryDownloadCache()).read('config.json'), 'HUB_NETWORK_ERROR', 'try again');
  });

  it('asks again about a remembered 404 once it expires', async () => {
    const cache = new MemoryDownloadCache();
    hub.faults.set('vocab.txt', 'not-found'); // a mistaken 404 for a file that exists
    const ttl = 200;
    const first = await loadCheckpointFiles(source(cache, { missingTtlMs: ttl }));
    expect(first.vocabTxt).toBeUndefined();
    hub.reset();
    hub.moveBranch(REPO, 'main', commitA);

    const remembered = await loadCheckpointFiles(source(cache, { missingTtlMs: ttl }));
    expect(remembered.vocabTxt).toBeUndefined();
    expect(hub.seen().filter((r) => r.includes('vocab.txt'))).toEqual([]);

    await new Promise((resolve) => setTimeout(resolve, ttl + 50));
    const expired = await loadCheckpointFiles(source(cache, { missingTtlMs: ttl }));
    expect(expired.vocabTxt).toBe('[PAD]\n[UNK]\n');
    expect(hub.seen().filter((r) => r.includes('vocab.txt'))).toEqual([
      `HEAD /${REPO}/resolve/${commitA}/vocab.txt`,
      `GET /${REPO}/resolve/${commitA}/vocab.txt`,
    ]);
  });

  it('offline, an expired 404 still answers for a model pinned by its commit hash', async () => {
    const cache = new MemoryDownloadCache();
    const pinned = () => createHubSource({ repo: REPO, revision: commitA, baseUrl, cache, missingTtlMs: 1 });
    await loadCheckpointFiles(pinned());
    expect(hub.seen()).toContain(`HEAD /${REPO}/resolve/${commitA}/tokenizer.json`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    hub.down = true;
    const offline = await loadCheckpointFiles(pinned());
    expect(sameBytes(offline.tensors.get('w')!.data, bigWeights)).toBe(true);
    expect(offline.tokenizerJson).toBeUndefined();
  });

  it('names the file and URL when config.json is missing (404), asking once', async () => {
    hub.commit('tiny-org/no-config', { 'vocab.txt': 'a\n' });
    await expectCodeAsync(
      loadCheckpointFiles(source(undefined, { repo: 'tiny-org/no-config' })),
      'CHECKPOINT_FILE_NOT_FOUND',
      'config.json',
      `${baseUrl}/tiny-org/no-config/resolve/`,
    );
    expect(hub.seen()).toEqual(['HEAD /tiny-org/no-config/resolve/main/config.json']); // a 404 is not retried
  });

  it('says gated/private/token on 401 without retrying', async () => {
    hub.faults.set('config.json', 'unauthorized');
    await expectCodeAsync(source().read('config.json'), 'HUB_UNAUTHORIZED', '401', 'token', 'config.json');
    expect(hub.requests.length).toBe(1);
    await expectCodeAsync(source(undefined, { repo: 'nobody/nothing' }).read('config.json'), 'HUB_UNAUTHORIZED');
  });

  it('retries a 5xx answer', async () => {
    hub.faults.set('config.json', 'error-500-first');
    const bytes = await source().read('config.json');
    expect(new TextDecoder().decode(bytes!)).toContain('bert');
    expect(hub.seen()).toEqual([
      `HEAD /${REPO}/resolve/main/config.json`,
      `HEAD /${REPO}/resolve/main/config.json`,
      `GET /${REPO}/resolve/${commitA}/config.json`,
    ]);
  });

  it('retries a connection dropped mid-body and caches only the complete file', async () => {
    hub.faults.set('model.safetensors', 'drop-first');
    const cache = new MemoryDownloadCache();
    const bytes = await source(cache).read('model.safetensors');
    expect(sameBytes(bytes!, modelBytes)).toBe(true);
    expect(hub.seen('GET').filter((r) => r.startsWith('GET /cdn/'))).toHaveLength(2);
    const cached = await cache.get(hubFileUrl(REPO, 'model.safetensors', { baseUrl, revision: commitA }));
    expect(cached?.kind === 'file' && sameBytes(cached.bytes, modelBytes)).toBe(true);
  });

  it('gives up after the retries when every attempt is cut off, leaving no file in the cache', async () => {
    hub.faults.set('model.safetensors', 'drop-always');
    const cache = new MemoryDownloadCache();
    const error = await expectCodeAsync(
      source(cache).read('model.safetensors'),
      'DOWNLOAD_INTERRUPTED',
      'model.safetensors',
      '4 attempts',
    );
    expect(error.message).toContain(`${baseUrl}/${REPO}/resolve/${commitA}/model.safetensors`);
    expect(hub.seen('GET').filter((r) => r.startsWith('GET /cdn/'))).toHaveLength(4); // first + default 3 retries
    expect(cache.keys()).toEqual([hubRefKey(REPO, 'main', baseUrl)]);
  });
});

describe('Hub headers', () => {
  it('takes a sha256 from X-Linked-Etag but never a git sha1', () => {
    const sha = 'a'.repeat(64);
    expect(linkedSha256(`"${sha}"`)).toBe(sha);
    expect(linkedSha256(`W/"${sha.toUpperCase()}"`)).toBe(sha);
    expect(linkedSha256(`"sha256:${sha}"`)).toBe(sha);
    expect(linkedSha256(`"${'b'.repeat(40)}"`)).toBeNull();
    expect(linkedSha256(null)).toBeNull();
  });

  it('reads an LFS pointer file', () => {
    const sha = 'c'.repeat(64);
    expect(parseLfsPointer(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha}\nsize 1234\n`)).toEqual({
      sha256: sha,
      size: 1234,
    });
    expect(parseLfsPointer('{"model_type":"bert"}')).toBeNull();
  });

  it('hashes with WebCrypto like node:crypto', async () => {
    expect(await sha256Hex(modelBytes)).toBe(createHash('sha256').update(modelBytes).digest('hex'));
  });
});

describe('Hub source length checks (injected fetch)', () => {
  /** A fetch whose HEAD finds the file, and whose GET claims `claimed` bytes but delivers `body`. */
  const lyingFetch = (body: Uint8Array, claimed: number, calls: { count: number }): typeof fetch =>
    (async (_url: string, init?: RequestInit) => {
      if (init?.method === 'HEAD') return new Response(null, { status: 200 });
      calls.count++;
      return new Response(new Blob([body.slice().buffer]).stream(), {
        status: 200,
        headers: { 'content-length': String(claimed) },
      });
    }) as unknown as typeof fetch;

  it('rejects a body shorter than its Content-Length, retries, and caches no file', async () => {
    const calls = { count: 0 };
    const cache = new MemoryDownloadCache();
    const hubSource = createHubSource({
      repo: REPO,
      baseUrl: 'http://unused.invalid',
      cache,
      retries: 2,
      sleep: async () => {},
      fetch: lyingFetch(new Uint8Array(10), 20, calls),
    });
    await expectCodeAsync(hubSource.read('model.safetensors'), 'DOWNLOAD_TRUNCATED', 'received 10 of 20 bytes');
    expect(calls.count).toBe(3);
    expect(cache.keys().filter((k) => k.endsWith('model.safetensors'))).toEqual([]);
  });

  it('rejects a body longer than its Content-Length', async () => {
    const calls = { count: 0 };
    const hubSource = createHubSource({
      repo: REPO,
      baseUrl: 'http://unused.invalid',
      retries: 0,
      fetch: lyingFetch(new Uint8Array(30), 20, calls),
    });
    await expectCodeAsync(hubSource.read('x'), 'DOWNLOAD_TOO_LONG');
  });

  it('backs off exponentially between retries and encodes the revision and file path', async () => {
    const delays: number[] = [];
    const urls: string[] = [];
    const hubSource = createHubSource({
      repo: 'a/b',
      revision: 'refs/pr/1',
      baseUrl: 'https://mirror.example/',
      backoffMs: 100,
      sleep: async (ms) => void delays.push(ms),
      fetch: (async (url: string) => {
        urls.push(url);
        throw new TypeError('network down');
      }) as unknown as typeof fetch,
    });
    await expectCodeAsync(hubSource.read('onnx/model file.json'), 'HUB_NETWORK_ERROR', 'network down');
    expect(delays).toEqual([100, 200, 400]);
    expect(urls[0]).toBe('https://mirror.example/a/b/resolve/refs%2Fpr%2F1/onnx/model%20file.json');
  });

  it('sends the access token and defaults to huggingface.co', async () => {
    const seen: RequestInit[] = [];
    const hubSource = createHubSource({
      repo: 'a/b',
      accessToken: 'hf_secret',
      fetch: (async (_url: string, init?: RequestInit) => {
        seen.push(init!);
        return new Response(init?.method === 'HEAD' ? null : '{}', { status: 200 });
      }) as unknown as typeof fetch,
    });
    expect(hubSource.urlOf('config.json')).toBe('https://huggingface.co/a/b/resolve/main/config.json');
    await hubSource.read('config.json');
    expect(seen.map((init) => (init.headers as Record<string, string>).authorization)).toEqual([
      'Bearer hf_secret',
      'Bearer hf_secret',
    ]);
  });
});
