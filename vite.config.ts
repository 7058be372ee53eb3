import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * Cross-origin isolation lets the wasm backend use threads (SharedArrayBuffer). `credentialless`
 * instead of `require-corp` keeps CORS downloads from the Hugging Face Hub working.
 */
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'credentialless',
  // Browsers must not guess a file's type (a dropped or served file is never run as script).
  'X-Content-Type-Options': 'nosniff',
};

export default defineConfig(({ mode }) => ({
  plugins: [react()],
  server: { port: 5173, headers: isolationHeaders },
  preview: { port: 5173, headers: isolationHeaders },
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    // Source maps for test builds (readable e2e traces); production serves none.
    sourcemap: mode === 'test',
    chunkSizeWarningLimit: 4096,
    // Test builds also contain the engine harness page that e2e tests drive (never in production).
    rollupOptions: mode === 'test' ? { input: { main: 'index.html', harness: 'e2e/harness/index.html' } } : undefined,
  },
  optimizeDeps: { exclude: ['@tensorflow/tfjs-backend-wasm'] },
}));
