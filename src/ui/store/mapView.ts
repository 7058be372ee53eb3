/**
 * What the Data panel says about a drawn map (docs/ARCHITECTURE.md, "The embedding map"): which
 * weights drew it, and whether the weights changed since (then it offers to draw it again).
 */
import type { EmbeddingMapView } from './dataSlice';
import type { SavedRun } from './projectSlice';

type DrawnWith = Pick<EmbeddingMapView, 'modelName' | 'atBase' | 'runId'>;

/** "Drawn with micro-random (base weights)." or "Drawn with the trained model (…), after run 2." */
export function drawnWithText(map: DrawnWith, runs: readonly Pick<SavedRun, 'runId'>[]): string {
  if (map.atBase) return `Drawn with ${map.modelName} (base weights).`;
  const run = map.runId ? runs.findIndex((r) => r.runId === map.runId) + 1 : 0;
  return `Drawn with the trained model (${map.modelName}), ${run > 0 ? `after run ${run}` : 'after training'}.`;
}

/** True when the weights are not the ones that drew the map: reset to base, trained, or another run. */
export function weightsChangedSince(map: DrawnWith, weightsAtBase: boolean, runId: string | null): boolean {
  return map.atBase !== weightsAtBase || (!weightsAtBase && map.runId !== runId);
}
