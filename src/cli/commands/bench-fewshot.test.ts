import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../main';
import { reviewsCsv } from '../../../tests/support/toy-data';
import type { CliIO } from '../context';
import { meanStd, sampleFewShot } from '../../engine/studio';

/** 20 rows of each label from the real SST-2 train and test files (see tests/fixtures/README.md). */
const SST2 = 'tests/fixtures/datasets/sst2';

/** A temp "sst2" folder with the first rows of each label from the real files. */
function tinySst2(perLabel: number): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'bench-fewshot-')), 'sst2');
  mkdirSync(dir);
  for (const file of ['train.csv', 'test.csv']) {
    const [header, ...lines] = readFileSync(join(SST2, file), 'utf8').trim().split(/\r?\n/);
    const pick = (label: string) => lines.filter((l) => l.endsWith(`,${label}`)).slice(0, perLabel);
    writeFileSync(join(dir, file), [header, ...pick('positive'), ...pick('negative')].join('\n') + '\n');
  }
  return dir;
}

describe('bench-fewshot', () => {
  it('samples K per class for train and dev, disjoint and seeded', () => {
    const rows = Array.from({ length: 20 }, (_, i) => ({ text: `t${i}`, label: i % 2 ? 'a' : 'b' }));
    const s = sampleFewShot(rows, 3, 1);
    expect(s.train).toHaveLength(6);
    expect(s.dev).toHaveLength(6);
    expect(s.train.filter((r) => r.label === 'a')).toHaveLength(3);
    expect(new Set([...s.train, ...s.dev].map((r) => r.text)).size).toBe(12);
    expect(sampleFewShot(rows, 3, 1)).toEqual(s);
    expect(sampleFewShot(rows, 3, 2)).not.toEqual(s);
    expect(() => sampleFewShot(rows, 6, 1)).toThrow(/K=6 needs 12/);
    expect(meanStd([1, 3])).toEqual({ mean: 2, std: Math.SQRT2 });
  });

  it('runs all three methods end to end on a tiny SST-2 slice and writes JSON', async () => {
    const dir = tinySst2(6);
    const out = join(dir, 'bench.json');
    let stdout = '';
    let stderr = '';
    const io: CliIO = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), stderrIsTTY: false };
    const code = await main(
      [
        'bench-fewshot',
        '--data',
        dir,
        '--k',
        '2',
        '--seeds',
        '2',
        '--methods',
        'zeroshot,prompt,head',
        '--model',
        'public/models/micro-random',
        '--max-test',
        '8',
        '--epochs',
        '2',
        '--max-len',
        '32',
        '--out',
        out,
      ],
      io,
    );
    expect(stderr).not.toMatch(/Error/);
    expect(code).toBe(0);
    expect(stdout).toMatch(/zeroshot\s+\d+\.\d ± \d+\.\d/);
    expect(stdout).toMatch(/prompt\s+/);
    expect(stdout).toMatch(/head\s+/);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report).toMatchObject({ dataset: 'sst2', k: 2, seeds: 2, testRows: 8, template: '{text} It was [MASK].' });
    expect(report.runs).toHaveLength(6);
    for (const s of report.summary) {
      expect(s.runs).toBe(2);
      expect(s.accuracy.mean).toBeGreaterThanOrEqual(0);
      expect(s.accuracy.mean).toBeLessThanOrEqual(1);
    }
  }, 30_000);

  it('runs SetFit (opt-in) and records the plan the engine chose', async () => {
    const dir = tinySst2(4);
    const out = join(dir, 'setfit.json');
    let stdout = '';
    let stderr = '';
    const io: CliIO = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), stderrIsTTY: false };
    const code = await main(
      [
        'bench-fewshot',
        '--data',
        dir,
        '--k',
        '2',
        '--seeds',
        '1',
        '--first-seed',
        '3',
        '--methods',
        'setfit',
        '--model',
        'public/models/micro-random',
        '--max-test',
        '8',
        '--epochs',
        '1',
        '--max-len',
        '32',
        '--out',
        out,
      ],
      io,
    );
    expect(stderr).not.toMatch(/Error/);
    expect(code).toBe(0);
    expect(stdout).toMatch(/setfit\s+\d+\.\d ± \d+\.\d/);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    // No prompt is needed (or validated) for SetFit alone.
    expect(report).toMatchObject({ k: 2, seeds: 1, firstSeed: 3, testRows: 8, template: null });
    expect(report.runs).toHaveLength(1);
    const [run] = report.runs;
    expect(run).toMatchObject({ method: 'setfit', seed: 3, plan: { epochs: 1, setfit: { iterations: 20, C: 1 } } });
    // K=2 × 2 classes, R=20: one positive and one negative pair per example per round.
    expect(run.plan.setfit.pairs).toBe(160);
    expect(run.accuracy).toBeGreaterThanOrEqual(0);
    expect(run.accuracy).toBeLessThanOrEqual(1);
  }, 30_000);

  it('runs head without a prompt when the labels have no label words', async () => {
    // banking77-like: no built-in recipe, and no word of these label names is in the vocabulary.
    const dir = join(mkdtempSync(join(tmpdir(), 'bench-fewshot-')), 'intents');
    mkdirSync(dir);
    const rows = (n: number) =>
      ['text,label', ...Array.from({ length: n }, (_, i) => `message ${i},${i % 2 ? 'qzxq_vvq' : 'xqjz_kkq'}`)].join(
        '\n',
      ) + '\n';
    writeFileSync(join(dir, 'train.csv'), rows(8));
    writeFileSync(join(dir, 'test.csv'), rows(4));
    const run = async (methods: string) => {
      let stderr = '';
      const io: CliIO = { stdout: () => undefined, stderr: (t) => (stderr += t), stderrIsTTY: false };
      const argv = ['bench-fewshot', '--data', dir, '--k', '2', '--seeds', '1', '--methods', methods];
      const more = ['--model', 'public/models/micro-random', '--epochs', '1', '--max-len', '16'];
      return { code: await main([...argv, ...more], io), stderr };
    };
    expect(await run('zeroshot')).toMatchObject({ code: 1, stderr: expect.stringMatching(/VERBALIZER_NO_WORD/) });
    expect(await run('head')).toMatchObject({ code: 0, stderr: expect.not.stringMatching(/Error/) });
  }, 30_000);

  it('reports bad prompts and methods with actionable errors', async () => {
    const dir = tinySst2(4);
    let stderr = '';
    const io: CliIO = { stdout: () => undefined, stderr: (t) => (stderr += t), stderrIsTTY: false };
    expect(await main(['bench-fewshot', '--data', dir, '--methods', 'zeroshot,magic'], io)).toBe(2);
    expect(stderr).toMatch(/--methods takes zeroshot, prompt, head, setfit/);
    stderr = '';
    expect(
      await main(
        [
          'bench-fewshot',
          '--data',
          dir,
          '--k',
          '2',
          '--model',
          'tests/fixtures/golden-micro/model',
          '--verbalizer',
          '{"positive":"grate","negative":"bad"}',
        ],
        io,
      ),
    ).toBe(1);
    expect(stderr).toMatch(/"grate".*Close vocabulary entries: .*great.*VERBALIZER_WORD_NOT_IN_VOCAB/);
  });
});

describe('a given verbalizer with the built-in template', () => {
  // Label names with no vocabulary word (as banking77's "top_up_limits" has none free): the
  // label-name fallback cannot make words for them, so only a given verbalizer lets the run start.
  const labelsCsv = () => reviewsCsv().replaceAll(',positive', ',zzqx_qqzy').replaceAll(',negative', ',qqzy_zzqx');
  const verbalizer = '{"zzqx_qqzy":["great"],"qqzy_zzqx":["terrible"]}';
  const GOLDEN = 'tests/fixtures/golden-micro/model';

  it('bench-fewshot and zero-shot take --verbalizer alone; without it the error names the label', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'given-verbalizer-')), 'intents');
    mkdirSync(dir);
    for (const file of ['train.csv', 'test.csv']) writeFileSync(join(dir, file), labelsCsv());
    const run = async (argv: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), stderrIsTTY: false });
      return { code, stdout, stderr };
    };
    const bench = ['bench-fewshot', '--data', dir, '--k', '2', '--seeds', '1', '--methods', 'zeroshot'];
    const out = join(dir, 'bench.json');
    const given = await run([...bench, '--model', GOLDEN, '--max-test', '4', '--verbalizer', verbalizer, '--out', out]);
    expect(given.stderr).not.toMatch(/VERBALIZER_NO_WORD/);
    expect(given.code).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    // The intent recipe's template (no recipe knows these labels), with the given words.
    expect(report.template).toBe('{text} This is about [MASK].');
    expect(report.verbalizer).toEqual(JSON.parse(verbalizer));
    const missing = await run([...bench, '--model', GOLDEN, '--max-test', '4']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/"qqzy_zzqx".*--verbalizer.*VERBALIZER_NO_WORD/);

    const zero = await run([
      'zero-shot',
      '--model',
      GOLDEN,
      '--data',
      join(dir, 'test.csv'),
      '--verbalizer',
      verbalizer,
      '--json',
    ]);
    expect(zero.stderr).not.toMatch(/VERBALIZER_NO_WORD/);
    expect(zero.code).toBe(0);
    expect(JSON.parse(zero.stdout)).toMatchObject({ template: '{text} This is about [MASK].', n: 20 });
  }, 30_000);
});

describe('zero-shot command', () => {
  const GOLDEN = 'tests/fixtures/golden-micro/model';
  const run = async (argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), stderrIsTTY: false });
    return { code, stdout, stderr };
  };

  it('classifies texts, scores labeled data, suggests words and ranks prompts', async () => {
    const v = '{"positive":["great"],"negative":["terrible"]}';
    const texts = await run([
      'zero-shot',
      '--model',
      GOLDEN,
      '--template',
      '{text} it was [MASK] .',
      '--verbalizer',
      v,
      '--text',
      'the movie was good',
      '--json',
    ]);
    expect(texts.code).toBe(0);
    const p = JSON.parse(texts.stdout).predictions[0];
    expect(p.probabilities.positive + p.probabilities.negative).toBeCloseTo(1, 5);
    const dir = mkdtempSync(join(tmpdir(), 'zero-shot-'));
    const data = join(dir, 'reviews.csv');
    writeFileSync(data, reviewsCsv());
    const scored = await run(['zero-shot', '--model', GOLDEN, '--data', data, '--json']);
    expect(scored.code).toBe(0);
    expect(JSON.parse(scored.stdout)).toMatchObject({ template: '{text} It was [MASK].', n: 20 });
    const suggested = await run(['zero-shot', '--model', GOLDEN, '--data', data, '--suggest', '3', '--json']);
    expect(JSON.parse(suggested.stdout).suggestions.positive).toHaveLength(3);
    const searched = await run(['zero-shot', '--model', GOLDEN, '--data', data, '--search', '--json']);
    expect(JSON.parse(searched.stdout).length).toBeGreaterThan(3);
    const noMask = await run([
      'zero-shot',
      '--model',
      GOLDEN,
      '--template',
      '{text} it was good',
      '--verbalizer',
      v,
      '--text',
      'x',
    ]);
    expect(noMask.code).toBe(1);
    expect(noMask.stderr).toMatch(/PROMPT_NO_MASK/);
  });
});
