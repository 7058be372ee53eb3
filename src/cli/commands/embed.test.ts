/**
 * `fewshot embed` and `fewshot info` on sentence-transformers folders (docs/ARCHITECTURE.md, "Sentence-transformers
 * folders"): the folder's pooling, checked against the PyTorch golden embeddings, and the refusal of a pipeline
 * we cannot run.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../test-support';

const ST_DIR = 'tests/fixtures/golden-st';
const golden = JSON.parse(readFileSync(join(ST_DIR, 'golden.json'), 'utf8')) as {
  texts: string[];
  variants: Record<string, { dir: string; embeddings: { shape: number[]; data: number[] } }>;
};

describe('fewshot embed on sentence-transformers folders', () => {
  it.each(Object.keys(golden.variants))('%s: the folder’s pooling, as PyTorch computes it', async (name) => {
    const variant = golden.variants[name];
    const texts = golden.texts.flatMap((t) => ['--text', t]);
    const { code, stdout } = await runCli([
      'embed',
      '--model',
      join(ST_DIR, variant.dir),
      '--backend',
      'cpu',
      ...texts,
    ]);
    expect(code).toBe(0);
    const rows = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { text: string; embedding: number[] });
    expect(rows.map((r) => r.text)).toEqual(golden.texts);
    const H = variant.embeddings.shape[1];
    rows.forEach((row, i) =>
      row.embedding.forEach((x, j) => expect(Math.abs(x - variant.embeddings.data[i * H + j])).toBeLessThan(1e-5)),
    );
  });

  it('info shows the pooling', async () => {
    const { code, stdout } = await runCli(['info', '--model', join(ST_DIR, 'mean-normalize')]);
    expect(code).toBe(0);
    expect(stdout).toContain('sentence-transformers: mean pooling, normalized, max 12 tokens');
    const plain = await runCli(['info', '--model', 'tests/fixtures/golden-micro/model']);
    expect(plain.stdout).not.toContain('sentence-transformers');
  });

  it('refuses a folder with a Dense module, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fewshot-st-'));
    cpSync(join(ST_DIR, 'cls'), dir, { recursive: true });
    const modules = JSON.parse(readFileSync(join(dir, 'modules.json'), 'utf8')) as unknown[];
    modules.push({ idx: 2, name: '2', path: '2_Dense', type: 'sentence_transformers.models.Dense' });
    writeFileSync(join(dir, 'modules.json'), JSON.stringify(modules));
    const { code, stdout, stderr } = await runCli(['embed', '--model', dir, '--text', 'good']);
    expect(code).not.toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toContain('Dense');
  });
});
