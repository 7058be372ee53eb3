/**
 * `fewshot train --backend webgpu` (Dawn's Node bindings; docs/ARCHITECTURE.md, "Backends") trains
 * like `--backend wasm`. Skipped with the reason when the `webgpu` package or an adapter is
 * missing; CI installs both (.ci/run), so under CI=true a missing one fails instead. The engine
 * side (adapter, golden forward pass) is src/engine/tf/node-webgpu.test.ts.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toyCsv } from '../../../tests/support/toy-data';
import { memoryLimitsFromAdapter } from '../../engine/studio';
import { nodeBackendReport, openNodeWebGpu } from '../../engine/studio/node';
import { parseArgs } from '../args';
import { COMMON_FLAGS, setupBackend } from '../context';
import { runCli, trainLogLosses } from '../test-support';

const GOLDEN_DIR = 'tests/fixtures/golden-micro/model';

const opened = await openNodeWebGpu();
const unavailable = opened.ok ? null : opened.reason;
if (unavailable && !process.env.CI) console.warn(`skipping fewshot --backend webgpu: ${unavailable}`);

describe.skipIf(unavailable !== null && !process.env.CI)('fewshot --backend webgpu', () => {
  it('sets up WebGPU with the adapter in the label and its limits for the memory plan', async () => {
    expect(unavailable).toBeNull();
    const backend = await setupBackend(parseArgs(['--backend', 'webgpu'], COMMON_FLAGS));
    const report = nodeBackendReport()!;
    expect(backend.name).toBe('webgpu');
    expect(backend.label).toBe(report.label);
    expect(backend.label).toMatch(/^webgpu \(.+\)$/);
    expect(backend.memoryLimits).not.toBeNull();
    expect(backend.memoryLimits).toEqual(memoryLimitsFromAdapter(report.limits));
  });

  it('train gives the losses of --backend wasm within 1e-3 over 10 steps; predict and eval run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fewshot-train-webgpu-'));
    writeFileSync(join(dir, 'train.csv'), toyCsv(48, 5));
    // Dropout stays on (the golden model's own rates): our kernels make each mask on the GPU from its
    // seed and the stock ops make the same one in JavaScript (docs/ARCHITECTURE.md, "Own kernels"), so
    // the runs below see the same masks on every backend and kernel setting.
    const model = GOLDEN_DIR;
    const train = (backend: string, out = backend, from = model, kernels = 'fused') =>
      runCli([
        'train',
        ...['--model', from, '--train', join(dir, 'train.csv'), '--out', join(dir, out)],
        ...['--batch-size', '4', '--epochs', '1', '--seed', '3', '--backend', backend, '--kernels', kernels],
      ]);
    const gpu = await train('webgpu');
    expect(gpu.code, gpu.stderr).toBe(0);
    expect(gpu.stderr).toMatch(/backend webgpu \(.+\), epochs/);
    // The stock ops (--kernels stock) against our kernels (the default) on the same backend.
    const stockRun = await train('webgpu', 'stock', model, 'stock');
    expect(stockRun.code, stockRun.stderr).toBe(0);
    const fusedLosses = trainLogLosses(join(dir, 'webgpu'));
    trainLogLosses(join(dir, 'stock')).forEach((l, i) =>
      expect(Math.abs(l.loss! - fusedLosses[i].loss!), `stock vs fused, step ${l.step}`).toBeLessThan(1e-4),
    );
    // Dropout was on: the same run without it (every rate 0, on wasm) has other losses.
    const noDropout = join(dir, 'model-no-dropout');
    cpSync(GOLDEN_DIR, noDropout, { recursive: true });
    const config = JSON.parse(readFileSync(join(noDropout, 'config.json'), 'utf8')) as Record<string, unknown>;
    Object.assign(config, { hidden_dropout_prob: 0, attention_probs_dropout_prob: 0, classifier_dropout: 0 });
    writeFileSync(join(noDropout, 'config.json'), JSON.stringify(config));
    const plain = await train('wasm', 'no-dropout', noDropout);
    expect(plain.code, plain.stderr).toBe(0);
    const plainLosses = trainLogLosses(join(dir, 'no-dropout'));
    expect(plainLosses.some((l, i) => Math.abs(l.loss! - fusedLosses[i].loss!) > 1e-3)).toBe(true);
    const refused = await runCli(['info', '--model', GOLDEN_DIR, '--kernels', 'fast']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/--kernels must be one of fused, stock, got "fast"/);
    const wasm = await train('wasm');
    expect(wasm.code, wasm.stderr).toBe(0);
    const a = trainLogLosses(join(dir, 'webgpu'));
    const b = trainLogLosses(join(dir, 'wasm'));
    expect(a.length).toBeGreaterThanOrEqual(10);
    for (let i = 0; i < 10; i++) {
      expect(a[i].step).toBe(b[i].step);
      expect(Math.abs(a[i].loss! - b[i].loss!), `step ${a[i].step}`).toBeLessThan(1e-3);
    }

    // The trained model predicts and evaluates on webgpu as on wasm.
    const probabilities = async (backend: string) => {
      const r = await runCli([
        'predict',
        '--model',
        join(dir, 'wasm'),
        '--input',
        join(dir, 'train.csv'),
        '--backend',
        backend,
      ]);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { probabilities: Record<string, number> }).probabilities);
    };
    const onGpu = await probabilities('webgpu');
    const onWasm = await probabilities('wasm');
    expect(onGpu).toHaveLength(48);
    onGpu.forEach((p, i) => expect(Math.abs(p.pos - onWasm[i].pos), `row ${i}`).toBeLessThan(1e-4));
    const evaluated = await runCli([
      'eval',
      '--model',
      join(dir, 'webgpu'),
      '--data',
      join(dir, 'train.csv'),
      '--backend',
      'webgpu',
      '--json',
    ]);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(JSON.parse(evaluated.stdout)).toMatchObject({ n: 48 });
  }, 600_000);
});
