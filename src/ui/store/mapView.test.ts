/** The map's caption and its "Draw again" offer follow the weights that drew it. */
import { describe, expect, it } from 'vitest';
import { drawnWithText, weightsChangedSince } from './mapView';

const runs = [{ runId: 'r-a' }, { runId: 'r-b' }];

describe('the map says which weights drew it', () => {
  it('names the base model, or the run that trained it', () => {
    expect(drawnWithText({ modelName: 'fewshot-mini', atBase: true, runId: null }, runs)).toBe(
      'Drawn with fewshot-mini (base weights).',
    );
    expect(drawnWithText({ modelName: 'fewshot-mini', atBase: false, runId: 'r-b' }, runs)).toBe(
      'Drawn with the trained model (fewshot-mini), after run 2.',
    );
    expect(drawnWithText({ modelName: 'm', atBase: false, runId: 'gone' }, runs)).toBe(
      'Drawn with the trained model (m), after training.',
    );
  });

  it('offers to draw again once the weights changed since', () => {
    const base = { modelName: 'm', atBase: true, runId: null };
    expect(weightsChangedSince(base, true, 'r-a')).toBe(false);
    expect(weightsChangedSince(base, false, 'r-a')).toBe(true);
    const trained = { modelName: 'm', atBase: false, runId: 'r-a' };
    expect(weightsChangedSince(trained, false, 'r-a')).toBe(false);
    expect(weightsChangedSince(trained, false, 'r-b')).toBe(true);
    expect(weightsChangedSince(trained, true, 'r-a')).toBe(true);
  });
});
