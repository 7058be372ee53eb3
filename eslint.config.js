// ESLint flat config. Besides the usual TypeScript rules, it enforces the layer arrows of
// DESIGN.md §2: a wrong import between src/engine, src/worker, src/ui and src/cli fails lint.
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
        message: 'src/engine may not import React, the worker, the UI or the CLI (DESIGN.md §2).',
      }),
      'no-restricted-globals': ['error', 'document', 'window', 'localStorage', 'sessionStorage'],
    },
  },
  {
    // Worker: engine only. No React, no UI, no CLI.
    files: ['src/worker/**/*.{ts,tsx}'],
    rules: {
      '@typescript-eslint/no-restricted-imports': layerRule({
        packages: uiPackages,
        patterns: ['**/ui/*', '**/cli/*', '**/ui', '**/cli'],
        message: 'src/worker may import only src/engine (DESIGN.md §2).',
      }),
      'no-restricted-globals': ['error', 'document', 'window', 'localStorage'],
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
    // CLI: engine only, never React or the browser worker.
    files: ['src/cli/**/*.{ts,tsx}'],
    rules: {
      '@typescript-eslint/no-restricted-imports': layerRule({
        packages: uiPackages,
        patterns: ['**/ui/*', '**/ui', '**/worker/*', '**/worker'],
        message: 'src/cli may import only src/engine (DESIGN.md §2).',
      }),
    },
  },
);
