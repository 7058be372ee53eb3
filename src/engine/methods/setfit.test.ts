/**
 * SetFit pair generation, defaults and the body stage on the one loop (docs/ARCHITECTURE.md, "The
 * training loop and its methods"): counts, positive / negative correctness, determinism by seed, a
 * single-example class (negatives only, a warning), one class refused, and the contrastive stage
 * pulling same-label embeddings together on the sentence-transformers micro model.
 */
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { EngineError } from '../errors';
import { initNodeBackend } from '../tf/node';
import { loadModelFromDir } from '../studio/node';
import type { EncodedExample } from '../train/batches';
import { generateSetFitPairs, PairBatches, setfitDefaults, setfitTraining, SETFIT_MAX_PAIRS } from './setfit';

const ST_MEAN = fileURLToPath(new URL('../../../tests/fixtures/golden-st/mean-normalize/', import.meta.url));

describe('generateSetFitPairs', () => {
  const labels = [0, 0, 0, 1, 1, 2, 2, 2, 2];

  it('makes one positive and one negative pair per example per iteration, labels respected', () => {
    const { pairs, warnings } = generateSetFitPairs(labels, { iterations: 5, seed: 3 });
    expect(warnings).toEqual([]);
    expect(pairs).toHaveLength(5 * labels.length * 2);
    for (let r = 0; r < 5; r++) {
      for (let i = 0; i < labels.length; i++) {
        const [pos, neg] = pairs.slice((r * labels.length + i) * 2, (r * labels.length + i) * 2 + 2);
        expect(pos).toMatchObject({ a: i, target: 1 });
        expect(pos.b).not.toBe(i);
        expect(labels[pos.b]).toBe(labels[i]);
        expect(neg).toMatchObject({ a: i, target: 0 });
        expect(labels[neg.b]).not.toBe(labels[i]);
      }
    }
  });

  it('draws partners from the whole class and every other class', () => {
    const { pairs } = generateSetFitPairs(labels, { iterations: 200, seed: 1 });
    const partnersOf0 = (target: 0 | 1) =>
      new Set(pairs.filter((p) => p.a === 0 && p.target === target).map((p) => p.b));
    expect([...partnersOf0(1)].sort()).toEqual([1, 2]);
    expect([...partnersOf0(0)].sort()).toEqual([3, 4, 5, 6, 7, 8]);
  });

  it('is deterministic by seed', () => {
    const a = generateSetFitPairs(labels, { iterations: 4, seed: 7 });
    expect(generateSetFitPairs(labels, { iterations: 4, seed: 7 })).toEqual(a);
    expect(generateSetFitPairs(labels, { iterations: 4, seed: 8 }).pairs).not.toEqual(a.pairs);
  });

  it('gives a single-example class negative pairs only, with a warning naming it', () => {
    const { pairs, warnings } = generateSetFitPairs([0, 0, 1, 0], {
      iterations: 3,
      seed: 2,
      classNames: ['spam', 'ham'],
    });
    const ofLone = pairs.filter((p) => p.a === 2);
    expect(ofLone).toHaveLength(3);
    expect(ofLone.every((p) => p.target === 0)).toBe(true);
    expect(pairs).toHaveLength(3 * (3 * 2 + 1));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/"ham" has a single training example/);
  });

  it('refuses one class, and no data, before anything trains', () => {
    const oneClass = () => generateSetFitPairs([1, 1, 1], { iterations: 2, seed: 0, classNames: ['a', 'b'] });
    expect(oneClass).toThrow(EngineError);
    expect(oneClass).toThrow(/every training example has the label "b"/);
    try {
      oneClass();
    } catch (e) {
      expect((e as EngineError).code).toBe('SETFIT_ONE_CLASS');
    }
    expect(() => generateSetFitPairs([], { iterations: 2, seed: 0 })).toThrow(/no labeled training examples/);
    expect(() => generateSetFitPairs([0, 1], { iterations: 0, seed: 0 })).toThrow(/at least 1 pair iteration/);
  });
});

describe('setfitDefaults', () => {
  it('uses the paper R = 20 for small data, more epochs when pairs are few, and caps the pairs', () => {
    expect(setfitDefaults(16)).toEqual({ iterations: 20, epochs: 1 }); // 640 pairs
    expect(setfitDefaults(8)).toEqual({ iterations: 20, epochs: 2 }); // 320 pairs, seen twice
    expect(setfitDefaults(2)).toEqual({ iterations: 20, epochs: 4 }); // capped at 4 epochs
    expect(setfitDefaults(1000)).toEqual({ iterations: 2, epochs: 1 });
    expect(setfitDefaults(10_000)).toEqual({ iterations: 1, epochs: 1 }); // never below one round
    for (const n of [50, 100, 500, 1000]) {
      const { iterations } = setfitDefaults(n);
      expect(iterations * 2 * n).toBeLessThanOrEqual(SETFIT_MAX_PAIRS);
    }
  });
});

describe('PairBatches', () => {
  const examples: EncodedExample[] = [
    { inputIds: [2, 10, 3], label: 0 },
    { inputIds: [2, 11, 12, 3], label: 0 },
    { inputIds: [2, 13, 3], label: 1 },
    { inputIds: [2, 14, 15, 16, 3], label: 1 },
  ];
  const { pairs } = generateSetFitPairs([0, 0, 1, 1], { iterations: 3, seed: 5 });

  it('puts a sides then b sides in each batch and covers every pair once per epoch; restores its position', async () => {
    const source = new PairBatches(examples, pairs, { batchSize: 5, maxLength: 16, seed: 9, epochs: 2 });
    expect(source.batchesPerEpoch).toBe(Math.ceil(pairs.length / 5));
    const seen: string[] = [];
    for (let k = 0; k < source.batchesPerEpoch; k++) {
      const { batch, targets } = (await source.next())!;
      const B = targets.length;
      expect(batch.batchSize).toBe(2 * B);
      for (let r = 0; r < B; r++) {
        const a = batch.indices[r];
        const b = batch.indices[B + r];
        seen.push(`${a},${b},${targets[r]}`);
        expect(targets[r]).toBe(examples[a].label === examples[b].label ? 1 : 0);
      }
    }
    expect(source.atEpochEnd).toBe(true);
    expect(seen.sort()).toEqual(pairs.map((p) => `${p.a},${p.b},${p.target}`).sort());
    const state = source.getState();
    const next = await source.next();
    const again = new PairBatches(examples, pairs, { batchSize: 5, maxLength: 16, seed: 9, epochs: 2 });
    again.setState(state);
    expect(await again.next()).toEqual(next);
    expect(() => again.setState({ epoch: 9, cursor: 0 })).toThrow(/does not fit this run/);
  });
});

describe('SetFit body stage on the one loop', () => {
  beforeAll(async () => {
    await initNodeBackend('cpu');
  });

  it('pulls same-label sentences together and pushes the others apart (micro model, mean pooling)', async () => {
    const model = await loadModelFromDir(ST_MEAN);
    try {
      const texts = [
        ['the cat sat on the mat', 'a cat slept on the bed', 'the small cat ate the fish', 'my cat liked milk'],
        ['the car ran down the road', 'a red car was fast', 'the old car was slow', 'their car sat by the house'],
      ];
      const examples: EncodedExample[] = texts.flatMap((group, label) =>
        group.map((t) => ({
          inputIds: model.tokenizer.encode(t, null, { maxLength: 12, truncation: 'longest_first' }).ids,
          label,
        })),
      );
      const gap = async () => {
        const flat = texts.flat().map((text) => ({ text }));
        const v = await model.embed(flat);
        const cos = (a: number[], b: number[]) =>
          a.reduce((s, x, i) => s + x * b[i], 0) / Math.hypot(...a) / Math.hypot(...b);
        let same = 0,
          diff = 0,
          ns = 0,
          nd = 0;
        for (let i = 0; i < v.length; i++)
          for (let j = i + 1; j < v.length; j++) {
            if (examples[i].label === examples[j].label) {
              same += cos(v[i], v[j]);
              ns++;
            } else {
              diff += cos(v[i], v[j]);
              nd++;
            }
          }
        return same / ns - diff / nd;
      };
      const before = await gap();
      const warnings: string[] = [];
      const loop = setfitTraining(
        model.params,
        model.config,
        examples,
        { iterations: 10, epochs: 2, batchSize: 8, learningRate: 1e-3, maxLength: 12, seed: 4, pooling: 'mean' },
        { onLog: (_, m) => warnings.push(m) },
      );
      const summary = await loop.run();
      expect(summary.reason).toBe('completed');
      expect(loop.step).toBe(2 * Math.ceil((10 * 8 * 2) / 8));
      expect(warnings).toEqual([]);
      const after = await gap();
      // Measured on cpu: 0.007 before, 0.90 after.
      expect(before).toBeLessThan(0.1);
      expect(after).toBeGreaterThan(0.5);
      loop.dispose();
    } finally {
      model.dispose();
    }
  });
});
