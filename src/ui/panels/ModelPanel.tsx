import { useState, type DragEvent } from 'react';
import { EmbeddedModelPicker } from '../components/EmbeddedModelPicker';
import { EnginePanel } from '../components/EnginePanel';
import { downloadFile } from '../download';
import { HubCacheList } from '../components/HubCacheList';
import { ProjectStorage } from '../components/ProjectStorage';
import { ResetToBase } from '../components/ResetToBase';
import { StartHere } from '../components/StartHere';
import { useStudio } from '../store';
import { exportModelZip, loadHubModel, loadModel } from '../store/actions';
import { HUB_MODELS } from '../hubModels';
import { formatCount } from '../store/helpers';

function folderName(files: File[]): string {
  const first = files[0] as File & { webkitRelativePath?: string };
  // One zip (e.g. what Export wrote) is named after its file; the engine opens it as a folder.
  if (files.length === 1 && /\.zip$/i.test(first.name)) return first.name.replace(/(-fewshot)?\.zip$/i, '');
  return first?.webkitRelativePath?.split('/')[0] || 'dropped folder';
}

export function ModelPanel() {
  const model = useStudio((s) => s.model);
  const status = useStudio((s) => s.modelStatus);
  const loadingName = useStudio((s) => s.modelLoadingName);
  const download = useStudio((s) => s.download);
  const error = useStudio((s) => s.modelError);
  const training = useStudio((s) => s.trainingState !== 'idle');
  const [repo, setRepo] = useState<string>(HUB_MODELS[0].repo);
  const hubCached = useStudio((s) => s.hubCached);
  const picked = HUB_MODELS.find((m) => m.repo === repo);
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<string | null>(null);
  const busy = status === 'loading' || training;

  const onFiles = (list: FileList | null) => {
    const files = list ? [...list] : [];
    if (files.length) void loadModel({ kind: 'files', files, name: folderName(files) }, folderName(files));
  };
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    onFiles(event.dataTransfer.files);
  };
  const onExport = async () => {
    setExporting(true);
    setExportError(null);
    try {
      downloadFile(await exportModelZip());
    } catch (e) {
      setExportError(e instanceof Error ? e.message : String(e));
    } finally {
      setExporting(false);
    }
  };
  const pct = download?.total ? Math.round((100 * download.loaded) / download.total) : null;
  const hasData = useStudio((s) => s.dataset !== null);

  return (
    <div className="stack">
      {!hasData && <StartHere />}
      <section className="panel" aria-labelledby="model-heading">
        <h2 id="model-heading">Model</h2>
        {model ? (
          <dl className="facts" data-testid="model-summary">
            <dt>Name</dt>
            <dd data-testid="model-name">{model.name}</dd>
            <dt>Source</dt>
            <dd>{model.source}</dd>
            <dt>Shape</dt>
            <dd>
              {model.layers} layers · hidden {model.hidden} · {model.heads} heads · intermediate {model.intermediate}
            </dd>
            <dt>Parameters</dt>
            <dd>
              {formatCount(model.parameters)} ({(model.weightBytes / 2 ** 20).toFixed(1)} MiB float32)
            </dd>
            <dt>Vocabulary</dt>
            <dd>
              {model.vocabSize.toLocaleString()} tokens · max {model.maxPositions} positions
            </dd>
            <dt>Heads</dt>
            <dd>
              loaded: {model.loadedHeads.join(', ') || 'none'} · fresh: {model.freshHeads.join(', ') || 'none'}
            </dd>
            <dt>Labels</dt>
            <dd>{model.labels.join(', ') || 'none yet (train on labeled data)'}</dd>
            {model.sentenceTransformers && (
              <>
                <dt>Embeddings</dt>
                <dd data-testid="model-sentence-transformers">
                  sentence-transformers: {model.sentenceTransformers.description}
                </dd>
              </>
            )}
            {model.setfit && (
              <>
                <dt>Classifier</dt>
                <dd data-testid="model-setfit">
                  SetFit head: logistic regression on the sentence embeddings, C = {model.setfit.C}
                  {model.setfit.examples !== null ? ` · fitted on ${model.setfit.examples} examples` : ''}
                </dd>
              </>
            )}
            {model.prompt && (
              <>
                <dt>Prompt</dt>
                <dd data-testid="model-prompt">
                  <code>{model.prompt.template}</code> ·{' '}
                  {Object.entries(model.prompt.verbalizer)
                    .map(([label, words]) => `${label}: ${words.join(' / ')}`)
                    .join(' · ')}
                  <span className="muted">
                    {' '}
                    (predictions come from the model filling the template&apos;s [MASK] with a label word)
                  </span>
                </dd>
              </>
            )}
            {model.warnings.length > 0 && (
              <>
                <dt>Warnings</dt>
                <dd>
                  <ul className="compact">
                    {model.warnings.map((w) => (
                      <li key={w}>{w}</li>
                    ))}
                  </ul>
                </dd>
              </>
            )}
          </dl>
        ) : (
          <p className="muted">{status === 'loading' ? 'Loading the model…' : 'No model loaded yet.'}</p>
        )}
        {status === 'loading' && (
          <div className="stack-tight" data-testid="model-loading">
            <span className="muted">
              Loading {loadingName}
              {download ? ` · ${download.file}` : ''}
            </span>
            <progress max={100} value={pct ?? undefined} data-testid="download-progress" />
          </div>
        )}
        {error && (
          <p className="error" role="alert" data-testid="model-error">
            Could not load the model: {error.message}
            {model ? ` The previous model (${model.name}) is still loaded.` : ''}
          </p>
        )}
        <div className="row">
          <button
            type="button"
            className="button"
            onClick={() => void onExport()}
            disabled={!model || exporting || status === 'loading'}
            data-testid="export-model"
          >
            {exporting ? 'Exporting…' : 'Export (Hugging Face zip)'}
          </button>
          <ResetToBase />
          {exportError && (
            <span className="error" role="alert">
              {exportError}
            </span>
          )}
        </div>
      </section>

      <section className="panel" aria-labelledby="open-heading">
        <h2 id="open-heading">Open another model</h2>
        <div className="dropzone" onDragOver={(e) => e.preventDefault()} onDrop={onDrop} data-testid="model-dropzone">
          <label className="button button-secondary">
            Open a model folder
            <input
              type="file"
              className="visually-hidden"
              multiple
              disabled={busy}
              data-testid="model-folder-input"
              ref={(el) => {
                el?.setAttribute('webkitdirectory', '');
              }}
              onChange={(e) => onFiles(e.target.files)}
            />
          </label>
          <label className="button button-secondary">
            Open a zip
            <input
              type="file"
              className="visually-hidden"
              accept=".zip,application/zip"
              disabled={busy}
              data-testid="model-zip-input"
              onChange={(e) => onFiles(e.target.files)}
            />
          </label>
          <span className="muted">
            or drop the files of a Hugging Face folder, or its zip (e.g. an Export), here (config.json, vocab.txt,
            model.safetensors)
          </span>
        </div>
        <EmbeddedModelPicker />
        <div className="row">
          <label>
            From the Hub{' '}
            <select value={repo} onChange={(e) => setRepo(e.target.value)} data-testid="hub-select" disabled={busy}>
              {HUB_MODELS.map((m) => (
                <option key={m.repo} value={m.repo}>
                  {m.repo} — {m.language}, {m.params} params, {m.size}
                </option>
              ))}
            </select>
          </label>
          <button
            type="button"
            className="button"
            disabled={busy}
            onClick={() => void loadHubModel(repo)}
            data-testid="hub-load"
          >
            {hubCached[repo] ? 'Load' : 'Download'}
          </button>
          <span className="muted" data-testid="hub-cache-status">
            {hubCached[repo]
              ? 'in this browser’s cache: loads without network'
              : `not downloaded yet (${picked?.size ?? 'unknown size'})`}
          </span>
        </div>
        {training && <p className="muted">Models cannot be switched while training runs.</p>}
      </section>

      <HubCacheList />
      <ProjectStorage />
      <EnginePanel />
    </div>
  );
}
