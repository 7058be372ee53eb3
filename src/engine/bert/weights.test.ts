import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parsePytorchBin } from '../checkpoint/pytorch-bin';
import { parseSafetensors, writeSafetensors } from '../checkpoint/safetensors';
import { type RawTensor, type TensorMap } from '../checkpoint/types';
import { EngineError } from '../errors';
import { initNodeBackend } from '../tf/node';
import { bertPreset, parseBertConfig } from './config';
import { bertEncoder } from './model';
import { disposeBertParams, initBertParams, namedParams, paramSpecs, setSinusoidalPositions } from './params';
import { GOLDEN_MODEL_DIR, readGoldenConfig, readGoldenWeights } from './test-golden';
import { loadBertParams, normalizeWeightName, paramsToTensorMap } from './weights';

const config = readGoldenConfig();

function without(map: TensorMap, drop: (name: string) => boolean): TensorMap {
  return new Map([...map].filter(([k]) => !drop(k)));
}

function rename(map: TensorMap, f: (name: string) => string): TensorMap {
  return new Map([...map].map(([k, t]) => [f(k), { ...t, name: f(k) }]));
}

function expectEngineError(fn: () => unknown, code: string): EngineError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    expect((e as EngineError).code).toBe(code);
    return e as EngineError;
  }
  throw new Error(`expected EngineError ${code}`);
}

function sameData(a: RawTensor, b: RawTensor): boolean {
  return (
    a.shape.join() === b.shape.join() && a.data.length === b.data.length && a.data.every((v, i) => v === b.data[i])
  );
}

describe('BERT weight mapping', () => {
  beforeAll(async () => {
    await initNodeBackend('cpu');
  });

  it('normalizes prefixes and gamma/beta', () => {
    expect(normalizeWeightName('embeddings.LayerNorm.gamma')).toBe('bert.embeddings.LayerNorm.weight');
    expect(normalizeWeightName('encoder.layer.3.output.LayerNorm.beta')).toBe(
      'bert.encoder.layer.3.output.LayerNorm.bias',
    );
    expect(normalizeWeightName('bert.pooler.dense.weight')).toBe('bert.pooler.dense.weight');
    expect(normalizeWeightName('cls.predictions.transform.LayerNorm.gamma')).toBe(
      'cls.predictions.transform.LayerNorm.weight',
    );
  });

  it('loads the golden checkpoint with no warnings; reports unused tensors', () => {
    const extra = new Map(readGoldenWeights());
    extra.set('cls.seq_relationship.weight', {
      name: 'cls.seq_relationship.weight',
      shape: [2, 32],
      data: new Float32Array(64),
    });
    extra.set('bert.embeddings.position_ids', {
      name: 'bert.embeddings.position_ids',
      shape: [1, 64],
      data: new Float32Array(64),
    });
    const { params, report } = loadBertParams(extra, config);
    expect(report.warnings).toEqual([]);
    expect(report.initialized).toEqual([]);
    expect(report.unexpected).toEqual(['cls.seq_relationship.weight']);
    disposeBertParams(params, config);
  });

  it('warns about weights the config does not use (an extra layer), naming them', () => {
    const extra = new Map(readGoldenWeights());
    const name = `bert.encoder.layer.${config.num_hidden_layers}.output.dense.bias`;
    extra.set(name, { name, shape: [32], data: new Float32Array(32) });
    const { params, report } = loadBertParams(extra, config);
    expect(report.unexpected).toEqual([name]);
    expect(report.warnings).toEqual([
      expect.stringMatching(/1 tensor not used by this config .*layer\.\d+\.output\.dense\.bias.*fewer layers/),
    ]);
    disposeBertParams(params, config);
  });

  it('refuses NaN or infinite weights, naming the tensor; nothing allocated', () => {
    const before = tf.memory().numTensors;
    const broken = new Map(readGoldenWeights());
    const name = 'bert.encoder.layer.0.attention.self.query.weight';
    const t = broken.get(name)!;
    const data = Float32Array.from(t.data);
    data[5] = NaN;
    broken.set(name, { ...t, data });
    expect(() => loadBertParams(broken, config)).toThrow(
      expect.objectContaining({ code: 'WEIGHTS_NOT_FINITE', message: expect.stringContaining(name) }),
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('missing encoder tensor → EngineError naming it; nothing allocated', () => {
    const before = tf.memory().numTensors;
    const e = expectEngineError(
      () =>
        loadBertParams(
          without(readGoldenWeights(), (n) => n === 'bert.encoder.layer.1.attention.self.key.bias'),
          config,
        ),
      'WEIGHTS_MISSING',
    );
    expect(e.message).toContain('bert.encoder.layer.1.attention.self.key.bias');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('missing classifier / MLM head / pooler → fresh init with warnings', () => {
    const weights = without(
      readGoldenWeights(),
      (n) => n.startsWith('classifier.') || n.startsWith('cls.') || n.startsWith('bert.pooler.'),
    );
    const { params, report } = loadBertParams(weights, config, { seed: 3 });
    expect(report.initialized).toEqual(
      expect.arrayContaining([
        'classifier.weight',
        'classifier.bias',
        'cls.predictions.bias',
        'bert.pooler.dense.weight',
      ]),
    );
    expect(report.warnings.some((w) => w.includes('classifier') && w.includes('initialised fresh'))).toBe(true);
    expect(report.warnings.some((w) => w.includes('MLM head'))).toBe(true);
    expect(params.classifier.w.shape).toEqual([32, 3]);
    const w = params.classifier.w.dataSync();
    expect(w.some((v) => v !== 0)).toBe(true); // random, std 0.02
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(2 * config.initializer_range + 1e-6);
    expect(params.classifier.b.dataSync().every((v) => v === 0)).toBe(true);
    disposeBertParams(params, config);
  });

  it('freshClassifier replaces a classifier with a different label count', () => {
    const five = parseBertConfig({
      ...JSON.parse(readFileSync(join(GOLDEN_MODEL_DIR, 'config.json'), 'utf8')),
      id2label: { 0: 'a', 1: 'b', 2: 'c', 3: 'd', 4: 'e' },
      label2id: undefined,
    });
    const e = expectEngineError(() => loadBertParams(readGoldenWeights(), five), 'WEIGHTS_SHAPE_MISMATCH');
    expect(e.message).toContain('classifier.weight');
    const { params, report } = loadBertParams(readGoldenWeights(), five, { freshClassifier: true });
    expect(params.classifier.w.shape).toEqual([32, 5]);
    expect(report.warnings.some((w) => w.includes('replaced on request'))).toBe(true);
    disposeBertParams(params, five);
  });

  it('shape mismatch → EngineError naming the tensor, expected and actual shapes', () => {
    const weights = new Map(readGoldenWeights());
    const name = 'bert.encoder.layer.0.intermediate.dense.weight';
    weights.set(name, { name, shape: [32, 64], data: new Float32Array(32 * 64) });
    const e = expectEngineError(() => loadBertParams(weights, config), 'WEIGHTS_SHAPE_MISMATCH');
    expect(e.message).toContain(name);
    expect(e.message).toContain('expected [64, 32]');
    expect(e.message).toContain('got [32, 64]');
  });

  it('accepts names without the bert. prefix and old gamma/beta names (same outputs)', () => {
    const golden = readGoldenWeights();
    const old = rename(golden, (n) =>
      n
        .replace(/^bert\./, '')
        .replace(/LayerNorm\.weight$/, 'LayerNorm.gamma')
        .replace(/LayerNorm\.bias$/, 'LayerNorm.beta'),
    );
    expect([...old.keys()].some((k) => k.startsWith('bert.'))).toBe(false);
    expect([...old.keys()]).toContain('embeddings.LayerNorm.gamma');
    const a = loadBertParams(golden, config);
    const b = loadBertParams(old, config);
    expect(b.report.warnings).toEqual([]);
    expect(b.report.unexpected).toEqual([]);
    const ids = tf.tensor2d([[2, 7, 9, 3]], undefined, 'int32');
    const ha = bertEncoder(a.params, config, { inputIds: ids });
    const hb = bertEncoder(b.params, config, { inputIds: ids });
    expect(Array.from(hb.dataSync())).toEqual(Array.from(ha.dataSync()));
    tf.dispose([ids, ha, hb]);
    disposeBertParams(a.params, config);
    disposeBertParams(b.params, config);
  });

  it('export round trip: paramsToTensorMap reproduces the checkpoint bit for bit, decoder tied', async () => {
    const golden = readGoldenWeights();
    const { params } = loadBertParams(golden, config);
    const exported = await paramsToTensorMap(params, config);
    expect(new Set(exported.keys())).toEqual(new Set(golden.keys()));
    for (const [name, t] of golden) expect(sameData(exported.get(name)!, t), name).toBe(true);
    // Through the safetensors writer and back into fresh params: identical values.
    const bytes = writeSafetensors(exported.values(), { dtype: 'F32' });
    const again = loadBertParams(parseSafetensors(bytes).tensors, config);
    const n1 = namedParams(params, config);
    const n2 = namedParams(again.params, config);
    n1.forEach((p, i) =>
      expect(Array.from(n2[i].variable.dataSync()), p.name).toEqual(Array.from(p.variable.dataSync())),
    );
    disposeBertParams(params, config);
    disposeBertParams(again.params, config);
  });

  it('a checkpoint without the tied decoder copy (save_pretrained, torch_pretrain.py) loads the same MLM head silently', () => {
    const golden = readGoldenWeights();
    const full = loadBertParams(golden, config);
    const lean = loadBertParams(
      without(golden, (n) => n === 'cls.predictions.decoder.weight'),
      config,
    );
    expect(lean.report).toEqual({ initialized: [], unexpected: [], warnings: [] });
    const a = namedParams(full.params, config);
    const b = namedParams(lean.params, config);
    expect(b.map((p) => p.name)).toEqual(a.map((p) => p.name));
    a.forEach((p, i) =>
      expect(Array.from(b[i].variable.dataSync()), p.name).toEqual(Array.from(p.variable.dataSync())),
    );
    disposeBertParams(full.params, config);
    disposeBertParams(lean.params, config);
  });

  it('pytorch_model.bin (shared decoder storage) loads to the same values as model.safetensors', () => {
    const bin = parsePytorchBin(
      new Uint8Array(readFileSync(join(GOLDEN_MODEL_DIR, 'pytorch_model.bin'))),
      'pytorch_model.bin',
    );
    const st = readGoldenWeights();
    expect(new Set(bin.keys())).toEqual(new Set(st.keys()));
    for (const [name, t] of st) expect(sameData(bin.get(name)!, t), name).toBe(true);
  });

  it('initBertParams is deterministic in the seed and names every spec', () => {
    const c = bertPreset('micro', { vocab_size: 50 });
    const a = initBertParams(c, 7);
    const b = initBertParams(c, 7);
    const d = initBertParams(c, 8);
    const na = namedParams(a, c),
      nb = namedParams(b, c),
      nd = namedParams(d, c);
    expect(na.map((n) => n.name)).toEqual(paramSpecs(c).map((s) => s.name));
    const q = (n: typeof na) =>
      Array.from(n.find((x) => x.name === 'bert.encoder.layer.0.attention.self.query.weight')!.variable.dataSync());
    expect(q(na)).toEqual(q(nb));
    expect(q(na)).not.toEqual(q(nd));
    expect(
      a.embeddings.word
        .slice([0, 0], [1, 32])
        .dataSync()
        .every((v) => v === 0),
    ).toBe(true); // [PAD] row
    expect(a.layers[0].attnLn.gamma.dataSync().every((v) => v === 1)).toBe(true);
    for (const p of [a, b, d]) disposeBertParams(p, c);
  });

  it("setSinusoidalPositions writes sin/cos rows at the word rows' scale, products depending on distance only", () => {
    const c = bertPreset('micro', { vocab_size: 50, max_position_embeddings: 40 });
    const p = initBertParams(c, 3);
    setSinusoidalPositions(p);
    const table = p.embeddings.position.arraySync() as number[][]; // [40, 32]
    const dot = (a: number[], b: number[]) => a.reduce((sum, x, k) => sum + x * b[k], 0);
    const wordNorms = (p.embeddings.word.arraySync() as number[][]).map((r) => Math.sqrt(dot(r, r)));
    const meanWordNorm = wordNorms.reduce((a, b) => a + b, 0) / wordNorms.length;
    for (const row of table) expect(Math.sqrt(dot(row, row))).toBeCloseTo(meanWordNorm, 4);
    expect(dot(table[0], table[5])).toBeCloseTo(dot(table[20], table[25]), 4);
    expect(dot(table[10], table[11])).toBeGreaterThan(dot(table[10], table[30]));
    expect(table[0][0]).toBe(0); // sin(0)
    disposeBertParams(p, c);
  });
});
