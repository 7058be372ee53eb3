import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useState } from 'react';
import { downloadFile } from '../download';
import { useStudio } from '../store';
import { formatDuration } from '../store/helpers';
import { deleteRun, exportRunJob, exportRunModel, toggleComparedRun } from '../store/projectActions';
import { overlaySeries, runRows } from '../store/runs';

/** Line colours of compared runs, in tick order (readable on light and dark themes). */
const RUN_COLOURS = ['#3b82f6', '#f97316', '#10b981', '#e11d48', '#8b5cf6', '#eab308', '#06b6d4', '#64748b'];

function OverlayChart({ title, kind, testId }: { title: string; kind: 'loss' | 'accuracy'; testId: string }) {
  const runs = useStudio((s) => s.runs);
  const compared = useStudio((s) => s.comparedRuns);
  const ticked = compared.map((id) => runs.find((r) => r.runId === id)).filter((r) => r !== undefined);
  const data = overlaySeries(ticked, kind);
  const number = (runId: string) => runs.findIndex((r) => r.runId === runId) + 1;
  return (
    <section className="panel" aria-label={title}>
      <h3>{title}</h3>
      <div className="chart" data-testid={testId}>
        <ResponsiveContainer width="100%" height={220}>
          <LineChart data={data}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
            <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} allowDecimals={false} />
            <YAxis domain={kind === 'accuracy' ? [0, 1] : ['auto', 'auto']} width={56} />
            <Tooltip />
            <Legend />
            {ticked.map((run, i) => (
              <Line
                key={run.runId}
                type="monotone"
                dataKey={run.runId}
                name={`Run ${number(run.runId)}`}
                stroke={RUN_COLOURS[i % RUN_COLOURS.length]}
                dot={kind === 'accuracy'}
                connectNulls
                isAnimationActive={false}
              />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </div>
    </section>
  );
}

/**
 * "Export training job" for one run (docs/USER_GUIDE.md, "Bigger than a browser"); absent for runs
 * recorded before jobs existed, disabled for a run that continued from trained weights.
 */
function JobButton(props: {
  runId: string;
  number: number;
  busy: boolean;
  onNotice: (note: string | null) => void;
  onError: (message: string | null) => void;
}) {
  const plan = useStudio((s) => s.runs.find((r) => r.runId === props.runId)?.plan);
  if (!plan?.start) return null;
  const continued = plan.start.kind === 'tuned';
  const setfit = plan.method === 'setfit';
  return (
    <button
      type="button"
      className="button button-secondary"
      disabled={props.busy || continued || setfit}
      title={
        setfit
          ? 'Training jobs replay the classifier-head and prompt methods; a SetFit run is not exported as a job yet (export its model instead).'
          : continued
            ? 'This run continued from weights trained earlier in the studio, so it has no starting model a job could name or include.'
            : "A zip with this run's data split, settings, starting model and a train.py for Hugging Face transformers (one GPU, several GPUs, several machines)."
      }
      data-testid={`run-job-${props.number}`}
      onClick={() => {
        props.onError(null);
        props.onNotice(null);
        exportRunJob(props.runId).then(
          (job) => {
            downloadFile(job);
            props.onNotice(`Run ${props.number}'s training job: ${job.note} Its README says how to run it.`);
          },
          (e: unknown) => props.onError(e instanceof Error ? e.message : String(e)),
        );
      }}
    >
      Export training job
    </button>
  );
}

/**
 * Every run of the project side by side (docs/USER_GUIDE.md, "Runs side by side"): method,
 * settings, best dev scores and duration; tick runs to overlay their curves; export a run's model;
 * delete a run.
 */
export function RunsList() {
  const runs = useStudio((s) => s.runs);
  const runModels = useStudio((s) => s.runModels);
  const compared = useStudio((s) => s.comparedRuns);
  const currentRunId = useStudio((s) => s.runId);
  const training = useStudio((s) => s.trainingState !== 'idle');
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  if (runs.length === 0) return null;
  const rows = runRows(runs);
  const pct = (value: number | null) => (value === null ? '—' : `${(100 * value).toFixed(1)}%`);

  return (
    <>
      <section className="panel" aria-labelledby="runs-heading">
        <h3 id="runs-heading">Runs</h3>
        <div className="table-wrap">
          <table className="table" data-testid="runs-list">
            <thead>
              <tr>
                <th>compare</th>
                <th>run</th>
                <th>method</th>
                <th>settings</th>
                <th className="num">dev accuracy</th>
                <th className="num">dev macro-F1</th>
                <th className="num">time</th>
                <th>status</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {[...rows].reverse().map((row) => {
                const busy = training && row.runId === currentRunId;
                return (
                  <tr key={row.runId} data-testid={`run-row-${row.number}`}>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`Compare run ${row.number}`}
                        checked={compared.includes(row.runId)}
                        onChange={() => toggleComparedRun(row.runId)}
                        data-testid={`run-compare-${row.number}`}
                      />
                    </td>
                    <td>Run {row.number}</td>
                    <td>{row.method === 'head' ? 'classifier head' : row.method === 'setfit' ? 'SetFit' : 'prompt'}</td>
                    <td className="muted">{row.settings}</td>
                    <td className="num">{pct(row.bestAccuracy)}</td>
                    <td className="num">{pct(row.bestMacroF1)}</td>
                    <td className="num">{row.seconds === null ? '—' : formatDuration(row.seconds)}</td>
                    <td>{busy ? 'training' : row.status === 'running' ? 'interrupted' : row.status}</td>
                    <td className="row">
                      {runModels.includes(row.runId) && (
                        <button
                          type="button"
                          className="button button-secondary"
                          data-testid={`run-export-${row.number}`}
                          onClick={() => {
                            setError(null);
                            exportRunModel(row.runId).then(downloadFile, (e: unknown) =>
                              setError(e instanceof Error ? e.message : String(e)),
                            );
                          }}
                        >
                          Export model
                        </button>
                      )}
                      <JobButton
                        runId={row.runId}
                        number={row.number}
                        busy={busy}
                        onNotice={setNotice}
                        onError={setError}
                      />
                      <button
                        type="button"
                        className="button button-secondary"
                        disabled={busy}
                        data-testid={`run-delete-${row.number}`}
                        onClick={() => void deleteRun(row.runId)}
                      >
                        Delete
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
        <p className="muted">
          Best dev score of each run ({rows.at(-1)?.devCount ?? '—'} dev rows). Tick runs to overlay their curves. The
          models of the newest 5 runs are kept for export. &ldquo;Export training job&rdquo; packs a run for Hugging
          Face transformers on bigger hardware (user guide: &ldquo;Bigger than a browser&rdquo;).
        </p>
        {notice && (
          <p className="muted" role="status" data-testid="run-job-note">
            {notice}
          </p>
        )}
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
      </section>
      {compared.length > 0 && (
        <div className="grid-2">
          <OverlayChart title="Training loss (smoothed) of the compared runs" kind="loss" testId="runs-loss-overlay" />
          <OverlayChart title="Dev accuracy of the compared runs" kind="accuracy" testId="runs-accuracy-overlay" />
        </div>
      )}
    </>
  );
}
