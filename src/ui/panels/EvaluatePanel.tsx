import { useState, type DragEvent } from 'react';
import { useStudio } from '../store';
import { predictFileToCsv } from '../store/actions';
import { SMALL_DEV_ROWS, accuracyPlusMinus } from '../store/helpers';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export function EvaluatePanel() {
  const plan = useStudio((s) => s.plan);
  const evaluations = useStudio((s) => s.evaluations);
  const summary = useStudio((s) => s.summary);
  const [cell, setCell] = useState<{ t: number; p: number } | null>(null);
  const last = evaluations[evaluations.length - 1];
  // The metrics of the weights the run kept: the last evaluation's when the run kept its last
  // weights (a small dev set, see SMALL_DEV_ROWS), else the best one's (ties: the later step).
  const keptLast = summary?.restored === 'last' && last !== undefined;
  const best =
    (keptLast ? last.metrics : null) ??
    summary?.bestMetrics ??
    evaluations.filter((e) => e.isBest).at(-1)?.metrics ??
    last?.metrics ??
    null;

  if (!plan || !best) {
    return (
      <div className="stack">
        <section className="panel">
          <h2>Evaluate</h2>
          <p className="muted">Dev-set metrics appear here after the first evaluation of a training run.</p>
        </section>
        <PredictFileSection />
      </div>
    );
  }
  const labels = plan.labels;
  const dev = plan.devExamples;
  // Each metric prediction names its dev row by index; texts come from the plan's dev rows.
  const rows = best.predictions.map((pred) => ({
    e: dev[pred.index] ?? { text: `(dev row ${pred.index + 1})`, label: pred.trueLabel },
    i: pred.index,
    t: labels.indexOf(pred.trueLabel),
    p: labels.indexOf(pred.predLabel),
    confidence: pred.confidence,
  }));
  const inCell = cell ? rows.filter((r) => r.t === cell.t && r.p === cell.p) : [];
  const wrong = rows.filter((r) => r.t >= 0 && r.p >= 0 && r.t !== r.p).sort((a, b) => b.confidence - a.confidence);
  const maxCount = Math.max(1, ...best.confusion.flat());
  const uncertainty = accuracyPlusMinus(best.accuracyInterval);

  return (
    <div className="stack">
      <section className="panel" aria-labelledby="eval-heading">
        <h2 id="eval-heading">Evaluate</h2>
        <p>
          Dev set: {best.n} rows · accuracy <strong data-testid="eval-accuracy">{pct(best.accuracy)}</strong>
          {uncertainty && (
            <span data-testid="eval-accuracy-uncertainty" title={uncertainty.range}>
              {' '}
              {uncertainty.plusMinus}
            </span>
          )}{' '}
          · macro-F1 <strong>{best.macroF1.toFixed(3)}</strong>
          {keptLast ? (
            <span className="muted">
              {' '}
              · last weights kept (step {summary.steps}
              {last.step !== summary.steps && <>; last evaluated at step {last.step}</>})
            </span>
          ) : (
            summary?.bestStep != null && <span className="muted"> · best checkpoint at step {summary.bestStep}</span>
          )}
        </p>
        {uncertainty && (
          <p className="muted">
            The ± is the 95 % range of the accuracy on {best.n} rows ({uncertainty.range}): another dev set of the same
            size could easily score anywhere in it.
          </p>
        )}
        {best.n < SMALL_DEV_ROWS && (
          <p className="warn" data-testid="eval-small-dev">
            Only {best.n} dev rows: one row moves the accuracy by {Math.round(100 / Math.max(1, best.n))} points, so
            this figure is rough, and the run trains to the end and keeps its last weights rather than the best-scoring
            step. Add labeled rows (or a larger dev share) for a figure you can trust.
          </p>
        )}
        {summary && <p className="muted">{summary.message}</p>}
        <div className="table-wrap">
          <table className="table" data-testid="per-class-table">
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
              {best.perClass.map((c) => (
                <tr key={c.label}>
                  <td>{c.label}</td>
                  <td className="num">{c.precision.toFixed(3)}</td>
                  <td className="num">{c.recall.toFixed(3)}</td>
                  <td className="num">{c.f1.toFixed(3)}</td>
                  <td className="num">{c.support}</td>
                  <td className="num">{c.predicted}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <div className="grid-2">
        <section className="panel" aria-labelledby="confusion-heading">
          <h3 id="confusion-heading">Confusion matrix</h3>
          <p className="muted">Rows: true label · columns: predicted. Click a cell to list its examples.</p>
          <div className="table-wrap">
            <table className="confusion" data-testid="confusion-matrix">
              <thead>
                <tr>
                  <th />
                  {labels.map((l) => (
                    <th key={l}>{l}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {best.confusion.map((row, t) => (
                  <tr key={labels[t]}>
                    <th>{labels[t]}</th>
                    {row.map((count, p) => (
                      <td key={labels[p]}>
                        <button
                          type="button"
                          className={`cell${t === p ? ' cell-diag' : ''}${cell?.t === t && cell.p === p ? ' cell-selected' : ''}`}
                          style={{ '--strength': count / maxCount } as React.CSSProperties}
                          aria-label={`${count} rows with true ${labels[t]} predicted ${labels[p]}`}
                          data-testid={`confusion-${t}-${p}`}
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
            <div data-testid="cell-examples">
              <h4>
                true {labels[cell.t]} → predicted {labels[cell.p]} ({inCell.length})
              </h4>
              <ul className="compact">
                {inCell.map((r) => (
                  <li key={r.i}>
                    <span className="muted">{pct(r.confidence)}</span> {r.e.text}
                  </li>
                ))}
              </ul>
            </div>
          )}
        </section>
        <section className="panel" aria-labelledby="wrong-heading">
          <h3 id="wrong-heading">Misclassified, most confident first</h3>
          {wrong.length === 0 ? (
            <p className="muted">None.</p>
          ) : (
            <ul className="compact" data-testid="misclassified">
              {wrong.slice(0, 50).map((r) => (
                <li key={r.i}>
                  <span className="muted">
                    {labels[r.t]} → {labels[r.p]} ({pct(r.confidence)})
                  </span>{' '}
                  {r.e.text}
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
      <PredictFileSection />
    </div>
  );
}

const sizeLabel = (bytes: number) =>
  bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : bytes >= 1e3 ? `${(bytes / 1e3).toFixed(0)} kB` : `${bytes} B`;

/** Predictions for an unlabeled file: drop it, watch the progress, download a CSV. */
function PredictFileSection() {
  const job = useStudio((s) => s.fileJob);
  const labels = useStudio((s) => s.model?.labels ?? []);
  const hasLabels = useStudio((s) => (s.model?.labels.length ?? 0) > 0);
  const [dragging, setDragging] = useState(false);
  const busy = job !== null && (job.phase === 'reading' || job.phase === 'predicting');
  const start = (file: File | undefined) => {
    if (file && !busy) void predictFileToCsv(file);
  };
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    start(event.dataTransfer.files[0]);
  };
  const fraction = job && job.total ? Math.min(1, job.done / job.total) : 0;
  return (
    <section className="panel" aria-labelledby="predict-file-heading" data-testid="predict-file">
      <h3 id="predict-file-heading">Predictions for a file</h3>
      <p className="muted">
        Label a whole unlabeled file with the model as it is now
        {hasLabels ? ` (labels ${labels.join(', ')})` : ''}: CSV, TSV or JSONL with a text column (a label column, if
        present, is ignored). You get a CSV with the row, the text, the predicted label and one probability column per
        label.
      </p>
      <div
        className={`dropzone${dragging ? ' dropzone-active' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <label className={`button${!hasLabels || busy ? ' button-disabled' : ''}`}>
          Choose a file to predict
          <input
            type="file"
            className="visually-hidden"
            accept=".csv,.tsv,.jsonl,.txt,text/csv,text/tab-separated-values"
            disabled={!hasLabels || busy}
            data-testid="predict-file-input"
            onChange={(e) => {
              start(e.target.files?.[0]);
              e.target.value = '';
            }}
          />
        </label>
        <span className="muted">
          {hasLabels ? 'or drop it here' : 'Train the model (or load a fine-tuned one) first: it has no labels yet.'}
        </span>
      </div>
      {job && busy && (
        <div className="stack-tight" data-testid="predict-file-progress">
          <progress max={1} value={fraction} />
          <span className="muted">
            {job.fileName}:{' '}
            {job.phase === 'reading'
              ? `reading ${sizeLabel(job.done)}${job.total ? ` of ${sizeLabel(job.total)}` : ''}`
              : `predicted ${job.done} of ${job.total ?? '?'} rows`}
          </span>
        </div>
      )}
      {job?.error && (
        <p className="error" role="alert" data-testid="predict-file-error">
          {job.error.message}
        </p>
      )}
      {job?.result && (
        <p className="ok" data-testid="predict-file-done">
          {job.result.rows} rows of {job.fileName} predicted (text column “{job.result.textColumn}”).{' '}
          <a href={job.result.url} download={job.result.downloadName} data-testid="predict-file-download">
            Download {job.result.downloadName}
          </a>
          {job.result.warnings.map((w) => (
            <span key={w} className="warn">
              {' '}
              {w}
            </span>
          ))}
        </p>
      )}
    </section>
  );
}
