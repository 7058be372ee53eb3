/**
 * Engine parity on WebGPU in headless Chromium: the golden PyTorch fixtures (forward, loss,
 * gradients, the first 10 AdamW losses) and a micro model overfitting 32 examples.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';

const golden = JSON.parse(readFileSync('tests/fixtures/golden-micro/golden.json', 'utf8'));
const configJson = JSON.parse(readFileSync('tests/fixtures/golden-micro/model/config.json', 'utf8'));
const safetensorsBase64 = readFileSync('tests/fixtures/golden-micro/model/model.safetensors').toString('base64');

function maxAbsDiff(actual: number[], expected: { shape: number[]; data: number[] }): number {
  expect(actual).toHaveLength(expected.data.length);
  return Math.max(...actual.map((a, i) => Math.abs(a - expected.data[i])));
}

async function openHarness(page: Page) {
  await page.goto('/e2e/harness/index.html');
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
  const report = await page.evaluate(
    (flags) => window.__harness!.init(null, flags),
    JSON.parse(process.env.HARNESS_FLAGS ?? '{}'),
  );
  expect(report.backend).toBe('webgpu');
}

test('golden forward, loss and gradients match PyTorch on WebGPU', async ({ page }) => {
  await openHarness(page);
  const names = Object.keys(golden.grads);
  const result = await page.evaluate(
    ({ configJson, safetensorsBase64, batch, names }) =>
      window.__harness!.goldenForward(configJson, safetensorsBase64, batch, names),
    { configJson, safetensorsBase64, batch: golden.inputs, names },
  );
  expect(result.backend).toBe('webgpu');
  const forward = {
    hidden: maxAbsDiff(result.hidden, golden.last_hidden_state),
    pooled: maxAbsDiff(result.pooled, golden.pooled_output),
    logits: maxAbsDiff(result.logits, golden.classifier_logits),
    mlm: maxAbsDiff(result.mlm, golden.mlm_logits),
    mean: maxAbsDiff(result.mean, golden.mean_pooled),
  };
  const backward: Record<string, number> = { loss: Math.abs(result.loss - golden.loss) };
  for (const name of names) backward[name] = maxAbsDiff(result.gradients[name], golden.grads[name]);
  for (const [name, diff] of Object.entries(forward))
    expect(diff, `${name} (all: ${JSON.stringify(forward)})`).toBeLessThan(1e-4);
  for (const [name, diff] of Object.entries(backward))
    expect(diff, `${name} (all: ${JSON.stringify(backward)})`).toBeLessThan(1e-3);
});

/** A fixture folder's files by their path inside it, as base64 (for the harness page). */
function folderBase64(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(join(dir, prefix))) {
    const rel = prefix ? `${prefix}/${entry}` : entry;
    if (statSync(join(dir, rel)).isDirectory()) Object.assign(out, folderBase64(dir, rel));
    else out[rel] = readFileSync(join(dir, rel)).toString('base64');
  }
  return out;
}

const stGolden = JSON.parse(readFileSync('tests/fixtures/golden-st/golden.json', 'utf8'));

test('sentence-transformers embeddings (mean + Normalize, CLS, max) match PyTorch on WebGPU', async ({ page }) => {
  await openHarness(page);
  for (const [name, variant] of Object.entries(stGolden.variants) as [
    string,
    { dir: string; pooling: string; normalize: boolean; embeddings: { shape: number[]; data: number[] } },
  ][]) {
    const files = folderBase64(join('tests/fixtures/golden-st', variant.dir));
    const result = await page.evaluate(({ files, texts }) => window.__harness!.sentenceEmbeddings(files, texts), {
      files,
      texts: stGolden.texts,
    });
    expect(result.backend).toBe('webgpu');
    expect(result.pooling, name).toMatchObject({ pooling: variant.pooling, normalize: variant.normalize });
    expect(maxAbsDiff(result.embeddings, variant.embeddings), name).toBeLessThan(1e-5);
  }
});

const setfitGolden = JSON.parse(readFileSync('tests/fixtures/golden-setfit/golden.json', 'utf8'));

test('SetFit pair loss and gradients (mean and CLS pooling) match PyTorch on WebGPU', async ({ page }) => {
  await openHarness(page);
  for (const [variant, g] of Object.entries(setfitGolden.pair_loss) as [
    string,
    {
      max_length: number;
      input_ids_a: number[][];
      input_ids_b: number[][];
      pairs: { target: 0 | 1 }[];
      loss: number;
      grads: Record<string, { shape: number[]; data: number[] }>;
    },
  ][]) {
    const files = folderBase64(join('tests/fixtures/golden-st', variant));
    const result = await page.evaluate(({ files, g, names }) => window.__harness!.setfitPairLoss(files, g, names), {
      files,
      g,
      names: Object.keys(g.grads),
    });
    expect(result.backend).toBe('webgpu');
    expect(Math.abs(result.loss - g.loss), variant).toBeLessThan(1e-4);
    expect(Object.keys(result.grads).sort()).toEqual(Object.keys(g.grads).sort());
    for (const [name, expected] of Object.entries(g.grads))
      expect(maxAbsDiff(result.grads[name], expected), `${variant} ${name}`).toBeLessThan(1e-4);
  }
});

test('the first 10 training losses match torch.optim.AdamW on WebGPU, with our kernels and stock ops', async ({
  page,
}) => {
  await openHarness(page);
  for (const kernels of ['fused', 'stock'] as const) {
    const result = await page.evaluate(
      async ({ configJson, safetensorsBase64, training, kernels }) => {
        window.__harness!.setKernels(kernels);
        return window.__harness!.goldenTraining(configJson, safetensorsBase64, training);
      },
      { configJson, safetensorsBase64, training: golden.training, kernels },
    );
    expect(result.backend).toBe('webgpu');
    expect(result.losses).toHaveLength(10);
    result.losses.forEach((loss: number, i: number) =>
      expect(Math.abs(loss - golden.training.losses[i]), `${kernels}, step ${i + 1}`).toBeLessThan(1e-3),
    );
  }
});

test('our kernels match their stock references forward and backward in Chromium', async ({ page }) => {
  await openHarness(page);
  const result = await page.evaluate(() => window.__harness!.kernelParity());
  expect(result.backend).toBe('webgpu');
  expect(result.validationError).toBeNull();
  const families = Object.keys(result.families);
  expect(families.length).toBeGreaterThan(0);
  for (const family of families) {
    expect(result.families[family].length, family).toBeGreaterThan(0);
    for (const r of result.families[family]) {
      expect(r.forward, `${family}: ${r.case} forward`).toBeLessThan(1e-4);
      expect(r.gradient, `${family}: ${r.case} gradient`).toBeLessThan(1e-4);
      expect(r.fusedDispatches, `${family}: ${r.case} dispatches`).toBeGreaterThan(0);
    }
  }
});

test('batched submits: clipped training equals the cpu backend step by step, no invalid pipeline', async ({ page }) => {
  await openHarness(page);
  const result = await page.evaluate(() => window.__harness!.clippedParity(10));
  // The studio's setting: 15 command buffers per submit (src/engine/backend.ts).
  expect(result.submitBatchSize).toBe(15);
  expect(result.validationError).toBeNull();
  // 41 squared norms summed on the GPU (one addN program cannot bind them all).
  expect(Math.abs(result.norm - result.expectedNorm) / result.expectedNorm).toBeLessThan(1e-5);
  expect(result.webgpu).toHaveLength(10);
  result.webgpu.forEach((loss: number, i: number) =>
    expect(Math.abs(loss - result.cpu[i]), `step ${i + 1}`).toBeLessThan(1e-4),
  );
  // Training moved (clipping scales the update, it does not stop it).
  expect(result.webgpu[9]).toBeLessThan(result.webgpu[0]);
  // A deliberately invalid shader reaches the studio's uncaught-error listener.
  expect(result.uncaught.length).toBeGreaterThan(0);
  expect(result.uncaught.join(' ')).toMatch(/WGSL/);
  test.info().annotations.push({
    type: 'submits',
    description: `${result.submitsPerStep.toFixed(1)} queue submits per training step (micro model, loss read every step)`,
  });
});

test('a micro model overfits 32 labeled examples to 100% on WebGPU', async ({ page }) => {
  await openHarness(page);
  const result = await page.evaluate(() => window.__harness!.overfit());
  expect(result.backend).toBe('webgpu');
  expect(result.before).toBeLessThan(0.9);
  expect(result.after).toBe(1);
  test.info().annotations.push({
    type: 'timing',
    description: `${result.steps} steps in ${result.seconds.toFixed(1)} s on SwiftShader`,
  });
});

test('prompt-based fine-tuning (LM-BFF) overfits 32 examples on WebGPU', async ({ page }) => {
  // 15 epochs on SwiftShader: 1.5-2.6 min on an idle 2-core machine, over 3 min when it is shared.
  test.setTimeout(420_000);
  await openHarness(page);
  const vocabTxt = readFileSync('tests/fixtures/golden-micro/model/vocab.txt', 'utf8');
  const result = await page.evaluate(
    ({ configJson, safetensorsBase64, vocabTxt }) =>
      window.__harness!.promptOverfit(configJson, safetensorsBase64, vocabTxt),
    { configJson, safetensorsBase64, vocabTxt },
  );
  expect(result.backend).toBe('webgpu');
  expect(result.before).toBeLessThan(1);
  expect(result.after).toBe(1);
  test.info().annotations.push({
    type: 'timing',
    description: `prompt overfit in ${result.seconds.toFixed(1)} s on SwiftShader`,
  });
});
