/**
 * Hugging Face Hub style HTTP source: `{baseUrl}/{repo}/resolve/{revision}/{file}`.
 *
 * Downloads stream with progress, retry with exponential backoff on network errors, truncated bodies, 429 and 5xx,
 * and are length-checked against Content-Length. With a cache, a verified file (or a remembered 404) is stored once
 * complete, and later reads of the same URL are served without any request.
 */
import type { DownloadCache } from './cache';
import type { CheckpointSource, ProgressListener } from './source';
import { EngineError } from '../errors';

export interface HubSourceOptions {
  /** Repository id, e.g. `google-bert/bert-base-uncased` (the slash is kept as a path separator). */
  repo: string;
  /** Branch, tag or commit. Default `main`; a commit hash makes cached files exact. */
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
  /** Injected fetch. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Injected sleep, for tests. Default a setTimeout promise. */
  sleep?: (ms: number) => Promise<void>;
  /** Aborts any download in progress. Default none. */
  signal?: AbortSignal;
}

/** Default Hub address; configurable because mirrors and tests serve the same layout elsewhere. */
export const DEFAULT_HUB_BASE_URL = 'https://huggingface.co';

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
  /** URL of a file in this repository at this revision. */
  urlOf(file: string): string;
}

/** `{baseUrl}/{repo}/resolve/{revision}/{file}` with each path segment encoded (also the cache key). */
export function hubFileUrl(repo: string, file: string, options: { baseUrl?: string; revision?: string } = {}): string {
  const baseUrl = (options.baseUrl ?? DEFAULT_HUB_BASE_URL).replace(/\/+$/, '');
  const cleanRepo = repo.replace(/^\/+|\/+$/g, '');
  const encode = (path: string) => path.split('/').map(encodeURIComponent).join('/');
  return `${baseUrl}/${encode(cleanRepo)}/resolve/${encodeURIComponent(options.revision ?? 'main')}/${encode(file)}`;
}

export function createHubSource(options: HubSourceOptions): HubSource {
  const revision = options.revision ?? 'main';
  const baseUrl = (options.baseUrl ?? DEFAULT_HUB_BASE_URL).replace(/\/+$/, '');
  const retries = options.retries ?? 3;
  const backoffMs = options.backoffMs ?? 500;
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const cache = options.cache;
  const repo = options.repo.replace(/^\/+|\/+$/g, '');

  const urlOf = (file: string) => hubFileUrl(repo, file, { baseUrl, revision });

  /** One attempt: the verified bytes, or null for 404. Throws TransientDownloadError when a retry may help. */
  const attempt = async (file: string, url: string, onProgress?: ProgressListener): Promise<Uint8Array | null> => {
    let response: Response;
    try {
      response = await fetchImpl(url, {
        headers: options.accessToken ? { authorization: `Bearer ${options.accessToken}` } : undefined,
        signal: options.signal,
        redirect: 'follow',
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new TransientDownloadError('HUB_NETWORK_ERROR', `request failed (${(error as Error).message})`);
    }
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
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

  return {
    description: `${repo}@${revision} on ${baseUrl}`,
    urlOf,
    locate: urlOf,
    async list() {
      return null; // the resolve endpoint cannot list files; loadCheckpointFiles probes instead
    },
    async read(file: string, onProgress?: ProgressListener): Promise<Uint8Array | null> {
      const url = urlOf(file);
      // A cache that fails (quota, private browsing) must not fail the load: treat it as a miss.
      const cached = cache ? await cache.get(url).catch(() => null) : null;
      if (cached !== null) {
        if (cached.kind === 'missing') return null;
        onProgress?.({ file, loaded: cached.bytes.byteLength, total: cached.bytes.byteLength });
        return cached.bytes;
      }
      let lastError: TransientDownloadError | null = null;
      for (let attemptIndex = 0; attemptIndex <= retries; attemptIndex++) {
        if (attemptIndex > 0) await sleep(backoffMs * 2 ** (attemptIndex - 1));
        try {
          const bytes = await attempt(file, url, onProgress);
          // Only complete, verified results reach the cache. A failed put (e.g. quota exceeded) costs only a
          // re-download next time, so it is swallowed rather than failing a load that has its bytes.
          await cache?.put(url, bytes === null ? { kind: 'missing' } : { kind: 'file', bytes }).catch(() => undefined);
          return bytes;
        } catch (error) {
          if (!(error instanceof TransientDownloadError)) throw error;
          lastError = error;
        }
      }
      throw new EngineError(
        lastError!.code,
        `${file}: download from ${url} failed after ${retries + 1} attempts: ${lastError!.message}. Check your connection and the Hub base URL, then try again.`,
      );
    },
  };
}
