import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryDownloadCache } from './cache';
import { createHubSource } from './hub-source';
import { loadCheckpointFiles } from './load';
import { writeSafetensors } from './safetensors';
import type { ReadProgress } from './source';
import { expectCodeAsync, sameBytes } from './test-fixtures';

const REPO = 'tiny-org/tiny-bert';
const REVISION = 'main';

/** How the server misbehaves for a file. */
type Mode = 'ok' | 'drop-first' | 'drop-always' | 'error-500-first' | 'unauthorized';

// A 1 MB model so the body arrives in many chunks and progress has something to report.
const bigWeights = new Float32Array(256 * 1024).map((_, i) => Math.sin(i));
const modelBytes = writeSafetensors([{ name: 'w', shape: [512, 512], data: bigWeights }], {
  dtype: 'F32',
  metadata: { format: 'pt' },
});
const files = new Map<string, Uint8Array>([
  ['config.json', new TextEncoder().encode(JSON.stringify({ model_type: 'bert', hidden_size: 512 }))],
  ['vocab.txt', new TextEncoder().encode('[PAD]\n[UNK]\n')],
  ['model.safetensors', modelBytes],
]);
const modes = new Map<string, Mode>();
/** Every request path the server saw, in order. */
let requests: string[] = [];
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = decodeURIComponent(req.url ?? '');
    requests.push(path);
    const prefix = `/${REPO}/resolve/${REVISION}/`;
    const file = path.startsWith(prefix) ? path.slice(prefix.length) : null;
    const body = file === null ? undefined : files.get(file);
    if (file === null || body === undefined) {
      res.writeHead(404).end('Entry not found');
      return;
    }
    const mode = modes.get(file) ?? 'ok';
    const seen = requests.filter((r) => r === path).length;
    if (mode === 'unauthorized') {
      res.writeHead(401).end('gated');
      return;
    }
    if (mode === 'error-500-first' && seen === 1) {
      res.writeHead(500).end('oops');
      return;
    }
    res.writeHead(200, { 'content-length': String(body.byteLength), 'content-type': 'application/octet-stream' });
    if (mode === 'drop-always' || (mode === 'drop-first' && seen === 1)) {
      // Half the body, then kill the connection: the client sees a broken stream.
      res.write(body.subarray(0, body.byteLength >> 1), () => res.socket?.destroy());
      return;
    }
    // Send in 64 KB pieces so the client reads several chunks.
    for (let offset = 0; offset < body.byteLength; offset += 65536) res.write(body.subarray(offset, offset + 65536));
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  requests = [];
  modes.clear();
});

const source = (cache?: MemoryDownloadCache) =>
  createHubSource({ repo: REPO, revision: REVISION, baseUrl, cache, backoffMs: 1 });

describe('Hub source against a loopback server', () => {
  it('downloads a checkpoint with progress events that end at the total', async () => {
    const events: ReadProgress[] = [];
    const loaded = await loadCheckpointFiles(source(), { onProgress: (p) => events.push({ ...p }) });
    expect(loaded.configJson).toEqual({ model_type: 'bert', hidden_size: 512 });
    expect(loaded.vocabTxt).toBe('[PAD]\n[UNK]\n');
    expect(loaded.weightFormat).toBe('safetensors');
    expect(sameBytes(loaded.tensors.get('w')!.data, bigWeights)).toBe(true);

    const modelEvents = events.filter((e) => e.file === 'model.safetensors');
    expect(modelEvents.length).toBeGreaterThan(2);
    expect(modelEvents.every((e) => e.total === modelBytes.byteLength)).toBe(true);
    expect(modelEvents.every((e, i) => i === 0 || e.loaded > modelEvents[i - 1].loaded)).toBe(true);
    expect(modelEvents.at(-1)!.loaded).toBe(modelBytes.byteLength);
    // Probed optional files that do not exist were requested once each and did not fail the load.
    expect(requests).toContain(`/${REPO}/resolve/${REVISION}/tokenizer.json`);
  });

  it('serves a second load entirely from the cache, including remembered 404s', async () => {
    const cache = new MemoryDownloadCache();
    await loadCheckpointFiles(source(cache));
    expect(requests.length).toBeGreaterThan(3);
    requests = [];
    const events: ReadProgress[] = [];
    const again = await loadCheckpointFiles(source(cache), { onProgress: (p) => events.push(p) });
    expect(requests).toEqual([]);
    expect(sameBytes(again.tensors.get('w')!.data, bigWeights)).toBe(true);
    expect(events.find((e) => e.file === 'model.safetensors')).toEqual({
      file: 'model.safetensors',
      loaded: modelBytes.byteLength,
      total: modelBytes.byteLength,
    });
  });

  it('names the file and URL when config.json is missing (404)', async () => {
    const other = createHubSource({ repo: 'tiny-org/nothing-here', baseUrl, backoffMs: 1 });
    await expectCodeAsync(
      loadCheckpointFiles(other),
      'CHECKPOINT_FILE_NOT_FOUND',
      'config.json',
      `${baseUrl}/tiny-org/nothing-here/resolve/main/config.json`,
    );
    expect(requests).toEqual(['/tiny-org/nothing-here/resolve/main/config.json']); // a 404 is not retried
  });

  it('says gated/private/token on 401 without retrying', async () => {
    modes.set('config.json', 'unauthorized');
    await expectCodeAsync(source().read('config.json'), 'HUB_UNAUTHORIZED', '401', 'token', 'config.json');
    expect(requests.length).toBe(1);
  });

  it('retries a 5xx answer', async () => {
    modes.set('config.json', 'error-500-first');
    const bytes = await source().read('config.json');
    expect(new TextDecoder().decode(bytes!)).toContain('bert');
    expect(requests.length).toBe(2);
  });

  it('retries a connection dropped mid-body and caches only the complete file', async () => {
    modes.set('model.safetensors', 'drop-first');
    const cache = new MemoryDownloadCache();
    const bytes = await source(cache).read('model.safetensors');
    expect(sameBytes(bytes!, modelBytes)).toBe(true);
    expect(requests.length).toBe(2);
    const cached = await cache.get(source().urlOf('model.safetensors'));
    expect(cached?.kind === 'file' && sameBytes(cached.bytes, modelBytes)).toBe(true);
  });

  it('gives up after the retries when every attempt is cut off, leaving no cache entry', async () => {
    modes.set('model.safetensors', 'drop-always');
    const cache = new MemoryDownloadCache();
    const error = await expectCodeAsync(
      source(cache).read('model.safetensors'),
      'DOWNLOAD_INTERRUPTED',
      'model.safetensors',
      '4 attempts',
    );
    expect(error.message).toContain(`${baseUrl}/${REPO}/resolve/main/model.safetensors`);
    expect(requests.length).toBe(4); // first attempt + default 3 retries
    expect(cache.keys()).toEqual([]);
  });
});

describe('Hub source length checks (injected fetch)', () => {
  /** A fetch whose response claims `claimed` bytes but delivers `body`. */
  const lyingFetch = (body: Uint8Array, claimed: number, calls: { count: number }): typeof fetch =>
    (async () => {
      calls.count++;
      return new Response(new Blob([body.slice().buffer]).stream(), {
        status: 200,
        headers: { 'content-length': String(claimed) },
      });
    }) as typeof fetch;

  it('rejects a body shorter than its Content-Length, retries, and caches nothing', async () => {
    const calls = { count: 0 };
    const cache = new MemoryDownloadCache();
    const hub = createHubSource({
      repo: REPO,
      baseUrl: 'http://unused.invalid',
      cache,
      retries: 2,
      sleep: async () => {},
      fetch: lyingFetch(new Uint8Array(10), 20, calls),
    });
    await expectCodeAsync(hub.read('model.safetensors'), 'DOWNLOAD_TRUNCATED', 'received 10 of 20 bytes');
    expect(calls.count).toBe(3);
    expect(cache.keys()).toEqual([]);
  });

  it('rejects a body longer than its Content-Length', async () => {
    const calls = { count: 0 };
    const hub = createHubSource({
      repo: REPO,
      baseUrl: 'http://unused.invalid',
      retries: 0,
      fetch: lyingFetch(new Uint8Array(30), 20, calls),
    });
    await expectCodeAsync(hub.read('x'), 'DOWNLOAD_TOO_LONG');
  });

  it('backs off exponentially between retries and encodes the revision and file path', async () => {
    const delays: number[] = [];
    const urls: string[] = [];
    const hub = createHubSource({
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
    await expectCodeAsync(hub.read('onnx/model file.json'), 'HUB_NETWORK_ERROR', 'network down');
    expect(delays).toEqual([100, 200, 400]);
    expect(urls[0]).toBe('https://mirror.example/a/b/resolve/refs%2Fpr%2F1/onnx/model%20file.json');
  });

  it('sends the access token and defaults to huggingface.co', async () => {
    let seen: RequestInit | undefined;
    const hub = createHubSource({
      repo: 'a/b',
      accessToken: 'hf_secret',
      fetch: (async (_url: string, init?: RequestInit) => {
        seen = init;
        return new Response('{}', { status: 200 });
      }) as unknown as typeof fetch,
    });
    expect(hub.urlOf('config.json')).toBe('https://huggingface.co/a/b/resolve/main/config.json');
    await hub.read('config.json');
    expect((seen?.headers as Record<string, string>).authorization).toBe('Bearer hf_secret');
  });
});
