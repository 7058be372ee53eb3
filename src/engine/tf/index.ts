/** tfjs helpers shared by the engine: extra kernels and differentiable ops. Node-only backend setup is in ./node. */
export { registerWasmKernels, unsortedSegmentSumJs } from './kernels';
export { geluErf, geluTanh, layerNorm, linear, dropout } from './ops';
