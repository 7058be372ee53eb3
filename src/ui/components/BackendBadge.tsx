import { useStudio } from '../store';

/** Header badge: which backend and adapter the engine runs on, or why it fell back. */
export function BackendBadge() {
  const status = useStudio((s) => s.engineStatus);
  const capability = useStudio((s) => s.capability);

  let text = 'Starting engine…';
  let tone: 'fast' | 'slow' | 'bad' | 'pending' = 'pending';
  if (status === 'crashed') {
    text = 'Engine stopped';
    tone = 'bad';
  } else if (capability) {
    text = capability.summary;
    tone = capability.backend === 'webgpu' ? 'fast' : 'slow';
  } else if (status === 'error') {
    text = 'Engine failed to start';
    tone = 'bad';
  }
  const invalid = capability?.invalidRequest;
  const title = capability
    ? [
        capability.adapter?.description && `Adapter: ${capability.adapter.description}`,
        ...capability.skipped.map((s) => `${s.backend} not used: ${s.reason}`),
        `TensorFlow.js ${capability.tfjsVersion}`,
      ]
        .filter(Boolean)
        .join('\n')
    : undefined;

  return (
    <div className="badge-group">
      {invalid && (
        <span className="badge badge-warn" data-testid="backend-invalid" role="status">
          Unknown backend “{invalid}” ignored
        </span>
      )}
      <span
        className={`badge badge-${tone}`}
        data-testid="backend-badge"
        title={title}
        role="status"
        aria-live="polite"
      >
        {text}
      </span>
    </div>
  );
}
