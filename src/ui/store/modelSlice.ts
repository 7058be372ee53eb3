import type { StateCreator } from 'zustand';
import type { ModelSummary } from '../../engine/studio';

export interface DownloadProgress {
  file: string;
  loaded: number;
  total: number | null;
}

/** The session's model as the UI knows it. */
export interface ModelSlice {
  model: ModelSummary | null;
  modelStatus: 'idle' | 'loading' | 'ready' | 'error';
  /** What is being loaded (repo, folder or URL name). */
  modelLoadingName: string | null;
  download: DownloadProgress | null;
  modelError: { code: string; message: string } | null;
  /** Hub repo → fully in the browser's download cache. */
  hubCached: Record<string, boolean>;
  /** False once a run or adaptation changed the weights since the model was loaded or reset (weightsState events). */
  weightsAtBase: boolean;
  setModel: (patch: Partial<Omit<ModelSlice, 'setModel'>>) => void;
}

export const createModelSlice: StateCreator<ModelSlice, [], [], ModelSlice> = (set) => ({
  model: null,
  modelStatus: 'idle',
  modelLoadingName: null,
  download: null,
  modelError: null,
  hubCached: {},
  weightsAtBase: true,
  setModel: (patch) => set(patch),
});
