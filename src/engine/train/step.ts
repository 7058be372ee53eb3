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
 * `tf.variableGrads` without its upload: tfjs starts the backward pass from a new `ones` tensor,
 * one CPU→GPU upload every step; this starts it from `seed`, a kept scalar 1 (the optimizer's
 * `lossSeed`), so a step uploads only its batch. Same checks, same result: the loss and the
 * gradients keyed by variable name (trainable variables only; one the loss does not reach gets none).
 */
export function lossGradients(
  f: () => tf.Scalar,
  variables: readonly tf.Variable[],
  seed: tf.Scalar,
): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const trainable = variables.filter((v) => v.trainable);
  if (trainable.length === 0) throw new EngineError('TRAIN_BAD_OPTIONS', 'The objective has no trainable parameters.');
  const { value, grads } = tf.engine().gradients(f, trainable, seed, true);
  if (value.rank !== 0)
    throw new EngineError('TRAIN_BAD_OPTIONS', `The loss must be a scalar; it has shape [${value.shape}].`);
  if (grads.every((g) => g == null)) {
    throw new EngineError('TRAIN_BAD_OPTIONS', 'The loss does not depend on any trainable parameter.');
  }
  const named: tf.NamedTensorMap = {};
  trainable.forEach((v, i) => {
    if (grads[i] != null) named[v.name] = grads[i];
  });
  return { value: value as tf.Scalar, grads: named };
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
      const { value, grads } = lossGradients(
        objective.lossFor(microBatches[0], contextFor(0)),
        variables,
        optimizer.lossSeed,
      );
      optimizer.step(byName(grads), lr, { reportNorm: false });
      return value;
    });
  }
  if (!accumulator) throw new EngineError('TRAIN_BAD_OPTIONS', 'Gradient accumulation needs a GradAccumulator.');
  let lossSum: tf.Scalar | null = null;
  for (const [m, batch] of microBatches.entries()) {
    const value = tf.tidy(() => {
      const { value, grads } = lossGradients(objective.lossFor(batch, contextFor(m)), variables, optimizer.lossSeed);
      accumulator.add(byName(grads));
      return value;
    });
    const next = tf.tidy(() => (lossSum ? tf.add(lossSum, value) : tf.clone(value)) as tf.Scalar);
    lossSum?.dispose();
    value.dispose();
    lossSum = next;
  }
  const mean = accumulator.take('mean');
  tf.tidy(() => {
    optimizer.step(mean, lr, { reportNorm: false });
  });
  tf.dispose(Object.values(mean));
  const loss = tf.tidy(() => tf.div(lossSum!, microBatches.length) as tf.Scalar);
  lossSum!.dispose();
  return loss;
}
