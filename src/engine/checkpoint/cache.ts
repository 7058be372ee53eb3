/**
 * Download caches for Hub files, keyed by URL. The Hub source (`hub-source.ts`) writes file keys at the
 * resolved commit (`…/resolve/{commit}/{file}`), so an entry never changes meaning once written; it also writes
 * one "ref" entry per branch (`…/resolve/{branch}`) remembering the commit the branch pointed at, for offline use.
 *
 * An entry is the complete, verified bytes of a file, a "missing" marker remembering a 404 (with the time it was
 * stored, so that it can expire), or a ref. Entries are written only after a download finished and was verified,
 * in one `put`, so a crash or dropped connection never leaves a half-written entry. `hub-cache.ts` lists, deletes
 * and clears entries by model.
 */
import { EngineError } from '../errors';

export type CachedFile =
  | { kind: 'file'; bytes: Uint8Array }
  /** A remembered 404; `storedAt` in ms since the epoch. */
  | { kind: 'missing'; storedAt: number }
  /** The commit a branch or tag resolved to when last checked; `storedAt` in ms since the epoch. */
  | { kind: 'ref'; commit: string; storedAt: number };

/** One entry as `list()` reports it, without its bytes. */
export interface CacheEntryInfo {
  key: string;
  kind: CachedFile['kind'];
  /** Stored size of a file in bytes; 0 for markers and refs. */
  bytes: number;
}

export interface DownloadCache {
  /** The entry for `key`, or null when nothing is cached. */
  get(key: string): Promise<CachedFile | null>;
  /** Stores complete bytes, a missing marker or a ref, atomically. */
  put(key: string, entry: CachedFile): Promise<void>;
  delete(key: string): Promise<void>;
  /** Every entry with its kind and size, without reading file bodies. */
  list(): Promise<CacheEntryInfo[]>;
  /** Removes every entry this cache owns. */
  clear(): Promise<void>;
}

/** In-memory cache (tests, and Node where nothing persists between runs anyway). Stores private copies. */
export class MemoryDownloadCache implements DownloadCache {
  private readonly entries = new Map<string, CachedFile>();

  async get(key: string): Promise<CachedFile | null> {
    const entry = this.entries.get(key);
    if (entry === undefined) return null;
    return entry.kind === 'file' ? { kind: 'file', bytes: entry.bytes.slice() } : { ...entry };
  }

  async put(key: string, entry: CachedFile): Promise<void> {
    this.entries.set(key, entry.kind === 'file' ? { kind: 'file', bytes: entry.bytes.slice() } : { ...entry });
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async list(): Promise<CacheEntryInfo[]> {
    return [...this.entries].map(([key, entry]) => ({
      key,
      kind: entry.kind,
      bytes: entry.kind === 'file' ? entry.bytes.byteLength : 0,
    }));
  }

  async clear(): Promise<void> {
    this.entries.clear();
  }

  /** Keys currently stored (for tests and diagnostics). */
  keys(): string[] {
    return [...this.entries.keys()];
  }
}

/**
 * Cache Storage cache name used by default; bump the suffix if the entry format ever changes. v2: keys at the
 * resolved commit, verified files, refs, expiring 404 markers.
 */
export const DEFAULT_BROWSER_CACHE_NAME = 'fewshot-checkpoints-v2';
/**
 * Buckets of earlier formats. v1 keyed files by the branch URL and checked only their length; they are deleted
 * rather than migrated, because nothing says which commit they came from.
 */
const LEGACY_BROWSER_CACHE_NAMES = ['fewshot-checkpoints-v1'];

/** Response header recording the verified byte length, checked again on every read. */
const LENGTH_HEADER = 'x-fewshot-length';
/** Response header marking a remembered 404. */
const MISSING_HEADER = 'x-fewshot-missing';
/** Response header of a ref entry: the commit the branch resolved to. */
const REF_HEADER = 'x-fewshot-ref';
/** Response header with the time a marker or ref was stored (ms since the epoch). */
const STORED_AT_HEADER = 'x-fewshot-stored-at';

/**
 * Browser Cache Storage (`caches.open`), available in windows and workers on secure origins. `Cache.put` commits the
 * entry only once its body is fully stored, which gives the all-or-nothing behaviour this module promises.
 */
export class BrowserDownloadCache implements DownloadCache {
  private legacyRemoved: Promise<void> | null = null;

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

  private async open(): Promise<Cache> {
    // The default bucket replaces the legacy ones: drop them once, best effort, so their bytes stop counting.
    if (this.cacheName === DEFAULT_BROWSER_CACHE_NAME) {
      this.legacyRemoved ??= Promise.all(LEGACY_BROWSER_CACHE_NAMES.map((name) => this.storage.delete(name))).then(
        () => undefined,
        () => undefined,
      );
      await this.legacyRemoved;
    }
    return this.storage.open(this.cacheName);
  }

  async get(key: string): Promise<CachedFile | null> {
    const cache = await this.open();
    const response = await cache.match(key);
    if (response === undefined) return null;
    const storedAt = Number(response.headers.get(STORED_AT_HEADER) ?? 0) || 0;
    if (response.headers.get(MISSING_HEADER) === '1') return { kind: 'missing', storedAt };
    const commit = response.headers.get(REF_HEADER);
    if (commit !== null) return { kind: 'ref', commit, storedAt };
    const bytes = new Uint8Array(await response.arrayBuffer());
    // An entry whose length disagrees with what was verified at download time is dropped, never trusted.
    if (String(bytes.byteLength) !== response.headers.get(LENGTH_HEADER)) {
      await cache.delete(key);
      return null;
    }
    return { kind: 'file', bytes };
  }

  async put(key: string, entry: CachedFile): Promise<void> {
    const cache = await this.open();
    let response: Response;
    if (entry.kind === 'file') {
      response = new Response(entry.bytes.slice().buffer, {
        headers: { [LENGTH_HEADER]: String(entry.bytes.byteLength), 'content-type': 'application/octet-stream' },
      });
    } else if (entry.kind === 'missing') {
      response = new Response(null, { headers: { [MISSING_HEADER]: '1', [STORED_AT_HEADER]: String(entry.storedAt) } });
    } else {
      response = new Response(null, {
        headers: { [REF_HEADER]: entry.commit, [STORED_AT_HEADER]: String(entry.storedAt) },
      });
    }
    await cache.put(key, response);
  }

  async delete(key: string): Promise<void> {
    const cache = await this.open();
    await cache.delete(key);
  }

  async list(): Promise<CacheEntryInfo[]> {
    const cache = await this.open();
    const entries: CacheEntryInfo[] = [];
    for (const request of await cache.keys()) {
      const response = await cache.match(request);
      if (response === undefined) continue; // deleted meanwhile
      // Only the headers are needed; the body of a large file is never read. Not awaited: cancelling a tee'd
      // (cloned) body settles only when its twin is cancelled too.
      void response.body?.cancel().catch(() => undefined);
      const kind: CachedFile['kind'] =
        response.headers.get(MISSING_HEADER) === '1'
          ? 'missing'
          : response.headers.get(REF_HEADER) !== null
            ? 'ref'
            : 'file';
      entries.push({
        key: request.url,
        kind,
        bytes: kind === 'file' ? Number(response.headers.get(LENGTH_HEADER) ?? 0) || 0 : 0,
      });
    }
    return entries;
  }

  async clear(): Promise<void> {
    await this.storage.delete(this.cacheName);
  }
}
