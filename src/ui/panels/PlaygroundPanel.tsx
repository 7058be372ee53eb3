import { useEffect } from 'react';
import { useStudio } from '../store';
import { fillMask, predictText } from '../store/actions';

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
  const maskText = useStudio((s) => s.maskText);
  const maskResults = useStudio((s) => s.maskResults);
  const maskError = useStudio((s) => s.maskError);
  const setPlayground = useStudio((s) => s.setPlayground);
  const hasModel = useStudio((s) => s.model !== null);
  const canPredict = hasModel && labels.length > 0;

  useEffect(() => {
    if (!canPredict || !text.trim()) return;
    const timer = setTimeout(() => void predictText(text), PLAYGROUND_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text, canPredict]);

  return (
    <div className="stack">
      <section className="panel" aria-labelledby="play-heading">
        <h2 id="play-heading">Playground · classifier</h2>
        <textarea rows={3} value={text} onChange={(e) => setPlayground({ playText: e.target.value })} data-testid="play-text" aria-label="Text to classify" />
        {!canPredict && <p className="muted">The classifier has no labels yet: start training (predictions work during training).</p>}
        {playError && (
          <p className="error" role="alert">
            {playError}
          </p>
        )}
        {prediction && (
          <div className="bars" data-testid="play-bars">
            {labels.map((label, i) => (
              <div key={label} className="bar-row">
                <span className="bar-label">{label}</span>
                <span className="bar-track">
                  <span className={`bar-fill${i === prediction.labelIndex ? ' bar-top' : ''}`} style={{ width: `${(100 * (prediction.probabilities[i] ?? 0)).toFixed(1)}%` }} />
                </span>
                <span className="num">{(100 * (prediction.probabilities[i] ?? 0)).toFixed(1)}%</span>
              </div>
            ))}
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
          <input className="grow" value={maskText} onChange={(e) => setPlayground({ maskText: e.target.value })} data-testid="mask-text" aria-label="Text with [MASK]" />
          <button type="submit" className="button" disabled={!hasModel || !maskText.includes('[MASK]')} data-testid="mask-run">
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
