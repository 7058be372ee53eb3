/**
 * Engine test harness page (test builds only): runs engine code on the page's best backend
 * (WebGPU in the e2e browser) so Playwright can compare it with the PyTorch golden fixtures.
 * Inputs arrive from the test as plain JSON (safetensors as base64); outputs go back as arrays.
 */
import * as tf from '@tensorflow/tfjs';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { initBestBackend, takeWebGpuErrors, type CapabilityReport } from '../../src/engine/backend';
import {
  bertForSequenceClassification,
  bertPreset,
  disposeBertParams,
  initBertParams,
  labelList,
  loadBertParams,
  meanPool,
  mlmLogits,
  namedParams,
  parseBertConfig,
  type BertConfig,
} from '../../src/engine/bert';
import {
  BrowserDownloadCache,
  createHubSource,
  loadCheckpointFiles,
  parseSafetensors,
} from '../../src/engine/checkpoint';
import { batchFromRows, type Batch, type EncodedExample } from '../../src/engine/train/batches';
import { globalNorm } from '../../src/engine/train/optim';
import { setKernelMode, type KernelMode } from '../../src/engine/kernels/mode';
import { crossEntropyParity } from '../../src/engine/kernels/cross-entropy-parity';
import { layerNormParity } from '../../src/engine/kernels/layernorm-parity';
import { dropoutParity } from '../../src/engine/kernels/dropout-parity';
import { geluParity } from '../../src/engine/kernels/gelu-parity';
import { attentionParity } from '../../src/engine/kernels/attention-parity';
import { embeddingParity } from '../../src/engine/kernels/embedding-parity';
import { matmulParity } from '../../src/engine/kernels/matmul-parity';
import type { ParityResult } from '../../src/engine/kernels/program';
import { classificationLoss, classifierTraining } from '../../src/engine/methods/classifier';
import { promptTraining } from '../../src/engine/methods/prompt';
import { packPairs, SetFitObjective, type SetFitPair } from '../../src/engine/methods/setfit';
import { BertTokenizer } from '../../src/engine/tokenizer';
import { loadModel } from '../../src/engine/studio/load';
import { buildVerbalizer, encodePromptExamples } from '../../src/engine/prompt';

/** The kernel families with parity cases (docs/ARCHITECTURE.md, "Own kernels"). */
const KERNEL_PARITY: Record<string, () => Promise<ParityResult[]>> = {
  'cross-entropy': crossEntropyParity,
  'residual + LayerNorm': layerNormParity,
  dropout: dropoutParity,
  GELU: geluParity,
  attention: attentionParity,
  'embedding lookup': embeddingParity,
  'linear projections': matmulParity,
};

export interface GoldenBatchJson {
  input_ids: number[][];
  token_type_ids: number[][];
  attention_mask: number[][];
  labels: number[];
}

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

function loadGolden(configJson: unknown, safetensorsBase64: string) {
  const config = parseBertConfig(configJson, 'golden config.json');
  const { tensors } = parseSafetensors(decodeBase64(safetensorsBase64), 'model.safetensors');
  return { config, params: loadBertParams(tensors, config).params };
}

function inputsOf(batch: GoldenBatchJson) {
  return {
    inputIds: tf.tensor2d(batch.input_ids, undefined, 'int32'), // [B, T]
    tokenTypeIds: tf.tensor2d(batch.token_type_ids, undefined, 'int32'), // [B, T]
    attentionMask: tf.tensor2d(batch.attention_mask, undefined, 'int32'), // [B, T]
    labels: tf.tensor1d(batch.labels, 'int32'), // [B]
  };
}

async function flat(t: tf.Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

/** A model folder (path inside it → base64 bytes) loaded as the studio loads a dropped folder. */
function loadDroppedFolder(filesBase64: Record<string, string>) {
  const files = Object.entries(filesBase64).map(([rel, base64]) => {
    const bytes = decodeBase64(base64);
    return {
      name: rel.split('/').pop()!,
      size: bytes.byteLength,
      webkitRelativePath: `st-micro/${rel}`,
      arrayBuffer: async () => bytes.slice().buffer,
    };
  });
  return loadModel({ kind: 'files', files, name: 'st-micro' });
}

/** The harness's keyword task: 32 rows, the label is a keyword token hidden among random ones. */
function keywordTask(): { config: BertConfig; examples: EncodedExample[] } {
  const config: BertConfig = bertPreset('micro', {
    vocab_size: 64,
    max_position_embeddings: 32,
    id2label: { 0: 'neg', 1: 'pos' },
    label2id: { neg: 0, pos: 1 },
  });
  let state = 7;
  const rand = (n: number) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
  const examples: EncodedExample[] = Array.from({ length: 32 }, (_, i) => {
    const label = i % 2;
    const length = 4 + rand(8);
    const body = Array.from({ length }, () => 20 + rand(44));
    body[rand(length)] = 10 + label;
    return { inputIds: [2, ...body, 3], label };
  });
  return { config, examples };
}

/** `steps` steps of the keyword task with a clipping norm small enough to clip every step; the losses. */
async function clippedRun(steps: number): Promise<number[]> {
  const { config, examples } = keywordTask();
  const params = initBertParams(config, 1);
  const losses: number[] = [];
  const trainer = classifierTraining(
    params,
    config,
    ['neg', 'pos'],
    examples,
    [],
    {
      epochs: 8,
      batchSize: 16,
      learningRate: 1e-2,
      maxLength: 16,
      seed: 3,
      dropout: false,
      maxGradNorm: 0.05,
      schedule: 'constant',
      lossReadEvery: 1,
    },
    { onProgress: (p) => losses.push(...p.losses.map((l) => l.loss)) },
  );
  for (let i = 0; i < steps; i++) await trainer.runStep();
  await trainer.finish();
  trainer.dispose();
  disposeBertParams(params, config);
  return losses;
}

const harness = {
  /** Our WebGPU kernels ('fused') or TensorFlow.js's stock ops, for what runs next. */
  setKernels(mode: KernelMode) {
    setKernelMode(mode);
  },

  /**
   * Every kernel family of ours against its stock reference on this page's backend (the parity
   * cases of src/engine/kernels/*-parity.ts, shared with the Node tests), under a validation error
   * scope so an invalid pipeline is reported rather than silently dropped.
   */
  async kernelParity() {
    const backend = tf.backend() as unknown as { device: GPUDevice };
    backend.device.pushErrorScope('validation');
    const families: Record<string, ParityResult[]> = {};
    for (const [family, run] of Object.entries(KERNEL_PARITY)) families[family] = await run();
    const error = await backend.device.popErrorScope();
    return { backend: tf.getBackend(), families, validationError: error ? error.message : null };
  },

  async init(backend: string | null, flags: Record<string, boolean | number> = {}): Promise<CapabilityReport> {
    const report = await initBestBackend({
      override: backend,
      wasmPaths: {
        'tfjs-backend-wasm.wasm': wasmPlainUrl,
        'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
        'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
      },
    });
    // Backend flags (registered by the backend module, so set after it loads).
    for (const [k, v] of Object.entries(flags)) tf.env().set(k, v);
    return report;
  },

  /** Forward outputs, loss and gradients (PyTorch orientation) for the golden inputs. */
  async goldenForward(configJson: unknown, safetensorsBase64: string, batch: GoldenBatchJson, gradNames: string[]) {
    const { config, params } = loadGolden(configJson, safetensorsBase64);
    const inputs = inputsOf(batch);
    const out = bertForSequenceClassification(params, config, inputs); // hidden [B,T,H], pooled [B,H], logits [B,L]
    const hidden = await flat(out.hidden);
    const pooled = await flat(out.pooled);
    const logits = await flat(out.logits);
    const mlmT = mlmLogits(params, config, out.hidden); // [B, T, V]
    const mlm = await flat(mlmT);
    const meanT = meanPool(out.hidden, inputs.attentionMask); // [B, H]
    const mean = await flat(meanT);
    const named = namedParams(params, config).filter((p) => gradNames.includes(p.name));
    const { value, grads } = tf.variableGrads(
      () => {
        const logits = bertForSequenceClassification(params, config, inputs).logits; // [B, L]
        return classificationLoss(logits, inputs.labels, null);
      },
      named.map((p) => p.variable),
    );
    const loss = (await value.data())[0];
    const gradients: Record<string, number[]> = {};
    for (const p of named) {
      const g = p.transposed ? tf.transpose(grads[p.variable.name]) : grads[p.variable.name]; // → [out, in]
      gradients[p.name] = await flat(g);
      if (g !== grads[p.variable.name]) g.dispose();
    }
    tf.dispose([
      out.hidden,
      out.pooled,
      out.logits,
      mlmT,
      meanT,
      value,
      ...Object.values(grads),
      ...Object.values(inputs),
    ]);
    disposeBertParams(params, config);
    return { backend: tf.getBackend(), hidden, pooled, logits, mlm, mean, loss, gradients };
  },

  /**
   * Loads a checkpoint from a Hub-layout server through the browser's Cache Storage; returns what
   * the load saw (the test counts the server's requests).
   */
  async hubLoad(baseUrl: string, repo: string, cacheName: string) {
    const cache = new BrowserDownloadCache(cacheName);
    const progress: { file: string; loaded: number; total: number | null }[] = [];
    const source = createHubSource({ repo, baseUrl, cache, backoffMs: 10 });
    const files = await loadCheckpointFiles(source, { onProgress: (p) => progress.push(p) });
    return {
      tensors: files.tensors.size,
      weightFormat: files.weightFormat,
      vocabLines: files.vocabTxt?.split('\n').length ?? 0,
      progress,
      commit: source.resolvedCommit(),
      warnings: files.warnings,
    };
  },

  /**
   * Sentence embeddings of a sentence-transformers folder (path inside the folder → base64 bytes), loaded as a
   * dropped folder and embedded by FewShotModel.embed with the folder's pooling.
   */
  async sentenceEmbeddings(filesBase64: Record<string, string>, texts: string[]) {
    const model = await loadDroppedFolder(filesBase64);
    try {
      const embeddings = await model.embed(texts.map((text) => ({ text })));
      return { backend: tf.getBackend(), pooling: model.summary().sentenceTransformers, embeddings: embeddings.flat() };
    } finally {
      model.dispose();
    }
  },

  /**
   * SetFit's CosineSimilarityLoss and parameter gradients for one golden pair batch through
   * SetFitObjective.lossFor (dropout off), on the sentence-transformers micro folder given as files.
   * Gradients come back by Hugging Face name in PyTorch layout ([out, in] for linear weights).
   */
  async setfitPairLoss(
    filesBase64: Record<string, string>,
    golden: { max_length: number; input_ids_a: number[][]; input_ids_b: number[][]; pairs: { target: 0 | 1 }[] },
    gradNames: string[],
  ) {
    const model = await loadDroppedFolder(filesBase64);
    const B = golden.pairs.length;
    // Examples 0..B-1 are the a sides, B..2B-1 the b sides (labels only have to give two classes).
    const examples: EncodedExample[] = [...golden.input_ids_a, ...golden.input_ids_b].map((inputIds, i) => ({
      inputIds,
      label: i % 2,
    }));
    const pairs: SetFitPair[] = golden.pairs.map((p, i) => ({ a: i, b: B + i, target: p.target }));
    const objective = new SetFitObjective(model.params, model.config, examples, {
      iterations: 1,
      epochs: 1,
      batchSize: B,
      learningRate: 1e-3,
      maxLength: golden.max_length,
      seed: 1,
      pooling: model.sentenceTransformers?.pooling,
    });
    try {
      const { value, grads } = tf.tidy(() =>
        tf.variableGrads(
          objective.lossFor(packPairs(examples, pairs, golden.max_length), { training: false }),
          objective.parameters.map((p) => p.variable),
        ),
      );
      const out: Record<string, number[]> = {};
      for (const p of objective.parameters) {
        if (!gradNames.includes(p.name)) continue;
        const grad = grads[p.variable.name];
        const hf = p.transposed ? tf.transpose(grad) : grad; // our [in, out] → PyTorch [out, in]
        out[p.name] = await flat(hf);
        if (hf !== grad) hf.dispose();
      }
      const loss = (await value.data())[0];
      tf.dispose([value, ...Object.values(grads)]);
      return { backend: tf.getBackend(), loss, grads: out };
    } finally {
      objective.dispose();
      model.dispose();
    }
  },

  /** The first training losses of the real trainer on the golden batches (dropout off, constant lr, no clipping). */
  async goldenTraining(
    configJson: unknown,
    safetensorsBase64: string,
    training: { lr: number; weight_decay: number; batches: GoldenBatchJson[] },
  ) {
    const { config, params } = loadGolden(configJson, safetensorsBase64);
    const plan: Batch[] = training.batches.map((b) =>
      batchFromRows({
        inputIds: b.input_ids,
        tokenTypeIds: b.token_type_ids,
        attentionMask: b.attention_mask,
        labels: b.labels,
      }),
    );
    const losses: number[] = [];
    const trainer = classifierTraining(
      params,
      config,
      labelList(config),
      plan.map(() => ({ inputIds: [0], label: 0 })),
      [],
      {
        epochs: 1,
        batchSize: 4,
        learningRate: training.lr,
        weightDecay: training.weight_decay,
        maxLength: 64,
        seed: 0,
        dropout: false,
        schedule: 'constant',
        warmupRatio: 0,
        maxGradNorm: 0,
        lossReadEvery: 1,
      },
      { onProgress: (p) => losses.push(...p.losses.map((l) => l.loss)) },
      { batchPlan: plan },
    );
    while (await trainer.runStep()) {
      /* ten golden batches */
    }
    await trainer.finish();
    trainer.dispose();
    disposeBertParams(params, config);
    return { backend: tf.getBackend(), losses };
  },

  /**
   * Clipped training on WebGPU (batched submits as the studio sets them) and the same run on the cpu
   * backend: losses of every step, WebGPU validation errors raised meanwhile, queue submits per step,
   * and the global norm of 41 tensors (more than one addN program may bind, docs/ARCHITECTURE.md
   * "Backends") against the same norm summed in JavaScript.
   */
  async clippedParity(steps = 10) {
    const backend = tf.backend() as unknown as { device: GPUDevice; queue: GPUQueue };
    const device = backend.device;
    const norms = Array.from({ length: 41 }, (_, i) => tf.fill([3 + (i % 5)], 0.1 * (i + 1)));
    const expectedNorm = Math.sqrt(norms.reduce((s, t, i) => s + t.size * (0.1 * (i + 1)) ** 2, 0));
    device.pushErrorScope('validation');
    const normTensor = globalNorm(norms);
    const norm = (await normTensor.data())[0];
    normTensor.dispose();
    tf.dispose(norms);
    let submits = 0;
    const submit = backend.queue.submit.bind(backend.queue);
    backend.queue.submit = (buffers: Iterable<GPUCommandBuffer>) => {
      submits++;
      return submit(buffers);
    };
    const webgpu = await clippedRun(steps);
    backend.queue.submit = submit;
    const error = await device.popErrorScope();
    await tf.setBackend('cpu');
    const cpu = await clippedRun(steps);
    await tf.setBackend('webgpu');
    // An error nobody catches reaches the studio's listener (the session stops a run on it).
    takeWebGpuErrors();
    device.createShaderModule({ code: 'this is not WGSL', label: 'deliberately invalid' });
    // Chromium delivers uncaught errors after a round trip to the GPU process.
    await device.queue.onSubmittedWorkDone();
    let uncaught: string[] = [];
    for (let i = 0; i < 40 && uncaught.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      uncaught = takeWebGpuErrors();
    }
    return {
      uncaught,
      norm,
      expectedNorm,
      webgpu,
      cpu,
      submitsPerStep: submits / steps,
      submitBatchSize: tf.env().getNumber('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE'),
      validationError: error ? error.message : null,
    };
  },

  /** A micro model overfits 32 labeled examples (keyword task) on this backend. */
  async overfit(options: { maxGradNorm?: number; lossReadEvery?: number; schedule?: 'linear' | 'constant' } = {}) {
    const labels = ['neg', 'pos'];
    const { config, examples } = keywordTask();
    const params = initBertParams(config, 1);
    const losses: number[] = [];
    const trainer = classifierTraining(
      params,
      config,
      labels,
      examples,
      examples,
      {
        epochs: 8,
        batchSize: 16,
        learningRate: 1e-2,
        maxLength: 16,
        seed: 3,
        dropout: false,
        lossReadEvery: 8,
        ...options,
      },
      { onProgress: (p) => losses.push(...p.losses.map((l) => l.loss)) },
    );
    const before = await trainer.objective.evaluateOn(examples);
    const started = performance.now();
    while (await trainer.runStep()) {
      /* train */
    }
    await trainer.finish();
    const after = await trainer.objective.evaluateOn(examples);
    trainer.dispose();
    disposeBertParams(params, config);
    return {
      backend: tf.getBackend(),
      losses,
      before: before.accuracy,
      after: after.accuracy,
      steps: trainer.step,
      seconds: (performance.now() - started) / 1000,
      numTensors: tf.memory().numTensors,
    };
  },

  /**
   * LM-BFF prompt fine-tuning overfits 32 toy reviews on this backend: the golden micro model
   * (weights + vocab from the test), template `{text} . it was [MASK] .`, great/terrible.
   */
  async promptOverfit(configJson: unknown, safetensorsBase64: string, vocabTxt: string) {
    const { config, params } = loadGolden(configJson, safetensorsBase64);
    const tokenizer = BertTokenizer.fromHuggingFaceFiles({ vocabTxt });
    const subjects = ['the movie', 'the film', 'this story', 'the book'];
    const pos = ['was good', 'made me happy', 'i loved it', 'was fine'];
    const neg = ['was bad', 'made me sad', 'i hated it', 'was awful'];
    const rows: { text: string; label: number }[] = [];
    for (const s of subjects)
      for (let i = 0; i < 4; i++) rows.push({ text: `${s} ${pos[i]}`, label: 1 }, { text: `${s} ${neg[i]}`, label: 0 });
    const labels = ['negative', 'positive'];
    const verbalizer = buildVerbalizer({ positive: 'great', negative: 'terrible' }, labels, tokenizer);
    const { examples } = encodePromptExamples(
      '{text} . it was [MASK] .',
      tokenizer,
      rows,
      rows.map((r) => r.label),
      32,
    );
    // The Node test's settings (60 steps); 32-step variants reached only 94% on SwiftShader.
    const trainer = promptTraining(params, config, verbalizer, examples, examples, {
      epochs: 15,
      batchSize: 8,
      learningRate: 3e-3,
      maxLength: 32,
      seed: 1,
      dropout: false,
      warmupRatio: 0,
    });
    const before = await trainer.objective.evaluateOn(examples);
    const started = performance.now();
    while (await trainer.runStep()) {
      /* train */
    }
    await trainer.finish();
    const after = await trainer.objective.evaluateOn(examples);
    trainer.dispose();
    disposeBertParams(params, config);
    return {
      backend: tf.getBackend(),
      before: before.accuracy,
      after: after.accuracy,
      seconds: (performance.now() - started) / 1000,
    };
  },
};

declare global {
  interface Window {
    __harness?: typeof harness;
  }
}

window.__harness = harness;
document.body.dataset.ready = 'true';
