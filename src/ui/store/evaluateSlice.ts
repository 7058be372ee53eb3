import type { StateCreator } from 'zustand';
import type { EvaluateFileResult } from '../../worker/protocol';

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

/** A labeled test file scored by the model: where the job is, and its metrics. */
export interface TestJob {
  fileName: string;
  phase: 'scoring' | 'done' | 'failed';
  result: EvaluateFileResult | null;
  error: { code: string; message: string } | null;
}

export interface EvaluateSlice {
  fileJob: FileJob | null;
  testJob: TestJob | null;
  setEvaluate: (patch: Partial<Pick<EvaluateSlice, 'fileJob' | 'testJob'>>) => void;
}

export const createEvaluateSlice: StateCreator<EvaluateSlice, [], [], EvaluateSlice> = (set) => ({
  fileJob: null,
  testJob: null,
  setEvaluate: (patch) => set(patch),
});
