/**
 * Playground actions: classifier probabilities and fill-mask for typed text, zero-shot prompts and
 * prompt suggestions. Answered by the worker between training steps, with the weights of that moment.
 */
import { datasetLabelWords, errorInfo, getClient } from './actions';
import { normalizeMaskTokens, parseLabelWords } from './helpers';
import { useStudio } from './index';

export async function predictText(text: string): Promise<void> {
  const { setPlayground } = useStudio.getState();
  const duringTraining = useStudio.getState().trainingState === 'running';
  setPlayground({ playPending: text });
  // A newer request owns the busy state; this one only clears its own.
  const settle = () => {
    if (useStudio.getState().playPending === text) setPlayground({ playPending: null });
  };
  try {
    const { labels, predictions, trainingStep, nearest } = await getClient().request('predict', { inputs: [{ text }] });
    // The step of the weights that answered (the progress bar can lag behind the worker).
    const step = trainingStep;
    const prediction = predictions[0];
    setPlayground({
      playLabels: labels,
      playPrediction: prediction,
      playNearest: nearest?.[0] ?? null,
      playAnsweredText: text,
      playError: null,
      predictionLog: [
        ...useStudio.getState().predictionLog,
        { text, probabilities: prediction.probabilities, duringTraining, step, at: Date.now() },
      ].slice(-100),
    });
  } catch (error) {
    setPlayground({
      playPrediction: null,
      playNearest: null,
      playAnsweredText: null,
      playError: errorInfo(error).message,
    });
  } finally {
    settle();
  }
}

/**
 * What the playground says about its answer (docs/USER_GUIDE.md, "Playground"): that one is on its
 * way and what it waits for (the worker answers between training steps), and whether the
 * probabilities on screen are for an earlier text.
 */
export function playgroundStatus(state: {
  playText: string;
  playPending: string | null;
  playAnsweredText: string | null;
  trainingState: string;
}): { busy: string | null; stale: boolean } {
  const waiting =
    state.trainingState === 'running' || state.trainingState === 'pausing' || state.trainingState === 'stopping'
      ? 'waiting for the training step in progress to finish (the model answers between steps)…'
      : state.trainingState === 'starting'
        ? 'waiting for training to start (the first step compiles the GPU programs)…'
        : 'computing…';
  return {
    busy: state.playPending !== null ? `Working: ${waiting}` : null,
    stale: state.playAnsweredText !== null && state.playAnsweredText !== state.playText,
  };
}

/** Asks the worker how the loaded tokenizer splits `text` (shown under the playground's text). */
export async function tokenizeText(text: string): Promise<void> {
  try {
    const { tokens } = await getClient().request('tokenize', { text });
    useStudio.getState().setPlayground({ playTokens: { text, tokens } });
  } catch {
    useStudio.getState().setPlayground({ playTokens: null }); // a nicety: predictions still show their own errors
  }
}

export async function fillMask(text: string, topK = 5): Promise<void> {
  const { setPlayground } = useStudio.getState();
  const duringTraining = useStudio.getState().trainingState === 'running';
  try {
    const maskResults = await getClient().request('fillMask', { text: normalizeMaskTokens(text), topK });
    setPlayground({ maskResults, maskError: null, maskAnswered: { at: Date.now(), duringTraining } });
  } catch (error) {
    setPlayground({ maskResults: null, maskError: errorInfo(error).message });
  }
}

/**
 * Scores the playground text through the zero-shot prompt; with labeled data loaded, also the
 * prompt's accuracy on the dev split training would use.
 */
export async function runZeroShot(text: string): Promise<void> {
  const state = useStudio.getState();
  const words = state.zsWords ?? datasetLabelWords();
  const parsed = parseLabelWords(words);
  if ('error' in parsed) {
    state.setPlayground({ zsError: parsed.error, zsResult: null });
    return;
  }
  const labeled = (state.dataset?.examples ?? [])
    .filter((e) => e.label !== null)
    .map((e) => ({ text: e.text, textPair: e.textPair, label: e.label }));
  state.setPlayground({ zsBusy: true });
  try {
    const zsResult = await getClient().request('zeroShot', {
      template: state.zsTemplate,
      verbalizer: parsed.verbalizer,
      calibrate: state.zsCalibrate,
      inputs: text.trim() ? [{ text }] : [],
      labeled: labeled.length > 0 ? labeled : null,
      seed: state.settings.seed ?? undefined,
    });
    useStudio.getState().setPlayground({ zsResult, zsError: null, zsBusy: false });
    if (zsResult.evaluation) {
      const detail = `${state.zsTemplate} · ${Object.entries(parsed.verbalizer)
        .map(([l, w]) => `${l}: ${w.join('/')}`)
        .join(', ')}${state.zsCalibrate ? ' · calibrated' : ''}`;
      const { accuracy, macroF1, n } = zsResult.evaluation;
      useStudio.getState().addMethodRun({
        method: 'zero-shot',
        detail,
        accuracy,
        macroF1,
        devCount: n,
        at: Date.now(),
        startedFrom: useStudio.getState().weightsAtBase ? 'base' : 'tuned',
      });
    }
  } catch (error) {
    useStudio.getState().setPlayground({ zsResult: null, zsError: errorInfo(error).message, zsBusy: false });
  }
}

/** Label-word suggestions and ranked library prompts for the loaded labeled data. */
export async function suggestPrompts(): Promise<void> {
  const state = useStudio.getState();
  const labeled = (state.dataset?.examples ?? [])
    .filter((e) => e.label !== null)
    .map((e) => ({ text: e.text, textPair: e.textPair, label: e.label }));
  if (labeled.length === 0) {
    state.setPlayground({ zsError: 'Load labeled data first: suggestions come from your examples.' });
    return;
  }
  state.setPlayground({ zsSuggesting: true });
  try {
    const zsSuggestions = await getClient().request('suggestPrompts', {
      template: state.zsTemplate,
      labeled,
      seed: state.settings.seed ?? undefined,
    });
    useStudio.getState().setPlayground({ zsSuggestions, zsSuggesting: false, zsError: null });
  } catch (error) {
    useStudio.getState().setPlayground({ zsSuggestions: null, zsSuggesting: false, zsError: errorInfo(error).message });
  }
}

/** Verbalizer → label-word lines for the editors. */
export function labelWordLines(verbalizer: Record<string, string[]>): string {
  return Object.entries(verbalizer)
    .map(([label, words]) => `${label}: ${words.join(', ')}`)
    .join('\n');
}
