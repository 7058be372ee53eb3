// ESLint flat config. Besides the usual TypeScript rules, it enforces the layer arrows of
// docs/ARCHITECTURE.md ("Layers"): a wrong import between src/engine, src/worker, src/ui and src/cli
// fails lint, and the worker and the CLI reach the engine only through its door (src/engine/studio).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

const uiPackages = ['react', 'react-dom', 'react-dom/client', 'zustand', 'recharts'];

/** Builds a `@typescript-eslint/no-restricted-imports` rule entry for one layer. */
function layerRule({ packages = [], patterns = [], allowTypeImports = false, message }) {
  return [
    'error',
    {
      paths: packages.map((name) => ({ name, message, allowTypeImports })),
      patterns: patterns.length > 0 ? [{ group: patterns, message, allowTypeImports }] : [],
    },
  ];
}

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dist-test/**',
      'node_modules/**',
      'playwright-report/**',
      'test-results/**',
      'bench/**',
      'research/**',
      'public/**',
      'tests/fixtures/**',
      '.device/**', // research/kernels/prepare-device.sh's bundle for the device machine
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { ...globals.browser, ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Engine: pure TypeScript + tfjs. No React, no DOM, no worker/UI/CLI code.
    files: ['src/engine/**/*.{ts,tsx}'],
    rules: {
      '@typescript-eslint/no-restricted-imports': layerRule({
        packages: uiPackages,
        patterns: ['**/worker/*', '**/ui/*', '**/cli/*', '**/worker', '**/ui', '**/cli'],
        message: 'src/engine may not import React, the worker, the UI or the CLI (docs/ARCHITECTURE.md, "Layers").',
      }),
      'no-restricted-globals': ['error', 'document', 'window', 'localStorage', 'sessionStorage'],
    },
  },
  {
    // Worker: the engine's door only (browser entry). No React, no UI, no CLI, no engine internals.
    files: ['src/worker/**/*.{ts,tsx}'],
    ignores: ['src/worker/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': layerRule({
        packages: uiPackages,
        patterns: ['**/ui/*', '**/cli/*', '**/ui', '**/cli', '**/engine/**', '!**/engine/studio'],
        message: 'src/worker may import only the engine\'s door, src/engine/studio (docs/ARCHITECTURE.md, "The door").',
      }),
      'no-restricted-globals': ['error', 'document', 'window', 'localStorage'],
    },
  },
  {
    // Worker tests may reach inside the engine (e.g. to simulate a GPU fault), but not the UI or CLI.
    files: ['src/worker/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': layerRule({
        packages: uiPackages,
        patterns: ['**/ui/*', '**/cli/*', '**/ui', '**/cli'],
        message: 'src/worker tests may not import the UI or the CLI.',
      }),
    },
  },
  {
    // UI: talks to the worker through the typed client only; engine types are fine, engine code is not.
    files: ['src/ui/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      '@typescript-eslint/no-restricted-imports': layerRule({
        patterns: ['**/engine/*', '**/engine', '**/engine/**', '**/cli/*', '**/cli', '@tensorflow/*'],
        allowTypeImports: true,
        message: 'src/ui may not import engine or CLI code at runtime; use the worker client (type imports are fine).',
      }),
    },
  },
  {
    // CLI: the engine's door only (and its Node entry), never React, the browser worker or engine internals.
    files: ['src/cli/**/*.{ts,tsx}'],
    ignores: ['src/cli/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': layerRule({
        packages: uiPackages,
        patterns: [
          '**/ui/*',
          '**/ui',
          '**/worker/*',
          '**/worker',
          '**/engine/**',
          '!**/engine/studio',
          '!**/engine/studio/node',
        ],
        message:
          'src/cli may import only the engine\'s door, src/engine/studio and src/engine/studio/node (docs/ARCHITECTURE.md, "The door").',
      }),
    },
  },
  {
    files: ['src/cli/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': layerRule({
        packages: uiPackages,
        patterns: ['**/ui/*', '**/ui', '**/worker/*', '**/worker'],
        message: 'src/cli tests may not import the UI or the browser worker.',
      }),
    },
  },
);
