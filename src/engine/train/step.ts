/**
 * One optimizer step, the same for the training loop and the benchmark (docs/ARCHITECTURE.md,
 * "The training loop and its methods"): loss and gradients of each micro-batch, their mean through
 * the accumulator when there are several, then AdamW at the scheduled learning rate.
 */
import * as tf from '@tensorflow/tfjs';
import { EngineError } from '../errors';
import type { ForwardContext, TrainingObjective } from './objective';
import type { AdamW, GradAccumulator } from './optim';

/** Dropout seed of optimizer step `step` (0-based): one formula for every method. */
export function dropoutSeedFor(seed: number, step: number): number {
  return (Math.imul(seed, 100_003) + step * 31 + 1) >>> 0;
}

/**
 * One optimizer step over `microBatches`: loss and gradients of each, their mean through the
 * accumulator when there are several, then AdamW at `lr`. Returns the mean loss as a kept scalar
 * (the caller reads and disposes it). The training loop and the benchmark both call this.
 */
export function trainStep<TBatch>(
  objective: Pick<TrainingObjective<TBatch, unknown>, 'lossFor' | 'parameters'>,
  microBatches: readonly TBatch[],
  optimizer: AdamW,
  lr: number,
  context: { training: boolean; dropoutSeed?: number },
  accumulator: GradAccumulator | null = null,
): tf.Scalar {
  const params = objective.parameters;
  const variables = params.map((p) => p.variable);
  const contextFor = (m: number): ForwardContext => ({
    training: context.training,
    dropoutSeed: context.dropoutSeed === undefined ? undefined : context.dropoutSeed + m,
  });
  const byName = (grads: tf.NamedTensorMap) => {
    const named: tf.NamedTensorMap = {};
    for (const p of params) named[p.name] = grads[p.variable.name];
    return named;
  };
  if (microBatches.length === 1) {
    return tf.tidy(() => {
      const { value, grads } = tf.variableGrads(objective.lossFor(microBatches[0], contextFor(0)), variables);
      optimizer.step(byName(grads), lr).gradNorm?.dispose();
      return value;
    });
  }
  if (!accumulator) throw new EngineError('TRAIN_BAD_OPTIONS', 'Gradient accumulation needs a GradAccumulator.');
  let lossSum: tf.Scalar | null = null;
  for (const [m, batch] of microBatches.entries()) {
    const value = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(objective.lossFor(batch, contextFor(m)), variables);
      accumulator.add(byName(grads));
      return value;
    });
    const next = tf.tidy(() => (lossSum ? tf.add(lossSum, value) : tf.clone(value)) as tf.Scalar);
    lossSum?.dispose();
    value.dispose();
    lossSum = next;
  }
  const mean = accumulator.take('mean');
  tf.tidy(() => optimizer.step(mean, lr).gradNorm?.dispose());
  tf.dispose(Object.values(mean));
  const loss = tf.tidy(() => tf.div(lossSum!, microBatches.length) as tf.Scalar);
  lossSum!.dispose();
  return loss;
}
