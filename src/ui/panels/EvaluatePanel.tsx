import { FileDropZone } from '../components/FileDropZone';
import { FoldTable } from '../components/FoldTable';
import { AccuracyUncertainty, MetricsDetails } from '../components/MetricsDetails';
import { useStudio } from '../store';
import { evaluateTestFile, predictFileToCsv } from '../store/actions';
import { SMALL_DEV_ROWS, accuracyPlusMinus } from '../store/helpers';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** Why no file can be scored or predicted yet. */
const NO_LABELS_YET = 'Train the model (or load a fine-tuned one) first: it has no labels yet.';

export function EvaluatePanel() {
  const plan = useStudio((s) => s.plan);
  const evaluations = useStudio((s) => s.evaluations);
  const summary = useStudio((s) => s.summary);
  const crossValidation = useStudio((s) => s.crossValidation);
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
        <CrossValidationSection />
        <section className="panel">
          <h2>Evaluate</h2>
          {crossValidation?.result && plan && plan.devCount === 0 ? (
            <p className="muted" data-testid="eval-no-dev">
              The final model was trained on all {plan.trainCount} rows, so it has no dev set: the cross-validated
              estimate above is its score. Drop a labeled test file below to score it on rows it never saw.
            </p>
          ) : (
            <p className="muted">Dev-set metrics appear here after the first evaluation of a training run.</p>
          )}
        </section>
        <TestFileSection />
        <PredictFileSection />
      </div>
    );
  }
  const labels = plan.labels;
  const dev = plan.devExamples;
  const uncertainty = accuracyPlusMinus(best.accuracyInterval);

  return (
    <div className="stack">
      <CrossValidationSection />
      <section className="panel" aria-labelledby="eval-heading">
        <h2 id="eval-heading">Evaluate</h2>
        <p>
          Dev set: {best.n} rows · accuracy <strong data-testid="eval-accuracy">{pct(best.accuracy)}</strong>
          <AccuracyUncertainty metrics={best} testId="eval-accuracy-uncertainty" /> · macro-F1{' '}
          <strong>{best.macroF1.toFixed(3)}</strong>
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
            step. Add labeled rows (or a larger dev share), use cross-validation (Train panel), or score a labeled test
            file below for a figure you can trust.
          </p>
        )}
        {summary && <p className="muted">{summary.message}</p>}
        <MetricsDetails
          metrics={best}
          labels={labels}
          // Each metric prediction names its dev row by index; texts come from the plan's dev rows.
          textOf={(i) => dev[i]?.text ?? `(dev row ${i + 1})`}
          testIdPrefix=""
        />
      </section>
      <TestFileSection />
      <PredictFileSection />
    </div>
  );
}

/** The cross-validated estimate of the last cross-validation, in plain words, with each fold's numbers. */
function CrossValidationSection() {
  const cv = useStudio((s) => s.crossValidation);
  const result = cv?.result;
  if (!result) return null;
  return (
    <section className="panel" aria-labelledby="cv-eval-heading" data-testid="eval-cv">
      <h2 id="cv-eval-heading">Cross-validated estimate</h2>
      <p>
        <strong data-testid="eval-cv-text">{result.text}</strong>
      </p>
      <p className="muted">
        Each of the {result.folds} models was scored on the rows it did not train on, so every row counted once; the ±
        is the spread between the folds (sample standard deviation). This is the figure to quote for the model trained
        on all rows.
      </p>
      <FoldTable result={result} />
    </section>
  );
}

/** A labeled test file scored by the model as it is now: full metrics, apart from the dev results. */
function TestFileSection() {
  const job = useStudio((s) => s.testJob);
  const hasLabels = useStudio((s) => (s.model?.labels.length ?? 0) > 0);
  const labels = useStudio((s) => s.model?.labels ?? []);
  const busy = job?.phase === 'scoring';
  const result = job?.result;
  return (
    <section className="panel" aria-labelledby="test-file-heading" data-testid="test-file">
      <h2 id="test-file-heading">Test file</h2>
      <p className="muted">
        Score the model as it is now on labeled rows it never trained on: CSV, TSV or JSONL with a text and a label
        column (detected as in the Data tab){hasLabels ? `; labels must be among ${labels.join(', ')}` : ''}. These are
        test-file results, separate from the dev figures above.
      </p>
      <FileDropZone
        label="Choose a labeled test file"
        hint={hasLabels ? 'or drop it here' : NO_LABELS_YET}
        disabled={!hasLabels || busy}
        onFile={(file) => void evaluateTestFile(file)}
        testId="test-file-dropzone"
        inputTestId="test-file-input"
      />
      {busy && (
        <p className="muted" role="status" data-testid="test-file-progress">
          Scoring {job.fileName}…
        </p>
      )}
      {job?.error && (
        <p className="error" role="alert" data-testid="test-file-error">
          {job.fileName}: {job.error.message}
        </p>
      )}
      {result && (
        <div className="stack" data-testid="test-file-result">
          <h3>Test-file results: {result.fileName}</h3>
          <p>
            {result.rows} rows · accuracy <strong data-testid="test-accuracy">{pct(result.metrics.accuracy)}</strong>
            <AccuracyUncertainty metrics={result.metrics} testId="test-accuracy-uncertainty" /> · macro-F1{' '}
            <strong data-testid="test-macro-f1">{result.metrics.macroF1.toFixed(3)}</strong>
            <span className="muted">
              {' '}
              · columns: text “{result.mapping.text}”, label “{result.mapping.label}”
              {result.unlabeled > 0
                ? ` · ${result.unlabeled} unlabeled ${result.unlabeled === 1 ? 'row' : 'rows'} not scored`
                : ''}
            </span>
          </p>
          {result.warnings.map((w) => (
            <p key={w} className="warn">
              {w}
            </p>
          ))}
          <MetricsDetails
            metrics={result.metrics}
            labels={result.metrics.perClass.map((c) => c.label)}
            textOf={(i) => `${result.texts[i] ?? ''} (row ${result.fileRows[i] ?? '?'})`}
            testIdPrefix="test-"
          />
        </div>
      )}
    </section>
  );
}

const sizeLabel = (bytes: number) =>
  bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : bytes >= 1e3 ? `${(bytes / 1e3).toFixed(0)} kB` : `${bytes} B`;

/** Predictions for an unlabeled file: drop it, watch the progress, download a CSV. */
function PredictFileSection() {
  const job = useStudio((s) => s.fileJob);
  const labels = useStudio((s) => s.model?.labels ?? []);
  const hasLabels = useStudio((s) => (s.model?.labels.length ?? 0) > 0);
  const busy = job !== null && (job.phase === 'reading' || job.phase === 'predicting');
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
      <FileDropZone
        label="Choose a file to predict"
        hint={hasLabels ? 'or drop it here' : NO_LABELS_YET}
        disabled={!hasLabels || busy}
        onFile={(file) => void predictFileToCsv(file)}
        inputTestId="predict-file-input"
      />
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
