/**
 * What the Train panel says while a run starts and trains (docs/USER_GUIDE.md, "Train"): the phase
 * before the first step, how long the first step took (it also compiles the GPU programs, so it is
 * the slowest), then steps, speed and time left once the pace after the first step is known.
 */
import { formatDuration } from './helpers';
import type { TrainingProgress } from './trainingSlice';

export function progressText(options: {
  state: string;
  progress: TrainingProgress | null;
  backend: string | null;
}): string {
  const { state, progress, backend } = options;
  if (!progress) {
    if (state === 'starting') return 'Preparing: checking and tokenizing the data…';
    if (state === 'idle') return '';
    return backend === 'webgpu'
      ? 'Compiling the GPU programs and running the first step. This is the slowest step; the next ones are faster.'
      : 'Running the first step…';
  }
  const parts = [
    `step ${progress.step}/${progress.totalSteps}`,
    `epoch ${progress.epoch}/${progress.epochs}`,
    `${progress.examplesPerSecond.toFixed(1)} examples/s`,
  ];
  if (progress.firstStepSeconds !== null)
    parts.push(
      `first step ${progress.firstStepSeconds < 10 ? progress.firstStepSeconds.toFixed(1) : Math.round(progress.firstStepSeconds)} s${backend === 'webgpu' ? ' (with compiling)' : ''}`,
    );
  // An estimate of time left means nothing once the run is over.
  if (state !== 'idle')
    parts.push(progress.etaSeconds === null ? 'measuring the pace…' : `ETA ${formatDuration(progress.etaSeconds)}`);
  return parts.join(' · ');
}
