import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useStudio } from '../store';
import { useEffect, useState } from 'react';
import {
  datasetLabelWords,
  estimateText,
  estimateTrainingTime,
  refreshDraftPlan,
  pauseTraining,
  resumeTraining,
  startAdapt,
  startCrossValidation,
  startTraining,
  stopTraining,
} from '../store/actions';
import { FoldTable } from '../components/FoldTable';
import { continueInterruptedRun, dismissResume } from '../store/projectActions';
import { LONG_RUN_SECONDS } from '../store/helpers';
import { progressText } from '../store/progressText';
import { RunsList } from '../components/RunsList';
import { Concept, LabelWordNotes } from '../components/Concept';
import { SetFitFields, SetFitPlanLines, SetFitStages } from '../components/SetFitParts';
import type { TrainSettings } from '../store/trainingSlice';

type NumberKey = {
  [K in keyof TrainSettings]: TrainSettings[K] extends number | null ? K : never;
}[keyof TrainSettings];

function NumberField({ name, label, step }: { name: NumberKey; label: string; step?: number }) {
  const value = useStudio((s) => s.settings[name]);
  const setSettings = useStudio((s) => s.setSettings);
  const disabled = useStudio((s) => s.trainingState !== 'idle');
  // What "auto" resolves to for this data and model, from the engine's plan.
  const resolved = useStudio((s) => (s.draftPlan ? s.draftPlan.settings[name] : null));
  return (
    <label className="field">
      <span>{label}</span>
      <input
        type="number"
        step={step ?? 1}
        value={value ?? ''}
        placeholder={resolved === null ? 'auto' : `auto: ${resolved}`}
        disabled={disabled}
        data-testid={`setting-${name}`}
        onChange={(e) =>
          setSettings({ [name]: e.target.value === '' ? null : Number(e.target.value) } as Partial<TrainSettings>)
        }
      />
    </label>
  );
}

export function TrainPanel() {
  const state = useStudio((s) => s.trainingState);
  const dataset = useStudio((s) => s.dataset);
  const model = useStudio((s) => s.model);
  const plan = useStudio((s) => s.plan);
  const losses = useStudio((s) => s.losses);
  const lrPoints = useStudio((s) => s.lrPoints);
  const evaluations = useStudio((s) => s.evaluations);
  const progress = useStudio((s) => s.progress);
  const backend = useStudio((s) => s.capability?.backend ?? null);
  const runEstimate = useStudio((s) => s.runEstimate);
  const estimating = useStudio((s) => s.estimating);
  const estimateError = useStudio((s) => s.estimateError);
  const summary = useStudio((s) => s.summary);
  const error = useStudio((s) => s.trainingError);
  const classWeights = useStudio((s) => s.settings.classWeights);
  const setSettings = useStudio((s) => s.setSettings);
  const method = useStudio((s) => s.trainMethod);
  const seed = useStudio((s) => s.settings.seed);
  const continueFromCurrent = useStudio((s) => s.continueFromCurrent);
  const adaptPlan = useStudio((s) => s.adaptPlan);
  const adaptResult = useStudio((s) => s.adaptResult);
  const [adaptSteps, setAdaptSteps] = useState(100);
  const methodRuns = useStudio((s) => s.methodRuns);
  const setTraining = useStudio((s) => s.setTraining);
  const zsTemplate = useStudio((s) => s.zsTemplate);
  const zsWordsEdited = useStudio((s) => s.zsWords);
  const setPlayground = useStudio((s) => s.setPlayground);
  const zsWords = zsWordsEdited ?? datasetLabelWords(dataset);
  const settings = useStudio((s) => s.settings);
  const draftPlan = useStudio((s) => s.draftPlan);
  const draftPlanError = useStudio((s) => s.draftPlanError);
  const resumable = useStudio((s) => s.resumable);
  const deviceNotice = useStudio((s) => s.deviceNotice);
  const lastCheckpointStep = useStudio((s) => s.lastCheckpointStep);
  const setfitIterations = useStudio((s) => s.setfitIterations);
  const setfitC = useStudio((s) => s.setfitC);
  // The engine resolves every "auto" setting for this data and model: ask again whenever they change.
  useEffect(() => {
    if (state === 'idle') refreshDraftPlan();
  }, [dataset, model, settings, method, zsTemplate, zsWordsEdited, setfitIterations, setfitC, state]);
  const isSetFit = (plan ?? draftPlan)?.method === 'setfit' || (!plan && method === 'setfit');
  const shownPlan = plan ?? (state === 'idle' ? draftPlan : null);
  const evalPoints = evaluations.map((e) => ({
    step: e.step,
    accuracy: e.metrics.accuracy,
    macroF1: e.metrics.macroF1,
  }));
  const pct = progress ? Math.round((100 * progress.step) / Math.max(1, progress.totalSteps)) : 0;

  return (
    <div className="stack">
      <section className="panel" aria-labelledby="train-heading">
        <h2 id="train-heading">Train</h2>
        {!dataset && <p className="muted">Load labeled data in the Data tab first.</p>}
        {resumable && state === 'idle' && (
          <div className="notice row" data-testid="resume-offer">
            <span>
              A run was interrupted at step {resumable.step}
              {plan ? ` of ${plan.totalSteps}` : ''} (saved {new Date(resumable.savedAt).toLocaleTimeString()}). Resume
              it: it goes on exactly as if it had never stopped.
            </span>
            <button
              type="button"
              className="button"
              disabled={!model}
              onClick={() => void continueInterruptedRun()}
              data-testid="resume-run"
            >
              Resume from step {resumable.step}
            </button>
            <button type="button" className="button button-secondary" onClick={dismissResume}>
              Dismiss
            </button>
          </div>
        )}
        <details className="adapt" data-testid="adapt-section">
          <summary>Adapt the encoder to your texts first (optional)</summary>
          <p className="muted">
            Lets the model practise guessing hidden words in every text of the loaded file, labeled or not, so it gets
            used to your words and style (the way it was pretrained). Helps when your texts use words or a style the
            model rarely saw. Then train as usual.
          </p>
          <div className="row">
            <label className="field">
              <span>Steps</span>
              <input
                type="number"
                min={1}
                value={adaptSteps}
                disabled={state !== 'idle'}
                onChange={(e) => setAdaptSteps(Math.max(1, Math.round(Number(e.target.value) || 1)))}
                data-testid="adapt-steps"
              />
            </label>
            <button
              type="button"
              className="button button-secondary"
              disabled={!dataset || !model || state !== 'idle'}
              onClick={() => void startAdapt(adaptSteps)}
              data-testid="adapt-start"
            >
              Adapt to my texts
            </button>
          </div>
          {adaptPlan && !adaptResult && (
            <p className="muted">
              Adapting: {adaptPlan.sequences} sequences of {adaptPlan.maxLength} tokens, batch {adaptPlan.batchSize}, lr{' '}
              {adaptPlan.learningRate}; {adaptPlan.heldOut} held out to measure it.
            </p>
          )}
          {adaptResult && (
            <p data-testid="adapt-result">
              {adaptResult.reason === 'stopped' ? 'Stopped' : 'Done'} after {adaptResult.stepsDone} steps. Held-out
              masked-word loss on your texts (lower is better) {adaptResult.before.loss.toFixed(3)} →{' '}
              <strong>{adaptResult.after.loss.toFixed(3)}</strong> (masked-word accuracy{' '}
              {(100 * adaptResult.before.accuracy).toFixed(1)}% → {(100 * adaptResult.after.accuracy).toFixed(1)}%).
            </p>
          )}
        </details>
        <fieldset className="method" disabled={state !== 'idle'}>
          <legend>Method</legend>
          <label className="row">
            <input
              type="radio"
              name="method"
              checked={method === 'head'}
              onChange={() => setTraining({ trainMethod: 'head' })}
              data-testid="method-head"
            />
            <span>
              <strong>Classifier head</strong> — <Concept id="headMethod" inline />
            </span>
          </label>
          <label className="row">
            <input
              type="radio"
              name="method"
              checked={method === 'prompt'}
              onChange={() => setTraining({ trainMethod: 'prompt' })}
              data-testid="method-prompt"
            />
            <span>
              <strong>Prompt-based</strong> — <Concept id="promptMethod" inline />
            </span>
          </label>
          <label className="row">
            <input
              type="radio"
              name="method"
              checked={method === 'setfit'}
              onChange={() => setTraining({ trainMethod: 'setfit' })}
              data-testid="method-setfit"
            />
            <span>
              <strong>SetFit</strong> — <Concept id="setfitMethod" inline />
            </span>
          </label>
          {method === 'setfit' && <SetFitFields />}
          {method === 'prompt' && (
            <div className="stack">
              <label className="stack">
                <span>Template ({'{text}'} and one [MASK])</span>
                <input
                  value={zsTemplate}
                  onChange={(e) => setPlayground({ zsTemplate: e.target.value })}
                  data-testid="train-template"
                />
              </label>
              <Concept id="template" />
              <label className="stack">
                <span>Label words, one line per label: label: word, word</span>
                <textarea
                  rows={Math.max(2, zsWords.split('\n').length)}
                  value={zsWords}
                  onChange={(e) => setPlayground({ zsWords: e.target.value })}
                  data-testid="train-words"
                />
              </label>
              <Concept id="labelWords" />
              {zsWordsEdited === null && <LabelWordNotes notes={dataset?.labelWords?.notes} />}
              <p className="muted">
                Shared with the Playground&apos;s zero-shot box: score a prompt there without training, then train it
                here.
              </p>
            </div>
          )}
        </fieldset>
        <div className="fields">
          <NumberField name="epochs" label="Epochs" />
          <NumberField name="learningRate" label="Learning rate" step={0.00001} />
          <NumberField name="batchSize" label="Batch size" />
          <NumberField name="maxLength" label="Max length" />
          <NumberField name="seed" label="Seed" />
        </div>
        <details>
          <summary>Advanced</summary>
          <div className="fields">
            <NumberField name="weightDecay" label="Weight decay" step={0.001} />
            <NumberField name="warmupRatio" label="Warmup ratio" step={0.01} />
            <NumberField name="maxGradNorm" label="Grad clip (norm)" step={0.1} />
            <NumberField name="gradAccumSteps" label="Grad accumulation" />
            <NumberField name="evalEvery" label="Eval every (steps)" />
            <NumberField name="patience" label="Patience (evals)" />
            <label className="field">
              <span>Class weights</span>
              <select
                value={classWeights ?? ''}
                disabled={state !== 'idle'}
                onChange={(e) => setSettings({ classWeights: e.target.value === 'balanced' ? 'balanced' : null })}
                data-testid="setting-classWeights"
              >
                <option value="">none</option>
                <option value="balanced">balanced</option>
              </select>
            </label>
          </div>
        </details>
        <div className="row">
          <button
            type="button"
            className="button"
            data-testid="train-start"
            disabled={!dataset || !model || state !== 'idle'}
            onClick={() => void startTraining()}
          >
            Start
          </button>
          <button
            type="button"
            className="button button-secondary"
            data-testid="train-estimate"
            title="Times one training step on a batch of your data here (nothing is trained) and adds it up over the run."
            disabled={!dataset || !model || state !== 'idle' || estimating}
            onClick={() => void estimateTrainingTime()}
          >
            {estimating ? 'Estimating…' : 'Estimate time'}
          </button>
          <button
            type="button"
            className="button button-secondary"
            data-testid="train-pause"
            disabled={state !== 'running'}
            onClick={() => void pauseTraining()}
          >
            Pause
          </button>
          <button
            type="button"
            className="button button-secondary"
            data-testid="train-resume"
            disabled={state !== 'paused'}
            onClick={() => void resumeTraining()}
          >
            Resume
          </button>
          <button
            type="button"
            className="button button-danger"
            data-testid="train-stop"
            disabled={state !== 'running' && state !== 'paused' && state !== 'pausing'}
            onClick={() => void stopTraining()}
          >
            Stop
          </button>
          <label
            className="row"
            title="Off: every run starts from the base model (the weights as the model was loaded into this page, or as Adapt to my texts left them), so runs never stack. On: this run goes on from the weights the last run left."
          >
            <input
              type="checkbox"
              checked={continueFromCurrent}
              disabled={state !== 'idle'}
              onChange={(e) => useStudio.getState().setTraining({ continueFromCurrent: e.target.checked })}
              data-testid="train-continue"
            />
            Continue from the current weights
          </label>
          <span className="muted" data-testid="train-state" role="status">
            {state === 'pausing'
              ? `pausing after step ${progress ? progress.step + 1 : 1}…`
              : state === 'stopping'
                ? 'stopping at the end of this step…'
                : state}
          </span>
        </div>
        {runEstimate && state === 'idle' && (
          <p
            className={runEstimate.estimate.totalSeconds > LONG_RUN_SECONDS ? 'warn' : 'muted'}
            data-testid="train-estimate-result"
          >
            {estimateText(runEstimate)}
          </p>
        )}
        {estimateError && (
          <p className="error" role="alert" data-testid="train-estimate-error">
            {estimateError}
          </p>
        )}
        <CrossValidationBox />
        <SetFitStages />
        {(progress || state !== 'idle') && (
          <div className="stack-tight" data-testid="train-progress">
            <progress max={100} value={pct} />
            <span className="muted">
              {progressText({ state, progress, backend })}
              {lastCheckpointStep !== null && state !== 'idle' ? ` · saved at step ${lastCheckpointStep}` : ''}
            </span>
          </div>
        )}
        {deviceNotice && (
          <p className="warn" role="status" data-testid="train-device-notice">
            {deviceNotice}
          </p>
        )}
        {error && (
          <p className="error" role="alert" data-testid="train-error">
            {error.message}
          </p>
        )}
        {summary && (
          <p className="ok" data-testid="train-summary">
            {summary.message}
          </p>
        )}
        {draftPlanError && !plan && state === 'idle' && (
          <p className="warn" data-testid="train-plan-error">
            {draftPlanError}
          </p>
        )}
        {shownPlan && (
          <ul className="compact muted" data-testid={plan ? 'train-plan' : 'train-draft-plan'}>
            <li>
              <strong>{plan ? 'This run' : 'Start will run'}</strong>
              {shownPlan.auto.length > 0 ? ` (on auto: ${shownPlan.auto.join(', ')})` : ''}
            </li>
            <li>
              {shownPlan.trainCount} train / {shownPlan.devCount} dev rows
              {shownPlan.devCount === 0
                ? ' (no dev set: every row trains)'
                : shownPlan.autoSplit
                  ? ' (dev split automatically)'
                  : ''}{' '}
              · labels {shownPlan.labels.join(', ')}
            </li>
            <li>
              {shownPlan.totalSteps} steps · {shownPlan.epochs} epochs · batch {shownPlan.batchSize}
              {shownPlan.gradAccumSteps > 1 ? ` × ${shownPlan.gradAccumSteps} accumulated` : ''} · lr{' '}
              {shownPlan.learningRate.toExponential(1)} · max length {shownPlan.maxLength} · seed {shownPlan.seed}
            </li>
            <li>
              weight decay {shownPlan.settings.weightDecay} · warmup {shownPlan.settings.warmupRatio} · clip{' '}
              {shownPlan.settings.maxGradNorm} · evaluate every {shownPlan.settings.evalEvery} steps and each epoch ·
              patience {shownPlan.settings.patience || 'off'}
            </li>
            <SetFitPlanLines plan={shownPlan} />
            {shownPlan.truncated.train + shownPlan.truncated.dev > 0 && (
              <li>
                Truncated to {shownPlan.maxLength} tokens: {shownPlan.truncated.train} train, {shownPlan.truncated.dev}{' '}
                dev rows
              </li>
            )}
            {shownPlan.splitNotes.map((n) => (
              <li key={n}>{n}</li>
            ))}
            {shownPlan.memory.note && <li className="warn">{shownPlan.memory.note}</li>}
            {shownPlan.issues.map((i) => (
              <li key={`${i.code}-${i.set}`} className={i.severity === 'info' ? '' : 'warn'}>
                {i.message}
              </li>
            ))}
          </ul>
        )}
      </section>
      <div className="grid-2">
        <section className="panel" aria-labelledby="loss-heading">
          <h3 id="loss-heading">{isSetFit ? 'Pair loss (cosine similarity)' : 'Loss'}</h3>
          <div className="chart" data-testid="loss-chart" data-points={losses.length}>
            <ResponsiveContainer width="100%" height={220}>
              <LineChart data={losses}>
                <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
                <XAxis
                  dataKey="step"
                  type="number"
                  domain={['dataMin', 'dataMax']}
                  allowDecimals={false}
                  stroke="var(--muted)"
                />
                <YAxis
                  stroke="var(--muted)"
                  domain={['auto', 'auto']}
                  width={56}
                  // 4 significant digits without trailing zeros: "0.55" and "1.1", not "0.5500" and "1.100".
                  tickFormatter={(v: number) => String(Number(v.toPrecision(4)))}
                />
                <Tooltip />
                <Legend />
                <Line
                  type="monotone"
                  dataKey="loss"
                  name="loss"
                  stroke="var(--muted)"
                  dot={losses.length < 30}
                  isAnimationActive={false}
                />
                <Line
                  type="monotone"
                  dataKey="smoothed"
                  name="smoothed (EMA)"
                  stroke="var(--accent)"
                  strokeWidth={2}
                  dot={false}
                  isAnimationActive={false}
                />
              </LineChart>
            </ResponsiveContainer>
          </div>
        </section>
        <section className="panel" aria-labelledby="lr-heading">
          <h3 id="lr-heading">Learning rate</h3>
          <div className="chart" data-testid="lr-chart">
            <ResponsiveContainer width="100%" height={220}>
              <LineChart data={lrPoints}>
                <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
                <XAxis
                  dataKey="step"
                  type="number"
                  domain={['dataMin', 'dataMax']}
                  allowDecimals={false}
                  stroke="var(--muted)"
                />
                <YAxis stroke="var(--muted)" tickFormatter={(v: number) => v.toExponential(1)} width={64} />
                <Tooltip />
                <Line type="monotone" dataKey="lr" stroke="var(--warn)" dot={false} isAnimationActive={false} />
              </LineChart>
            </ResponsiveContainer>
          </div>
        </section>
        <section className="panel span-2" aria-labelledby="dev-heading">
          <h3 id="dev-heading">
            Dev metrics{isSetFit ? ' (a head fitted on the training embeddings at each evaluation)' : ''}
          </h3>
          {plan?.devCount === 0 ? (
            <p className="muted" data-testid="dev-none">
              This run has no dev set (every row trains), so there is nothing to chart here; its estimate is the
              cross-validation above, or score it on a test file in Evaluate.
            </p>
          ) : (
            <div className="chart" data-testid="dev-chart">
              <ResponsiveContainer width="100%" height={200}>
                <LineChart data={evalPoints}>
                  <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
                  <XAxis
                    dataKey="step"
                    type="number"
                    domain={['dataMin', 'dataMax']}
                    allowDecimals={false}
                    stroke="var(--muted)"
                  />
                  <YAxis domain={[0, 1]} stroke="var(--muted)" />
                  <Tooltip />
                  <Legend />
                  <Line type="monotone" dataKey="accuracy" stroke="var(--ok)" isAnimationActive={false} />
                  <Line
                    type="monotone"
                    dataKey="macroF1"
                    name="macro-F1"
                    stroke="var(--accent)"
                    isAnimationActive={false}
                  />
                </LineChart>
              </ResponsiveContainer>
            </div>
          )}
        </section>
      </div>
      {methodRuns.length > 0 && (
        <section className="panel" aria-labelledby="methods-heading">
          <h3 id="methods-heading">Methods on this data (dev split)</h3>
          <table className="table" data-testid="method-runs">
            <thead>
              <tr>
                <th>method</th>
                <th>setup</th>
                <th className="num">accuracy</th>
                <th className="num">macro-F1</th>
                <th className="num">dev rows</th>
                <th>weights</th>
              </tr>
            </thead>
            <tbody>
              {methodRuns.map((r) => (
                <tr key={r.at}>
                  <td>
                    {r.method === 'setfit'
                      ? 'SetFit'
                      : r.method === 'head'
                        ? 'classifier head'
                        : r.method === 'prompt'
                          ? 'prompt fine-tuning'
                          : 'zero-shot prompt'}
                  </td>
                  <td className="muted">{r.detail}</td>
                  <td className="num">{(100 * r.accuracy).toFixed(1)}%</td>
                  <td className="num">{(100 * r.macroF1).toFixed(1)}%</td>
                  <td className="num">{r.devCount}</td>
                  <td className="muted" data-testid="method-run-weights">
                    {r.startedFrom === undefined
                      ? ''
                      : r.method === 'zero-shot'
                        ? r.startedFrom === 'tuned'
                          ? 'scored on a tuned model'
                          : 'base model'
                        : r.startedFrom === 'tuned'
                          ? 'from tuned weights'
                          : 'from the base model'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="muted">
            Best dev score of each run; zero-shot rows come from the Playground. A run starts from the base model (the
            weights as it was loaded into this page, or adapted) unless it continued from the weights a previous run
            left. Same split for all (seed {seed ?? shownPlan?.seed ?? 'auto'}).
          </p>
        </section>
      )}
      <RunsList />
    </div>
  );
}

/**
 * k-fold cross-validation: the engine's advice for this data (recommended when the dev split would
 * be under 20 rows; see docs/USER_GUIDE.md), the folds, "fold 2 of 5" while it runs (Pause and Stop
 * above work on it), and the estimate in plain words with each fold's score.
 */
function CrossValidationBox() {
  const state = useStudio((s) => s.trainingState);
  const advice = useStudio((s) => s.draftPlan?.crossValidation ?? null);
  const ready = useStudio((s) => s.dataset !== null && s.model !== null);
  const cv = useStudio((s) => s.crossValidation);
  const cvFolds = useStudio((s) => s.cvFolds);
  const setTraining = useStudio((s) => s.setTraining);
  const folds = cvFolds ?? advice?.folds ?? 0;
  const running = cv !== null && cv.result === null && state !== 'idle';
  const progress = cv?.progress ?? null;
  const sizes = cv?.plan?.foldSizes ?? null;
  const scored = progress?.results ?? [];
  const meanSoFar = scored.length > 0 ? scored.reduce((a, f) => a + f.accuracy, 0) / scored.length : null;
  return (
    <div className="stack-tight" data-testid="cv-box">
      {advice && state === 'idle' && (
        <p className={advice.recommended ? 'notice' : 'muted'} data-testid="cv-advice">
          <strong>{advice.recommended ? 'Recommended: cross-validation. ' : 'Cross-validation. '}</strong>
          {advice.reason}
          {advice.folds >= 2 &&
            ' It trains one model per fold on the other folds and scores it on its own fold, reports the mean ± the spread, then trains the final model on all rows.'}
        </p>
      )}
      {advice && advice.folds >= 2 && state === 'idle' && (
        <div className="row">
          <label className="field">
            <span>Folds</span>
            <input
              type="number"
              min={2}
              max={advice.maxFolds}
              value={cvFolds ?? ''}
              placeholder={`auto: ${advice.folds}`}
              data-testid="cv-folds-input"
              onChange={(e) =>
                setTraining({ cvFolds: e.target.value === '' ? null : Math.round(Number(e.target.value)) })
              }
            />
          </label>
          <button
            type="button"
            className={advice.recommended ? 'button' : 'button button-secondary'}
            data-testid="cv-start"
            disabled={!ready}
            onClick={() => void startCrossValidation()}
          >
            Cross-validate ({folds} folds, then train on all rows)
          </button>
        </div>
      )}
      {running && (
        <p role="status" data-testid="cv-progress">
          {!progress
            ? 'Cross-validation: starting…'
            : progress.phase === 'final'
              ? `Cross-validation done (${progress.folds} folds); now training the final model on all ${cv.plan?.rows ?? ''} rows.`
              : `Cross-validation: fold ${progress.fold} of ${progress.folds}${
                  sizes
                    ? ` (training on ${sizes.reduce((a, b) => a + b, 0) - sizes[progress.fold - 1]} rows, scoring ${sizes[progress.fold - 1]})`
                    : ''
                }`}
          {meanSoFar !== null && progress?.phase === 'fold'
            ? ` · ${scored.length} ${scored.length === 1 ? 'fold' : 'folds'} scored, mean accuracy so far ${Math.round(100 * meanSoFar)} %`
            : ''}
        </p>
      )}
      {cv?.result && (
        <div className="stack-tight" data-testid="cv-result">
          <p className={cv.result.complete ? 'ok' : 'warn'}>
            <strong data-testid="cv-result-text">{cv.result.text}</strong>
          </p>
          {cv.result.perFold.length > 0 && <FoldTable result={cv.result} />}
        </div>
      )}
    </div>
  );
}
