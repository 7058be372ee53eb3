import { Fragment } from 'react';
import { useStudio } from '../store';
import { runSelfTest } from '../store/actions';
import { formatBytes } from '../store/helpers';

/** Engine details: backend, adapter, limits and the numeric self-test. */
export function EnginePanel() {
  const capability = useStudio((s) => s.capability);
  const selfTest = useStudio((s) => s.selfTest);
  const selfTestStatus = useStudio((s) => s.selfTestStatus);

  return (
    <section className="panel" aria-labelledby="engine-heading">
      <h2 id="engine-heading">Engine</h2>
      {!capability ? (
        <p className="muted">Bringing up the compute backend…</p>
      ) : (
        <dl className="facts" data-testid="engine-facts">
          <dt>Backend</dt>
          <dd data-testid="engine-backend">{capability.backend}</dd>
          {capability.adapter && (
            <>
              <dt>Adapter</dt>
              <dd>
                {[capability.adapter.vendor, capability.adapter.architecture, capability.adapter.description]
                  .filter(Boolean)
                  .join(' · ') || 'unnamed'}
              </dd>
            </>
          )}
          {capability.limits && (
            <>
              <dt>Max buffer</dt>
              <dd>{formatBytes(capability.limits.maxBufferSize)}</dd>
              <dt>Max storage binding</dt>
              <dd>{formatBytes(capability.limits.maxStorageBufferBindingSize)}</dd>
              <dt>Workgroup storage</dt>
              <dd>{formatBytes(capability.limits.maxComputeWorkgroupStorageSize)}</dd>
            </>
          )}
          {capability.wasmThreads !== null && (
            <>
              <dt>wasm threads</dt>
              <dd>{capability.wasmThreads ? 'yes' : 'no (single-threaded build)'}</dd>
            </>
          )}
          {capability.skipped.map((s) => (
            <Fragment key={s.backend}>
              <dt>{s.backend} not used</dt>
              <dd>{s.reason}</dd>
            </Fragment>
          ))}
        </dl>
      )}
      <div className="row">
        <button
          type="button"
          className="button"
          onClick={() => void runSelfTest()}
          disabled={!capability || selfTestStatus === 'running'}
          data-testid="run-self-test"
        >
          {selfTestStatus === 'running' ? 'Running self-test…' : 'Run self-test'}
        </button>
        {selfTest && (
          <span className="muted" data-testid="self-test-summary">
            {selfTest.m}×{selfTest.k} · {selfTest.k}×{selfTest.n} matmul + softmax on {selfTest.backend} in{' '}
            {selfTest.timingsMs.total.toFixed(1)} ms (compute {selfTest.timingsMs.compute.toFixed(1)} ms, readback{' '}
            {selfTest.timingsMs.readback.toFixed(1)} ms)
          </span>
        )}
      </div>
    </section>
  );
}
