import { useState } from 'react';
import { useStudio } from '../store';
import { formatBytes } from '../store/helpers';
import { clearSavedProject } from '../store/projectActions';

/**
 * The project kept in this browser (docs/USER_GUIDE.md, "Your data"): what was reopened, how much
 * space it takes, storage failures, and a button that deletes it.
 */
export function ProjectStorage() {
  const status = useStudio((s) => s.projectStatus);
  const storage = useStudio((s) => s.storage);
  const error = useStudio((s) => s.storageError);
  const note = useStudio((s) => s.restoredNote);
  const runs = useStudio((s) => s.runs.length);
  const training = useStudio((s) => s.trainingState !== 'idle');
  const [confirming, setConfirming] = useState(false);

  return (
    <section className="panel" aria-labelledby="project-heading" data-testid="project-storage">
      <h2 id="project-heading">Your project in this browser</h2>
      {status === 'unavailable' ? (
        <p className="warn">
          This browser gives the studio no storage, so nothing is kept after a reload. Export your model before you
          leave.
        </p>
      ) : (
        <p className="muted">
          The data file, the settings, the model and every run ({runs}) are saved in this browser as you work, and a
          running training is checkpointed, so a reload or a closed tab loses nothing. Nothing leaves this machine.
        </p>
      )}
      {note && (
        <p className="ok" data-testid="project-restored">
          {note}
        </p>
      )}
      {storage && storage.usage !== null && (
        <p className="muted" data-testid="storage-usage">
          Using {formatBytes(storage.usage)}
          {storage.quota !== null ? ` of ${formatBytes(storage.quota)} this browser allows` : ''}
          {storage.persisted === true
            ? ' · kept until you clear it'
            : storage.persisted === false
              ? ' · the browser may delete it when the disk runs low'
              : ''}
          .
        </p>
      )}
      {error && (
        <p className="error" role="alert" data-testid="storage-error">
          {error.message}
        </p>
      )}
      {status === 'ready' &&
        (confirming ? (
          <div className="row">
            <span>Delete the saved data, runs, checkpoints and trained model from this browser?</span>
            <button
              type="button"
              className="button button-danger"
              data-testid="clear-project-confirm"
              onClick={() => {
                setConfirming(false);
                void clearSavedProject();
              }}
            >
              Delete
            </button>
            <button type="button" className="button button-secondary" onClick={() => setConfirming(false)}>
              Keep
            </button>
          </div>
        ) : (
          <div className="row">
            <button
              type="button"
              className="button button-secondary"
              data-testid="clear-project"
              disabled={training}
              onClick={() => setConfirming(true)}
            >
              Clear saved project
            </button>
          </div>
        ))}
    </section>
  );
}
