import type { StateCreator } from 'zustand';
import type { Metrics, TrainingSummary } from '../../engine/studio';
import type { FineTunePlan, StorageInfo } from '../../worker/protocol';
import type { Evaluation, MethodRun, TrainSettings } from './trainingSlice';

/** One training run as the project keeps it: enough to draw its charts again after a reload. */
export interface SavedRun {
  runId: string;
  method: 'head' | 'prompt' | 'setfit';
  startedAt: number;
  /** When it finished, failed or was interrupted for good; null while it runs. */
  endedAt: number | null;
  status: 'running' | 'finished' | 'failed';
  plan: FineTunePlan | null;
  /** Raw per-step losses (the chart's smoothing is recomputed). */
  losses: { step: number; loss: number }[];
  lrPoints: { step: number; lr: number }[];
  evaluations: Evaluation[];
  summary: TrainingSummary<Metrics> | null;
}

/** The UI's own part of the stored project (the worker stores it as opaque JSON). */
export interface SavedUi {
  settings: TrainSettings;
  trainMethod: 'head' | 'prompt' | 'setfit';
  zsTemplate: string;
  zsWords: string | null;
  methodRuns: MethodRun[];
}

/** The project kept in browser storage (docs/USER_GUIDE.md, "Your data"). */
export interface ProjectSlice {
  /**
   * restoring: reading the saved project at start (nothing is saved meanwhile); ready: changes are
   * saved as they happen; unavailable: this browser gives no storage (the session works, nothing is kept).
   */
  projectStatus: 'idle' | 'restoring' | 'ready' | 'unavailable';
  /** The id of the current (or last) training run. */
  runId: string | null;
  /** Every run of this project, oldest first. */
  runs: SavedRun[];
  /** A run a reload interrupted, with the step its checkpoint reached: "Resume from step N". */
  resumable: { runId: string; step: number; savedAt: number } | null;
  /** Step of the running training's newest checkpoint. */
  lastCheckpointStep: number | null;
  storage: StorageInfo | null;
  /** The last storage failure (e.g. a full quota); what was stored before is kept. */
  storageError: { code: string; message: string } | null;
  /** Runs whose models are kept in browser storage (the runs list offers their export). */
  runModels: string[];
  /** Runs ticked in the runs list, drawn on the overlay charts. */
  comparedRuns: string[];
  /** What happened when the GPU device was lost and how training went on (Train panel). */
  deviceNotice: string | null;
  /** What the start found and reopened, shown once in the Model panel. */
  restoredNote: string | null;
  setProject: (patch: Partial<Omit<ProjectSlice, 'setProject'>>) => void;
}

export const createProjectSlice: StateCreator<ProjectSlice, [], [], ProjectSlice> = (set) => ({
  projectStatus: 'idle',
  runId: null,
  runs: [],
  resumable: null,
  lastCheckpointStep: null,
  storage: null,
  storageError: null,
  restoredNote: null,
  deviceNotice: null,
  runModels: [],
  comparedRuns: [],
  setProject: (patch) => set(patch),
});
