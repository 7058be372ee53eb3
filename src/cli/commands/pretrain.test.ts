/**
 * `fewshot pretrain` end to end on a tiny corpus: checkpoint, log, summary and a model folder that
 * loads; a resume with other options is refused naming the option; a diverged run exits 1 and
 * leaves the last good checkpoint as it was.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GOLDEN_VOCAB, syntheticLines } from '../../engine/pretrain/test-support';
import { deserializeLoopState } from '../../engine/train/loop-state';
import { runCli } from '../test-support';

describe('fewshot pretrain', () => {
  it('pretrains from a preset, resumes only with the same options, and never saves a diverged run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fewshot-pretrain-'));
    const corpus = join(dir, 'corpus.txt');
    writeFileSync(corpus, `${syntheticLines(300, 1).join('\n')}\n`);
    const out = join(dir, 'out');
    const common = ['--corpus', corpus, '--out', out, '--preset', 'micro', '--vocab', GOLDEN_VOCAB];
    const options = ['--steps', '4', '--max-len', '32', '--batch-size', '4', '--held-out', '4', '--eval-every', '2'];
    const first = await runCli(['pretrain', ...common, ...options, '--checkpoint-every-steps', '2', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const summary = JSON.parse(first.stdout);
    expect(summary).toMatchObject({ steps: 4, finished: true });
    expect(summary.heldOut.count).toBeGreaterThan(0);
    for (const file of ['checkpoint.safetensors', 'pretrain_log.jsonl', 'config.json', 'model.safetensors'])
      expect(existsSync(join(out, file)), file).toBe(true);
    const log = readFileSync(join(out, 'pretrain_log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(log.filter((l) => 'loss' in l).map((l) => l.step)).toEqual([1, 2, 3, 4]);
    const filled = await runCli(['fill-mask', '--model', out, '--json', 'the cat [MASK] on the mat .']);
    expect(filled.code, filled.stderr).toBe(0);

    const checkpoint = readFileSync(join(out, 'checkpoint.safetensors'));
    const other = await runCli(['pretrain', ...common, ...options, '--lr', '5e-3', '--resume']);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/PRETRAIN_CONFIG_MISMATCH/);
    expect(other.stderr).toMatch(/learningRate: checkpoint 0\.001, now 0\.005/);

    const diverging = join(dir, 'diverging');
    const blown = await runCli([
      'pretrain',
      '--corpus',
      corpus,
      '--out',
      diverging,
      '--preset',
      'micro',
      '--vocab',
      GOLDEN_VOCAB,
      ...options,
      '--lr',
      // Past float32's range: the update itself makes the weights infinite before any loss shows it.
      '1e39',
      '--checkpoint-every-steps',
      '1',
    ]);
    expect(blown.code).toBe(1);
    expect(blown.stderr).toMatch(/the loss became (NaN|infinite)/);
    expect(existsSync(join(diverging, 'model.safetensors'))).toBe(false);
    // Any checkpoint it left holds finite weights only (states with non-finite weights are never saved).
    if (existsSync(join(diverging, 'checkpoint.safetensors'))) {
      const state = deserializeLoopState(new Uint8Array(readFileSync(join(diverging, 'checkpoint.safetensors'))));
      for (const [name, t] of state.tensors) expect(t.data.every(Number.isFinite), name).toBe(true);
    }
    // The first run's checkpoint was never touched by the refused resume.
    expect(readFileSync(join(out, 'checkpoint.safetensors')).equals(checkpoint)).toBe(true);
  }, 120_000);
});
