/**
 * How long a run will take, measured before it starts (docs/USER_GUIDE.md, "Train"): the encoder's
 * forward and backward pass on one real batch of the run's data, at the run's batch size and a
 * typical padded length, timed on this machine's backend. Nothing is updated: the gradients are
 * computed and dropped, so the weights stay as they are.
 */
import * as tf from '@tensorflow/tfjs';
import { bertEncoder } from '../bert';
import { namedParams } from '../bert/params';
import { batchToTensors } from '../methods/classifier';
import { makeBatches } from '../train/batches';
import type { FewShotModel } from './fewshot-model';
import type { FineTunePlan } from './fine-tune';

export interface RunEstimate {
  /** The first timed pass: it also compiles the GPU programs of these shapes. */
  firstSeconds: number;
  /** One training step's forward and backward pass once compiled. */
  stepSeconds: number;
  /** One forward pass (what evaluation does per batch). */
  forwardSeconds: number;
  /** The probed batch: rows × padded tokens. */
  batch: { rows: number; tokens: number };
  /** Evaluation passes over the dev rows the run will make (every evalEvery steps and at each epoch end). */
  evaluations: number;
  /** The whole run: steps × stepSeconds + evaluations × dev batches × forwardSeconds. */
  totalSeconds: number;
}

/** Longest a suggestion to make the run shorter waits for (10 minutes). */
export const LONG_RUN_SECONDS = 600;

/**
 * Batches' worth of training rows tokenized to pick the probed batch: enough for a typical padded
 * length, and it keeps a 20,000-row dataset from holding the worker's queue while it tokenizes.
 */
const PROBE_SAMPLE_BATCHES = 64;

export async function estimateRun(model: FewShotModel, plan: FineTunePlan): Promise<RunEstimate> {
  const rows = plan.trainExamples
    .slice(0, plan.batchSize * PROBE_SAMPLE_BATCHES)
    .map((r) => ({ text: r.text, textPair: r.textPair ?? null }));
  const { examples } = model.encode(rows, null, plan.maxLength);
  const batches = makeBatches(examples, {
    batchSize: plan.batchSize,
    seed: plan.seed,
    epoch: 0,
    maxLength: plan.maxLength,
  });
  // A typical batch: the median padded length of the sample's batches.
  const sorted = [...batches].sort((a, b) => a.seqLen - b.seqLen);
  const batch = sorted[Math.floor(sorted.length / 2)];
  const inputs = batchToTensors(batch);
  const encoderVariables = namedParams(model.params, model.config)
    // The encoder's own weights: the heads and the pooler are not on bertEncoder's path.
    .filter((p) => p.name.startsWith('bert.') && !p.name.startsWith('bert.pooler.'))
    .map((p) => p.variable);
  const timed = async (withGrads: boolean): Promise<number> => {
    const started = performance.now();
    const value = tf.tidy(() => {
      const loss = () =>
        tf.mean(bertEncoder(model.params, model.config, inputs, { training: withGrads, dropoutSeed: 1 })) as tf.Scalar;
      if (!withGrads) return loss();
      const { value: v, grads } = tf.variableGrads(loss, encoderVariables);
      // Sums every gradient into the result, so the readback waits for the whole backward pass.
      return tf.addN([v, ...Object.values(grads).map((g) => tf.mul(tf.sum(g), 0))]) as tf.Scalar;
    });
    await value.data();
    value.dispose();
    return (performance.now() - started) / 1000;
  };
  try {
    const firstSeconds = await timed(true);
    const stepSeconds = await timed(true);
    const forwardSeconds = await timed(false);
    const s = plan.settings;
    const evaluations = plan.devCount === 0 ? 0 : Math.floor(plan.totalSteps / Math.max(1, s.evalEvery)) + plan.epochs;
    const devBatches = Math.ceil(plan.devCount / plan.batchSize);
    return {
      firstSeconds,
      stepSeconds,
      forwardSeconds,
      batch: { rows: batch.batchSize, tokens: batch.seqLen },
      evaluations,
      totalSeconds:
        firstSeconds +
        (plan.totalSteps - 1) * stepSeconds * s.gradAccumSteps +
        evaluations * devBatches * forwardSeconds,
    };
  } finally {
    tf.dispose([inputs.inputIds, inputs.tokenTypeIds!, inputs.attentionMask!, inputs.labels]);
  }
}
