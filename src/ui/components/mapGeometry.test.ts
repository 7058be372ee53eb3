/** The map's geometry: fitting keeps proportions inside the padding; the grid finds the nearest point as a scan would. */
import { describe, expect, it } from 'vitest';
import { LABEL_COLORS, PointGrid, fitPoints, labelColor } from './mapGeometry';

describe('fitPoints', () => {
  it('scales both axes by one factor, centred, inside the padding, y upwards', () => {
    const fitted = fitPoints(Float32Array.from([0, 0, 4, 0, 4, 1]), 200, 100, 10);
    // x spans 4 → 180 px; y spans 1 → 80 px: the smaller factor (45 px per unit) wins.
    expect(Array.from(fitted)).toEqual([10, 72.5, 190, 72.5, 190, 27.5]);
    expect(Array.from(fitPoints(Float32Array.from([3, 3, 3, 3]), 50, 40, 5))).toEqual([25, 20, 25, 20]);
  });
});

describe('PointGrid', () => {
  it('finds the same nearest point as a full scan, or none beyond the radius', () => {
    // A small seeded LCG (the UI may not import the engine's generator).
    let seed = 4;
    const rng = { nextFloat: () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32 };
    const positions = Float32Array.from({ length: 2000 }, () => rng.nextFloat() * 300);
    const grid = new PointGrid(positions, 300, 8);
    for (let t = 0; t < 300; t++) {
      const x = rng.nextFloat() * 300;
      const y = rng.nextFloat() * 300;
      let best: number | null = null;
      let bestD = 36;
      for (let i = 0; i < 1000; i++) {
        const d = (positions[2 * i] - x) ** 2 + (positions[2 * i + 1] - y) ** 2;
        if (d < bestD) [best, bestD] = [i, d];
      }
      expect(grid.nearest(x, y, 6)).toBe(best);
    }
  });
});

describe('labelColor', () => {
  it('gives distinct colours to the first 16 labels, then repeats', () => {
    expect(new Set(LABEL_COLORS.map((_, i) => labelColor(i))).size).toBe(16);
    expect(labelColor(16)).toBe(labelColor(0));
  });
});
