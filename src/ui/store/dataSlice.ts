import type { StateCreator } from 'zustand';
import type { DatasetColumnMapping, ParsedDatasetResult } from '../../worker/protocol';
import type { DatasetSummary, EmbeddingMapMethod, EmbeddingMapResult, MapPhase } from '../../engine/studio';

/** A drawn embedding map (docs/ARCHITECTURE.md, "The embedding map"), with what drew it. */
export interface EmbeddingMapView {
  /** The engine's map: points[2i], points[2i + 1] are dataset.examples[i]'s coordinates. */
  result: EmbeddingMapResult;
  /** The dataset it was drawn for (a new or remapped dataset drops the map). */
  dataset: ParsedDatasetResult;
  /** The model's name, whether its weights were the base weights, and the run that trained them. */
  modelName: string;
  atBase: boolean;
  runId: string | null;
}

/** The loaded dataset: the parsed file, its mapping and the engine's summary of it (rendered only). */
export interface DataSlice {
  dataset: ParsedDatasetResult | null;
  /** The raw bytes, kept to re-parse with another mapping. */
  datasetBytes: Uint8Array | null;
  /** The engine's dataset summary (the same validation training runs). */
  validation: DatasetSummary | null;
  dataStatus: 'idle' | 'parsing' | 'ready';
  dataError: { code: string; message: string; fileName: string } | null;
  /** The embedding map of the dataset, once drawn ("Draw the map"). */
  map: EmbeddingMapView | null;
  mapStatus: 'idle' | 'running' | 'done' | 'failed';
  /** While the map is being drawn: rows embedded so far, then (UMAP) rows whose neighbours are found and layout epochs done. */
  mapProgress: { done: number; total: number; phase: MapPhase } | null;
  /**
   * The layout the user picked (kept when the dataset changes). "Draw" uses it through mapLayoutFor,
   * which falls back to PCA over UMAP_MAX_ROWS rows.
   */
  mapMethod: EmbeddingMapMethod;
  mapError: { code: string; message: string } | null;
  /** Index in dataset.examples of the row clicked on the map. */
  mapSelected: number | null;
  setDataset: (dataset: ParsedDatasetResult, bytes: Uint8Array) => void;
  setData: (
    patch: Partial<
      Pick<
        DataSlice,
        'dataStatus' | 'dataError' | 'map' | 'mapStatus' | 'mapProgress' | 'mapError' | 'mapSelected' | 'mapMethod'
      >
    >,
  ) => void;
}

/** No map: before one is drawn, and whenever the dataset changes. */
const NO_MAP = { map: null, mapStatus: 'idle', mapProgress: null, mapError: null, mapSelected: null } as const;

export const createDataSlice: StateCreator<DataSlice, [], [], DataSlice> = (set) => ({
  dataset: null,
  datasetBytes: null,
  validation: null,
  dataStatus: 'idle',
  dataError: null,
  ...NO_MAP,
  mapMethod: 'pca',
  setDataset: (dataset, datasetBytes) =>
    set({
      dataset,
      datasetBytes,
      validation: dataset.summary,
      dataStatus: 'ready',
      dataError: null,
      ...NO_MAP,
    }),
  setData: (patch) => set(patch),
});

export type { DatasetColumnMapping };
