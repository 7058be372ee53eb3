/** Numbers the UI repeats because it may not run engine code: they must agree with the engine's. */
import { describe, expect, it } from 'vitest';
import {
  LONG_RUN_SECONDS as engineLongRun,
  MAX_MAP_ROWS as engineMaxMapRows,
  SMALL_DEV_ROWS as engineSmallDevRows,
  UMAP_MAX_ROWS as engineUmapMaxRows,
  formatAccuracyWithInterval,
  wilsonInterval,
} from '../src/engine/studio';
import {
  LONG_RUN_SECONDS as uiLongRun,
  MAX_MAP_ROWS as uiMaxMapRows,
  SMALL_DEV_ROWS as uiSmallDevRows,
  UMAP_MAX_ROWS as uiUmapMaxRows,
  accuracyPlusMinus,
} from '../src/ui/store/helpers';

describe('UI and engine agree', () => {
  it('on the small-dev-set threshold', () => {
    expect(uiSmallDevRows).toBe(engineSmallDevRows);
  });

  it('on the most rows the map draws', () => {
    expect(uiMaxMapRows).toBe(engineMaxMapRows);
    expect(uiUmapMaxRows).toBe(engineUmapMaxRows);
  });

  it('on when a run counts as long', () => {
    expect(uiLongRun).toBe(engineLongRun);
  });

  it('on the ± of an accuracy', () => {
    for (const [correct, n] of [
      [10, 12],
      [4, 4],
      [37, 50],
    ]) {
      const ui = accuracyPlusMinus(wilsonInterval(correct, n))!.plusMinus;
      expect(formatAccuracyWithInterval(correct / n, n)).toContain(ui);
    }
  });
});
