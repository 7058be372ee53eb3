import { describe, expect, it } from 'vitest';
import { progressText } from './progressText';
import { estimateText } from './actions';

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

describe('estimateText', () => {
  const estimate = {
    firstSeconds: 9.84,
    stepSeconds: 1.23,
    forwardSeconds: 0.4,
    batch: { rows: 8, tokens: 64 },
    evaluations: 6,
    totalSeconds: 200,
  };
  it('says how long, from what measurement, and how many evaluations', () => {
    expect(estimateText({ estimate, totalSteps: 48 })).toBe(
      'About 3 min 20 s for 48 steps: one step took 1.2 s here on a batch of 8 × 64 tokens (the first, which also compiles the GPU programs, 9.8 s), plus 6 evaluations on the dev rows.',
    );
  });
  it('advises a shorter run when it is long', () => {
    expect(estimateText({ estimate: { ...estimate, totalSeconds: 3600, evaluations: 0 }, totalSteps: 1 })).toMatch(
      /^About 1 h 0 min for 1 step: .*9\.8 s\)\. That is long: a smaller model/,
    );
  });
});
