/**
 * The embedding map's PCA: compared with an eigendecomposition computed another way (two-pass
 * covariance, cyclic Jacobi), on synthetic data with planted axes and on a micro model's
 * embeddings; deterministic; chunked through the caller's queue; refusals say what to do.
 * Its UMAP: keeps planted groups apart where two principal axes cannot, seeded, in queue turns.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../util/rng';
import { initNodeBackend, loadModelFromDir } from './node';
import {
  MAX_MAP_ROWS,
  UMAP_EPOCHS_PER_TURN,
  UMAP_MAX_ROWS,
  CovarianceAccumulator,
  embeddingMap,
  nearestRows,
  topTwoComponents,
  type Embedder,
  type MapPhase,
} from './embedding-map';
import type { TextInput } from './fewshot-model';
import { toyExamples } from '../../../tests/support/toy-data';

/** Sample covariance [H, H] by the textbook two-pass formula. */
function twoPassCovariance(rows: number[][]): number[][] {
  const N = rows.length;
  const H = rows[0].length;
  const mean = Array.from({ length: H }, (_, j) => rows.reduce((s, r) => s + r[j], 0) / N);
  return Array.from({ length: H }, (_, i) =>
    Array.from({ length: H }, (_, j) => rows.reduce((s, r) => s + (r[i] - mean[i]) * (r[j] - mean[j]), 0) / (N - 1)),
  );
}

/** Cyclic Jacobi eigendecomposition of a small symmetric matrix: eigenpairs, largest first. */
function jacobiEigen(matrix: number[][]): { values: number[]; vectors: number[][] } {
  const n = matrix.length;
  const a = matrix.map((r) => [...r]);
  const v: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p][q] ** 2;
    if (off < 1e-26) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(a[p][q]) < 1e-300) continue;
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k][p];
          const akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p][k];
          const aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k][p];
          const vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j][j] - a[i][i]);
  return { values: order.map((i) => a[i][i]), vectors: order.map((i) => v.map((row) => row[i])) };
}

/** The sign convention of the map: largest-|loading| entry positive. */
function signFixed(v: number[]): number[] {
  let best = 0;
  v.forEach((x, i) => {
    if (Math.abs(x) > Math.abs(v[best])) best = i;
  });
  return v[best] < 0 ? v.map((x) => -x) : v;
}

/** An orthonormal basis of R^H from seeded normal vectors (Gram–Schmidt). */
function randomBasis(H: number, rng: Rng): number[][] {
  const basis: number[][] = [];
  while (basis.length < H) {
    const v = Array.from({ length: H }, () => rng.normal());
    for (const b of basis) {
      const p = v.reduce((s, x, i) => s + x * b[i], 0);
      b.forEach((bi, i) => (v[i] -= p * bi));
    }
    const n = Math.hypot(...v);
    basis.push(v.map((x) => x / n));
  }
  return basis;
}

/** N rows in R^H: a large common offset plus spreads 5, 2, then 0.3 along a hidden orthonormal basis. */
function plantedRows(N: number, H: number, seed: number): { rows: number[][]; axes: number[][] } {
  const rng = new Rng(seed);
  const axes = randomBasis(H, rng);
  const spreads = Array.from({ length: H }, (_, k) => (k === 0 ? 5 : k === 1 ? 2 : 0.3));
  const offset = Array.from({ length: H }, () => 40 + rng.normal());
  const rows = Array.from({ length: N }, () => {
    const row = [...offset];
    axes.forEach((axis, k) => {
      const z = spreads[k] * rng.normal();
      axis.forEach((a, j) => (row[j] += z * a));
    });
    return row;
  });
  return { rows, axes };
}

/** A fake model whose "embedding" of row i is rows[i] (the input text is the index), counting calls. */
function tableEmbedder(rows: number[][]): Embedder & { calls: number } {
  return {
    calls: 0,
    async embed(inputs: readonly TextInput[]) {
      this.calls++;
      return inputs.map((input) => rows[Number(input.text)]);
    },
  };
}

const indexInputs = (n: number): TextInput[] => Array.from({ length: n }, (_, i) => ({ text: String(i) }));

describe('topTwoComponents', () => {
  it('finds the top two eigenpairs of a matrix built from known ones', () => {
    const H = 7;
    const basis = randomBasis(H, new Rng(3));
    const values = [9, 4, 1.5, 1, 0.5, 0.2, 0];
    const cov = new Float64Array(H * H);
    for (let i = 0; i < H; i++)
      for (let j = 0; j < H; j++) cov[i * H + j] = values.reduce((s, l, k) => s + l * basis[k][i] * basis[k][j], 0);
    const top = topTwoComponents(cov, H);
    expect(top.converged).toBe(true);
    expect(top.values[0]).toBeCloseTo(9, 6);
    expect(top.values[1]).toBeCloseTo(4, 6);
    expect(top.total).toBeCloseTo(
      values.reduce((s, l) => s + l, 0),
      9,
    );
    [0, 1].forEach((k) => {
      const expected = signFixed(basis[k]);
      Array.from(top.vectors[k]).forEach((x, i) => expect(x).toBeCloseTo(expected[i], 6));
    });
  });

  it('gives a second axis for a rank-one matrix, and zeros for no spread', () => {
    const H = 4;
    const u = [0.5, 0.5, 0.5, 0.5];
    const cov = Float64Array.from({ length: H * H }, (_, k) => 3 * u[Math.floor(k / H)] * u[k % H]);
    const top = topTwoComponents(cov, H);
    expect(top.values[0]).toBeCloseTo(3, 9);
    expect(top.values[1]).toBeCloseTo(0, 9);
    Array.from(top.vectors[0]).forEach((x) => expect(x).toBeCloseTo(0.5, 6));
    const cross = Array.from(top.vectors[0]).reduce((s, x, i) => s + x * top.vectors[1][i], 0);
    expect(cross).toBeCloseTo(0, 9);
    expect(topTwoComponents(new Float64Array(H * H), H).values).toEqual([0, 0]);
  });
});

describe('CovarianceAccumulator', () => {
  it('matches the two-pass covariance whatever the chunks, despite a large offset', () => {
    const { rows } = plantedRows(50, 5, 11);
    const expected = twoPassCovariance(rows);
    const acc = new CovarianceAccumulator(5);
    acc.add(rows.slice(0, 7));
    acc.add(rows.slice(7, 8));
    acc.add(rows.slice(8));
    const cov = acc.covariance();
    expected.forEach((r, i) => r.forEach((x, j) => expect(cov[i * 5 + j]).toBeCloseTo(x, 9)));
    expect(acc.rows).toBe(50);
  });
});

describe('embeddingMap', () => {
  it('projects on the principal axes of synthetic data, with their explained variance', async () => {
    const N = 300;
    const H = 6;
    const { rows, axes } = plantedRows(N, H, 5);
    const model = tableEmbedder(rows);
    const progress: number[] = [];
    let chunks = 0;
    const map = await embeddingMap(model, indexInputs(N), {
      rowsPerChunk: 64,
      onProgress: (done, total) => {
        expect(total).toBe(N);
        progress.push(done);
      },
      runChunk: (work) => {
        chunks++;
        return work();
      },
    });
    expect(chunks).toBe(5);
    expect(model.calls).toBe(5);
    expect(progress).toEqual([0, 64, 128, 192, 256, 300]);
    expect(map).toMatchObject({ method: 'pca', rows: N, dimensions: H, converged: true });
    expect(map.points).toHaveLength(2 * N);

    // The same PCA computed another way: two-pass covariance, Jacobi eigenvectors, same signs.
    const { values, vectors } = jacobiEigen(twoPassCovariance(rows));
    const total = values.reduce((s, l) => s + l, 0);
    expect(map.explained![0]).toBeCloseTo(values[0] / total, 6);
    expect(map.explained![1]).toBeCloseTo(values[1] / total, 6);
    // The planted axes hold about 25/(25+4+4·0.09) and 4/(…) of the variance; the sample's ones are near them.
    expect(map.explained![0]).toBeGreaterThan(0.75);
    expect(map.explained![1]).toBeGreaterThan(0.08);
    expect(Math.abs(vectors[0].reduce((s, x, i) => s + x * axes[0][i], 0))).toBeGreaterThan(0.99);
    expect(Math.abs(vectors[1].reduce((s, x, i) => s + x * axes[1][i], 0))).toBeGreaterThan(0.98);
    const [p1, p2] = [signFixed(vectors[0]), signFixed(vectors[1])];
    const mean = Array.from({ length: H }, (_, j) => rows.reduce((s, r) => s + r[j], 0) / N);
    rows.forEach((row, n) => {
      const x = row.reduce((s, v, j) => s + (v - mean[j]) * p1[j], 0);
      const y = row.reduce((s, v, j) => s + (v - mean[j]) * p2[j], 0);
      expect(map.points[2 * n]).toBeCloseTo(x, 3);
      expect(map.points[2 * n + 1]).toBeCloseTo(y, 3);
    });
  });

  it('is deterministic: the same rows give the same map, whatever the chunk size', async () => {
    const { rows } = plantedRows(120, 8, 9);
    const a = await embeddingMap(tableEmbedder(rows), indexInputs(120));
    const b = await embeddingMap(tableEmbedder(rows), indexInputs(120));
    expect(Array.from(b.points)).toEqual(Array.from(a.points));
    expect(b.explained).toEqual(a.explained);
    const c = await embeddingMap(tableEmbedder(rows), indexInputs(120), { rowsPerChunk: 7 });
    Array.from(c.points).forEach((x, i) => expect(x).toBeCloseTo(a.points[i], 4));
  });

  it('refuses too many and too few rows before embedding anything, saying what to do', async () => {
    const model = tableEmbedder([]);
    await expect(embeddingMap(model, indexInputs(MAX_MAP_ROWS + 1))).rejects.toMatchObject({
      code: 'MAP_TOO_MANY_ROWS',
      message: expect.stringMatching(/at most 20,000 rows; this data has 20,001\. Load a sample/),
    });
    await expect(embeddingMap(model, indexInputs(2))).rejects.toMatchObject({
      code: 'MAP_TOO_FEW_ROWS',
      message: expect.stringContaining('at least 3 rows'),
    });
    expect(model.calls).toBe(0);
  });

  it('stops between chunks when its signal is aborted', async () => {
    const { rows } = plantedRows(40, 4, 2);
    const controller = new AbortController();
    const model = tableEmbedder(rows);
    const map = embeddingMap(model, indexInputs(40), {
      rowsPerChunk: 10,
      signal: controller.signal,
      onProgress: (done) => {
        if (done === 10) controller.abort();
      },
    });
    await expect(map).rejects.toMatchObject({ code: 'MAP_CANCELLED' });
    expect(model.calls).toBe(1);
  });

  describe('on a micro model', () => {
    beforeAll(async () => {
      await initNodeBackend('wasm');
    });

    it("maps the model's embeddings as a PCA computed from embed() directly", async () => {
      const model = await loadModelFromDir('tests/fixtures/golden-micro/model');
      const inputs = toyExamples(40, 1).map((e) => ({ text: e.text }));
      const map = await embeddingMap(model, inputs, { rowsPerChunk: 16, maxLength: 32 });
      const embeddings = await model.embed(inputs, { maxLength: 32 }); // [40][32]
      expect(map.dimensions).toBe(embeddings[0].length);
      const { values, vectors } = jacobiEigen(twoPassCovariance(embeddings));
      const total = values.reduce((s, l) => s + l, 0);
      expect(map.explained![0]).toBeCloseTo(values[0] / total, 5);
      expect(map.explained![1]).toBeCloseTo(values[1] / total, 5);
      const [p1, p2] = [signFixed(vectors[0]), signFixed(vectors[1])];
      const H = embeddings[0].length;
      const mean = Array.from({ length: H }, (_, j) => embeddings.reduce((s, r) => s + r[j], 0) / inputs.length);
      const scale = Math.sqrt(values[0]);
      embeddings.forEach((row, n) => {
        const x = row.reduce((s, v, j) => s + (v - mean[j]) * p1[j], 0);
        const y = row.reduce((s, v, j) => s + (v - mean[j]) * p2[j], 0);
        expect(Math.abs(map.points[2 * n] - x)).toBeLessThan(1e-4 * scale);
        expect(Math.abs(map.points[2 * n + 1] - y)).toBeLessThan(1e-4 * scale);
      });
      model.dispose();
    });
  });
});

/**
 * `groups` × `perGroup` rows in R^H: group g around 4·e_g, with noise. Any two groups are equally
 * far apart, so two principal axes cannot hold twelve of them.
 */
function groupedRows(groups: number, perGroup: number, H: number, seed: number): { rows: number[][]; group: number[] } {
  const rng = new Rng(seed);
  const rows: number[][] = [];
  const group: number[] = [];
  for (let i = 0; i < groups * perGroup; i++) {
    const g = i % groups;
    const scale = 4 + 0.2 * rng.normal();
    rows.push(Array.from({ length: H }, (_, j) => (j === g ? scale : 0) + 0.3 * rng.normal()));
    group.push(g);
  }
  return { rows, group };
}

/** Mean share, over the points, of their k nearest other points on the map [N, 2] in their own group. */
function neighbourPurity(points: Float32Array, group: number[], k = 5): number {
  const N = group.length;
  let pure = 0;
  for (let i = 0; i < N; i++) {
    const order = Array.from({ length: N }, (_, j) => j)
      .filter((j) => j !== i)
      .sort(
        (a, b) =>
          (points[2 * a] - points[2 * i]) ** 2 +
          (points[2 * a + 1] - points[2 * i + 1]) ** 2 -
          ((points[2 * b] - points[2 * i]) ** 2 + (points[2 * b + 1] - points[2 * i + 1]) ** 2),
      );
    pure += order.slice(0, k).filter((j) => group[j] === group[i]).length / k;
  }
  return pure / N;
}

describe('UMAP layout', () => {
  it('keeps twelve equidistant groups apart where PCA cannot, in queue turns with progress', async () => {
    const { rows, group } = groupedRows(12, 20, 16, 3);
    const N = rows.length;
    const progress: [number, number, MapPhase][] = [];
    let turns = 0;
    const umap = await embeddingMap(tableEmbedder(rows), indexInputs(N), {
      method: 'umap',
      rowsPerChunk: 100,
      onProgress: (done, total, phase) => progress.push([done, total, phase]),
      runChunk: (work) => {
        turns++;
        return work();
      },
    });
    const pca = await embeddingMap(tableEmbedder(rows), indexInputs(N));
    expect(umap).toMatchObject({ method: 'umap', rows: N, dimensions: 16, explained: null, neighbors: 15 });
    expect(umap.points.every(Number.isFinite)).toBe(true);
    const epochs = umap.iterations;
    expect(epochs).toBeGreaterThan(0);
    // 3 embedding chunks, the neighbour search (240 × 240 × 16 multiply-adds: one turn), umap-js's
    // set-up, then the epochs UMAP_EPOCHS_PER_TURN at a time.
    expect(turns).toBe(3 + 1 + 1 + Math.ceil(epochs / UMAP_EPOCHS_PER_TURN));
    expect(progress.slice(0, 6)).toEqual([
      [0, N, 'embed'],
      [100, N, 'embed'],
      [200, N, 'embed'],
      [N, N, 'embed'],
      [0, N, 'neighbors'],
      [N, N, 'neighbors'],
    ]);
    const layout = progress.filter(([, , phase]) => phase === 'layout');
    expect(layout[0]).toEqual([0, epochs, 'layout']);
    expect(layout.at(-1)).toEqual([epochs, epochs, 'layout']);
    expect(layout).toHaveLength(1 + Math.ceil(epochs / UMAP_EPOCHS_PER_TURN));

    const umapPurity = neighbourPurity(umap.points, group);
    const pcaPurity = neighbourPurity(pca.points, group);
    // Measured: UMAP 1.00, PCA 0.75 (each group's 5 nearest map neighbours in its own group).
    expect(umapPurity).toBeGreaterThan(0.97);
    expect(pcaPurity).toBeLessThan(0.85);
  });

  it("finds every row's exact nearest rows by cosine, itself first, in any blocks of rows", () => {
    const N = 23;
    const H = 5;
    const rng = new Rng(8);
    const unit = new Float64Array(N * H);
    for (let n = 0; n < N; n++) {
      const row = Array.from({ length: H }, () => rng.normal());
      const norm = Math.hypot(...row);
      row.forEach((x, h) => (unit[n * H + h] = x / norm));
    }
    unit.copyWithin(7 * H, 3 * H, 4 * H); // rows 3 and 7 equal: a tie at distance 0
    const k = 6;
    const indices: number[][] = [];
    const distances: number[][] = [];
    // Rows in blocks of 5, 1 and 17: the block edges must not matter.
    nearestRows(unit, N, H, k, 0, 5, indices, distances);
    nearestRows(unit, N, H, k, 5, 6, indices, distances);
    nearestRows(unit, N, H, k, 6, N, indices, distances);
    for (let i = 0; i < N; i++) {
      const cos = (j: number) =>
        Array.from({ length: H }, (_, h) => unit[i * H + h] * unit[j * H + h]).reduce((a, b) => a + b);
      const others = Array.from({ length: N }, (_, j) => j)
        .filter((j) => j !== i)
        .sort((a, b) => cos(b) - cos(a) || a - b);
      expect(indices[i], `row ${i}`).toEqual([i, ...others.slice(0, k - 1)]);
      expect(distances[i][0]).toBe(0);
      indices[i].slice(1).forEach((j, m) => expect(distances[i][m + 1]).toBeCloseTo(Math.sqrt(2 - 2 * cos(j)), 6));
    }
    expect(indices[3][1]).toBe(7);
    expect(distances[3][1]).toBeCloseTo(0, 6);
  });

  it('is seeded: the same rows give the same layout', async () => {
    const { rows } = groupedRows(3, 12, 6, 4);
    const a = await embeddingMap(tableEmbedder(rows), indexInputs(36), { method: 'umap' });
    const b = await embeddingMap(tableEmbedder(rows), indexInputs(36), { method: 'umap', rowsPerChunk: 5 });
    expect(Array.from(b.points)).toEqual(Array.from(a.points));
  });

  it('lays out as few as 3 rows (fewer neighbours than the default)', async () => {
    const { rows } = groupedRows(3, 1, 4, 5);
    const map = await embeddingMap(tableEmbedder(rows), indexInputs(3), { method: 'umap' });
    expect(map).toMatchObject({ rows: 3, neighbors: 2 });
    expect(map.points.every(Number.isFinite)).toBe(true);
  });

  it('refuses more rows than it lays out before embedding, and stops when cancelled mid-layout', async () => {
    const model = tableEmbedder([]);
    await expect(embeddingMap(model, indexInputs(UMAP_MAX_ROWS + 1), { method: 'umap' })).rejects.toMatchObject({
      code: 'MAP_TOO_MANY_ROWS',
      message: expect.stringMatching(/UMAP map lays out at most 10,000 rows; this data has 10,001\. Draw it with PCA/),
    });
    expect(model.calls).toBe(0);
    await expect(embeddingMap(model, indexInputs(5), { method: 'tsne' as unknown as 'pca' })).rejects.toMatchObject({
      code: 'MAP_BAD_METHOD',
      message: expect.stringContaining('"pca" or "umap"'),
    });

    const { rows } = groupedRows(3, 10, 4, 6);
    const controller = new AbortController();
    let layoutTurns = 0;
    const map = embeddingMap(tableEmbedder(rows), indexInputs(30), {
      method: 'umap',
      signal: controller.signal,
      onProgress: (done, _total, phase) => {
        if (phase === 'layout') {
          layoutTurns++;
          if (done >= UMAP_EPOCHS_PER_TURN) controller.abort();
        }
      },
    });
    await expect(map).rejects.toMatchObject({ code: 'MAP_CANCELLED' });
    // Progress at 0 and after the first turn; the abort is seen before the second.
    expect(layoutTurns).toBe(2);
  });
});
