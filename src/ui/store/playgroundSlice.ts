import type { StateCreator } from 'zustand';
import type { FillMaskCandidate, Prediction } from '../../engine/pipeline/fewshot-model';

export interface PlaygroundSlice {
  playText: string;
  playLabels: string[];
  playPrediction: Prediction | null;
  /** Every prediction answered, with whether training was running (for acceptance checks). */
  predictionLog: { text: string; probabilities: number[]; duringTraining: boolean; step: number | null; at: number }[];
  playError: string | null;
  maskText: string;
  maskResults: FillMaskCandidate[][] | null;
  maskError: string | null;
  /** When the last fill-mask answer arrived and whether training was running then. */
  maskAnswered: { at: number; duringTraining: boolean } | null;
  setPlayground: (patch: Partial<Omit<PlaygroundSlice, 'setPlayground'>>) => void;
}

export const createPlaygroundSlice: StateCreator<PlaygroundSlice, [], [], PlaygroundSlice> = (set) => ({
  playText: 'a warm , funny and moving film',
  playLabels: [],
  playPrediction: null,
  predictionLog: [],
  playError: null,
  maskText: 'the movie was [MASK] .',
  maskResults: null,
  maskError: null,
  maskAnswered: null,
  setPlayground: (patch) => set(patch),
});
