import type { StateCreator } from 'zustand';

/** A finished predictions file, ready to download. */
export interface PredictionsFile {
  /** Object URL of the CSV blob (revoked when replaced). */
  url: string;
  downloadName: string;
  rows: number;
  labels: string[];
  textColumn: string;
  warnings: string[];
}

/** Predictions for an unlabeled file: where the job is, and its result. */
export interface FileJob {
  fileName: string;
  phase: 'reading' | 'predicting' | 'done' | 'failed';
  /** Bytes read (reading) or rows predicted (predicting, done). */
  done: number;
  total: number | null;
  result: PredictionsFile | null;
  error: { code: string; message: string } | null;
}

export interface EvaluateSlice {
  fileJob: FileJob | null;
  setEvaluate: (patch: Partial<Pick<EvaluateSlice, 'fileJob'>>) => void;
}

export const createEvaluateSlice: StateCreator<EvaluateSlice, [], [], EvaluateSlice> = (set) => ({
  fileJob: null,
  setEvaluate: (patch) => set(patch),
});
