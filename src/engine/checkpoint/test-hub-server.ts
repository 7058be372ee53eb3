/**
 * Test-only: a fake Hugging Face Hub on a real loopback HTTP server (node:http on 127.0.0.1), with the headers the
 * real Hub sends. Used by the unit tests of the Hub source and cache, and by the e2e specs.
 *
 * - `HEAD|GET /{repo}/resolve/{rev}/{file}`: `rev` is a branch or a commit. Every answer carries `X-Repo-Commit`.
 *   A regular file answers 200 with `ETag` = its git blob sha1. A Git LFS file (weights) answers 302 to
 *   `/cdn/{sha256}` with `X-Linked-Etag` = `"{sha256}"` and `X-Linked-Size`. A file not in the commit answers 404.
 * - `GET /{repo}/raw/{rev}/{file}`: the file, or its LFS pointer for an LFS file.
 * - CORS headers on everything (the studio's page is another origin), exposing the Hub's headers.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the server misbehaves for one file name (any repo, any commit). */
export type FakeHubFault =
  /** Cut the connection halfway through the first download of the body. */
  | 'drop-first'
  /** Cut every download halfway. */
  | 'drop-always'
  /** Answer 500 to the first request of any kind for the file. */
  | 'error-500-first'
  /** Answer 401 (gated). */
  | 'unauthorized'
  /** Serve the body with one byte changed: right length, wrong content. */
  | 'corrupt'
  /** Answer 404 although the file exists (a mistaken answer that must not be remembered forever). */
  | 'not-found';

const LFS_SUFFIXES = ['.safetensors', '.bin', '.h5', '.msgpack', '.onnx'];
const isLfs = (file: string) => LFS_SUFFIXES.some((suffix) => file.endsWith(suffix));
const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
/** What git names a file by: sha1 of `blob {length}\0{content}` (the Hub's ETag of a regular file). */
const gitBlobSha1 = (bytes: Uint8Array) =>
  createHash('sha1').update(`blob ${bytes.byteLength}\0`).update(bytes).digest('hex');

const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'X-Repo-Commit,X-Linked-Etag,X-Linked-Size,ETag,X-Error-Code',
  'cross-origin-resource-policy': 'cross-origin',
};

export class FakeHub {
  /** Every request seen, in order (path decoded, without the query). */
  readonly requests: { method: string; path: string }[] = [];
  /** Faults by file name. */
  readonly faults = new Map<string, FakeHubFault>();
  /** While true every connection is destroyed at once: clients see a network error, as when offline. */
  down = false;
  private readonly repos = new Map<
    string,
    { commits: Map<string, Map<string, Uint8Array>>; refs: Map<string, string> }
  >();
  private readonly blobs = new Map<string, { file: string; bytes: Uint8Array }>();
  private readonly counts = new Map<string, number>();
  private server: Server | null = null;
  private commitCounter = 0;
  baseUrl = '';

  /** Adds a commit of `repo` with these files, points `branch` at it, and returns its 40-hex hash. */
  commit(repo: string, files: Record<string, Uint8Array | string>, branch = 'main'): string {
    const entry = this.repos.get(repo) ?? { commits: new Map(), refs: new Map() };
    this.repos.set(repo, entry);
    const contents = new Map<string, Uint8Array>();
    for (const [name, value] of Object.entries(files)) {
      const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value;
      contents.set(name, bytes);
      if (isLfs(name)) this.blobs.set(sha256Of(bytes), { file: name, bytes });
    }
    const hash = createHash('sha1').update(`${repo}\n${++this.commitCounter}`).digest('hex');
    entry.commits.set(hash, contents);
    entry.refs.set(branch, hash);
    return hash;
  }

  /** Points `branch` of `repo` at an existing commit. */
  moveBranch(repo: string, branch: string, commit: string): void {
    this.repos.get(repo)!.refs.set(branch, commit);
  }

  /** Requests with this method (all when omitted), as `METHOD path` strings. */
  seen(method?: string): string[] {
    return this.requests.filter((r) => method === undefined || r.method === method).map((r) => `${r.method} ${r.path}`);
  }

  /** Forgets requests, faults and fault counters; the repos stay. */
  reset(): void {
    this.requests.length = 0;
    this.faults.clear();
    this.counts.clear();
    this.down = false;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  /** Counts one event for a fault, returning how many there were (1 for the first). */
  private count(key: string): number {
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    return n;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (this.down) {
      req.socket.destroy();
      return;
    }
    const method = req.method ?? 'GET';
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    this.requests.push({ method, path });
    if (method === 'OPTIONS')
      return void res.writeHead(204, { ...CORS_HEADERS, 'access-control-allow-headers': '*' }).end();

    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(path);
    if (cdn) {
      const blob = this.blobs.get(cdn[1]);
      if (!blob) return void res.writeHead(404, CORS_HEADERS).end();
      return this.sendBody(req, res, blob.file, blob.bytes, {});
    }

    const match = /^\/(.+?)\/(resolve|raw)\/([^/]+)\/(.+)$/.exec(path);
    const repo = match ? this.repos.get(match[1]) : undefined;
    if (!match || !repo) {
      return void res.writeHead(401, { ...CORS_HEADERS, 'x-error-code': 'RepoNotFound' }).end('Repository not found');
    }
    const [, , endpoint, rev, file] = match;
    const commit = repo.refs.get(rev) ?? (repo.commits.has(rev) ? rev : null);
    if (commit === null) {
      return void res.writeHead(404, { ...CORS_HEADERS, 'x-error-code': 'RevisionNotFound' }).end('Revision not found');
    }
    const hubHeaders = { ...CORS_HEADERS, 'x-repo-commit': commit };
    const fault = this.faults.get(file);
    if (fault === 'unauthorized') return void res.writeHead(401, hubHeaders).end('gated');
    if (fault === 'error-500-first' && this.count(`500:${file}`) === 1)
      return void res.writeHead(500, hubHeaders).end();
    const bytes = repo.commits.get(commit)!.get(file);
    if (bytes === undefined || fault === 'not-found') {
      return void res.writeHead(404, { ...hubHeaders, 'x-error-code': 'EntryNotFound' }).end('Entry not found');
    }
    if (isLfs(file)) {
      const sha = sha256Of(bytes);
      if (endpoint === 'raw') {
        const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${sha}\nsize ${bytes.byteLength}\n`;
        return void res.writeHead(200, { ...hubHeaders, 'content-type': 'text/plain' }).end(pointer);
      }
      return void res
        .writeHead(302, {
          ...hubHeaders,
          location: `/cdn/${sha}`,
          etag: `"${sha}"`,
          'x-linked-etag': `"${sha}"`,
          'x-linked-size': String(bytes.byteLength),
          'content-length': '0',
        })
        .end();
    }
    return this.sendBody(req, res, file, bytes, { ...hubHeaders, etag: `"${gitBlobSha1(bytes)}"` });
  }

  private sendBody(
    req: IncomingMessage,
    res: ServerResponse,
    file: string,
    bytes: Uint8Array,
    headers: Record<string, string>,
  ): void {
    res.writeHead(200, {
      ...CORS_HEADERS,
      ...headers,
      'content-length': String(bytes.byteLength),
      'content-type': 'application/octet-stream',
    });
    if (req.method === 'HEAD') return void res.end();
    const fault = this.faults.get(file);
    const n = this.count(`get:${file}`);
    if (fault === 'drop-always' || (fault === 'drop-first' && n === 1)) {
      // Half the body, then kill the connection: the client sees a broken stream.
      res.write(bytes.subarray(0, bytes.byteLength >> 1), () => res.socket?.destroy());
      return;
    }
    let body = bytes;
    if (fault === 'corrupt') {
      body = bytes.slice();
      body[body.byteLength >> 1] ^= 0xff;
    }
    // 64 KB pieces so that the client reads several chunks.
    for (let offset = 0; offset < body.byteLength; offset += 65536) res.write(body.subarray(offset, offset + 65536));
    res.end();
  }
}
