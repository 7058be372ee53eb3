import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { SHIPPED_DOCS, docPage } from './scripts/docs-pages.ts';

/** The user guides travel with the studio as docs/<NAME>.html, so its help links work offline. */
function shipDocs(): Plugin {
  return {
    name: 'fewshot-ship-docs',
    generateBundle() {
      for (const name of SHIPPED_DOCS)
        this.emitFile({ type: 'asset', fileName: `docs/${name}.html`, source: docPage(name) });
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const name = /^\/docs\/([A-Z_]+)\.html$/.exec(req.url?.split(/[?#]/)[0] ?? '')?.[1];
        if (!name || !(SHIPPED_DOCS as readonly string[]).includes(name)) return next();
        res.setHeader('Content-Type', 'text/html; charset=utf-8');
        res.end(docPage(name));
      });
    },
  };
}

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
  plugins: [react(), shipDocs()],
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
