#!/usr/bin/env node
/**
 * `npm run bench` — training-step benchmark baseline (docs/BENCHMARKS.md).
 *
 * Backends:
 *   webgpu     headless Debian Chromium, WebGPU on SwiftShader, in a Web Worker (bench/index.html)
 *   wasm       the same page with ?backend=wasm (single-threaded SIMD, as the studio uses it)
 *   node-wasm  Node on tfjs-backend-wasm (bench/node.ts through tsx), like the `fewshot` CLI
 *   node-webgpu  Node on WebGPU through Dawn's Node bindings (`fewshot --backend webgpu`); only
 *              when asked for with --backends (needs the webgpu package and Vulkan: docs/CLI.md)
 *   torch-cpu  the same step in PyTorch (bench/torch_step.py; Debian python3-torch), the reference
 *              every backend's time is divided by; recorded as skipped where torch is missing
 * Cases: BERT presets micro, tiny, mini at batch 16, seq 64 and 128 with the classifier step, and the
 * prompt (MLM-head) and MLM pretraining steps at micro-t64 and mini-t128 (engine:
 * src/engine/bench/train-step.ts). On webgpu and node-webgpu every case runs with our kernels and with
 * the stock ops, one after the other in the same page or process, and the table gives fused/stock.
 *
 * Every case has a soft time budget (timed steps are cut to fit after warm-up), a predicted-time
 * check (skipped with a recorded reason when even one warm-up + one timed step would not fit at the
 * pace measured so far on that backend) and a hard limit (the worker/process is killed and the
 * case recorded as skipped), so a slow machine never hangs the run.
 *
 * Output: bench/results/<YYYY-MM-DD>-<backend>.json and the table between the markers in
 * docs/BENCHMARKS.md (rebuilt from the newest results file of each backend).
 *
 * Flags:
 *   --quick                 micro cases only
 *   --cases a,b             case names: <preset>[-b<batch>][-t<seq>][-prompt|-mlm], e.g. tiny-t64, mini-t128-mlm
 *   --backends a,b          subset of webgpu,wasm,node-wasm,node-webgpu,torch-cpu (default: all but node-webgpu)
 *   --kernels a,b           fused,stock (default both; webgpu backends only, cpu/wasm run the stock ops)
 *   --torch-device d        device of the PyTorch reference (default cpu; e.g. cuda on a GPU machine)
 *   --python p              Python with torch (default: /usr/bin/python3 if it exists, else python3)
 *   --budget-scale x        multiply every time budget by x (default 1)
 *   --no-doc                do not rewrite docs/BENCHMARKS.md
 *   --out dir               results folder (default bench/results)
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BACKENDS = ['webgpu', 'wasm', 'node-wasm', 'node-webgpu', 'torch-cpu'];
const DEFAULT_BACKENDS = ['webgpu', 'wasm', 'node-wasm', 'torch-cpu'];
/** Backends where the kernel setting changes what runs (kernels/mode.ts). */
const GPU_BACKENDS = ['webgpu', 'node-webgpu'];
const KERNEL_MODES = ['stock', 'fused'];
/** The prompt and MLM steps by default at the smallest and the acceptance-sized case only (time). */
const DEFAULT_EXTRA_STEPS = [
  { preset: 'micro', seqLen: 64 },
  { preset: 'mini', seqLen: 128 },
];
/** The Node backends: bench/node.ts in a child process, with the backend it runs on. */
const NODE_BACKENDS = { 'node-wasm': 'wasm', 'node-webgpu': 'webgpu' };
const PRESETS = ['micro', 'tiny', 'mini'];
const SEQ_LENS = [64, 128];
const BATCH = 16;

/**
 * Steps and budgets per backend and preset, sized for a 2-core machine where SwiftShader does
 * ~0.5–1 GFLOP/s and wasm ~2–3 GFLOP/s on a whole training step (docs/ARCHITECTURE.md, "Backends"). Budgets are for seq
 * 64; seq 128 gets 1.6×. The counts (dispatches, uploads, readbacks) need only one timed step.
 */
const PLAN = {
  // webgpu needs 2 warm-up steps before its buffer pool is steady (1 is not enough to show flat memory).
  webgpu: {
    micro: { warmupSteps: 2, steps: 3, budgetS: 50 },
    tiny: { warmupSteps: 2, steps: 2, budgetS: 75 },
    mini: { warmupSteps: 2, steps: 1, budgetS: 100 },
  },
  wasm: {
    micro: { warmupSteps: 2, steps: 5, budgetS: 20 },
    tiny: { warmupSteps: 1, steps: 3, budgetS: 25 },
    mini: { warmupSteps: 1, steps: 2, budgetS: 45 },
  },
  'node-wasm': {
    micro: { warmupSteps: 2, steps: 8, budgetS: 20 },
    tiny: { warmupSteps: 1, steps: 4, budgetS: 25 },
    mini: { warmupSteps: 1, steps: 2, budgetS: 45 },
  },
  // The same tfjs-webgpu as in Chromium, on the adapter Dawn finds (SwiftShader without a GPU).
  'node-webgpu': {
    micro: { warmupSteps: 2, steps: 3, budgetS: 50 },
    tiny: { warmupSteps: 2, steps: 2, budgetS: 75 },
    mini: { warmupSteps: 2, steps: 1, budgetS: 100 },
  },
};

// Chromium flags: the same as playwright.config.ts (docs/ARCHITECTURE.md, "Backends").
const quietFlags = [
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const sandboxFlags = typeof process.getuid === 'function' && process.getuid() === 0 ? ['--no-sandbox'] : [];
const webgpuFlags = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-angle=swiftshader',
  '--use-webgpu-adapter=swiftshader',
];

function parseArgs(argv) {
  const args = {
    quick: false,
    cases: null,
    backends: [...DEFAULT_BACKENDS],
    budgetScale: 1,
    kernels: [...KERNEL_MODES],
    torchDevice: 'cpu',
    python: existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3',
    doc: true,
    out: path.join(repo, 'bench', 'results'),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) die(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') args.quick = true;
    else if (a.startsWith('--cases')) args.cases = value().split(',').filter(Boolean);
    else if (a.startsWith('--backends')) args.backends = value().split(',').filter(Boolean);
    else if (a.startsWith('--budget-scale')) args.budgetScale = Number(value());
    else if (a.startsWith('--kernels')) args.kernels = value().split(',').filter(Boolean);
    else if (a.startsWith('--torch-device')) args.torchDevice = value();
    else if (a.startsWith('--python')) args.python = value();
    else if (a === '--no-doc') args.doc = false;
    else if (a.startsWith('--out')) args.out = path.resolve(value());
    else if (a === '--help' || a === '-h') {
      console.log(
        readFileSync(fileURLToPath(import.meta.url), 'utf8')
          .split('*/')[0]
          .replace(/^#!.*\n\/\*\*?/, '')
          .replace(/^ \* ?/gm, ''),
      );
      process.exit(0);
    } else die(`unknown argument ${a} (see --help)`);
  }
  for (const b of args.backends) if (!BACKENDS.includes(b)) die(`unknown backend "${b}" (use ${BACKENDS.join(', ')})`);
  if (!(args.budgetScale > 0)) die('--budget-scale must be a positive number');
  for (const k of args.kernels) if (!KERNEL_MODES.includes(k)) die(`unknown kernel setting "${k}" (use fused, stock)`);
  if (args.kernels.length === 0) die('--kernels needs fused, stock or both');
  return args;
}

function die(message) {
  console.error(`bench: ${message}`);
  process.exit(2);
}

/** Case tokens → specs (without steps/budget). */
function selectCases(args) {
  const all = [];
  for (const preset of PRESETS)
    for (const seqLen of SEQ_LENS) all.push({ preset, batchSize: BATCH, seqLen, objective: 'classifier' });
  for (const objective of ['prompt', 'mlm'])
    for (const { preset, seqLen } of DEFAULT_EXTRA_STEPS) all.push({ preset, batchSize: BATCH, seqLen, objective });
  if (!args.cases) return args.quick ? all.filter((c) => c.preset === 'micro') : all;
  const out = [];
  for (const token of args.cases) {
    const m = /^([a-z]+)(?:-b(\d+))?(?:-t(\d+))?(?:-(prompt|mlm))?$/.exec(token.trim());
    if (!m || !PRESETS.concat(['small', 'medium', 'base']).includes(m[1]))
      die(`bad case "${token}" (use <preset>[-b<batch>][-t<seq>][-prompt|-mlm], e.g. tiny-t64, mini-t128-mlm)`);
    const seqs = m[3] ? [Number(m[3])] : SEQ_LENS;
    for (const seqLen of seqs)
      out.push({ preset: m[1], batchSize: m[2] ? Number(m[2]) : BATCH, seqLen, objective: m[4] ?? 'classifier' });
  }
  return out;
}

const caseName = (c) =>
  `${c.preset}-b${c.batchSize}-t${c.seqLen}${c.objective && c.objective !== 'classifier' ? `-${c.objective}` : ''}`;
/** One planned run of a case: the case and the kernel setting (GPU backends run each setting). */
const runName = (c) => (c.kernels ? `${caseName(c)} [${c.kernels}]` : caseName(c));

/** The runs of `cases` on `backend`: every kernel setting asked for on GPU backends, one run elsewhere. */
function expandRuns(backend, cases, args) {
  if (!GPU_BACKENDS.includes(backend)) return cases.map((c) => ({ ...c, kernels: undefined }));
  return cases.flatMap((c) => args.kernels.map((kernels) => ({ ...c, kernels })));
}

// The engine's own FLOP estimate (one copy, src/engine/bench/train-step.ts), loaded through tsx.
const { bertPreset } = await tsImport('../src/engine/bert/config.ts', import.meta.url);
const { estimateTrainStepFlops } = await tsImport('../src/engine/bench/train-step.ts', import.meta.url);

/** Model FLOPs of one training step of a case, for planning its time budget. */
function estimateFlops({ preset, batchSize, seqLen }) {
  const config = bertPreset(preset, { max_position_embeddings: Math.max(seqLen, 512) });
  return estimateTrainStepFlops(config, batchSize, seqLen);
}

function planCase(backend, c, args) {
  const p = PLAN[backend][c.preset] ?? { warmupSteps: 1, steps: 1, budgetS: 60 };
  const scale = (c.seqLen > 64 ? 1.6 : 1) * args.budgetScale * (c.batchSize / BATCH);
  const budgetS = Math.round(p.budgetS * scale);
  return { ...c, warmupSteps: p.warmupSteps, steps: p.steps, budgetS, hardLimitS: Math.round(budgetS * 2 + 60) };
}

/**
 * Step time model of one backend, from the cases run so far. Same preset: scale the closest
 * measured case linearly in FLOPs (conservative for a longer sequence). Another preset: a power
 * law t = c·FLOPs^k fitted (log-log least squares) on the cases run, once two presets have run;
 * small models are dominated by per-dispatch and elementwise costs, so a straight FLOP ratio from
 * one small preset would overpredict larger ones. Returns null when it cannot tell.
 */
/** Runs that share a pace: the same preset, step and kernel setting. */
const paceKey = (spec) => `${spec.preset}:${spec.objective ?? 'classifier'}:${spec.kernels ?? ''}`;

class PaceModel {
  points = [];
  add(spec, secondsPerStep) {
    this.points.push({ preset: paceKey(spec), gflops: estimateFlops(spec) / 1e9, s: secondsPerStep });
  }
  predict(spec) {
    const g = estimateFlops(spec) / 1e9;
    const same = this.points.filter((p) => p.preset === paceKey(spec));
    if (same.length > 0) {
      const near = same.reduce((best, p) =>
        Math.abs(Math.log(p.gflops / g)) < Math.abs(Math.log(best.gflops / g)) ? p : best,
      );
      return near.s * (g / near.gflops);
    }
    if (new Set(this.points.map((p) => p.preset)).size < 2) return null;
    const xs = this.points.map((p) => Math.log(p.gflops));
    const ys = this.points.map((p) => Math.log(p.s));
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = ys.reduce((a, b) => a + b, 0) / ys.length;
    let sxy = 0,
      sxx = 0;
    xs.forEach((x, i) => {
      sxy += (x - mx) * (ys[i] - my);
      sxx += (x - mx) ** 2;
    });
    // k ≥ 0.8: load noise on small cases must not make big ones look cheap (measured: ~0.6 quiet, SwiftShader).
    const k = Math.min(1, Math.max(0.8, sxx > 0 ? sxy / sxx : 1));
    return Math.exp(my + k * (Math.log(g) - mx));
  }
}

/**
 * Skips a case when its warm-up + one timed step would not fit 1.5× its budget at the pace
 * measured so far on this backend (the first step also compiles: counted 1.5×).
 */
function predictSkip(spec, model) {
  const stepS = model.predict(spec);
  if (stepS === null) return null;
  const minS = stepS * (spec.warmupSteps * 1.5 + 1);
  if (minS > spec.budgetS * 1.5) {
    return `over budget: predicted ${stepS.toFixed(0)} s/step, ${minS.toFixed(0)} s for ${spec.warmupSteps} warm-up + 1 timed step (from the cases already run), budget ${spec.budgetS} s`;
  }
  return null;
}

function gitCommit() {
  try {
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: repo, encoding: 'utf8' }).trim().length > 0;
    return { sha, dirty };
  } catch {
    return { sha: null, dirty: null };
  }
}

function machineInfo() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}

function tfjsVersion() {
  try {
    return JSON.parse(readFileSync(path.join(repo, 'node_modules/@tensorflow/tfjs/package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

const RUN_ID = new Date().toISOString();
const today = () => new Date().toISOString().slice(0, 10);
const log = (message) => console.log(`[bench] ${message}`);

/** Summary line of one result. */
function describe(r) {
  const t = r.timing;
  const p = r.perStep;
  return `${r.case}${GPU_BACKENDS.includes(r.backend) ? ` [${r.kernels}]` : ''}: ${t.medianMs.toFixed(0)} ms/step median (${t.meanMs.toFixed(0)} mean, ${r.steps} timed), ${t.examplesPerSecond.toFixed(1)} ex/s, ${p.dispatches} dispatches, ${p.readbacks} readbacks, ${p.uploads} uploads/step, memory ${r.memory.flat ? 'flat' : 'NOT flat'}`;
}

// ------------------------------------------------------------------------------------------------
// Browser (webgpu, wasm)
// ------------------------------------------------------------------------------------------------

async function runBrowser(backends, cases, args) {
  const { build, preview } = await import('vite');
  const { chromium } = await import('@playwright/test');
  const configFile = path.join(repo, 'bench', 'vite.config.ts');
  log('building the benchmark page (vite build --config bench/vite.config.ts)…');
  await build({ configFile, logLevel: 'warn' });
  const server = await preview({ configFile, preview: { port: 0, host: '127.0.0.1', strictPort: false } });
  const address = server.httpServer.address();
  const base = `http://127.0.0.1:${address.port}/`;
  const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    await server.close();
    const reason = `Chromium not found at ${executablePath} (set CHROMIUM_PATH)`;
    return Object.fromEntries(
      backends.map((b) => [
        b,
        {
          browser: null,
          capability: null,
          outcomes: expandRuns(b, cases, args).map((c) => ({ case: caseName(c), kernels: c.kernels, skipped: reason })),
        },
      ]),
    );
  }
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [...quietFlags, ...sandboxFlags, ...webgpuFlags],
  });
  const browserVersion = `Chromium ${browser.version()}`;
  const runs = {};
  try {
    for (const backend of backends) {
      const backendStarted = Date.now();
      const page = await browser.newPage();
      page.on('console', (msg) => {
        const text = msg.text();
        if (text.startsWith(`[${backend}]`)) console.log(`  ${text}`);
        else if (msg.type() === 'error' || msg.type() === 'warning') console.log(`  [page ${msg.type()}] ${text}`);
      });
      await page.goto(`${base}index.html?backend=${backend}`);
      await page.waitForFunction(() => 'window' in globalThis && '__bench' in window);
      // Forward the page's log lines as they come.
      await page.evaluate(() => {
        const logs = window.__bench.logs;
        const push = logs.push.bind(logs);
        logs.push = (...items) => {
          for (const item of items) console.log(item);
          return push(...items);
        };
      });
      const outcomes = [];
      let capability = null;
      const model = new PaceModel();
      for (const c of expandRuns(backend, cases, args)) {
        const spec = planCase(backend, c, args);
        const skip = predictSkip(spec, model);
        if (skip) {
          log(`${backend} ${runName(c)}: skipped (${skip})`);
          outcomes.push({ case: caseName(c), kernels: c.kernels, skipped: skip, plan: spec });
          continue;
        }
        log(
          `${backend} ${runName(c)}: ${spec.warmupSteps} warm-up + ${spec.steps} timed steps, budget ${spec.budgetS} s`,
        );
        const outcome = await page.evaluate((s) => window.__bench.runCase(s), spec);
        capability = outcome.capability ?? capability;
        if (outcome.ok) {
          log(`${backend} ${describe(outcome.result)}`);
          outcomes.push(outcome.result);
          model.add(spec, outcome.result.timing.meanMs / 1000);
        } else {
          log(`${backend} ${runName(c)}: skipped (${outcome.reason})`);
          outcomes.push({ case: caseName(c), kernels: c.kernels, skipped: outcome.reason, plan: spec });
          if (/hard limit/.test(outcome.reason)) model.add(spec, spec.hardLimitS / (spec.warmupSteps * 1.5 + 1));
        }
      }
      await page.close();
      runs[backend] = {
        browser: browserVersion,
        capability,
        outcomes,
        durationS: Math.round((Date.now() - backendStarted) / 1000),
      };
    }
  } finally {
    await browser.close();
    await server.close();
  }
  return runs;
}

// ------------------------------------------------------------------------------------------------
// Node (wasm, webgpu)
// ------------------------------------------------------------------------------------------------

/** Runs one case in a child process (tsx), so a stuck case can be killed. */
function runNodeCase(spec, backend) {
  return new Promise((resolve) => {
    const tsx = path.join(repo, 'node_modules', '.bin', 'tsx');
    const child = spawn(tsx, [path.join('bench', 'node.ts'), JSON.stringify([spec]), NODE_BACKENDS[backend]], {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let capability = null;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      for (const line of String(d).split('\n')) if (line.trim()) console.log(`  ${line}`);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), spec.hardLimitS * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let result = null;
      let error = null;
      for (const line of stdout.split('\n')) {
        if (line.startsWith('CAPABILITY ')) capability = JSON.parse(line.slice(11));
        else if (line.startsWith('RESULT ')) result = JSON.parse(line.slice(7));
        else if (line.startsWith('ERROR ')) error = JSON.parse(line.slice(6)).error;
      }
      if (result) resolve({ ok: true, capability, result });
      else if (signal === 'SIGKILL')
        resolve({ ok: false, capability, reason: `exceeded the hard limit of ${spec.hardLimitS} s (process killed)` });
      else resolve({ ok: false, capability, reason: error ?? `bench/node.ts exited with ${code ?? signal}` });
    });
  });
}

async function runNode(backend, cases, args) {
  const started = Date.now();
  const outcomes = [];
  let capability = null;
  const model = new PaceModel();
  for (const c of expandRuns(backend, cases, args)) {
    const spec = planCase(backend, c, args);
    const skip = predictSkip(spec, model);
    if (skip) {
      log(`${backend} ${runName(c)}: skipped (${skip})`);
      outcomes.push({ case: caseName(c), kernels: c.kernels, skipped: skip, plan: spec });
      continue;
    }
    log(`${backend} ${runName(c)}: ${spec.warmupSteps} warm-up + ${spec.steps} timed steps, budget ${spec.budgetS} s`);
    const outcome = await runNodeCase(spec, backend);
    capability = outcome.capability ?? capability;
    if (outcome.ok) {
      log(`${backend} ${describe(outcome.result)}`);
      outcomes.push(outcome.result);
      model.add(spec, outcome.result.timing.meanMs / 1000);
    } else {
      log(`${backend} ${runName(c)}: skipped (${outcome.reason})`);
      outcomes.push({ case: caseName(c), kernels: c.kernels, skipped: outcome.reason, plan: spec });
    }
  }
  return { browser: null, capability, outcomes, durationS: Math.round((Date.now() - started) / 1000) };
}

// ------------------------------------------------------------------------------------------------
// PyTorch reference (torch-cpu)
// ------------------------------------------------------------------------------------------------

/** Steps of the PyTorch reference per preset (it is much faster than our CPU backends). */
const TORCH_STEPS = { micro: { warmup: 2, steps: 5 }, tiny: { warmup: 1, steps: 3 }, mini: { warmup: 1, steps: 2 } };

/** Runs bench/torch_step.py for one case; resolves to its RESULT object or { error }. */
function runTorchCase(c, args) {
  const config = bertPreset(c.preset, { max_position_embeddings: Math.max(c.seqLen, 512) });
  const plan = TORCH_STEPS[c.preset] ?? { warmup: 1, steps: 1 };
  const request = {
    layers: config.num_hidden_layers,
    hidden: config.hidden_size,
    heads: config.num_attention_heads,
    intermediate: config.intermediate_size,
    vocab: config.vocab_size,
    batch: c.batchSize,
    seq: c.seqLen,
    objective: c.objective,
    device: args.torchDevice,
    ...plan,
  };
  const hardLimitS = Math.round(planCase('node-wasm', c, args).hardLimitS * 2);
  return new Promise((resolve) => {
    const child = spawn(args.python, [path.join('bench', 'torch_step.py'), JSON.stringify(request)], {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (error) => resolve({ error: `${args.python}: ${error.message}` }));
    const timer = setTimeout(() => child.kill('SIGKILL'), hardLimitS * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = (prefix) => stdout.split('\n').find((l) => l.startsWith(prefix));
      if (line('RESULT ')) resolve(JSON.parse(line('RESULT ').slice(7)));
      else if (line('ERROR ')) resolve({ error: JSON.parse(line('ERROR ').slice(6)).error });
      else if (signal === 'SIGKILL') resolve({ error: `exceeded the hard limit of ${hardLimitS} s (process killed)` });
      else resolve({ error: (stderr.trim().split('\n').pop() || `exited with ${code ?? signal}`).slice(0, 300) });
    });
  });
}

async function runTorch(cases, args) {
  const started = Date.now();
  const outcomes = [];
  let capability = null;
  for (const c of cases) {
    log(`torch-${args.torchDevice} ${caseName(c)}…`);
    const r = await runTorchCase(c, args);
    if (r.error) {
      log(`torch-${args.torchDevice} ${caseName(c)}: skipped (${r.error})`);
      outcomes.push({ case: caseName(c), objective: c.objective, skipped: `PyTorch reference: ${r.error}` });
      // No torch here: say so once per case but do not try the remaining cases for nothing.
      if (/ModuleNotFoundError|No module named|ENOENT/.test(r.error)) {
        for (const rest of cases.slice(cases.indexOf(c) + 1))
          outcomes.push({ case: caseName(rest), objective: rest.objective, skipped: `PyTorch reference: ${r.error}` });
        break;
      }
      continue;
    }
    capability = { torch: r.torch, device: r.device, deviceName: r.deviceName, threads: r.threads };
    log(`torch-${args.torchDevice} ${caseName(c)}: ${r.medianMs.toFixed(0)} ms/step median (${r.stepMs.length} timed)`);
    outcomes.push({
      case: caseName(c),
      backend: `torch-${args.torchDevice}`,
      objective: c.objective,
      preset: c.preset,
      batchSize: c.batchSize,
      seqLen: c.seqLen,
      steps: r.stepMs.length,
      timing: { stepMs: r.stepMs, medianMs: r.medianMs, meanMs: r.meanMs },
    });
  }
  return { browser: null, capability, outcomes, durationS: Math.round((Date.now() - started) / 1000) };
}

// ------------------------------------------------------------------------------------------------
// Results and the doc table
// ------------------------------------------------------------------------------------------------

function writeResults(backend, run, args) {
  mkdirSync(args.out, { recursive: true });
  const file = path.join(args.out, `${today()}-${backend}.json`);
  const doc = {
    schema: 1,
    date: new Date().toISOString(),
    // One id per `npm run bench` invocation: ratios across backends pair only results of the same run.
    runId: RUN_ID,
    backend,
    runtime: backend.startsWith('torch-')
      ? `PyTorch ${run.capability?.torch ?? '?'} (${run.capability?.deviceName ?? backend.slice(6)}, ${run.capability?.threads ?? '?'} threads)`
      : backend in NODE_BACKENDS
        ? `Node ${process.version}`
        : run.browser,
    machine: { ...machineInfo(), browser: run.browser },
    adapter: run.capability?.adapter ?? null,
    limits: run.capability?.limits ?? null,
    capability: run.capability,
    tfjs: run.capability?.tfjsVersion ?? tfjsVersion(),
    git: gitCommit(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    durationS: run.durationS ?? null,
    cases: run.outcomes,
  };
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  log(`wrote ${path.relative(repo, file)}`);
  return file;
}

/** Results files by backend name (the PyTorch reference is named after its device). */
const RESULT_NAMES = ['webgpu', 'wasm', 'node-wasm', 'node-webgpu', 'torch-cpu', 'torch-cuda'];

/** Newest results file of each backend. */
function latestResults(dir) {
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir)
    .filter((f) => /^\d{4}-\d{2}-\d{2}-.+\.json$/.test(f))
    .sort();
  const latest = new Map();
  for (const f of files) {
    const backend = f.slice(11, -5);
    latest.set(backend, f);
  }
  return RESULT_NAMES.filter((b) => latest.has(b)).map((b) => ({
    file: latest.get(b),
    data: JSON.parse(readFileSync(path.join(dir, latest.get(b)), 'utf8')),
  }));
}

const fmt = (x, digits = 0) => (x >= 100 || digits === 0 ? Math.round(x).toLocaleString('en-US') : x.toFixed(digits));
const num = (x) => (Number.isInteger(x) ? x.toLocaleString('en-US') : x.toFixed(2));
const mb = (bytes) => (bytes / 1e6).toFixed(bytes >= 1e7 ? 0 : 1);

function renderTable(dir) {
  const sets = latestResults(dir);
  if (sets.length === 0) return '_No results yet: run `npm run bench`._';
  const lines = [];
  lines.push(
    '| Backend | Case | kernels | ms/step median | ms/step mean | ex/s | GFLOP/s | kernels run | dispatches | submits | readbacks | uploads (MB) | uniform writes | new GPU buffers | shapes | memory flat | steps (warm + timed) |',
  );
  lines.push('|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|:-:|--:|');
  for (const { data } of sets) {
    const isGpu = GPU_BACKENDS.includes(data.backend);
    for (const r of data.cases) {
      const kernels = isGpu ? (r.kernels ?? 'fused') : '–';
      if (r.skipped) {
        lines.push(
          `| ${data.backend} | ${r.case} | ${kernels} | skipped: ${r.skipped.replace(/\|/g, '/')} | | | | | | | | | | | | | |`,
        );
        continue;
      }
      const t = r.timing;
      if (!r.perStep) {
        // The PyTorch reference: times only.
        lines.push(
          `| ${data.backend} | ${r.case} | – | ${fmt(t.medianMs)} | ${fmt(t.meanMs)} | ${fmt((r.batchSize * 1000) / t.meanMs, 1)} | | | | | | | | | | | ${r.steps} timed |`,
        );
        continue;
      }
      const p = r.perStep;
      lines.push(
        `| ${data.backend} | ${r.case} | ${kernels} | ${fmt(t.medianMs)} | ${fmt(t.meanMs)} | ${fmt(t.examplesPerSecond, 1)} | ${t.gflopsPerSecond.toFixed(2)} | ${num(p.kernels)} | ${num(p.dispatches)} | ${isGpu ? num(p.submits) : '–'} | ${num(p.readbacks)} | ${num(p.uploads)} (${mb(p.uploadBytes)}) | ${isGpu ? num(p.uniformWrites) : '–'} | ${isGpu ? num(p.bufferCreates) : '–'} | ${r.shapes.distinct} (+${r.shapes.newAfterWarmup}) | ${r.memory.flat ? 'yes' : '**no**'} | ${r.warmupSteps} + ${r.steps}${r.stepsCut ? '*' : ''} |`,
      );
    }
  }
  lines.push('');
  lines.push(...renderRatios(sets));
  lines.push('');
  lines.push(
    'Counts are per timed step. `*` = timed steps cut to fit the time budget. Shapes: distinct kernel output shapes (+ new after warm-up).',
  );
  lines.push('');
  lines.push('Measured on:');
  lines.push('');
  for (const { file, data } of sets) {
    const m = data.machine;
    const a = data.adapter;
    const adapter = a
      ? `adapter ${[a.vendor, a.architecture, a.description].filter(Boolean).join(' / ') || 'unknown'}`
      : null;
    const wasm =
      data.capability && data.capability.wasmThreads !== undefined && !data.backend.endsWith('webgpu')
        ? `wasm threads ${data.capability.wasmThreads ? 'on' : 'off'}`
        : null;
    const commit = data.git?.sha
      ? `commit ${data.git.sha.slice(0, 10)}${data.git.dirty ? ' (+ uncommitted changes)' : ''}`
      : null;
    lines.push(
      `- **${data.backend}** (${data.date.slice(0, 10)}, \`bench/results/${file}\`): ${[m.cpu, `${m.cores} cores`, m.os, `Node ${m.node.replace(/^v/, '')}`, data.runtime && !(data.backend in NODE_BACKENDS) ? data.runtime : null, adapter, wasm, `tfjs ${data.tfjs}`, commit].filter(Boolean).join(' · ')}`,
    );
  }
  return lines.join('\n');
}

/**
 * Ratios measured in one run: fused / stock ms per step on each GPU backend (the two settings ran back
 * to back in the same page or process), and each backend's ms per step / the PyTorch reference's.
 */
function renderRatios(sets) {
  const ok = (r) => r && !r.skipped && r.timing;
  const byCase = new Map();
  for (const { data } of sets)
    for (const r of data.cases) {
      if (!ok(r)) continue;
      const key = r.case;
      if (!byCase.has(key)) byCase.set(key, {});
      const label = GPU_BACKENDS.includes(data.backend) ? `${data.backend} ${r.kernels ?? 'fused'}` : data.backend;
      byCase.get(key)[label] = { ms: r.timing.medianMs, dispatches: r.perStep?.dispatches, runId: data.runId };
    }
  const torchName = sets.map((s) => s.data.backend).find((b) => b.startsWith('torch-'));
  const gpu = sets.map((s) => s.data.backend).filter((b) => GPU_BACKENDS.includes(b));
  const others = sets.map((s) => s.data.backend).filter((b) => !b.startsWith('torch-') && !GPU_BACKENDS.includes(b));
  const columns = [
    ...gpu.map((b) => ({
      title: `${b} fused / stock (ms; dispatches)`,
      cell: (row) => ratioCell(row[`${b} fused`], row[`${b} stock`], true),
    })),
    ...(torchName
      ? [
          ...gpu.flatMap((b) =>
            ['fused', 'stock'].map((k) => ({
              title: `${b} ${k} / ${torchName}`,
              cell: (row) => ratioCell(row[`${b} ${k}`], row[torchName]),
            })),
          ),
          ...others.map((b) => ({ title: `${b} / ${torchName}`, cell: (row) => ratioCell(row[b], row[torchName]) })),
        ]
      : []),
  ];
  if (columns.length === 0 || byCase.size === 0) return [];
  const out = [
    'Ratios of median ms per step (below 1: the first is faster), each pair measured in one `npm run bench` run:',
    '',
  ];
  out.push(`| Case | ${columns.map((c) => c.title).join(' | ')} |`);
  out.push(`|---|${columns.map(() => '--:').join('|')}|`);
  for (const [name, row] of byCase) out.push(`| ${name} | ${columns.map((c) => c.cell(row)).join(' | ')} |`);
  out.push('');
  return out;
}

function ratioCell(a, b, withDispatches = false) {
  if (!a || !b || a.runId !== b.runId) return '–';
  const ratio = (a.ms / b.ms).toFixed(2);
  return withDispatches && a.dispatches !== undefined && b.dispatches !== undefined
    ? `${ratio} (${num(a.dispatches)} / ${num(b.dispatches)})`
    : ratio;
}

const START = '<!-- bench:table:start (generated by `npm run bench`; edits inside are overwritten) -->';
const END = '<!-- bench:table:end -->';

function updateDoc(dir) {
  const docPath = path.join(repo, 'docs', 'BENCHMARKS.md');
  const table = renderTable(dir);
  let text = existsSync(docPath) ? readFileSync(docPath, 'utf8') : `# Benchmarks\n\n${START}\n${END}\n`;
  const s = text.indexOf('<!-- bench:table:start');
  const e = text.indexOf(END);
  if (s < 0 || e < s) text = `${text.trimEnd()}\n\n## Results\n\n${START}\n${END}\n`;
  const s2 = text.indexOf('<!-- bench:table:start');
  const e2 = text.indexOf(END);
  text = `${text.slice(0, s2)}${START}\n${table}\n${text.slice(e2)}`;
  mkdirSync(path.dirname(docPath), { recursive: true });
  writeFileSync(docPath, text);
  log(`updated ${path.relative(repo, docPath)}`);
}

// ------------------------------------------------------------------------------------------------

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const cases = selectCases(args);
  const startedAt = Date.now();
  log(`cases: ${cases.map(caseName).join(', ')} · backends: ${args.backends.join(', ')}`);
  const browserBackends = args.backends.filter((b) => !(b in NODE_BACKENDS) && b !== 'torch-cpu');
  if (args.backends.includes('torch-cpu')) {
    const run = await runTorch(cases, args);
    writeResults(`torch-${args.torchDevice}`, run, args);
  }
  for (const backend of args.backends.filter((b) => b in NODE_BACKENDS)) {
    const run = await runNode(backend, cases, args);
    writeResults(backend, run, args);
  }
  if (browserBackends.length > 0) {
    const runs = await runBrowser(browserBackends, cases, args);
    for (const [backend, run] of Object.entries(runs)) writeResults(backend, run, args);
  }
  if (args.doc) updateDoc(args.out);
  log(`done in ${Math.round((Date.now() - startedAt) / 1000)} s`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
