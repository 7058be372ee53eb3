/**
 * Download caches for Hub files, keyed by the file's URL (which includes the revision).
 *
 * A cache entry is either the complete, length-verified bytes of a file or a "missing" marker remembering a 404,
 * so that a second load of the same repository makes no request at all. Entries are written only after a download
 * finished and was verified, in one `put`, so a crash or dropped connection never leaves a half-written entry.
 * A branch name such as `main` can move; pin a commit hash as the revision for exact reuse, or `clear()` the cache.
 */
import { EngineError } from '../errors';

export type CachedFile = { kind: 'file'; bytes: Uint8Array } | { kind: 'missing' };

export interface DownloadCache {
  /** The entry for `key`, or null when nothing is cached. */
  get(key: string): Promise<CachedFile | null>;
  /** Stores complete bytes, or a missing marker, atomically. */
  put(key: string, entry: CachedFile): Promise<void>;
  delete(key: string): Promise<void>;
  /** Removes every entry this cache owns. */
  clear(): Promise<void>;
}

/** In-memory cache (tests, and Node where nothing persists between runs anyway). Stores private copies. */
export class MemoryDownloadCache implements DownloadCache {
  private readonly entries = new Map<string, CachedFile>();

  async get(key: string): Promise<CachedFile | null> {
    const entry = this.entries.get(key);
    if (entry === undefined) return null;
    return entry.kind === 'file' ? { kind: 'file', bytes: entry.bytes.slice() } : entry;
  }

  async put(key: string, entry: CachedFile): Promise<void> {
    this.entries.set(key, entry.kind === 'file' ? { kind: 'file', bytes: entry.bytes.slice() } : entry);
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async clear(): Promise<void> {
    this.entries.clear();
  }

  /** Keys currently stored (for tests and diagnostics). */
  keys(): string[] {
    return [...this.entries.keys()];
  }
}

/** Cache Storage cache name used by default; bump the suffix if the entry format ever changes. */
export const DEFAULT_BROWSER_CACHE_NAME = 'fewshot-checkpoints-v1';

/** Response header recording the verified byte length, checked again on every read. */
const LENGTH_HEADER = 'x-fewshot-length';
/** Response header marking a remembered 404. */
const MISSING_HEADER = 'x-fewshot-missing';

/**
 * Browser Cache Storage (`caches.open`), available in windows and workers on secure origins. `Cache.put` commits the
 * entry only once its body is fully stored, which gives the all-or-nothing behaviour this module promises.
 */
export class BrowserDownloadCache implements DownloadCache {
  constructor(
    /** Name of the Cache Storage bucket. */
    private readonly cacheName: string = DEFAULT_BROWSER_CACHE_NAME,
    /** Injected for tests; defaults to the global `caches`. */
    private readonly storage: CacheStorage = globalThis.caches,
  ) {
    if (storage === undefined) {
      throw new EngineError(
        'CACHE_UNAVAILABLE',
        'Cache Storage is not available here (it needs a secure https or localhost origin); use MemoryDownloadCache or no cache.',
      );
    }
  }

  /** True when Cache Storage exists here (it does not on insecure origins or in Node). */
  static isAvailable(): boolean {
    return typeof globalThis.caches !== 'undefined';
  }

  async get(key: string): Promise<CachedFile | null> {
    const cache = await this.storage.open(this.cacheName);
    const response = await cache.match(key);
    if (response === undefined) return null;
    if (response.headers.get(MISSING_HEADER) === '1') return { kind: 'missing' };
    const bytes = new Uint8Array(await response.arrayBuffer());
    // An entry whose length disagrees with what was verified at download time is dropped, never trusted.
    if (String(bytes.byteLength) !== response.headers.get(LENGTH_HEADER)) {
      await cache.delete(key);
      return null;
    }
    return { kind: 'file', bytes };
  }

  async put(key: string, entry: CachedFile): Promise<void> {
    const cache = await this.storage.open(this.cacheName);
    const response =
      entry.kind === 'missing'
        ? new Response(null, { headers: { [MISSING_HEADER]: '1' } })
        : new Response(entry.bytes.slice().buffer, {
            headers: { [LENGTH_HEADER]: String(entry.bytes.byteLength), 'content-type': 'application/octet-stream' },
          });
    await cache.put(key, response);
  }

  async delete(key: string): Promise<void> {
    const cache = await this.storage.open(this.cacheName);
    await cache.delete(key);
  }

  async clear(): Promise<void> {
    await this.storage.delete(this.cacheName);
  }
}
