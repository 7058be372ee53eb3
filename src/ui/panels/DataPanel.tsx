import { useState, type DragEvent } from 'react';
import { Bar, BarChart, CartesianGrid, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useStudio } from '../store';
import { cutLength, loadDatasetFile, remapDataset } from '../store/actions';
import { histogram, plural } from '../store/helpers';
import { SampleButtons } from '../components/StartHere';
import { EmbeddingMapSection } from '../components/EmbeddingMapSection';

const PREVIEW_ROWS = 8;

function rowList(rows: number[]): string {
  return rows.length > 10 ? `${rows.slice(0, 10).join(', ')} … (${rows.length})` : rows.join(', ');
}

async function readFile(file: File): Promise<void> {
  await loadDatasetFile(file.name, new Uint8Array(await file.arrayBuffer()));
}

export function DataPanel() {
  const dataset = useStudio((s) => s.dataset);
  const validation = useStudio((s) => s.validation);
  const status = useStudio((s) => s.dataStatus);
  const error = useStudio((s) => s.dataError);
  const maxLength = useStudio(cutLength);
  const selectedRow = useStudio((s) =>
    s.map && s.mapSelected !== null ? s.map.dataset.examples[s.mapSelected]?.row : null,
  );
  const [dragging, setDragging] = useState(false);

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    const file = event.dataTransfer.files[0];
    if (file) void readFile(file);
  };
  const hist = dataset?.tokenLengths ? histogram(dataset.tokenLengths) : [];

  return (
    <div className="stack">
      <section className="panel" aria-labelledby="data-heading">
        <h2 id="data-heading">Data</h2>
        <div
          className={`dropzone${dragging ? ' dropzone-active' : ''}`}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
          data-testid="data-dropzone"
        >
          <label className="button">
            Choose a file
            <input
              type="file"
              className="visually-hidden"
              accept=".csv,.tsv,.jsonl,.txt,text/csv,text/tab-separated-values"
              data-testid="data-file-input"
              onChange={(e) => {
                const file = e.target.files?.[0];
                if (file) void readFile(file);
                e.target.value = '';
              }}
            />
          </label>
          <span className="muted">or drop a CSV, TSV or JSONL file with a text and a label column</span>
          {status === 'parsing' && <span className="muted">Reading…</span>}
        </div>
        <div className="row" data-testid="data-samples">
          <span className="muted">No data at hand? Try a sample:</span>
          <SampleButtons />
        </div>
        {error && (
          <p className="error" role="alert" data-testid="data-error">
            {error.message.includes(error.fileName) ? '' : `${error.fileName}: `}
            {error.message}
            {dataset ? ` The previous data (${dataset.fileName}) is kept.` : ''}
          </p>
        )}
        {dataset && (
          <>
            <p data-testid="data-file">
              <strong>{dataset.fileName}</strong> · {dataset.format.toUpperCase()} · {dataset.examples.length} rows ·
              columns {dataset.columns.join(', ')}
            </p>
            {validation && !validation.issues.some((i) => i.severity === 'error') && (
              <p className="row">
                <span className="muted">Looks right? Next step:</span>
                <button
                  type="button"
                  className="button"
                  onClick={() => useStudio.getState().setActivePanel('train')}
                  data-testid="data-next-train"
                >
                  Train →
                </button>
              </p>
            )}
            <div className="row" data-testid="column-mapper">
              {(['text', 'textPair', 'label'] as const).map((role) => (
                <label key={role}>
                  {role === 'textPair' ? 'Second text' : role === 'text' ? 'Text' : 'Label'}{' '}
                  <select
                    data-testid={`map-${role}`}
                    value={dataset.mapping[role] ?? ''}
                    onChange={(e) =>
                      void remapDataset({ ...dataset.mapping, [role]: e.target.value === '' ? null : e.target.value })
                    }
                  >
                    {role !== 'text' && <option value="">(none)</option>}
                    {dataset.columns.map((c) => (
                      <option key={c} value={c}>
                        {c}
                      </option>
                    ))}
                  </select>
                </label>
              ))}
            </div>
            {dataset.reasons.length > 0 && (
              <ul className="compact muted" data-testid="mapping-reasons">
                {dataset.reasons.map((r) => (
                  <li key={r}>{r}</li>
                ))}
              </ul>
            )}
            <div className="table-wrap">
              <table className="table" data-testid="data-preview">
                <thead>
                  <tr>
                    <th>row</th>
                    <th>text</th>
                    {dataset.mapping.textPair && <th>second text</th>}
                    <th>label</th>
                  </tr>
                </thead>
                <tbody>
                  {dataset.examples.slice(0, PREVIEW_ROWS).map((e) => (
                    <tr key={e.row} className={e.row === selectedRow ? 'row-selected' : undefined}>
                      <td className="num">{e.row}</td>
                      <td className="text-cell">{e.text}</td>
                      {dataset.mapping.textPair && <td className="text-cell">{e.textPair}</td>}
                      <td>{e.label ?? <span className="muted">—</span>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </section>

      {dataset && validation && (
        <div className="grid-2">
          <section className="panel" aria-labelledby="labels-heading">
            <h3 id="labels-heading">Labels</h3>
            <div className="chart" data-testid="label-chart">
              <ResponsiveContainer width="100%" height={200}>
                <BarChart data={validation.labels}>
                  <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
                  <XAxis dataKey="label" stroke="var(--muted)" />
                  <YAxis allowDecimals={false} stroke="var(--muted)" />
                  <Tooltip />
                  <Bar dataKey="count" fill="var(--accent)" isAnimationActive={false} />
                </BarChart>
              </ResponsiveContainer>
            </div>
          </section>
          <section className="panel" aria-labelledby="tokens-heading">
            <h3 id="tokens-heading">Token lengths</h3>
            {validation.tokens ? (
              <>
                <div className="chart" data-testid="token-chart">
                  <ResponsiveContainer width="100%" height={170}>
                    <BarChart data={hist} margin={{ top: 20, right: 16, left: 0, bottom: 0 }}>
                      <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
                      <XAxis dataKey="start" type="number" domain={[0, 'dataMax']} stroke="var(--muted)" />
                      <YAxis allowDecimals={false} stroke="var(--muted)" />
                      <Tooltip />
                      <Bar dataKey="count" fill="var(--accent)" isAnimationActive={false} />
                      {maxLength !== null && (
                        <ReferenceLine
                          x={maxLength}
                          stroke="var(--bad)"
                          // Above the plot area (the chart's top margin), so it never covers a bar.
                          label={{ value: `cut at ${maxLength}`, fill: 'var(--bad)', position: 'top' }}
                        />
                      )}
                    </BarChart>
                  </ResponsiveContainer>
                </div>
                <p className="muted">
                  shortest {validation.tokens.min} · mean {validation.tokens.mean.toFixed(1)} · 95 % up to{' '}
                  {validation.tokens.p95} · longest {validation.tokens.max} tokens
                  {maxLength !== null && ` · texts longer than ${maxLength} tokens are cut (the red line)`}
                </p>
              </>
            ) : (
              <p className="muted">Load a model to count tokens.</p>
            )}
          </section>
          <section className="panel span-2" aria-labelledby="validation-heading" data-testid="validation-report">
            <h3 id="validation-heading">Validation</h3>
            <ul className="compact" data-testid="validation-list">
              <li>
                {validation.total} rows · {validation.labels.length} labels (
                {validation.labels.map((l) => `${l.label} ${l.count}`).join(', ') || 'none'}) ·{' '}
                <span data-testid="usable-rows">{validation.usable}</span> rows used for training
              </li>
              {validation.unlabeled > 0 && (
                <li className="warn" data-testid="unlabeled-rows">
                  {plural(validation.unlabeled, 'unlabeled row')} (ignored by training):{' '}
                  {validation.unlabeledRows.length === 1 ? 'row' : 'rows'} {rowList(validation.unlabeledRows)}
                  {validation.unlabeledRows.length < validation.unlabeled ? ' …' : ''}
                </li>
              )}
              {validation.emptyTexts.length > 0 && (
                <li className="warn">Empty text in rows {rowList(validation.emptyTexts)}</li>
              )}
              {validation.duplicates.map((g) => (
                <li key={`d${g.rows[0]}`} className="warn">
                  Duplicate rows {rowList(g.rows)} (the first is kept)
                </li>
              ))}
              {validation.conflicts.map((g) => (
                <li key={`c${g.rows[0]}`} className="error">
                  Same text, different labels ({g.labels.join(', ')}): rows {rowList(g.rows)}
                </li>
              ))}
              {validation.labels
                .filter((l) => l.count === 1)
                .map((l) => (
                  <li key={`one-${l.label}`} className="warn" data-testid="one-example-class">
                    Label {l.label} has only one example: the dev split cannot also hold it, so its dev score means
                    nothing. Add a few more rows of it.
                  </li>
                ))}
              {validation.labels.length === 1 && (
                <li className="error">Only one label: training needs at least two classes.</li>
              )}
              {dataset.warnings.map((w) => (
                <li key={w} className="warn">
                  {w}
                </li>
              ))}
              {validation.unlabeled === 0 &&
                validation.labels.every((l) => l.count > 1) &&
                validation.emptyTexts.length === 0 &&
                validation.duplicates.length === 0 &&
                validation.conflicts.length === 0 &&
                dataset.warnings.length === 0 && <li className="ok">No problems found.</li>}
            </ul>
          </section>
        </div>
      )}
      {dataset && <EmbeddingMapSection />}
    </div>
  );
}
