/** No import circles in src/ (docs/ARCHITECTURE.md, "Layers"): every module can be read bottom-up. */
import { describe, expect, it } from 'vitest';
import { importCycles, importGraph } from './support/import-graph';

describe('import cycles', () => {
  it('src/ has none, type-only imports included', () => {
    const graph = importGraph('src');
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get('engine/studio/index.ts')).toContain('engine/studio/fine-tune.ts');
    expect(importCycles(graph)).toEqual([]);
  });

  it('finds a pair importing each other and a longer circle', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['a.ts']],
      ['c.ts', ['d.ts']],
      ['d.ts', ['e.ts']],
      ['e.ts', ['c.ts', 'f.ts']],
      ['f.ts', []],
    ]);
    expect(importCycles(graph)).toEqual([
      ['a.ts', 'b.ts'],
      ['c.ts', 'd.ts', 'e.ts'],
    ]);
  });
});
