/**
 * The ops with upload-free gradients (no-upload-webgpu.ts) against their stock references, forward
 * and gradient, on WebGPU in Node (Dawn; SwiftShader without a GPU), and the point of them: their
 * backward pass uploads nothing where the stock one uploads constants. Skipped with the reason when
 * the `webgpu` package or an adapter is missing outside CI; under CI=true that fails instead.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Counters } from '../bench/instrument';
import { describeOnNodeWebGpu } from '../../../tests/support/node-webgpu';
import { initNodeBackend } from '../tf/node';
import { kernelMode, setKernelMode } from './mode';
import { logAtLeast, meanOfAll, softLabelCrossEntropy, tanhActivation, weightedMean } from './no-upload-webgpu';
import { relativeDifference } from './program';

const describeWebGpu = await describeOnNodeWebGpu();

/** Each op as a scalar function of one input, with the input's shape and values (odd sizes). */
const CASES: Array<{ name: string; shape: number[]; loss: (x: tf.Tensor) => tf.Scalar }> = [
  { name: 'meanOfAll', shape: [5, 7], loss: (x) => meanOfAll(x) },
  {
    name: 'tanhActivation',
    shape: [3, 33],
    // A weighted sum, so the gradient reaching tanh differs per element.
    loss: (x) => tf.sum(tf.mul(tanhActivation(x), tf.randomUniform(x.shape, -1, 1, 'float32', 7))) as tf.Scalar,
  },
  {
    name: 'softLabelCrossEntropy',
    shape: [6, 3],
    loss: (x) => {
      const raw = tf.randomUniform([6, 3], 0, 1, 'float32', 11);
      const labels = tf.div(raw, tf.sum(raw, 1, true)) as tf.Tensor2D; // soft labels, rows sum to 1
      return softLabelCrossEntropy(x as tf.Tensor2D, labels);
    },
  },
  {
    // One-hot labels cast from int32 keep an int32 buffer in tfjs: the program must read them as such.
    name: 'softLabelCrossEntropy, one-hot labels',
    shape: [5, 4],
    loss: (x) =>
      softLabelCrossEntropy(
        x as tf.Tensor2D,
        tf.oneHot(tf.tensor1d([0, 3, 1, 1, 2], 'int32'), 4).toFloat() as tf.Tensor2D,
      ),
  },
  {
    name: 'logAtLeast',
    shape: [4, 5],
    // |x| with a few entries below the floor (their gradient is 0 on both paths).
    loss: (x) => tf.sum(logAtLeast(tf.mul(tf.abs(x), tf.tensor1d([1, 1, 0, 1, 1e-32])), 1e-30)) as tf.Scalar,
  },
  {
    name: 'weightedMean',
    shape: [9],
    loss: (x) => weightedMean(x as tf.Tensor1D, tf.tensor1d([1, 0, 1, 1, 0.5, 0, 1, 1, 1])),
  },
];

/** Loss and gradient of `c` at fixed inputs, with our gradients ('fused') or the stock ones. */
async function valueAndGrad(c: (typeof CASES)[number], mode: 'fused' | 'stock') {
  setKernelMode(mode);
  const x = tf.randomNormal(c.shape, 0, 2, 'float32', 5);
  const { value, grad } = tf.valueAndGrad(c.loss)(x);
  const out = { value: Array.from(await value.data()), grad: Array.from(await grad.data()) };
  tf.dispose([x, value, grad]);
  return out;
}

/** CPU→GPU uploads of one backward pass of `c`, its input already on the GPU, started from a kept dy. */
async function backwardUploads(c: (typeof CASES)[number], mode: 'fused' | 'stock') {
  setKernelMode(mode);
  const x = tf.variable(tf.randomNormal(c.shape, 0, 2, 'float32', 5));
  const warm = tf.tidy(() => c.loss(x)); // uploads the case's own data tensors' values
  await warm.data();
  warm.dispose();
  const dy = tf.scalar(1);
  await dy.data();
  tf.tidy(() => tf.add(dy, 0)); // on the GPU before counting
  const counters = Counters.install();
  const grads = tf.tidy(() => {
    // The case's data tensors (random labels, weights) are made inside the loss: count them out by
    // counting only the backward (the forward runs before the tape is read back).
    const { grads } = tf.engine().gradients(() => c.loss(x), [x], dy, true);
    return grads;
  });
  const uploads = counters.snapshot().uploads;
  counters.uninstall();
  tf.dispose([...grads, dy]);
  x.dispose();
  return uploads;
}

describeWebGpu('upload-free gradients on WebGPU', () => {
  const before = kernelMode();
  beforeAll(async () => {
    await initNodeBackend('webgpu');
  });
  afterAll(() => setKernelMode(before));

  for (const c of CASES) {
    it(`${c.name}: same loss and gradient as the stock ops`, async () => {
      const fused = await valueAndGrad(c, 'fused');
      const stock = await valueAndGrad(c, 'stock');
      expect(relativeDifference(fused.value, stock.value)).toBeLessThan(1e-5);
      expect(relativeDifference(fused.grad, stock.grad)).toBeLessThan(1e-5);
      expect(Math.max(...stock.grad.map(Math.abs))).toBeGreaterThan(1e-3); // a gradient worth comparing
    });
  }

  it('their backward passes upload nothing more than the forward data; the stock ones upload constants', async () => {
    for (const c of CASES) {
      const fused = await backwardUploads(c, 'fused');
      const stock = await backwardUploads(c, 'stock');
      expect(stock, c.name).toBeGreaterThan(fused);
    }
  });
});
