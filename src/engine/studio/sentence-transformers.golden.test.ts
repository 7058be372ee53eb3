/**
 * Sentence-embedding parity: FewShotModel.embed on sentence-transformers folders of a micro BERT reproduces the
 * PyTorch embeddings of scripts/golden/make_sentence_transformers_golden.py within 1e-5 (mean + Normalize with
 * max_seq_length 12, CLS with a max_seq_length the model caps to 16, max without sentence_bert_config.json), on the
 * cpu and wasm backends, from every kind of source (docs/ARCHITECTURE.md, "Sentence-transformers folders").
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeHub } from '../checkpoint/test-hub-server';
import type { DroppedFile } from '../checkpoint';
import { initNodeBackend } from '../tf/node';
import { loadModel } from './load';
import { loadModelFromDir } from './node';
import type { FewShotModel } from './fewshot-model';

const ST_DIR = fileURLToPath(new URL('../../../tests/fixtures/golden-st/', import.meta.url));
const MICRO_DIR = fileURLToPath(new URL('../../../tests/fixtures/golden-micro/', import.meta.url));

interface Variant {
  dir: string;
  pooling: 'cls' | 'mean' | 'max';
  normalize: boolean;
  max_length: number;
  input_ids: number[][];
  embeddings: { shape: number[]; data: number[] };
}
const golden = JSON.parse(readFileSync(join(ST_DIR, 'golden.json'), 'utf8')) as {
  texts: string[];
  variants: Record<string, Variant>;
};
const texts = golden.texts.map((text) => ({ text }));

/** Every file of a fixture folder, by its path inside the folder (`1_Pooling/config.json`). */
function folderFiles(dir: string, prefix = ''): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const entry of readdirSync(join(dir, prefix))) {
    const rel = prefix ? `${prefix}/${entry}` : entry;
    if (statSync(join(dir, rel)).isDirectory()) Object.assign(out, folderFiles(dir, rel));
    else out[rel] = new Uint8Array(readFileSync(join(dir, rel)));
  }
  return out;
}

function maxAbsDiff(actual: number[][], expected: { shape: number[]; data: number[] }): number {
  expect([actual.length, actual[0].length]).toEqual(expected.shape);
  return Math.max(...actual.flat().map((x, i) => Math.abs(x - expected.data[i])));
}

async function expectGolden(model: FewShotModel, variant: Variant, options: { batchSize?: number } = {}) {
  const vectors = await model.embed(texts, options);
  expect(maxAbsDiff(vectors, variant.embeddings)).toBeLessThan(1e-5);
}

describe.each(['cpu', 'wasm'] as const)('sentence-transformers embeddings on %s', (backend) => {
  beforeAll(async () => {
    await initNodeBackend(backend);
  });

  it.each(Object.keys(golden.variants))('%s matches PyTorch within 1e-5', async (name) => {
    const variant = golden.variants[name];
    const model = await loadModelFromDir(join(ST_DIR, variant.dir));
    try {
      expect(model.summary().sentenceTransformers).toMatchObject({
        pooling: variant.pooling,
        normalize: variant.normalize,
      });
      // The tokenizer cuts where the generator did (max_seq_length capped by the model).
      const ids = golden.texts.map(
        (t) => model.tokenizer.encode(t, null, { truncation: 'longest_first', maxLength: variant.max_length }).ids,
      );
      expect(ids).toEqual(variant.input_ids);
      await expectGolden(model, variant);
      // Batches of two pad differently (other lengths, other padding): same vectors.
      await expectGolden(model, variant, { batchSize: 2 });
    } finally {
      model.dispose();
    }
  });

  it('a plain folder (no modules.json) keeps masked mean pooling, not normalized', async () => {
    const micro = JSON.parse(readFileSync(join(MICRO_DIR, 'golden.json'), 'utf8')) as {
      inputs: { texts: [string, [string, string]] };
      mean_pooled: { shape: number[]; data: number[] };
    };
    const model = await loadModelFromDir(join(MICRO_DIR, 'model'));
    try {
      expect(model.summary().sentenceTransformers).toBeNull();
      const [single, [a, b]] = micro.inputs.texts;
      // Golden rows were pooled over right-padded rows of length 12 with the attention mask.
      const vectors = await model.embed([{ text: single }, { text: a, textPair: b }]);
      expect(maxAbsDiff(vectors, micro.mean_pooled)).toBeLessThan(1e-5);
    } finally {
      model.dispose();
    }
  });
});

describe('sentence-transformers folders from every source', () => {
  const variant = golden.variants['mean-normalize'];
  const files = folderFiles(join(ST_DIR, variant.dir));
  const hub = new FakeHub();
  beforeAll(async () => {
    await initNodeBackend('cpu');
    await hub.start();
    hub.commit('test/st-micro', files);
  });
  afterAll(() => hub.stop());

  const check = async (model: FewShotModel) => {
    try {
      expect(model.summary().sentenceTransformers?.description).toBe('mean pooling, normalized, max 12 tokens');
      await expectGolden(model, variant);
    } finally {
      model.dispose();
    }
  };

  it('a dropped folder (files with relative paths, inside a parent folder)', async () => {
    const dropped: DroppedFile[] = Object.entries(files).map(([rel, bytes]) => ({
      name: rel.split('/').pop()!,
      size: bytes.byteLength,
      webkitRelativePath: `models/st-micro/${rel}`,
      arrayBuffer: async () => bytes.slice().buffer,
    }));
    await check(await loadModel({ kind: 'files', files: dropped, name: 'st-micro' }));
  });

  it('a dropped zip', async () => {
    const zip = zipSync(Object.fromEntries(Object.entries(files).map(([rel, bytes]) => [`st-micro/${rel}`, bytes])));
    const file = new File([zip], 'st-micro.zip');
    await check(await loadModel({ kind: 'files', files: [file], name: 'st-micro' }));
  });

  it('the Hub', async () => {
    await check(await loadModel({ kind: 'hub', repo: 'test/st-micro', baseUrl: hub.baseUrl }));
    expect(hub.seen('GET').some((r) => r.endsWith('/1_Pooling/config.json'))).toBe(true);
  });

  it('a static URL folder', async () => {
    const baseUrl = `${hub.baseUrl}/test/st-micro/resolve/main`;
    await check(await loadModel({ kind: 'url', baseUrl, name: 'st-micro' }));
  });
});

describe('sentence_bert_config.json do_lower_case', () => {
  const variant = golden.variants['mean-normalize'];
  const base = folderFiles(join(ST_DIR, variant.dir));
  const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  // A cased tokenizer: upper-case words are not in the all-lower-case vocabulary.
  const tokenizerConfig = {
    ...JSON.parse(new TextDecoder().decode(base['tokenizer_config.json'])),
    do_lower_case: false,
  };
  const load = (doLowerCase: boolean) =>
    loadModel({
      kind: 'files',
      name: 'cased',
      files: Object.entries({
        ...base,
        'tokenizer_config.json': json(tokenizerConfig),
        'sentence_bert_config.json': json({ max_seq_length: 12, do_lower_case: doLowerCase }),
      }).map(([rel, bytes]) => ({
        name: rel.split('/').pop()!,
        size: bytes.byteLength,
        webkitRelativePath: `cased/${rel}`,
        arrayBuffer: async () => bytes.slice().buffer,
      })),
    });
  beforeAll(async () => {
    await initNodeBackend('cpu');
  });

  it('lower-cases the text before a cased tokenizer sees it', async () => {
    const upper = [{ text: golden.texts[0].toUpperCase() }];
    const expectedRow0 = { shape: [1, 32], data: variant.embeddings.data.slice(0, 32) };
    const lowering = await load(true);
    const keeping = await load(false);
    try {
      expect(lowering.summary().sentenceTransformers?.description).toBe(
        'mean pooling, normalized, max 12 tokens, lower-cased',
      );
      expect(maxAbsDiff(await lowering.embed(upper), expectedRow0)).toBeLessThan(1e-5);
      // Without it the upper-case words are [UNK]: another vector.
      expect(maxAbsDiff(await keeping.embed(upper), expectedRow0)).toBeGreaterThan(1e-2);
    } finally {
      lowering.dispose();
      keeping.dispose();
    }
  });
});
