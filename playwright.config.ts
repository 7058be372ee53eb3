import { defineConfig } from '@playwright/test';

/** Debian's Chromium (Playwright cannot download its own browsers here); CHROMIUM_PATH overrides. */
const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
/** Port of the preview server the tests run against. */
const port = Number(process.env.E2E_PORT || 4179);

/** Quiet, offline-friendly Chromium: no background connections to Google, no first-run UI. */
const quietFlags = [
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
// Root cannot use Chromium's sandbox.
const sandboxFlags = typeof process.getuid === 'function' && process.getuid() === 0 ? ['--no-sandbox'] : [];
/** WebGPU in headless Chromium runs on SwiftShader through these (docs/ARCHITECTURE.md, "Backends"). */
const webgpuFlags = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-angle=swiftshader',
  '--use-webgpu-adapter=swiftshader',
];

export default defineConfig({
  testDir: 'e2e',
  // SwiftShader is slow: generous per-test budget, real work kept micro-sized.
  timeout: 180_000,
  expect: { timeout: 60_000 },
  fullyParallel: false,
  // One worker: two cores, and each test already drives a GPU emulation.
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  reporter: process.env.CI ? [['list'], ['html', { open: 'never' }]] : 'list',
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'on-first-retry',
    screenshot: 'only-on-failure',
    viewport: { width: 1280, height: 800 },
  },
  projects: [
    {
      name: 'webgpu',
      testIgnore: /no-webgpu\.spec\.ts/,
      use: { launchOptions: { executablePath, args: [...quietFlags, ...sandboxFlags, ...webgpuFlags] } },
    },
    {
      // The same browser with WebGPU switched off: the studio must fall back and say why.
      name: 'no-webgpu',
      testMatch: /no-webgpu\.spec\.ts/,
      use: { launchOptions: { executablePath, args: [...quietFlags, ...sandboxFlags, '--disable-features=WebGPU'] } },
    },
  ],
  webServer: {
    // A test build keeps the window.__studio hook; production builds drop it.
    command: `npx vite build --mode test --outDir dist-test && npx vite preview --mode test --outDir dist-test --host 127.0.0.1 --port ${port} --strictPort`,
    url: `http://127.0.0.1:${port}`,
    reuseExistingServer: !process.env.CI,
    timeout: 180_000,
  },
});
