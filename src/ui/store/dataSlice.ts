import type { StateCreator } from 'zustand';
import type { DatasetColumnMapping, ParsedDatasetResult } from '../../worker/protocol';
import { summarizeDataset, type ValidationSummary } from './helpers';

/** The loaded dataset: the parsed file, its mapping and a validation summary. */
export interface DataSlice {
  dataset: ParsedDatasetResult | null;
  /** The raw bytes, kept to re-parse with another mapping. */
  datasetBytes: Uint8Array | null;
  validation: ValidationSummary | null;
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
      validation: summarizeDataset(dataset.examples, dataset.tokenLengths),
      dataStatus: 'ready',
      dataError: null,
    }),
  setData: (patch) => set(patch),
});

export type { DatasetColumnMapping };
