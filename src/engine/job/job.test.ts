import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Example } from '../data/dataset';
import { applyColumnMapping } from '../data/detect';
import { parseDatasetFile } from '../data/parse';
import { EngineError } from '../errors';
import { planFineTune, type FineTunePlan } from '../studio/fine-tune';
import { loadModelFromDir, writeJobFolder } from '../studio/node';
import { initNodeBackend } from '../tf/node';
import { jobBundleFiles, rowsToCsv } from './bundle';
import { JOB_VERSION, STUDIO_VERSION, makeJobSpec, parseJobSpec, type JobSpec } from './spec';
import { TRAIN_PY } from './train-py';

const GOLDEN_DIR = 'tests/fixtures/golden-micro/model';

beforeAll(async () => {
  await initNodeBackend('wasm');
});

/** Rows that a careless CSV writer gets wrong: quotes, commas, line breaks, formulas, edge spaces. */
const awkward: Example[] = [
  { text: 'the cat sat, on the mat', label: 'pos' },
  { text: 'a "quoted" dog', label: 'neg' },
  { text: 'line one\nline two', label: 'pos' },
  { text: '=SUM(A1) is not a formula here', label: 'neg' },
  { text: '  spaces around  ', label: 'pos' },
  { text: 'café — naïve 日本語', label: 'neg' },
  { text: '+1 -1 @user', label: 'pos' },
  { text: 'crlf\r\ninside', label: 'neg' },
];

function parseCsv(text: string, pair: boolean): Example[] {
  const parsed = parseDatasetFile(new TextEncoder().encode(text), 'rows.csv');
  return applyColumnMapping(parsed, { text: 'text', textPair: pair ? 'text_pair' : null, label: 'label' }).map((r) => ({
    text: r.text,
    label: r.label,
    ...(pair ? { textPair: r.textPair } : {}),
  }));
}

/** The run's plan on the golden micro model, 40 balanced rows (8 dev rows after the split). */
async function goldenPlan(method: 'head' | 'prompt' = 'head'): Promise<FineTunePlan> {
  const model = await loadModelFromDir(GOLDEN_DIR);
  const train = Array.from({ length: 40 }, (_, i) => ({
    text: `${i % 2 ? 'i loved the movie' : 'i hated the film'} ${i} ${awkward[i % awkward.length].text}`,
    label: i % 2 ? 'positive' : 'negative',
  }));
  const spec: Parameters<typeof planFineTune>[2] =
    method === 'head'
      ? { kind: 'head' }
      : { kind: 'prompt', template: '{text} it was [MASK] .', verbalizer: { positive: ['good'], negative: ['bad'] } };
  const plan = planFineTune(model, { train }, spec, { seed: 7, epochs: 2 });
  model.dispose();
  return plan;
}

const included = { source: 'included', path: 'model', bytes: 123, name: 'golden', origin: 'a test folder' } as const;

describe('training job CSV', () => {
  it('writes rows that our parser reads back exactly, in order', () => {
    expect(parseCsv(rowsToCsv(awkward, false), false)).toEqual(awkward);
  });

  it('keeps the second text of sentence pairs', () => {
    const pairs = awkward.map((r, i) => ({ ...r, textPair: `second, "${i}"\nline` }));
    expect(parseCsv(rowsToCsv(pairs, true), true).map((r) => r.textPair)).toEqual(pairs.map((r) => r.textPair));
  });
});

describe('job.json', () => {
  it('holds the plan: method, labels, the split and every resolved setting', async () => {
    const plan = await goldenPlan('prompt');
    const spec = makeJobSpec({
      plan,
      model: included,
      createdBy: 'test',
      run: { id: 'r1', losses: [], bestDevAccuracy: 0.5 },
    });
    expect(spec).toMatchObject({
      version: JOB_VERSION,
      method: 'prompt',
      prompt: { template: '{text} it was [MASK] .', verbalizer: { positive: ['good'], negative: ['bad'] } },
      labels: plan.labels,
      data: { trainRows: plan.trainCount, devRows: plan.devCount, textPair: false },
      maxLength: plan.maxLength,
      textMaxLength: plan.settings.maxLength,
      epochs: 2,
      batchSize: plan.batchSize,
      learningRate: plan.learningRate,
      seed: 7,
      warmupRatio: plan.settings.warmupRatio,
      weightDecay: plan.settings.weightDecay,
      maxGradNorm: plan.settings.maxGradNorm,
      keepBestCheckpoint: false, // 8 dev rows: the last weights are kept, as in the run
    });
  });

  it('round-trips through parseJobSpec', async () => {
    const spec = makeJobSpec({
      plan: await goldenPlan(),
      model: { source: 'hub', repo: 'org/bert', revision: 'a'.repeat(40), name: 'bert' },
      createdBy: 'test',
      run: { id: null, losses: [{ step: 1, loss: 0.69 }], bestDevAccuracy: null },
    });
    expect(parseJobSpec(JSON.stringify(spec))).toEqual(spec);
  });

  it('refuses a newer version, naming the version found', async () => {
    const spec = makeJobSpec({ plan: await goldenPlan(), model: included, createdBy: 'test' });
    const newer = JSON.stringify({ ...spec, version: JOB_VERSION + 1 });
    expect(() => parseJobSpec(newer, 'x/job.json')).toThrow(
      expect.objectContaining({
        code: 'JOB_NEWER_VERSION',
        message: expect.stringContaining(`version ${JOB_VERSION + 1}`),
      }),
    );
  });

  it('names the field that is wrong, and never reads outside the bundle', async () => {
    const spec = makeJobSpec({ plan: await goldenPlan(), model: included, createdBy: 'test' });
    const broken = (patch: Record<string, unknown>) => () => parseJobSpec(JSON.stringify({ ...spec, ...patch }));
    expect(broken({ learningRate: 'fast' })).toThrow(/"learningRate" must be a number/);
    expect(broken({ labels: ['only'] })).toThrow(/"labels"/);
    expect(broken({ data: { ...spec.data, train: '../../etc/passwd' } })).toThrow(/"data.train" must be a path inside/);
    expect(broken({ model: { ...included, path: '/abs' } })).toThrow(/"model.path"/);
    expect(broken({ format: 'other' })).toThrow(EngineError);
    expect(() => parseJobSpec('{not json', 'j.json')).toThrow(/j.json is not valid JSON/);
  });

  it('says which FewShot Studio wrote it (the version in package.json)', () => {
    expect(STUDIO_VERSION).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  });
});

describe('training bundle', () => {
  it("has the run's split row for row, the script, the requirements and the weights", async () => {
    const plan = await goldenPlan();
    const modelFiles = new Map([
      ['config.json', new TextEncoder().encode('{}')],
      ['model.safetensors', new Uint8Array(3)],
    ]);
    const spec = makeJobSpec({ plan, model: { ...included, bytes: 5 }, createdBy: 'test' });
    const files = jobBundleFiles({ spec, train: plan.trainExamples, dev: plan.devExamples, modelFiles });
    const text = (name: string) => new TextDecoder().decode(files.get(name));
    const strip = (rows: readonly Example[]) => rows.map((r) => ({ text: r.text, label: r.label }));
    expect(parseCsv(text('data/train.csv'), false)).toEqual(strip(plan.trainExamples));
    expect(parseCsv(text('data/dev.csv'), false)).toEqual(strip(plan.devExamples));
    expect(plan.trainExamples.length + plan.devExamples.length).toBe(40);
    expect(text('train.py')).toBe(TRAIN_PY);
    expect(text('requirements.txt')).toMatch(/^transformers>=/m);
    expect(parseJobSpec(text('job.json'))).toEqual(spec);
    expect([...files.keys()]).toEqual(
      expect.arrayContaining(['model/config.json', 'model/model.safetensors', 'README.md']),
    );
    for (const way of ['python train.py', 'torchrun --nproc_per_node', 'accelerate launch'])
      expect(text('README.md')).toContain(way);
  });

  it('refuses included weights without the files', async () => {
    const plan = await goldenPlan();
    const spec = makeJobSpec({ plan, model: included, createdBy: 'test' });
    expect(() => jobBundleFiles({ spec, train: plan.trainExamples, dev: plan.devExamples })).toThrow(EngineError);
  });
});

/**
 * train.py is checked with the machine's Python: it must compile, and --dry-run (which imports
 * neither torch nor transformers, absent here) must print the plan our trainer makes. CI installs
 * python3 (.ci/run), so there a missing interpreter fails instead of skipping.
 */
const python = spawnSync('python3', ['--version']).status === 0 ? 'python3' : null;
describe.skipIf(python === null && !process.env.CI)('train.py', () => {
  async function writeBundle(patch: Partial<JobSpec> = {}): Promise<{ dir: string; plan: FineTunePlan }> {
    const plan = await goldenPlan('prompt');
    const dir = join(mkdtempSync(join(tmpdir(), 'fewshot-job-')), 'bundle');
    const spec = { ...makeJobSpec({ plan, model: included, createdBy: 'test' }), ...patch };
    const files = jobBundleFiles({
      spec,
      train: plan.trainExamples,
      dev: plan.devExamples,
      modelFiles: new Map([['config.json', new TextEncoder().encode('{}')]]),
    });
    await writeJobFolder(dir, files);
    return { dir, plan };
  }
  const runPy = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(python ?? 'python3', args, { encoding: 'utf8', env: { ...process.env, ...env } });

  it('compiles', async () => {
    const { dir } = await writeBundle();
    const result = runPy(['-m', 'py_compile', join(dir, 'train.py')]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('--dry-run prints the plan our trainer made, without torch or transformers', async () => {
    const { dir, plan } = await writeBundle();
    // -I: isolated from user site-packages, so an installed torch could not hide an import.
    const result = runPy(['-I', join(dir, 'train.py'), '--dry-run']);
    expect(result.status, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout);
    expect(printed).toMatchObject({
      method: 'prompt',
      labels: plan.labels,
      trainRows: plan.trainCount,
      devRows: plan.devCount,
      perDeviceBatchSize: plan.batchSize,
      stepsPerEpoch: plan.stepsPerEpoch,
      totalSteps: plan.totalSteps,
      warmupSteps: Math.ceil(plan.totalSteps * plan.settings.warmupRatio),
      maxLength: plan.maxLength,
      keepBestCheckpoint: false,
    });
    expect(printed.model).toContain('included in the bundle');
  });

  it('keeps the global batch across processes (torchrun sets WORLD_SIZE)', async () => {
    const { dir } = await writeBundle({ batchSize: 8 });
    const printed = JSON.parse(runPy([join(dir, 'train.py'), '--dry-run'], { WORLD_SIZE: '2' }).stdout);
    expect(printed).toMatchObject({ processes: 2, perDeviceBatchSize: 4, effectiveBatchSize: 8 });
  });

  it('refuses a newer job version and a training row with an unknown label, saying where', async () => {
    const { dir } = await writeBundle();
    const spec = JSON.parse(readFileSync(join(dir, 'job.json'), 'utf8'));
    writeFileSync(join(dir, 'job.json'), JSON.stringify({ ...spec, version: 99 }));
    const newer = runPy([join(dir, 'train.py'), '--dry-run']);
    expect(newer.status).toBe(2);
    expect(newer.stderr).toContain('version 99');

    writeFileSync(join(dir, 'job.json'), JSON.stringify(spec));
    writeFileSync(join(dir, 'more.csv'), 'text,label\ni loved it,positive\nmeh,neutral\n');
    const unknown = runPy([join(dir, 'train.py'), '--dry-run', '--train-file', join(dir, 'more.csv')]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/more\.csv row 3: label 'neutral' is not one of the job's labels/);
  });
});
