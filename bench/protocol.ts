/** Messages between the benchmark page (main.ts) and its worker (worker.ts). */
import type { CapabilityReport } from '../src/engine/backend';
import type { BertPresetName } from '../src/engine/bert/config';
import type { BenchObjective, TrainStepBenchResult } from '../src/engine/bench/train-step';
import type { KernelMode } from '../src/engine/kernels/mode';

export interface CaseSpec {
  preset: BertPresetName;
  batchSize: number;
  seqLen: number;
  /** The step timed (default classifier). */
  objective?: BenchObjective;
  /** Our WebGPU kernels or the stock ops (default fused). */
  kernels?: KernelMode;
  warmupSteps: number;
  steps: number;
  /** Soft budget (s): timed steps are cut to fit after warm-up. */
  budgetS: number;
  /** Hard limit (s): past it the page terminates the worker and records a skip. */
  hardLimitS?: number;
}

export interface RunRequest {
  backend: string;
  spec: CaseSpec;
}

export type WorkerReply =
  | { type: 'log'; message: string }
  | { type: 'capability'; capability: CapabilityReport }
  | { type: 'result'; result: TrainStepBenchResult }
  | { type: 'error'; message: string };

/** What the page returns for one case. */
export type CaseOutcome =
  | { ok: true; capability: CapabilityReport; result: TrainStepBenchResult }
  | { ok: false; case: string; capability: CapabilityReport | null; reason: string };
