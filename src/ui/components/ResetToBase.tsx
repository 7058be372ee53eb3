import { useState } from 'react';
import { useStudio } from '../store';
import { resetToBaseModel } from '../store/actions';

/**
 * "Reset to base model": puts back the weights the model had when it was loaded into this session
 * (a reopened saved model's base is that saved model). Disabled while training, which owns the weights.
 */
export function ResetToBase() {
  const model = useStudio((s) => s.model);
  const atBase = useStudio((s) => s.weightsAtBase);
  const training = useStudio((s) => s.trainingState !== 'idle');
  const loading = useStudio((s) => s.modelStatus === 'loading');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const onReset = async () => {
    setBusy(true);
    setError(await resetToBaseModel());
    setBusy(false);
  };
  return (
    <>
      <button
        type="button"
        className="button button-secondary"
        onClick={() => void onReset()}
        disabled={!model || training || loading || busy}
        title="Put back the base weights: the model as it was loaded into this page (after a reload: the model the studio reopened), or as Adapt to my texts left it. Undoes every run since."
        data-testid="model-reset-base"
      >
        Reset to base model
      </button>
      <span className="muted" data-testid="model-weights-state">
        {model ? (atBase ? 'base weights' : 'tuned weights') : ''}
      </span>
      {error && (
        <span className="error" role="alert">
          {error}
        </span>
      )}
    </>
  );
}
