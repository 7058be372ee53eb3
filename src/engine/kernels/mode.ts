/**
 * Which implementation of the operations we have our own WebGPU kernels for runs (docs/ARCHITECTURE.md,
 * "Own kernels"): 'fused' (default) uses them on the webgpu backend; 'stock' keeps TensorFlow.js's own
 * ops everywhere, so every kernel can be compared with its reference in one run (`?kernels=stock` in
 * the studio, `--kernels stock` in the CLI). cpu and wasm always run the stock ops.
 */
export type KernelMode = 'fused' | 'stock';

export const KERNEL_MODES: readonly KernelMode[] = ['fused', 'stock'];

let mode: KernelMode = 'fused';

export function setKernelMode(next: KernelMode): void {
  if (!KERNEL_MODES.includes(next)) throw new Error(`kernel mode must be fused or stock, got ${String(next)}`);
  mode = next;
}

export function kernelMode(): KernelMode {
  return mode;
}
