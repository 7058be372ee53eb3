import { describe, expect, it } from 'vitest';
import { progressText } from './progressText';

const progress = {
  step: 1,
  totalSteps: 48,
  epoch: 1,
  epochs: 4,
  examplesPerSecond: 3.2,
  etaSeconds: null,
  firstStepSeconds: 12.4,
};

describe('progressText', () => {
  it('names the phase before the first step: preparing, then compiling on WebGPU', () => {
    expect(progressText({ state: 'starting', progress: null, backend: 'webgpu' })).toMatch(/^Preparing/);
    expect(progressText({ state: 'running', progress: null, backend: 'webgpu' })).toMatch(
      /^Compiling the GPU programs/,
    );
    expect(progressText({ state: 'running', progress: null, backend: 'wasm' })).toBe('Running the first step…');
  });

  it('gives no time left until the pace after the first step is known, then an ETA', () => {
    expect(progressText({ state: 'running', progress, backend: 'webgpu' })).toBe(
      'step 1/48 · epoch 1/4 · 3.2 examples/s · first step 12 s (with compiling) · measuring the pace…',
    );
    expect(
      progressText({ state: 'running', progress: { ...progress, step: 5, etaSeconds: 130 }, backend: 'wasm' }),
    ).toBe('step 5/48 · epoch 1/4 · 3.2 examples/s · first step 12 s · ETA 2 min 10 s');
  });

  it('drops the ETA once the run is over', () => {
    expect(
      progressText({
        state: 'idle',
        progress: { ...progress, step: 48, etaSeconds: 0, firstStepSeconds: 2.5 },
        backend: 'webgpu',
      }),
    ).toBe('step 48/48 · epoch 1/4 · 3.2 examples/s · first step 2.5 s (with compiling)');
  });
});
