/**
 * Downloading a model from a server with the Hugging Face URL layout, in the real browser: progress
 * events arrive, and the second load is served by Cache Storage with zero requests.
 */
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { expect, test } from '@playwright/test';

let server: Server;
let baseUrl = '';
const requests: string[] = [];

test.beforeAll(async () => {
  server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    // Cross-origin like the real Hub: CORS headers, and CORP so a cross-origin-isolated page may read it.
    const headers = { 'access-control-allow-origin': '*', 'cross-origin-resource-policy': 'cross-origin' };
    const match = /^\/acme\/golden-micro\/resolve\/main\/(.+)$/.exec(path);
    if (!match) return void res.writeHead(404, headers).end();
    try {
      const body = await readFile(`tests/fixtures/golden-micro/model/${match[1]}`);
      res
        .writeHead(200, { ...headers, 'content-type': 'application/octet-stream', 'content-length': body.length })
        .end(body);
    } catch {
      res.writeHead(404, headers).end('Entry not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

test('a Hub download reports progress and the second load makes no request', async ({ page }) => {
  await page.goto('/e2e/harness/index.html');
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
  const cacheName = `test-${Date.now()}`;
  const load = () =>
    page.evaluate(({ baseUrl, cacheName }) => window.__harness!.hubLoad(baseUrl, 'acme/golden-micro', cacheName), {
      baseUrl,
      cacheName,
    });
  requests.length = 0;
  const first = await load();
  const firstRequests = [...requests];
  expect(first.weightFormat).toBe('safetensors');
  expect(first.tensors).toBeGreaterThan(30);
  expect(firstRequests).toContain('/acme/golden-micro/resolve/main/model.safetensors');
  const weights = first.progress.filter((p) => p.file === 'model.safetensors');
  expect(weights.length).toBeGreaterThan(0);
  expect(weights.at(-1)!.loaded).toBe(weights.at(-1)!.total);

  requests.length = 0;
  const second = await load();
  expect(second).toMatchObject({ tensors: first.tensors, weightFormat: 'safetensors', vocabLines: first.vocabLines });
  // Everything the second load needed came from Cache Storage (404s are cached as "missing" too).
  expect(requests).toEqual([]);
});
