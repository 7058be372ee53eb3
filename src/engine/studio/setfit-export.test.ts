/**
 * A SetFit model exported as a sentence-transformers folder plus its head (docs/ARCHITECTURE.md,
 * "Sentence-transformers folders" and "SetFit") loads back with the same probabilities, and a broken
 * or mismatched head file is refused with its name.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSafetensors } from '../checkpoint';
import { writeFolder } from '../checkpoint/node-dir';
import { initNodeBackend } from '../tf/node';
import { loadModelFromDir } from './node';
import { startFineTune } from './fine-tune';

const fixture = (name: string) => fileURLToPath(new URL(`../../../tests/fixtures/${name}/`, import.meta.url));

const train = [
  ...['the cat sat on the mat', 'a cat slept on the bed', 'the small cat ate the fish', 'my cat liked milk'].map(
    (text) => ({ text, label: 'animal' }),
  ),
  ...['the car ran down the road', 'a red car was fast', 'the old car was slow', 'their car sat by the house'].map(
    (text) => ({ text, label: 'vehicle' }),
  ),
];
const texts = [
  { text: 'the cat ate the bread' },
  { text: 'a car ran over the road and the cat sat by the house on the mat' },
  { text: 'the blue car was new' },
];

const root = mkdtempSync(join(tmpdir(), 'setfit-export-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Trains SetFit briefly on `modelDir`, exports it to a new folder; returns the folder and the in-memory probabilities. */
async function trainAndExport(modelDir: string, name: string) {
  const model = await loadModelFromDir(modelDir);
  try {
    const run = startFineTune(
      model,
      { train, autoSplit: false },
      { kind: 'setfit', iterations: 2 },
      { learningRate: 1e-3, epochs: 1, batchSize: 8, seed: 5 },
    );
    await run.loop.run();
    await run.finish();
    const inMemory = await model.predict(texts);
    const dir = join(root, name);
    await writeFolder(dir, await model.exportFiles());
    return { dir, inMemory, labels: model.labels };
  } finally {
    model.dispose();
  }
}

describe('SetFit export', () => {
  beforeAll(async () => {
    await initNodeBackend('cpu');
  });

  it('writes a sentence-transformers folder with the head and predicts the same after reloading', async () => {
    const { dir, inMemory, labels } = await trainAndExport(fixture('golden-st/mean-normalize'), 'mean');
    expect(labels).toEqual(['animal', 'vehicle']);
    const modules = JSON.parse(readFileSync(join(dir, 'modules.json'), 'utf8'));
    expect(modules.map((m: { type: string }) => m.type.split('.').at(-1))).toEqual([
      'Transformer',
      'Pooling',
      'Normalize',
    ]);
    expect(JSON.parse(readFileSync(join(dir, '1_Pooling/config.json'), 'utf8'))).toMatchObject({
      word_embedding_dimension: 32,
      pooling_mode_mean_tokens: true,
      pooling_mode_cls_token: false,
    });
    expect(JSON.parse(readFileSync(join(dir, 'sentence_bert_config.json'), 'utf8'))).toEqual({
      max_seq_length: 12,
      do_lower_case: false,
    });
    const headJson = JSON.parse(readFileSync(join(dir, 'setfit_head.json'), 'utf8'));
    expect(headJson).toMatchObject({ labels: ['animal', 'vehicle'], C: 1, pooling: 'mean', normalize: true });
    const { tensors } = parseSafetensors(new Uint8Array(readFileSync(join(dir, 'setfit_head.safetensors'))));
    expect(tensors.get('coef')?.shape).toEqual([2, 32]);
    expect(tensors.get('intercept')?.shape).toEqual([2]);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toMatch(/SentenceTransformer\(path\)[\s\S]*load_file/);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).architectures).toEqual(['BertModel']);

    const reloaded = await loadModelFromDir(dir);
    try {
      expect(reloaded.labels).toEqual(labels);
      expect(reloaded.setfitHead).not.toBeNull();
      const again = await reloaded.predict(texts);
      again.forEach((p, i) => {
        expect(p.label).toBe(inMemory[i].label);
        p.probabilities.forEach((q, j) => expect(Math.abs(q - inMemory[i].probabilities[j])).toBeLessThan(1e-4));
      });
      // Not a constant answer: the texts get different probabilities.
      expect(Math.abs(again[0].probabilities[0] - again[2].probabilities[0])).toBeGreaterThan(1e-3);
    } finally {
      reloaded.dispose();
    }
  });

  it('gives a plain BERT folder the mean pipeline it embedded with, and CLS pooling round-trips too', async () => {
    for (const [name, pooling] of [
      ['golden-micro/model', 'mean'],
      ['golden-st/cls', 'cls'],
    ] as const) {
      const { dir, inMemory } = await trainAndExport(fixture(name), name.replace('/', '-'));
      expect(JSON.parse(readFileSync(join(dir, 'setfit_head.json'), 'utf8'))).toMatchObject({ pooling });
      const readme = readFileSync(join(dir, 'README.md'), 'utf8');
      expect(readme.includes('BertForSequenceClassification')).toBe(pooling === 'cls');
      const reloaded = await loadModelFromDir(dir);
      try {
        const again = await reloaded.predict(texts);
        again.forEach((p, i) =>
          p.probabilities.forEach((q, j) => expect(Math.abs(q - inMemory[i].probabilities[j])).toBeLessThan(1e-4)),
        );
      } finally {
        reloaded.dispose();
      }
    }
  });

  it('refuses a missing, malformed or mismatched head file by name', async () => {
    const { dir } = await trainAndExport(fixture('golden-st/mean-normalize'), 'broken');
    const headJson = readFileSync(join(dir, 'setfit_head.json'), 'utf8');
    const headWeights = readFileSync(join(dir, 'setfit_head.safetensors'));
    const modulesJson = readFileSync(join(dir, 'modules.json'), 'utf8');
    const restore = () => {
      writeFileSync(join(dir, 'setfit_head.json'), headJson);
      writeFileSync(join(dir, 'setfit_head.safetensors'), headWeights);
      writeFileSync(join(dir, 'modules.json'), modulesJson);
    };
    const cases: [string, () => void, RegExp][] = [
      [
        'bad JSON',
        () => writeFileSync(join(dir, 'setfit_head.json'), '{"labels": ['),
        /setfit_head\.json is not valid JSON/,
      ],
      [
        'three labels for a two-row coef',
        () =>
          writeFileSync(
            join(dir, 'setfit_head.json'),
            JSON.stringify({ ...JSON.parse(headJson), labels: ['a', 'b', 'c'] }),
          ),
        /setfit_head\.safetensors: "coef" must have shape \[3, 32\]/,
      ],
      [
        'pooling mismatch',
        () => writeFileSync(join(dir, 'setfit_head.json'), JSON.stringify({ ...JSON.parse(headJson), pooling: 'cls' })),
        /setfit_head\.json: the head was fitted on cls pooling/,
      ],
      ['missing weights', () => rmSync(join(dir, 'setfit_head.safetensors')), /setfit_head\.safetensors: is missing/],
      [
        'truncated weights',
        () => writeFileSync(join(dir, 'setfit_head.safetensors'), headWeights.subarray(0, 20)),
        /setfit_head\.safetensors/,
      ],
      ['no pipeline', () => rmSync(join(dir, 'modules.json')), /setfit_head\.json: the folder has no modules\.json/],
    ];
    for (const [what, breakIt, message] of cases) {
      breakIt();
      await expect(loadModelFromDir(dir), what).rejects.toThrow(message);
      restore();
    }
    // Restored, it loads again; without both head files it is a plain sentence-transformers model.
    (await loadModelFromDir(dir)).dispose();
    rmSync(join(dir, 'setfit_head.json'));
    rmSync(join(dir, 'setfit_head.safetensors'));
    const plain = await loadModelFromDir(dir);
    expect(plain.setfitHead).toBeNull();
    plain.dispose();
  });
});
