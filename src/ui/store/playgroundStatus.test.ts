import { describe, expect, it } from 'vitest';
import { playgroundStatus } from './playgroundActions';

const base = { playText: 'a fine film', playPending: null, playAnsweredText: 'a fine film', trainingState: 'idle' };

describe('playgroundStatus', () => {
  it('is quiet when the answer on screen is for the text in the box', () => {
    expect(playgroundStatus(base)).toEqual({ busy: null, stale: false });
  });

  it('says what a pending answer waits for', () => {
    expect(playgroundStatus({ ...base, playPending: 'a fine film' }).busy).toBe('Working: computing…');
    expect(playgroundStatus({ ...base, playPending: 'x', trainingState: 'running' }).busy).toMatch(
      /waiting for the training step in progress to finish/,
    );
    expect(playgroundStatus({ ...base, playPending: 'x', trainingState: 'starting' }).busy).toMatch(
      /first step compiles the GPU programs/,
    );
  });

  it('marks the probabilities of an earlier text as stale', () => {
    expect(playgroundStatus({ ...base, playText: 'a dull film' }).stale).toBe(true);
    expect(playgroundStatus({ ...base, playAnsweredText: null }).stale).toBe(false);
  });
});
