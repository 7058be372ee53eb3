/**
 * Every model the studio lists in EMBEDDED_MODELS must be a folder under public/models/ that the
 * engine loads (config, vocabulary, weights) with an MLM head answering fill-mask: a broken or
 * missing commit of a model folder fails here instead of in a user's browser.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModelFromDir } from '../src/engine/studio/node';
import { initNodeBackend } from '../src/engine/tf/node';
import { EMBEDDED_MODELS } from '../src/ui/embeddedModels';

beforeAll(async () => {
  await initNodeBackend('wasm');
});

/** The embedded default must stay small enough to ship with the studio (≤ 25 MB in total: docs/ARCHITECTURE.md, "Embedded models"). */
const MAX_EMBEDDED_BYTES = 25_000_000;

describe('embedded models', () => {
  it.each(EMBEDDED_MODELS.map((m) => m.id))('%s is at most 25 MB on disk', (id) => {
    const dir = join('public/models', id);
    const bytes = readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThanOrEqual(MAX_EMBEDDED_BYTES);
  });

  it.each(EMBEDDED_MODELS.map((m) => m.id))('%s loads from public/models and fills a [MASK]', async (id) => {
    const dir = join('public/models', id);
    expect(existsSync(join(dir, 'config.json'))).toBe(true);
    const model = await loadModelFromDir(dir);
    try {
      expect(model.summary().loadedHeads).toContain('MLM head');
      const [top] = await model.fillMask('the capital of france is [MASK] .', 5);
      expect(top).toHaveLength(5);
      const total = top.reduce((sum, c) => sum + c.probability, 0);
      expect(total).toBeGreaterThan(0);
      expect(total).toBeLessThanOrEqual(1 + 1e-6);
    } finally {
      model.dispose();
    }
  });
});
