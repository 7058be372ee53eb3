import { useState, type CSSProperties } from 'react';
import type { Metrics } from '../../engine/studio';
import { accuracyPlusMinus } from '../store/helpers';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** "0.800 ± 0.17": a per-class figure with half its 95 % interval (absent in older metrics). */
function withPlusMinus(value: number, interval: { low: number; high: number } | undefined) {
  if (!interval) return value.toFixed(3);
  return (
    <span title={`95 % interval: ${interval.low.toFixed(2)}–${interval.high.toFixed(2)}`}>
      {value.toFixed(3)} <span className="muted">± {((interval.high - interval.low) / 2).toFixed(2)}</span>
    </span>
  );
}

/** The accuracy line's ± with its range, as the dev and test results show it. */
export function AccuracyUncertainty({ metrics, testId }: { metrics: Metrics; testId: string }) {
  const uncertainty = accuracyPlusMinus(metrics.accuracyInterval);
  if (!uncertainty) return null;
  return (
    <span data-testid={testId} title={uncertainty.range}>
      {' '}
      {uncertainty.plusMinus}
    </span>
  );
}

/**
 * Per-class table (precision and recall with their ±), the confusion matrix with a drill-down to
 * the rows of a cell, and the misclassified rows: the same view for dev metrics and for a test
 * file. `textOf(i)` is the text of the row behind `metrics.predictions[…].index === i`; `testIdPrefix`
 * keeps the two views' test ids apart ('' for dev, 'test-' for the test file).
 */
export function MetricsDetails({
  metrics,
  labels,
  textOf,
  testIdPrefix,
}: {
  metrics: Metrics;
  labels: readonly string[];
  textOf: (index: number) => string;
  testIdPrefix: string;
}) {
  const [cell, setCell] = useState<{ t: number; p: number } | null>(null);
  const id = (name: string) => `${testIdPrefix}${name}`;
  const rows = metrics.predictions.map((pred) => ({
    text: textOf(pred.index),
    i: pred.index,
    t: labels.indexOf(pred.trueLabel),
    p: labels.indexOf(pred.predLabel),
    confidence: pred.confidence,
  }));
  const inCell = cell ? rows.filter((r) => r.t === cell.t && r.p === cell.p) : [];
  const wrong = rows.filter((r) => r.t >= 0 && r.p >= 0 && r.t !== r.p).sort((a, b) => b.confidence - a.confidence);
  const maxCount = Math.max(1, ...metrics.confusion.flat());
  return (
    <>
      <div className="table-wrap">
        <table className="table" data-testid={id('per-class-table')}>
          <thead>
            <tr>
              <th>label</th>
              <th>precision</th>
              <th>recall</th>
              <th>F1</th>
              <th>support</th>
              <th>predicted</th>
            </tr>
          </thead>
          <tbody>
            {metrics.perClass.map((c) => (
              <tr key={c.label}>
                <td>{c.label}</td>
                <td className="num" title={c.predicted === 0 ? 'Never predicted: precision is undefined.' : undefined}>
                  {/* Never predicted: no prediction to be right about, so no precision (not "0.000 ± 0.50"). */}
                  {c.predicted === 0 ? '— (never predicted)' : withPlusMinus(c.precision, c.precisionInterval)}
                </td>
                <td className="num">{withPlusMinus(c.recall, c.recallInterval)}</td>
                <td className="num">{c.f1.toFixed(3)}</td>
                <td className="num">{c.support}</td>
                <td className="num">{c.predicted}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="grid-2">
        <section className="panel" aria-label={`${testIdPrefix ? 'Test file' : 'Dev'} confusion matrix`}>
          <h3>Confusion matrix</h3>
          <p className="muted">Rows: true label · columns: predicted. Click a cell to list its examples.</p>
          <div className="table-wrap">
            <table className="confusion" data-testid={id('confusion-matrix')}>
              <thead>
                <tr>
                  <th />
                  {labels.map((l) => (
                    <th key={l}>{l}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {metrics.confusion.map((row, t) => (
                  <tr key={labels[t]}>
                    <th>{labels[t]}</th>
                    {row.map((count, p) => (
                      <td key={labels[p]}>
                        <button
                          type="button"
                          className={`cell${t === p ? ' cell-diag' : ''}${cell?.t === t && cell.p === p ? ' cell-selected' : ''}`}
                          style={{ '--strength': count / maxCount } as CSSProperties}
                          aria-label={`${count} rows with true ${labels[t]} predicted ${labels[p]}`}
                          data-testid={id(`confusion-${t}-${p}`)}
                          onClick={() => setCell({ t, p })}
                        >
                          {count}
                        </button>
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {cell && (
            <div data-testid={id('cell-examples')}>
              <h4>
                true {labels[cell.t]} → predicted {labels[cell.p]} ({inCell.length})
              </h4>
              <ul className="compact">
                {inCell.map((r) => (
                  <li key={r.i}>
                    <span className="muted">{pct(r.confidence)}</span> {r.text}
                  </li>
                ))}
              </ul>
            </div>
          )}
        </section>
        <section className="panel" aria-label={`${testIdPrefix ? 'Test file' : 'Dev'} misclassified rows`}>
          <h3>Misclassified, most confident first</h3>
          {wrong.length === 0 ? (
            <p className="muted">None.</p>
          ) : (
            <ul className="compact" data-testid={id('misclassified')}>
              {wrong.slice(0, 50).map((r) => (
                <li key={r.i}>
                  <span className="muted">
                    {labels[r.t]} → {labels[r.p]} ({pct(r.confidence)})
                  </span>{' '}
                  {r.text}
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </>
  );
}
