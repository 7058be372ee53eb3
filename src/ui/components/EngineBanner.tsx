import { useState } from 'react';
import { useStudio } from '../store';
import { restartEngine } from '../store/actions';

/** Error banner for a crashed or failed engine, with a way back that keeps the page's state. */
export function EngineBanner() {
  const status = useStudio((s) => s.engineStatus);
  const error = useStudio((s) => s.engineError);
  const [restarting, setRestarting] = useState(false);
  if (status !== 'crashed' && status !== 'error') return null;

  const onRestart = async () => {
    setRestarting(true);
    try {
      await restartEngine();
    } finally {
      setRestarting(false);
    }
  };

  return (
    <div className="banner banner-error" role="alert" data-testid="engine-error-banner">
      <div>
        <strong>{status === 'crashed' ? 'The engine crashed.' : 'The engine failed to start.'}</strong>{' '}
        <span data-testid="engine-error-message">{error?.message ?? 'Unknown error.'}</span>
      </div>
      <button type="button" className="button" onClick={onRestart} disabled={restarting} data-testid="restart-engine">
        {restarting ? 'Restarting…' : 'Restart engine'}
      </button>
    </div>
  );
}
