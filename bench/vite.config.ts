/**
 * Vite config of the benchmark page (bench/index.html → bench/dist). Separate from the studio's
 * config: its own root and output, the same worker format and isolation headers.
 * Build: npx vite build --config bench/vite.config.ts   (scripts/bench.mjs does this itself)
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'credentialless',
};

export default defineConfig({
  root,
  base: './',
  logLevel: 'warn',
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders, host: '127.0.0.1' },
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 8192,
    rollupOptions: { input: { index: fileURLToPath(new URL('index.html', import.meta.url)) } },
  },
  optimizeDeps: { exclude: ['@tensorflow/tfjs-backend-wasm'] },
});
