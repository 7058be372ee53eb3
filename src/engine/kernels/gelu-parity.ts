/**
 * Parity cases of the fused GELU (docs/ARCHITECTURE.md, "Own kernels"), on the active backend
 * (webgpu), for the Node test (kernels/gelu-webgpu.test.ts) and the browser harness alike: `geluErf`
 * and `geluTanh` of tf/ops.ts with the `fused` kernel setting against the same functions with `stock`,
 * on values in [−10, 10] with exact 0, ±10 and tiny and mid-size values planted among them.
 */
import * as tf from '@tensorflow/tfjs';
import { relativeDifference, valueAndGrad, type ParityResult } from './program';
import { Counters } from '../bench/instrument';
import { geluErf, geluTanh } from '../tf/ops';
import { kernelMode, setKernelMode } from './mode';

/** Odd sizes (not multiples of the 64-thread workgroup), a single element, a [B·T, I]-like shape. */
const SHAPES: number[][] = [[37, 129], [3, 5, 7], [1], [16 * 13, 37]];

/** Planted at the start of every input (as far as it reaches): the edges and the sign changes. */
const SPECIAL = [0, 10, -10, 1e-7, -1e-7, 1e-3, -1e-3, 0.5, -0.5, 1, -1, 3, -3, 5.5, -5.5, 9.99, -9.99];

/** Uniform in [−10, 10] from `seed`, with SPECIAL planted at the start. */
export function geluInput(shape: number[], seed: number): tf.Tensor {
  const values = tf.tidy(() => tf.randomUniform(shape, -10, 10, 'float32', seed).dataSync()) as Float32Array;
  SPECIAL.slice(0, values.length).forEach((v, i) => (values[i] = v));
  return tf.tensor(values, shape);
}

/** Dispatches of `op` forward alone and forward + backward (dy given, so only the op runs), fused. */
export async function geluDispatches(op: (x: tf.Tensor) => tf.Tensor, shape: number[]) {
  const before = kernelMode();
  setKernelMode('fused');
  const x = geluInput(shape, 1);
  const dy = geluInput(shape, 2);
  const run = (withGrad: boolean) => (withGrad ? tf.grads(op)([x], dy)[0] : op(x));
  try {
    tf.dispose([run(true), run(false)]); // warm: uploads x and dy, compiles the programs
    await tf.ones([1]).data(); // settle pending work before counting
    const count = async (withGrad: boolean) => {
      const counters = Counters.install();
      const out = run(withGrad);
      const c = counters.snapshot();
      counters.uninstall();
      await out.data();
      out.dispose();
      return c;
    };
    return { forward: await count(false), both: await count(true) };
  } finally {
    tf.dispose([x, dy]);
    setKernelMode(before);
  }
}

export async function geluParity(): Promise<ParityResult[]> {
  const before = kernelMode();
  const results: ParityResult[] = [];
  const forms: [string, (x: tf.Tensor) => tf.Tensor][] = [
    ['erf', geluErf],
    ['tanh', geluTanh],
  ];
  try {
    for (const [name, op] of forms) {
      for (const [i, shape] of SHAPES.entries()) {
        const x = geluInput(shape, 30 + i);
        const w = tf.randomNormal(shape, 0, 1, 'float32', 40 + i);
        setKernelMode('fused');
        const fused = await valueAndGrad(op, x, w);
        setKernelMode('stock');
        const stock = await valueAndGrad(op, x, w);
        const { both } = await geluDispatches(op, shape);
        results.push({
          case: `${name} [${shape.join(', ')}]`,
          forward: relativeDifference(fused.y, stock.y),
          gradient: relativeDifference(fused.dx, stock.dx),
          fusedDispatches: both.dispatches,
        });
        tf.dispose([x, w]);
      }
    }
  } finally {
    setKernelMode(before);
  }
  return results;
}
