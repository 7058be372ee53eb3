import type { StateCreator } from 'zustand';
import type { DatasetColumnMapping, ParsedDatasetResult } from '../../worker/protocol';
import type { DatasetSummary } from '../../engine/studio';

/** The loaded dataset: the parsed file, its mapping and the engine's summary of it (rendered only). */
export interface DataSlice {
  dataset: ParsedDatasetResult | null;
  /** The raw bytes, kept to re-parse with another mapping. */
  datasetBytes: Uint8Array | null;
  /** The engine's dataset summary (the same validation training runs). */
  validation: DatasetSummary | null;
  dataStatus: 'idle' | 'parsing' | 'ready';
  dataError: { code: string; message: string; fileName: string } | null;
  setDataset: (dataset: ParsedDatasetResult, bytes: Uint8Array) => void;
  setData: (patch: Partial<Pick<DataSlice, 'dataStatus' | 'dataError'>>) => void;
}

export const createDataSlice: StateCreator<DataSlice, [], [], DataSlice> = (set) => ({
  dataset: null,
  datasetBytes: null,
  validation: null,
  dataStatus: 'idle',
  dataError: null,
  setDataset: (dataset, datasetBytes) =>
    set({
      dataset,
      datasetBytes,
      validation: dataset.summary,
      dataStatus: 'ready',
      dataError: null,
    }),
  setData: (patch) => set(patch),
});

export type { DatasetColumnMapping };
