/**
 * Benchmark page. Each case runs in a fresh module Web Worker (as the studio runs its engine), on
 * the backend named by `?backend=webgpu|wasm`. Driven by scripts/bench.mjs through
 * `window.__bench.runCase(spec)`; opened by hand with `?cases=micro-b16-t64,...` it runs those.
 */
import type { CapabilityReport } from '../src/engine/backend';
import type { BertPresetName } from '../src/engine/bert/config';
import type { CaseOutcome, CaseSpec, RunRequest, WorkerReply } from './protocol';

const params = new URLSearchParams(location.search);
const backend = params.get('backend') ?? 'webgpu';
const logEl = document.getElementById('log')!;
const outEl = document.getElementById('out')!;
const logs: string[] = [];

function log(message: string): void {
  logs.push(message);
  logEl.textContent += `${message}\n`;
}

function runCase(spec: CaseSpec): Promise<CaseOutcome> {
  const name = `${spec.preset}-b${spec.batchSize}-t${spec.seqLen}`;
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  let capability: CapabilityReport | null = null;
  return new Promise<CaseOutcome>((resolve) => {
    const hardLimitS = spec.hardLimitS ?? spec.budgetS * 2 + 60;
    const finish = (outcome: CaseOutcome) => {
      clearTimeout(timer);
      worker.terminate();
      resolve(outcome);
    };
    const timer = setTimeout(
      () =>
        finish({
          ok: false,
          case: name,
          capability,
          reason: `exceeded the hard limit of ${hardLimitS} s (worker terminated)`,
        }),
      hardLimitS * 1000,
    );
    worker.addEventListener('message', (event: MessageEvent<WorkerReply>) => {
      const m = event.data;
      if (m.type === 'log') log(`[${backend}] ${m.message}`);
      else if (m.type === 'capability') capability = m.capability;
      else if (m.type === 'result') finish({ ok: true, capability: capability!, result: m.result });
      else finish({ ok: false, case: name, capability, reason: m.message });
    });
    worker.addEventListener('error', (event) =>
      finish({ ok: false, case: name, capability, reason: `worker error: ${event.message}` }),
    );
    worker.postMessage({ backend, spec } satisfies RunRequest);
  });
}

function parseCase(token: string): CaseSpec {
  const m = /^([a-z]+)(?:-b(\d+))?(?:-t(\d+))?$/.exec(token.trim());
  if (!m) throw new Error(`bad case "${token}" (use e.g. tiny-b16-t64)`);
  return {
    preset: m[1] as BertPresetName,
    batchSize: Number(m[2] ?? 16),
    seqLen: Number(m[3] ?? 64),
    warmupSteps: 2,
    steps: 3,
    budgetS: 120,
  };
}

interface BenchHook {
  backend: string;
  logs: string[];
  runCase: typeof runCase;
  /** Set when ?cases= was given and all of them finished. */
  results: CaseOutcome[] | null;
}
const hook: BenchHook = { backend, logs, runCase, results: null };
(window as unknown as { __bench: BenchHook }).__bench = hook;

const cases = params.get('cases');
if (cases) {
  void (async () => {
    const outcomes: CaseOutcome[] = [];
    for (const token of cases.split(',')) {
      outcomes.push(await runCase(parseCase(token)));
      outEl.textContent = JSON.stringify(outcomes, null, 2);
    }
    hook.results = outcomes;
  })();
}
