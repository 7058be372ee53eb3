import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'tests/**/*.test.ts'],
    environment: 'node',
    // tfjs on cpu/wasm in Node is slow on 2 cores; micro models keep each test short.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two workers at most: the machine has two cores.
    maxWorkers: 2,
  },
});
