/**
 * Will a training step fit on this device? A rough estimate of what one step keeps alive, and a
 * plan that halves the batch (doubling gradient accumulation, so the effective batch stays) until
 * it fits, or refuses with the memory needed.
 */
import type { LimitsReport } from '../backend';
import type { BertConfig } from '../bert';
import { EngineError } from '../errors';

/** Device limits that bound one training step (from the capability report). */
export interface MemoryLimits {
  /** Largest single buffer the device allows (bytes). */
  maxBufferBytes: number;
  /** Budget for everything a step keeps alive (bytes). */
  totalBudgetBytes: number;
}

/**
 * Share of the adapter's largest buffer size used as the budget for a whole training step. WebGPU
 * does not report total memory; real GPUs have several times `maxBufferSize`, so 2× is a
 * conservative budget that still admits base-size models at moderate batch sizes.
 */
export const STEP_BUDGET_BUFFER_MULTIPLE = 2;

/**
 * The memory limits of a WebGPU adapter (the capability report's `limits`), or null when there is
 * none (wasm, cpu: no GPU limit applies). The studio's worker and the CLI on `--backend webgpu`
 * both plan with these.
 */
export function memoryLimitsFromAdapter(
  limits: Pick<LimitsReport, 'maxBufferSize' | 'maxStorageBufferBindingSize'> | null,
): MemoryLimits | null {
  return limits
    ? {
        maxBufferBytes: limits.maxStorageBufferBindingSize,
        totalBudgetBytes: limits.maxBufferSize * STEP_BUDGET_BUFFER_MULTIPLE,
      }
    : null;
}

export interface MemoryPlan {
  /** Estimated bytes a training step keeps alive: weights, gradients, Adam moments, activations. */
  estimatedBytes: number;
  /** Largest single tensor of the step (bytes). */
  largestBufferBytes: number;
  requestedBatchSize: number;
  batchSize: number;
  gradAccumSteps: number;
  /** Set when the batch size was lowered: says why and what was done instead. */
  note: string | null;
}

const BYTES = 4;

/**
 * Rough memory of one training step. Weights, gradients and two Adam moments: 4 × params. The
 * backward pass keeps per layer about 10 [B,T,H] tensors, 3 [B,T,I] and 3 [B,A,T,T] (scores,
 * probabilities, dropout mask), plus embeddings and the head.
 */
export function estimateTrainingMemory(
  config: BertConfig,
  batchSize: number,
  seqLen: number,
  parameters: number,
): { totalBytes: number; largestBufferBytes: number } {
  const { hidden_size: H, intermediate_size: I, num_attention_heads: A, num_hidden_layers: L, vocab_size: V } = config;
  const B = batchSize;
  const T = seqLen;
  const perLayer = B * T * (10 * H + 3 * I) + 3 * B * A * T * T;
  const activations = L * perLayer + 4 * B * T * H;
  const totalBytes = (4 * parameters + activations) * BYTES;
  const largestBufferBytes = Math.max(V * H, B * A * T * T, B * T * I) * BYTES;
  return { totalBytes, largestBufferBytes };
}

/** Halves the batch (and doubles accumulation) until the step fits `limits`. */
export function planMemory(
  config: BertConfig,
  parameters: number,
  batchSize: number,
  gradAccumSteps: number,
  seqLen: number,
  limits: MemoryLimits | null,
): MemoryPlan {
  let batch = batchSize;
  let accum = gradAccumSteps;
  let estimate = estimateTrainingMemory(config, batch, seqLen, parameters);
  const fits = () =>
    !limits || (estimate.totalBytes <= limits.totalBudgetBytes && estimate.largestBufferBytes <= limits.maxBufferBytes);
  const firstEstimate = estimate;
  while (!fits() && batch > 1) {
    batch = Math.max(1, Math.floor(batch / 2));
    accum *= 2;
    estimate = estimateTrainingMemory(config, batch, seqLen, parameters);
  }
  if (!fits()) {
    const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;
    throw new EngineError(
      'TRAIN_OUT_OF_MEMORY',
      `Even one example of ${seqLen} tokens needs about ${gib(estimate.totalBytes)} (largest buffer ${gib(estimate.largestBufferBytes)}), ` +
        `more than this device allows (${gib(limits!.totalBudgetBytes)} budget, ${gib(limits!.maxBufferBytes)} per buffer). Lower the max length or pick a smaller model.`,
    );
  }
  const mib = (b: number) => `${Math.round(b / 2 ** 20)} MiB`;
  const note =
    batch === batchSize
      ? null
      : `Batch size ${batchSize} would need about ${mib(firstEstimate.totalBytes)} per step, more than this GPU allows; ` +
        `training with batch ${batch} × ${accum} accumulation steps instead (same effective batch).`;
  return {
    estimatedBytes: estimate.totalBytes,
    largestBufferBytes: estimate.largestBufferBytes,
    requestedBatchSize: batchSize,
    batchSize: batch,
    gradAccumSteps: accum,
    note,
  };
}
