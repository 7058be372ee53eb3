/**
 * A checkpoint folder served as plain static files: `{baseUrl}/{file}`. Used for the embedded
 * default model that ships with the studio (same origin, no network beyond it).
 */
import type { CheckpointSource, ProgressListener } from './source';
import { EngineError } from '../errors';

export function createUrlFolderSource(
  baseUrl: string,
  fetchImpl: typeof fetch = globalThis.fetch.bind(globalThis),
): CheckpointSource {
  const base = baseUrl.replace(/\/+$/, '');
  const locate = (name: string) => `${base}/${name.split('/').map(encodeURIComponent).join('/')}`;
  return {
    description: `the model folder at ${base}`,
    list: async () => null,
    locate,
    async read(name: string, onProgress?: ProgressListener): Promise<Uint8Array | null> {
      const url = locate(name);
      let response: Response;
      try {
        response = await fetchImpl(url);
      } catch (error) {
        throw new EngineError('DOWNLOAD_FAILED', `Could not fetch ${url}: ${(error as Error).message}`);
      }
      if (response.status === 404) return null;
      if (!response.ok)
        throw new EngineError('DOWNLOAD_FAILED', `Fetching ${url} failed with HTTP ${response.status}.`);
      // Static servers answer unknown paths of a single-page app with index.html: not a model file.
      if (!name.endsWith('.html') && (response.headers.get('content-type') ?? '').includes('text/html')) return null;
      const bytes = new Uint8Array(await response.arrayBuffer());
      onProgress?.({ file: name, loaded: bytes.length, total: bytes.length });
      return bytes;
    },
  };
}
