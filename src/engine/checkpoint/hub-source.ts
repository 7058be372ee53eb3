/**
 * Hugging Face Hub style HTTP source: `{baseUrl}/{repo}/resolve/{revision}/{file}`.
 *
 * Pinning: the first read asks the Hub (a HEAD) which commit the revision points at (`X-Repo-Commit`), and every
 * file of the model is then fetched and cached at that commit, so a model's files never mix two commits even if
 * the branch moves during the load. A branch is re-checked on every load while online; offline, the commit
 * remembered from the last check is used and a warning says so. A server that names no commit (a plain mirror)
 * cannot be pinned: its files are cached under the revision as given.
 *
 * Verification: each file's HEAD also gives, for Git LFS files, its sha256 (`X-Linked-Etag`, on the Hub's redirect
 * to its CDN) and size (`X-Linked-Size`). Downloads are length-checked against Content-Length and, where a sha256 is
 * known, hashed (WebCrypto); a mismatch is an error and nothing is cached. The ETag of a non-LFS file is a git blob
 * sha1, not a content hash, so those files are checked by length only.
 *
 * Downloads stream with progress and retry with exponential backoff on network errors, truncated bodies, 429 and
 * 5xx. A remembered 404 expires after `missingTtlMs` (while online).
 */
import type { CachedFile, DownloadCache } from './cache';
import type { CheckpointSource, ProgressListener } from './source';
import { EngineError } from '../errors';

export interface HubSourceOptions {
  /** Repository id, e.g. `google-bert/bert-base-uncased` (the slash is kept as a path separator). */
  repo: string;
  /** Branch, tag or commit. Default `main`; a 40-hex commit is used as is, without asking the Hub. */
  revision?: string;
  /** Hub base URL. Default `https://huggingface.co`; tests and mirrors point it elsewhere. */
  baseUrl?: string;
  /** Bearer token for gated or private repos. Default none. */
  accessToken?: string;
  /** Download cache. Default none (every read downloads). */
  cache?: DownloadCache;
  /** Retries after the first attempt for transient failures. Default 3. */
  retries?: number;
  /** First backoff delay in ms, doubled on each retry. Default 500 ms (so 0.5 s, 1 s, 2 s). */
  backoffMs?: number;
  /** How long a remembered 404 is trusted while online, in ms. Default 24 hours. */
  missingTtlMs?: number;
  /** Injected fetch. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Injected sleep, for tests. Default a setTimeout promise. */
  sleep?: (ms: number) => Promise<void>;
  /** Aborts any download in progress. Default none. */
  signal?: AbortSignal;
}

/** Default Hub address; configurable because mirrors and tests serve the same layout elsewhere. */
export const DEFAULT_HUB_BASE_URL = 'https://huggingface.co';

/** A remembered 404 is re-checked (when online) after this long: a day. */
export const DEFAULT_MISSING_TTL_MS = 24 * 60 * 60 * 1000;

/** A failure worth retrying (the next attempt may well succeed). */
class TransientDownloadError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface HubSource extends CheckpointSource {
  /** URL of a file in this repository at the resolved commit (at the revision before the first read). */
  urlOf(file: string): string;
  /** The commit the files come from, once the first read resolved it; null before, or when the server named none. */
  resolvedCommit(): string | null;
  /** Non-fatal findings of this load (e.g. offline, used the cached commit). */
  readonly warnings: string[];
}

/** What a HEAD said about one file. */
interface FileMeta {
  found: boolean;
  /** `X-Repo-Commit`, when the server sent it. */
  commit: string | null;
  /** Lower-case hex sha256 of the content, for LFS files. */
  sha256: string | null;
  /** Size in bytes from `X-Linked-Size`, for LFS files. */
  size: number | null;
}

const encodePath = (path: string) => path.split('/').map(encodeURIComponent).join('/');
const trimBase = (baseUrl: string | undefined) => (baseUrl ?? DEFAULT_HUB_BASE_URL).replace(/\/+$/, '');
const trimRepo = (repo: string) => repo.replace(/^\/+|\/+$/g, '');

/** `{baseUrl}/{repo}/resolve/{revision}/{file}` with each path segment encoded (also the cache key). */
export function hubFileUrl(repo: string, file: string, options: { baseUrl?: string; revision?: string } = {}): string {
  return `${hubRefKey(repo, options.revision ?? 'main', options.baseUrl)}/${encodePath(file)}`;
}

/** Cache key of a ref entry (the commit a branch resolved to): the branch's resolve URL without a file. */
export function hubRefKey(repo: string, revision: string, baseUrl?: string): string {
  return `${trimBase(baseUrl)}/${encodePath(trimRepo(repo))}/resolve/${encodeURIComponent(revision)}`;
}

/** True for a full git commit hash, which names immutable content (a branch or tag can move). */
export function isCommitHash(revision: string): boolean {
  return /^[0-9a-f]{40}$/.test(revision);
}

/**
 * The sha256 in an `X-Linked-Etag` (`"<64 hex>"`, possibly weak `W/` or `sha256:`-prefixed on mirrors), or null
 * when the value is anything else (e.g. a 40-hex git sha1, which is not a content hash).
 */
export function linkedSha256(etag: string | null): string | null {
  if (etag === null) return null;
  const match = /^(?:W\/)?"?(?:sha256:)?([0-9a-fA-F]{64})"?$/.exec(etag.trim());
  return match ? match[1].toLowerCase() : null;
}

/** The `oid sha256:` and size of a Git LFS pointer file, or null when `text` is not one. */
export function parseLfsPointer(text: string): { sha256: string; size: number } | null {
  if (!text.startsWith('version https://git-lfs.github.com/spec/')) return null;
  const oid = /^oid sha256:([0-9a-f]{64})$/m.exec(text);
  const size = /^size (\d+)$/m.exec(text);
  return oid && size ? { sha256: oid[1], size: Number(size[1]) } : null;
}

/** Lower-case hex SHA-256 of `bytes` (WebCrypto: browsers, workers, Node 20). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // digest() copies its input, so a large file briefly takes twice its size; there is no incremental WebCrypto hash.
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The Hub did not answer (network down, or only server errors): a cached answer may stand in. */
const isUnreachable = (error: EngineError) => error.code === 'HUB_NETWORK_ERROR' || error.code === 'HUB_SERVER_ERROR';

const shortCommit = (commit: string) => (isCommitHash(commit) ? commit.slice(0, 12) : commit);

export function createHubSource(options: HubSourceOptions): HubSource {
  const revision = options.revision ?? 'main';
  const baseUrl = trimBase(options.baseUrl);
  const retries = options.retries ?? 3;
  const backoffMs = options.backoffMs ?? 500;
  const missingTtlMs = options.missingTtlMs ?? DEFAULT_MISSING_TTL_MS;
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const cache = options.cache;
  const repo = trimRepo(options.repo);
  const authHeaders: Record<string, string> | undefined = options.accessToken
    ? { authorization: `Bearer ${options.accessToken}` }
    : undefined;
  const warnings: string[] = [];

  /** The commit every file is read at; set by the first read (a commit revision is pinned from the start). */
  let commit: string | null = isCommitHash(revision) ? revision : null;
  let pinning: Promise<string> | null = null;
  /** Set when the Hub could not be reached and the cached commit is used: remembered 404s are then trusted. */
  let offline = false;
  /** HEAD answers obtained while resolving the commit, reused by the read of the same file. */
  const knownMeta = new Map<string, FileMeta>();

  const urlAt = (file: string, rev: string) => hubFileUrl(repo, file, { baseUrl, revision: rev });
  const urlOf = (file: string) => urlAt(file, commit ?? revision);
  // A cache that fails (quota, private browsing) must not fail the load: reads become misses, writes no-ops.
  const cacheGet = (key: string): Promise<CachedFile | null> =>
    cache ? cache.get(key).catch(() => null) : Promise.resolve(null);
  const cachePut = async (key: string, entry: CachedFile) => void (await cache?.put(key, entry).catch(() => undefined));

  /** Fetch that turns a thrown request (offline, DNS, reset) into a retryable failure. */
  const request = async (url: string, init: RequestInit): Promise<Response> => {
    try {
      return await fetchImpl(url, { ...init, headers: authHeaders, signal: options.signal });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new TransientDownloadError('HUB_NETWORK_ERROR', `request failed (${(error as Error).message})`);
    }
  };

  /** Statuses shared by HEAD and GET: 401/403 are final, 429/5xx worth retrying. */
  const checkStatus = async (response: Response, file: string, url: string) => {
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new EngineError(
        'HUB_UNAUTHORIZED',
        `${file}: the server answered ${response.status} for ${url}. The repository "${repo}" is private, gated or does not exist: check its name, accept its license on the Hub, or provide an access token.`,
      );
    }
    if (response.status === 429 || response.status >= 500) {
      await response.body?.cancel();
      throw new TransientDownloadError('HUB_SERVER_ERROR', `server answered ${response.status}`);
    }
  };

  /** Runs `attempt` with retries and backoff on transient failures; the last failure becomes an EngineError. */
  const withRetries = async <T>(file: string, url: string, attempt: () => Promise<T>, tries = retries + 1) => {
    let lastError: TransientDownloadError | null = null;
    for (let attemptIndex = 0; attemptIndex < tries; attemptIndex++) {
      if (attemptIndex > 0) await sleep(backoffMs * 2 ** (attemptIndex - 1));
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof TransientDownloadError)) throw error;
        lastError = error;
      }
    }
    throw new EngineError(
      lastError!.code,
      `${file}: download from ${url} failed after ${tries} attempt${tries === 1 ? '' : 's'}: ${lastError!.message}. Check your connection and the Hub base URL, then try again.`,
    );
  };

  /**
   * Browsers hide the headers of a redirect (`redirect: 'manual'` gives an opaque response), so for an LFS file
   * the sha256 comes from its pointer file instead: `/raw/` serves the pointer, not the content.
   */
  const pointerMeta = async (file: string, rev: string): Promise<FileMeta> => {
    const url = `${baseUrl}/${encodePath(repo)}/raw/${encodeURIComponent(rev)}/${encodePath(file)}`;
    const response = await request(url, { method: 'GET', redirect: 'follow' });
    await checkStatus(response, file, url);
    const repoCommit = response.headers.get('x-repo-commit');
    if (response.status === 404) {
      await response.body?.cancel();
      return { found: false, commit: repoCommit, sha256: null, size: null };
    }
    // A pointer is ~130 bytes; read at most 1 KiB so that a non-LFS file is never downloaded twice.
    let text = '';
    const reader = response.body?.getReader();
    if (reader) {
      const decoder = new TextDecoder();
      while (text.length < 1024) {
        const chunk = await reader.read().catch(() => ({ done: true, value: undefined }));
        if (chunk.done) break;
        text += decoder.decode(chunk.value, { stream: true });
      }
      await reader.cancel().catch(() => undefined);
    }
    const pointer = response.ok ? parseLfsPointer(text) : null;
    return { found: true, commit: repoCommit, sha256: pointer?.sha256 ?? null, size: pointer?.size ?? null };
  };

  /** One HEAD of `file` at `rev`, following same-origin redirects (renamed repos) but not the one to the CDN. */
  const headOnce = async (file: string, rev: string): Promise<FileMeta> => {
    let url = urlAt(file, rev);
    let repoCommit: string | null = null;
    for (let hop = 0; hop < 5; hop++) {
      const response = await request(url, { method: 'HEAD', redirect: 'manual' });
      if (response.type === 'opaqueredirect') return pointerMeta(file, rev);
      await checkStatus(response, file, url);
      repoCommit ??= response.headers.get('x-repo-commit');
      if (response.status === 404) return { found: false, commit: repoCommit, sha256: null, size: null };
      const sha256 = linkedSha256(response.headers.get('x-linked-etag'));
      const linkedSize = response.headers.get('x-linked-size');
      const size = linkedSize !== null && /^\d+$/.test(linkedSize) ? Number(linkedSize) : null;
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && sha256 === null && location !== null) {
        const next = new URL(location, url);
        if (next.origin === new URL(url).origin) {
          url = next.href;
          continue;
        }
      }
      if (response.status >= 400)
        throw new EngineError('HUB_HTTP_ERROR', `${file}: unexpected HTTP ${response.status} from ${url}.`);
      return { found: true, commit: repoCommit, sha256, size };
    }
    throw new EngineError('HUB_HTTP_ERROR', `${file}: too many redirects from ${urlAt(file, rev)}.`);
  };

  /**
   * Learns the commit `revision` points at now (one HEAD of the first file read), and remembers it in the cache.
   * Unreachable Hub: the cached commit, with a warning; none cached: the network error.
   */
  const resolveCommit = async (file: string): Promise<string> => {
    const refKey = hubRefKey(repo, revision, baseUrl);
    const cached = await cacheGet(refKey);
    const cachedRef = cached?.kind === 'ref' ? cached : null;
    let meta: FileMeta;
    try {
      // With a commit to fall back on, one failed attempt is enough to call the Hub unreachable.
      meta = await withRetries(
        file,
        urlAt(file, revision),
        () => headOnce(file, revision),
        cachedRef ? 1 : retries + 1,
      );
    } catch (error) {
      if (cachedRef === null || !(error instanceof EngineError) || !isUnreachable(error)) throw error;
      offline = true;
      warnings.push(
        `Offline: could not reach ${baseUrl} to check which commit ${repo}@${revision} is (${error.code}); ` +
          `loaded the cached commit ${shortCommit(cachedRef.commit)}, last checked ${new Date(cachedRef.storedAt).toISOString()}.`,
      );
      return cachedRef.commit;
    }
    // A server that names no commit cannot be pinned: the revision itself becomes the cache key.
    const resolved = meta.commit ?? revision;
    knownMeta.set(file, meta);
    if (meta.found || meta.commit !== null)
      await cachePut(refKey, { kind: 'ref', commit: resolved, storedAt: Date.now() });
    return resolved;
  };

  const pinnedCommit = async (file: string): Promise<string> => {
    if (commit !== null) return commit;
    pinning ??= resolveCommit(file).then(
      (resolved) => (commit = resolved),
      (error) => {
        pinning = null; // a later read may try again
        throw error;
      },
    );
    return pinning;
  };

  /** One GET attempt: the length-checked bytes, or null for 404. Throws TransientDownloadError when a retry may help. */
  const download = async (file: string, url: string, onProgress?: ProgressListener): Promise<Uint8Array | null> => {
    const response = await request(url, { redirect: 'follow' });
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    await checkStatus(response, file, url);
    if (!response.ok || response.body === null) {
      await response.body?.cancel();
      throw new EngineError('HUB_HTTP_ERROR', `${file}: unexpected HTTP ${response.status} from ${url}.`);
    }

    // With a Content-Encoding, Content-Length counts compressed bytes, so it can be neither a total nor a check.
    const encoding = response.headers.get('content-encoding');
    const lengthHeader = response.headers.get('content-length');
    const expected =
      (encoding === null || encoding === 'identity') && lengthHeader !== null && /^\d+$/.test(lengthHeader)
        ? Number(lengthHeader)
        : null;

    // Known length: write straight into one buffer (no 2× peak memory). Unknown: collect chunks.
    const target = expected !== null ? new Uint8Array(expected) : null;
    const chunks: Uint8Array[] = [];
    let loaded = 0;
    const reader = response.body.getReader();
    try {
      while (true) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (error) {
          if (options.signal?.aborted) throw error;
          throw new TransientDownloadError(
            'DOWNLOAD_INTERRUPTED',
            `connection lost after ${loaded} bytes (${(error as Error).message})`,
          );
        }
        if (chunk.done) break;
        const value = chunk.value;
        if (target !== null) {
          if (loaded + value.byteLength > target.byteLength) {
            throw new TransientDownloadError(
              'DOWNLOAD_TOO_LONG',
              `body is longer than its Content-Length (${expected} bytes)`,
            );
          }
          target.set(value, loaded);
        } else {
          chunks.push(value);
        }
        loaded += value.byteLength;
        onProgress?.({ file, loaded, total: expected });
      }
    } finally {
      reader.releaseLock();
    }
    if (expected !== null && loaded !== expected) {
      throw new TransientDownloadError(
        'DOWNLOAD_TRUNCATED',
        `received ${loaded} of ${expected} bytes (Content-Length)`,
      );
    }
    if (target !== null) {
      if (loaded === 0) onProgress?.({ file, loaded: 0, total: 0 });
      return target;
    }
    const bytes = new Uint8Array(loaded);
    let offset = 0;
    for (const piece of chunks) {
      bytes.set(piece, offset);
      offset += piece.byteLength;
    }
    // Without a Content-Length the total becomes known only now; report it so progress ends at total.
    onProgress?.({ file, loaded, total: loaded });
    return bytes;
  };

  /** Throws DOWNLOAD_CORRUPT when `bytes` disagree with the size or sha256 the Hub published for the file. */
  const verify = async (file: string, url: string, bytes: Uint8Array, meta: FileMeta) => {
    const corrupt = (what: string) =>
      new EngineError(
        'DOWNLOAD_CORRUPT',
        `${file}: ${what} (${url}). The download was corrupted; it was not cached; try again.`,
      );
    if (meta.size !== null && bytes.byteLength !== meta.size)
      throw corrupt(`expected ${meta.size} bytes (X-Linked-Size), got ${bytes.byteLength}`);
    if (meta.sha256 === null) return;
    const actual = await sha256Hex(bytes);
    if (actual !== meta.sha256) throw corrupt(`expected sha256 ${meta.sha256}, got ${actual}`);
  };

  return {
    description: `${repo}@${revision} on ${baseUrl}`,
    warnings,
    urlOf,
    locate: urlOf,
    resolvedCommit: () => commit,
    async list() {
      return null; // the resolve endpoint cannot list files; loadCheckpointFiles probes instead
    },
    async read(file: string, onProgress?: ProgressListener): Promise<Uint8Array | null> {
      const at = await pinnedCommit(file);
      const url = urlAt(file, at);
      const cached = await cacheGet(url);
      if (cached?.kind === 'file') {
        onProgress?.({ file, loaded: cached.bytes.byteLength, total: cached.bytes.byteLength });
        return cached.bytes;
      }
      const stale = cached?.kind === 'missing' ? cached : null;
      if (stale && (offline || Date.now() - stale.storedAt < missingTtlMs)) return null;

      let meta = knownMeta.get(file);
      knownMeta.delete(file);
      try {
        meta ??= await withRetries(file, url, () => headOnce(file, at), stale ? 1 : retries + 1);
      } catch (error) {
        // An expired 404 that cannot be re-checked (offline) is still the best answer there is.
        if (stale === null || !(error instanceof EngineError) || !isUnreachable(error)) throw error;
        offline = true;
        return null;
      }
      if (!meta.found) {
        await cachePut(url, { kind: 'missing', storedAt: Date.now() });
        return null;
      }
      const bytes = await withRetries(file, url, () => download(file, url, onProgress));
      if (bytes === null) {
        await cachePut(url, { kind: 'missing', storedAt: Date.now() });
        return null;
      }
      await verify(file, url, bytes, meta);
      // Only complete, verified results reach the cache. A failed put (e.g. quota exceeded) costs only a
      // re-download next time, so it is swallowed rather than failing a load that has its bytes.
      await cachePut(url, { kind: 'file', bytes });
      return bytes;
    },
  };
}
