/**
 * Pure geometry of the Data panel's map (docs/ARCHITECTURE.md, "The embedding map"): map
 * coordinates fitted into the canvas, a colour per label, and a grid index that finds the point
 * under the pointer without scanning 20,000 points on every move.
 */

/**
 * Okabe–Ito's colour-blind-safe palette (black left out: it vanishes on the dark theme), then Paul
 * Tol's "muted" set for datasets with more labels; past 16 labels the colours repeat.
 */
export const LABEL_COLORS = [
  '#e69f00',
  '#56b4e9',
  '#009e73',
  '#f0e442',
  '#0072b2',
  '#d55e00',
  '#cc79a7',
  '#332288',
  '#88ccee',
  '#44aa99',
  '#117733',
  '#999933',
  '#ddcc77',
  '#cc6677',
  '#882255',
  '#aa4499',
];
/** Unlabeled rows: a neutral grey no palette colour is close to. */
export const UNLABELED_COLOR = '#8c8c8c';

/** Colour of the label at `index` among the dataset's labels. */
export function labelColor(index: number): string {
  return LABEL_COLORS[index % LABEL_COLORS.length];
}

/**
 * Canvas positions [N × 2] of map points [N × 2]: both axes scaled by one factor (distances keep
 * their meaning), centred, `pad` pixels from the edges; y grows upwards on the map, downwards on screen.
 */
export function fitPoints(points: Float32Array, width: number, height: number, pad: number): Float32Array {
  const n = points.length / 2;
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    minX = Math.min(minX, points[2 * i]);
    maxX = Math.max(maxX, points[2 * i]);
    minY = Math.min(minY, points[2 * i + 1]);
    maxY = Math.max(maxY, points[2 * i + 1]);
  }
  const spanX = maxX - minX;
  const spanY = maxY - minY;
  const innerW = width - 2 * pad;
  const innerH = height - 2 * pad;
  // All points equal (no spread): one dot in the middle.
  const scale =
    spanX > 0 || spanY > 0 ? Math.min(spanX > 0 ? innerW / spanX : Infinity, spanY > 0 ? innerH / spanY : Infinity) : 0;
  const cx = (minX + maxX) / 2;
  const cy = (minY + maxY) / 2;
  const out = new Float32Array(points.length); // [N, 2] canvas pixels
  for (let i = 0; i < n; i++) {
    out[2 * i] = width / 2 + (points[2 * i] - cx) * scale;
    out[2 * i + 1] = height / 2 - (points[2 * i + 1] - cy) * scale;
  }
  return out;
}

/** Points bucketed by square cells of `cell` pixels: nearest() looks at the cells around the pointer only. */
export class PointGrid {
  private readonly cells = new Map<number, number[]>();
  private readonly columns: number;

  constructor(
    private readonly positions: Float32Array,
    width: number,
    private readonly cell: number,
  ) {
    this.columns = Math.ceil(width / cell) + 1;
    for (let i = 0; i < positions.length / 2; i++) {
      const key = this.key(positions[2 * i], positions[2 * i + 1]);
      const bucket = this.cells.get(key);
      if (bucket) bucket.push(i);
      else this.cells.set(key, [i]);
    }
  }

  private key(x: number, y: number): number {
    return Math.floor(y / this.cell) * this.columns + Math.floor(x / this.cell);
  }

  /** The index of the point nearest (x, y) within `radius` pixels (≤ cell), or null; ties go to the lower index. */
  nearest(x: number, y: number, radius: number): number | null {
    const cx = Math.floor(x / this.cell);
    const cy = Math.floor(y / this.cell);
    let best: number | null = null;
    let bestD = radius * radius;
    for (let dy = -1; dy <= 1; dy++)
      for (let dx = -1; dx <= 1; dx++) {
        if (cx + dx < 0 || cx + dx >= this.columns) continue;
        for (const i of this.cells.get((cy + dy) * this.columns + cx + dx) ?? []) {
          const d = (this.positions[2 * i] - x) ** 2 + (this.positions[2 * i + 1] - y) ** 2;
          if (d < bestD || (d === bestD && best !== null && i < best)) {
            bestD = d;
            best = i;
          }
        }
      }
    return best;
  }
}
