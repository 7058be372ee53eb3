import { useState } from 'react';
import { EMBEDDED_MODELS } from '../embeddedModels';
import { useStudio } from '../store';
import { loadEmbeddedModel } from '../store/actions';

/**
 * The models shipped with the studio, with what each is good for: they load from the studio's own
 * address, with no network (before, only `?model=` in the URL could pick one).
 */
export function EmbeddedModelPicker() {
  const [id, setId] = useState(EMBEDDED_MODELS[0].id);
  const busy = useStudio((s) => s.modelStatus === 'loading' || s.trainingState !== 'idle');
  const current = useStudio((s) => s.model?.name ?? null);
  const picked = EMBEDDED_MODELS.find((m) => m.id === id)!;
  return (
    <div className="stack-tight">
      <div className="row">
        <label htmlFor="embedded-select">Shipped with the studio</label>
        <select id="embedded-select" value={id} onChange={(e) => setId(e.target.value)} data-testid="embedded-select">
          {EMBEDDED_MODELS.map((m, i) => (
            <option key={m.id} value={m.id}>
              {m.id}
              {i === 0 ? ' (default)' : ''}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="button"
          disabled={busy || current === id}
          onClick={() => void loadEmbeddedModel(id)}
          data-testid="embedded-load"
        >
          {current === id ? 'Loaded' : 'Load'}
        </button>
      </div>
      <p className="muted" data-testid="embedded-description">
        {picked.description}. No download: it is part of the studio.
      </p>
    </div>
  );
}
