import { useEffect } from 'react';
import { useStudio } from '../store';
import { datasetLabelWords } from '../store/actions';
import { Concept, LabelWordNotes } from '../components/Concept';
import {
  fillMask,
  labelWordLines,
  playgroundStatus,
  predictText,
  runZeroShot,
  suggestPrompts,
  tokenizeText,
} from '../store/playgroundActions';
import { useShallow } from 'zustand/react/shallow';

/** Delay between the last keystroke and the request. */
export const PLAYGROUND_DEBOUNCE_MS = 300;

function formatProbability(p: number): string {
  return p >= 0.001 ? `${(100 * p).toFixed(1)}%` : `${(100 * p).toPrecision(2)}%`;
}

export function PlaygroundPanel() {
  const text = useStudio((s) => s.playText);
  const labels = useStudio((s) => s.playLabels);
  const prediction = useStudio((s) => s.playPrediction);
  const playError = useStudio((s) => s.playError);
  const status = useStudio(
    useShallow((s) =>
      playgroundStatus({
        playText: s.playText,
        playPending: s.playPending,
        playAnsweredText: s.playAnsweredText,
        trainingState: s.trainingState,
      }),
    ),
  );
  const maskText = useStudio((s) => s.maskText);
  // A prompt-trained model predicts through its template: the heading says so.
  const modelPrompt = useStudio((s) => s.model?.prompt ?? null);
  const nearest = useStudio((s) => s.playNearest);
  // A SetFit model, or a SetFit run in progress (the model summary follows at the end of the run).
  const setfit = useStudio(
    (s) => s.model?.setfit != null || (s.plan?.method === 'setfit' && s.trainingState !== 'idle'),
  );
  const maskResults = useStudio((s) => s.maskResults);
  const maskError = useStudio((s) => s.maskError);
  const setPlayground = useStudio((s) => s.setPlayground);
  const hasModel = useStudio((s) => s.model !== null);
  const zsTemplate = useStudio((s) => s.zsTemplate);
  const zsWordsEdited = useStudio((s) => s.zsWords);
  const zsCalibrate = useStudio((s) => s.zsCalibrate);
  const zsResult = useStudio((s) => s.zsResult);
  const zsError = useStudio((s) => s.zsError);
  const zsBusy = useStudio((s) => s.zsBusy);
  const dataset = useStudio((s) => s.dataset);
  const hasData = dataset !== null;
  const suggestions = useStudio((s) => s.zsSuggestions);
  const suggesting = useStudio((s) => s.zsSuggesting);
  // Until the user edits them, the label words follow the loaded dataset's labels.
  const zsWords = zsWordsEdited ?? datasetLabelWords(dataset);
  const canPredict = hasModel && labels.length > 0;
  const modelName = useStudio((s) => s.model?.name ?? null);
  const playTokens = useStudio((s) => s.playTokens);

  useEffect(() => {
    if (!canPredict || !text.trim()) return;
    const timer = setTimeout(() => void predictText(text), PLAYGROUND_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text, canPredict]);

  // How the loaded tokenizer splits the text (also before training: any model has a tokenizer).
  useEffect(() => {
    if (modelName === null || !text.trim()) return;
    const timer = setTimeout(() => void tokenizeText(text), PLAYGROUND_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text, modelName]);

  return (
    <div className="stack">
      <section className="panel" aria-labelledby="play-heading">
        <h2 id="play-heading">
          Playground ·{' '}
          {setfit
            ? 'SetFit (logistic regression on sentence embeddings)'
            : modelPrompt
              ? `prompt: ${modelPrompt.template}`
              : 'classifier head'}
        </h2>
        <textarea
          rows={3}
          value={text}
          onChange={(e) => setPlayground({ playText: e.target.value })}
          data-testid="play-text"
          aria-label="Text to classify"
        />
        {playTokens && playTokens.text === text && (
          <p className="muted tokens" data-testid="play-tokens">
            {playTokens.tokens.length} {playTokens.tokens.length === 1 ? 'token' : 'tokens'}:{' '}
            {playTokens.tokens.map((token, i) => (
              <code key={i} className={token === '[UNK]' ? 'token token-unk' : 'token'}>
                {token}
              </code>
            ))}
          </p>
        )}
        {!canPredict && (
          <p className="muted">The classifier has no labels yet: start training (predictions work during training).</p>
        )}
        {playError && (
          <p className="error" role="alert">
            {playError}
          </p>
        )}
        {status.busy && (
          <p className="muted" role="status" data-testid="play-busy">
            {status.busy}
          </p>
        )}
        {prediction && status.stale && (
          <p className="muted" data-testid="play-stale">
            These probabilities are for the previous text; the new one is on its way.
          </p>
        )}
        {prediction && (
          <div className={`bars${status.stale ? ' stale' : ''}`} data-testid="play-bars">
            {labels.map((label, i) => (
              <div key={label} className="bar-row">
                <span className="bar-label">{label}</span>
                <span className="bar-track">
                  <span
                    className={`bar-fill${i === prediction.labelIndex ? ' bar-top' : ''}`}
                    style={{ width: `${(100 * (prediction.probabilities[i] ?? 0)).toFixed(1)}%` }}
                  />
                </span>
                <span className="num">{(100 * (prediction.probabilities[i] ?? 0)).toFixed(1)}%</span>
              </div>
            ))}
          </div>
        )}
        {prediction && nearest && nearest.length > 0 && (
          <div className={status.stale ? 'stale' : ''} data-testid="play-nearest">
            <h3>Nearest training examples</h3>
            <p className="muted">
              The examples whose sentence embeddings are closest to this text (cosine similarity): what SetFit&apos;s
              head sees as most alike.
            </p>
            <table className="table">
              <thead>
                <tr>
                  <th className="num">similarity</th>
                  <th>label</th>
                  <th>text</th>
                </tr>
              </thead>
              <tbody>
                {nearest.map((n) => (
                  <tr key={n.index} data-testid="play-nearest-row">
                    <td className="num">{n.similarity.toFixed(3)}</td>
                    <td>{n.label}</td>
                    <td>
                      {n.text}
                      {n.textPair ? ` / ${n.textPair}` : ''}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {prediction && setfit && !nearest && (
          <p className="muted" data-testid="play-nearest-none">
            Nearest training examples show for a SetFit model trained on this page (a loaded SetFit folder does not
            carry its training texts).
          </p>
        )}
      </section>
      <section className="panel" aria-labelledby="zs-heading">
        <h2 id="zs-heading">Zero-shot prompt</h2>
        <Concept id="zeroShot" />
        <p className="muted">
          The text above is what gets scored{hasData ? '; the prompt is also scored on the dev split of your data' : ''}
          .
        </p>
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            void runZeroShot(text);
          }}
        >
          <label className="stack">
            <span>Template ({'{text}'} and one [MASK])</span>
            <input
              value={zsTemplate}
              onChange={(e) => setPlayground({ zsTemplate: e.target.value })}
              data-testid="zs-template"
            />
          </label>
          <Concept id="template" />
          <Concept id="mask" />
          <label className="stack">
            <span>Label words, one line per label: label: word, word</span>
            <textarea
              rows={Math.max(2, zsWords.split('\n').length)}
              value={zsWords}
              onChange={(e) => setPlayground({ zsWords: e.target.value })}
              data-testid="zs-words"
            />
          </label>
          <Concept id="labelWords" />
          {zsWordsEdited === null && <LabelWordNotes notes={dataset?.labelWords?.notes} />}
          <label className="row">
            <input
              type="checkbox"
              checked={zsCalibrate}
              onChange={(e) => setPlayground({ zsCalibrate: e.target.checked })}
              data-testid="zs-calibrate"
            />
            <span>Calibrate (correct the model&apos;s preference for one label word)</span>
          </label>
          <Concept id="calibration" />
          <div className="row">
            <button type="submit" className="button" disabled={!hasModel || zsBusy} data-testid="zs-run">
              {zsBusy ? 'Scoring…' : 'Score the prompt'}
            </button>
            <button
              type="button"
              className="button button-secondary"
              disabled={!hasModel || !hasData || suggesting}
              onClick={() => void suggestPrompts()}
              data-testid="zs-suggest"
            >
              {suggesting ? 'Searching…' : 'Suggest label words and templates'}
            </button>
          </div>
        </form>
        {suggestions && (
          <div className="stack" data-testid="zs-suggestions">
            <p className="muted">
              Common words the model finds likely in the blank for each label&apos;s rows (all {suggestions.rowCount}{' '}
              labeled rows, training and dev) and less likely for the other labels&apos;. Click one to add it; the table
              ranks prompts by how many of those rows they get right without training.
            </p>
            {suggestions.labels.map((label) => (
              <div key={label} className="row">
                <span className="bar-label">{label}</span>
                {(suggestions.words[label] ?? []).map((w) => (
                  <button
                    key={w.word}
                    type="button"
                    className="chip"
                    onClick={() => {
                      const lines = zsWords.split('\n');
                      const at = lines.findIndex((l) => l.split(':')[0].trim() === label);
                      if (at >= 0) {
                        if (
                          !lines[at]
                            .split(':')[1]
                            ?.split(',')
                            .map((x) => x.trim())
                            .includes(w.word)
                        )
                          lines[at] = `${lines[at].replace(/\s*$/, '')}, ${w.word}`;
                      } else lines.push(`${label}: ${w.word}`);
                      setPlayground({ zsWords: lines.join('\n') });
                    }}
                  >
                    {w.word}
                  </button>
                ))}
              </div>
            ))}
            {suggestions.ranked.length > 0 && (
              <table className="table" data-testid="zs-ranked">
                <thead>
                  <tr>
                    <th>template</th>
                    <th>label words</th>
                    <th className="num">zero-shot accuracy ({suggestions.rowCount} labeled rows)</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {suggestions.ranked.slice(0, 8).map((r) => (
                    <tr key={`${r.template}|${JSON.stringify(r.verbalizer)}`}>
                      <td>
                        <code>{r.template}</code>
                      </td>
                      <td className="muted">{labelWordLines(r.verbalizer).replace(/\n/g, ' · ')}</td>
                      <td className="num">
                        {r.error ? <span title={r.error}>—</span> : `${(100 * r.accuracy).toFixed(1)}%`}
                      </td>
                      <td>
                        <button
                          type="button"
                          className="button button-secondary"
                          disabled={r.error !== null}
                          onClick={() =>
                            setPlayground({ zsTemplate: r.template, zsWords: labelWordLines(r.verbalizer) })
                          }
                        >
                          Use
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </div>
        )}
        {zsError && (
          <p className="error" role="alert" data-testid="zs-error">
            {zsError}
          </p>
        )}
        {zsResult && (
          <div data-testid="zs-result">
            {zsResult.predictions[0] && (
              <div className="bars">
                {zsResult.labels.map((label, i) => (
                  <div key={label} className="bar-row">
                    <span className="bar-label">{label}</span>
                    <span className="bar-track">
                      <span
                        className={`bar-fill${i === zsResult.predictions[0].labelIndex ? ' bar-top' : ''}`}
                        style={{ width: `${(100 * zsResult.predictions[0].probabilities[i]).toFixed(1)}%` }}
                      />
                    </span>
                    <span className="num">{(100 * zsResult.predictions[0].probabilities[i]).toFixed(1)}%</span>
                  </div>
                ))}
              </div>
            )}
            {zsResult.evaluation && (
              <p data-testid="zs-accuracy">
                Dev accuracy of this prompt: <strong>{(100 * zsResult.evaluation.accuracy).toFixed(1)}%</strong>{' '}
                (macro-F1 {(100 * zsResult.evaluation.macroF1).toFixed(1)}%, {zsResult.evaluation.n} rows
                {zsResult.evaluation.autoSplit ? ', the automatic 20 % split' : ''})
              </p>
            )}
            {zsResult.evaluationNote && <p className="muted">{zsResult.evaluationNote}</p>}
            {zsResult.warnings.length > 0 && (
              <ul className="compact muted">
                {zsResult.warnings.map((w) => (
                  <li key={w}>{w}</li>
                ))}
              </ul>
            )}
          </div>
        )}
      </section>
      <section className="panel" aria-labelledby="mask-heading">
        <h2 id="mask-heading">Fill the [MASK]</h2>
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            void fillMask(maskText);
          }}
        >
          <input
            className="grow"
            value={maskText}
            onChange={(e) => setPlayground({ maskText: e.target.value })}
            data-testid="mask-text"
            aria-label="Text with [MASK]"
          />
          <button
            type="submit"
            className="button"
            disabled={!hasModel || !/\[mask\]/i.test(maskText)}
            data-testid="mask-run"
          >
            Fill
          </button>
        </form>
        {maskError && (
          <p className="error" role="alert">
            {maskError}
          </p>
        )}
        {maskResults && (
          <ol className="compact" data-testid="mask-results">
            {maskResults.map((candidates, m) => (
              <li key={m}>
                {candidates.map((c) => (
                  <span key={c.id} className="chip">
                    {c.token} <span className="muted">{formatProbability(c.probability)}</span>
                  </span>
                ))}
              </li>
            ))}
          </ol>
        )}
      </section>
    </div>
  );
}
