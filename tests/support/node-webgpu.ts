/**
 * WebGPU in Node for the kernel tests (Dawn; SwiftShader without a GPU). `describeOnNodeWebGpu()`
 * opens it once per test file and returns a `describe` that runs its suite where an adapter is,
 * skips it with the reason printed where the `webgpu` package or an adapter is missing, and under
 * CI=true runs it anyway so a machine that should have WebGPU fails instead of skipping.
 */
import { describe } from 'vitest';
import { openNodeWebGpu } from '../../src/engine/tf/node';

export async function describeOnNodeWebGpu(): Promise<(name: string, suite: () => void) => void> {
  const opened = await openNodeWebGpu();
  const unavailable = opened.ok ? null : opened.reason;
  const skip = unavailable !== null && !process.env.CI;
  return (name, suite) => {
    if (skip) console.warn(`skipping "${name}": ${unavailable}`);
    describe.skipIf(skip)(name, suite);
  };
}
