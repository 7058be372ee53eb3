import { describe, expect, it } from 'vitest';
import { BrowserDownloadCache, MemoryDownloadCache, type DownloadCache } from './cache';
import { createHubSource } from './hub-source';

/** A minimal Cache Storage stand-in with the semantics BrowserDownloadCache relies on (Node has no `caches`). */
class FakeCacheStorage {
  readonly buckets = new Map<string, Map<string, Response>>();
  async open(name: string) {
    const bucket = this.buckets.get(name) ?? new Map<string, Response>();
    this.buckets.set(name, bucket);
    return {
      match: async (key: string | { url: string }) => bucket.get(typeof key === 'string' ? key : key.url)?.clone(),
      keys: async () => [...bucket.keys()].map((url) => ({ url })),
      put: async (key: string, response: Response) => {
        // Like the real Cache.put: the entry appears only after the whole body has been read.
        const body = await response.arrayBuffer();
        bucket.set(key, new Response(body, { status: response.status, headers: response.headers }));
      },
      delete: async (key: string) => bucket.delete(key),
    };
  }
  async delete(name: string) {
    return this.buckets.delete(name);
  }
}

function caches(): Array<[string, DownloadCache, FakeCacheStorage | null]> {
  const storage = new FakeCacheStorage();
  return [
    ['memory', new MemoryDownloadCache(), null],
    ['browser', new BrowserDownloadCache('test-cache', storage as unknown as CacheStorage), storage],
  ];
}

describe.each(caches())('%s download cache', (_label, cache, storage) => {
  it('stores files, missing markers and refs, lists them, and forgets them on delete and clear', async () => {
    const bytes = Uint8Array.from([1, 2, 3, 250]);
    await cache.put('u1', { kind: 'file', bytes });
    bytes[0] = 99; // the cache keeps its own copy
    expect(await cache.get('u1')).toEqual({ kind: 'file', bytes: Uint8Array.from([1, 2, 3, 250]) });
    await cache.put('u2', { kind: 'missing', storedAt: 1234 });
    expect(await cache.get('u2')).toEqual({ kind: 'missing', storedAt: 1234 });
    await cache.put('u4', { kind: 'ref', commit: 'c'.repeat(40), storedAt: 5678 });
    expect(await cache.get('u4')).toEqual({ kind: 'ref', commit: 'c'.repeat(40), storedAt: 5678 });
    expect(await cache.get('u3')).toBeNull();
    expect((await cache.list()).sort((a, b) => a.key.localeCompare(b.key))).toEqual([
      { key: 'u1', kind: 'file', bytes: 4 },
      { key: 'u2', kind: 'missing', bytes: 0 },
      { key: 'u4', kind: 'ref', bytes: 0 },
    ]);
    await cache.delete('u1');
    expect(await cache.get('u1')).toBeNull();
    expect((await cache.list()).map((e) => e.key).sort()).toEqual(['u2', 'u4']);
    await cache.clear();
    if (storage) expect(storage.buckets.size).toBe(0); // the whole Cache Storage bucket is gone
    expect(await cache.get('u2')).toBeNull();
    expect(await cache.list()).toEqual([]);
  });

  it('makes a Hub source pinned to a commit answer from the cache with zero fetches', async () => {
    let fetches = 0;
    const fetchImpl = (async (url: string) => {
      fetches++;
      return url.endsWith('config.json')
        ? new Response('{"a":1}', { headers: { 'content-length': '7' } })
        : new Response('no', { status: 404 });
    }) as unknown as typeof fetch;
    const revision = 'e'.repeat(40);
    const hub = () => createHubSource({ repo: 'o/r', revision, baseUrl: 'http://h', cache, fetch: fetchImpl });
    expect(new TextDecoder().decode((await hub().read('config.json'))!)).toBe('{"a":1}');
    expect(await hub().read('vocab.txt')).toBeNull();
    expect(fetches).toBe(3); // HEAD + GET of config.json, HEAD of vocab.txt
    expect(new TextDecoder().decode((await hub().read('config.json'))!)).toBe('{"a":1}');
    expect(await hub().read('vocab.txt')).toBeNull();
    expect(fetches).toBe(3);
  });
});

describe('BrowserDownloadCache integrity', () => {
  it('explains that Cache Storage is missing instead of failing later', () => {
    expect(() => new BrowserDownloadCache()).toThrow(/Cache Storage is not available/);
    expect(BrowserDownloadCache.isAvailable()).toBe(false);
  });

  it('a failing cache does not fail the download', async () => {
    const broken: DownloadCache = {
      get: async () => Promise.reject(new Error('quota')),
      put: async () => Promise.reject(new Error('quota')),
      delete: async () => {},
      list: async () => Promise.reject(new Error('quota')),
      clear: async () => {},
    };
    const hub = createHubSource({
      repo: 'o/r',
      baseUrl: 'http://h',
      cache: broken,
      fetch: (async () => new Response('ok')) as unknown as typeof fetch,
    });
    expect(new TextDecoder().decode((await hub.read('f'))!)).toBe('ok');
  });

  it('the default bucket deletes the v1 bucket, whose entries were keyed by branch and unverified', async () => {
    const storage = new FakeCacheStorage();
    await (await storage.open('fewshot-checkpoints-v1')).put('old', new Response('x'));
    await (await storage.open('unrelated')).put('keep', new Response('y'));
    const cache = new BrowserDownloadCache(undefined, storage as unknown as CacheStorage);
    expect(await cache.list()).toEqual([]);
    expect([...storage.buckets.keys()].sort()).toEqual(['fewshot-checkpoints-v2', 'unrelated']);
  });

  it('drops an entry whose stored length does not match the verified length', async () => {
    const storage = new FakeCacheStorage();
    const cache = new BrowserDownloadCache('c', storage as unknown as CacheStorage);
    await cache.put('u', { kind: 'file', bytes: new Uint8Array(8) });
    const bucket = storage.buckets.get('c')!;
    bucket.set('u', new Response(new Uint8Array(4), { headers: { 'x-fewshot-length': '8' } }));
    expect(await cache.get('u')).toBeNull();
    expect(bucket.has('u')).toBe(false);
  });
});
