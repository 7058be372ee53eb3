import { useEffect, useState } from 'react';
import type { CachedHubModel } from '../../worker/protocol';
import { useStudio } from '../store';
import { errorInfo, getClient, refreshHubCache } from '../store/actions';
import { hubBaseUrl } from '../hubModels';

function formatSize(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KiB`;
}

/** A commit hash is shown by its first 12 characters, like the Hub does; a branch name (no commit known) as is. */
const shortCommit = (commit: string) => (/^[0-9a-f]{40}$/.test(commit) ? commit.slice(0, 12) : commit);

/**
 * Hub models in this browser's download cache (repo, commit, size), each with "Clear cached model", and "Clear all
 * cached models". The cache lives in the worker (Cache Storage, which workers share with the page), so this asks
 * the worker, like every other engine request. Its state is local: it re-reads the list whenever the picker's cache
 * status is refreshed (after each Hub load), so it needs nothing of its own in the store.
 */
export function HubCacheList() {
  const engineReady = useStudio((s) => s.engineStatus === 'ready');
  const hubCached = useStudio((s) => s.hubCached);
  const [models, setModels] = useState<CachedHubModel[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!engineReady) return;
    let current = true; // an answer to an older request must not overwrite a newer one
    getClient()
      .request('hubCacheList', { baseUrl: hubBaseUrl() })
      .then(
        (list) => current && setModels(list),
        (e) => current && setError(errorInfo(e).message),
      );
    return () => {
      current = false;
    };
  }, [engineReady, hubCached]);

  const remove = async (target: { repo: string; commit: string } | null) => {
    setBusy(true);
    setError(null);
    try {
      const params = target ? { ...target, baseUrl: hubBaseUrl() } : { baseUrl: hubBaseUrl() };
      setModels(await getClient().request('hubCacheDelete', params));
      await refreshHubCache(); // the picker's Load / Download label
    } catch (e) {
      setError(errorInfo(e).message);
    } finally {
      setBusy(false);
    }
  };

  if (!engineReady || models === null) return null;
  const total = models.reduce((sum, m) => sum + m.bytes, 0);
  return (
    <section className="panel" aria-labelledby="hub-cache-heading" data-testid="hub-cache-list">
      <h2 id="hub-cache-heading">Downloaded Hub models</h2>
      {models.length === 0 ? (
        <p className="muted" data-testid="hub-cache-empty">
          None: models from the Hub are kept here after their first download.
        </p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th>Repository</th>
                <th>Commit</th>
                <th className="num">Size</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {models.map((m) => (
                <tr key={`${m.repo}@${m.commit}`} data-testid="hub-cache-entry" data-repo={m.repo}>
                  <td>{m.repo}</td>
                  <td>
                    <code title={m.commit}>{shortCommit(m.commit)}</code>
                    {m.refs.length > 0 && <span className="muted"> ({m.refs.join(', ')})</span>}
                  </td>
                  <td className="num">{formatSize(m.bytes)}</td>
                  <td>
                    <button
                      type="button"
                      className="button button-secondary"
                      disabled={busy}
                      onClick={() => void remove({ repo: m.repo, commit: m.commit })}
                      data-testid="hub-cache-clear"
                    >
                      Clear cached model
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="row">
        <button
          type="button"
          className="button button-danger"
          disabled={busy || models.length === 0}
          onClick={() => void remove(null)}
          data-testid="hub-cache-clear-all"
        >
          Clear all cached models
        </button>
        {models.length > 0 && <span className="muted">{formatSize(total)} in this browser</span>}
        {error && (
          <span className="error" role="alert">
            {error}
          </span>
        )}
      </div>
      <p className="muted">
        A cleared model is downloaded again, and checked again, the next time it is loaded. The loaded model stays.
      </p>
    </section>
  );
}
