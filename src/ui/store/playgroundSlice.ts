import type { StateCreator } from 'zustand';
import type { FillMaskCandidate, NearestExample, Prediction } from '../../engine/studio';
import type { SuggestPromptsResult, ZeroShotResult } from '../../worker/protocol';

export interface PlaygroundSlice {
  playText: string;
  playLabels: string[];
  playPrediction: Prediction | null;
  /** SetFit models trained in this session: the training examples nearest to the text (null: not available). */
  playNearest: NearestExample[] | null;
  /** Every prediction answered, with whether training was running and the optimizer step of the weights that answered (null outside training; for acceptance checks). */
  predictionLog: { text: string; probabilities: number[]; duringTraining: boolean; step: number | null; at: number }[];
  playError: string | null;
  /** The text whose prediction is on its way (asked, not answered yet); null when none is. */
  playPending: string | null;
  /** The text the prediction on screen belongs to (the box may have changed since). */
  playAnsweredText: string | null;
  /** The loaded tokenizer's pieces for `text` (the playground's text when it was asked). */
  playTokens: { text: string; tokens: string[] } | null;
  maskText: string;
  maskResults: FillMaskCandidate[][] | null;
  maskError: string | null;
  /** When the last fill-mask answer arrived and whether training was running then. */
  maskAnswered: { at: number; duringTraining: boolean } | null;
  /** Zero-shot box: cloze template with {text} and [MASK]. */
  zsTemplate: string;
  /** Label words, one line per label: `label: word, word`. Null = follow the dataset's labels. */
  zsWords: string | null;
  zsCalibrate: boolean;
  zsResult: ZeroShotResult | null;
  zsError: string | null;
  zsBusy: boolean;
  /** Label-word and prompt suggestions for the loaded data. */
  zsSuggestions: SuggestPromptsResult | null;
  zsSuggesting: boolean;
  setPlayground: (patch: Partial<Omit<PlaygroundSlice, 'setPlayground'>>) => void;
}

export const createPlaygroundSlice: StateCreator<PlaygroundSlice, [], [], PlaygroundSlice> = (set) => ({
  playText: 'a warm , funny and moving film',
  playLabels: [],
  playPrediction: null,
  playNearest: null,
  predictionLog: [],
  playError: null,
  playPending: null,
  playAnsweredText: null,
  playTokens: null,
  maskText: 'the movie was [MASK] .',
  maskResults: null,
  maskError: null,
  maskAnswered: null,
  zsTemplate: '{text} It was [MASK].', // the LM-BFF sentiment template; editable
  zsWords: null,
  zsCalibrate: false, // off by default: calibration helps most when one label word dominates a priori
  zsResult: null,
  zsError: null,
  zsBusy: false,
  zsSuggestions: null,
  zsSuggesting: false,
  setPlayground: (patch) => set(patch),
});
