/**
 * Module-level actions: the bridge between the engine client and the store. Kept out of
 * components so worker events can update state without React.
 */
import { EngineClient, EngineRequestError } from '../engineClient';
import { useStudio } from './index';

let client: EngineClient | null = null;

function errorInfo(error: unknown): { code: string; message: string } {
  if (error instanceof EngineRequestError) return { code: error.code, message: error.message };
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

function getClient(): EngineClient {
  client ??= new EngineClient({
    onCrash: (message) =>
      useStudio.getState().setEngine({ engineStatus: 'crashed', engineError: { code: 'WORKER_CRASHED', message } }),
    onUnattributedError: (code, message) => useStudio.getState().setEngine({ engineError: { code, message } }),
  });
  return client;
}

/** Starts the worker and brings up the backend requested in the URL (`?backend=`). */
export async function startEngine(requestedBackend: string | null): Promise<void> {
  const { setEngine } = useStudio.getState();
  setEngine({ engineStatus: 'starting', requestedBackend, engineError: null });
  try {
    const capability = await getClient().request('hello', { backend: requestedBackend });
    setEngine({ engineStatus: 'ready', capability });
    await runSelfTest();
  } catch (error) {
    if (useStudio.getState().engineStatus !== 'crashed') setEngine({ engineStatus: 'error', engineError: errorInfo(error) });
  }
}

export async function runSelfTest(): Promise<void> {
  const { setEngine } = useStudio.getState();
  setEngine({ selfTestStatus: 'running' });
  try {
    const selfTest = await getClient().request('selfTest', {});
    setEngine({ selfTest, selfTestStatus: 'done' });
  } catch (error) {
    setEngine({ selfTestStatus: 'error', engineError: errorInfo(error) });
  }
}

/** Brings a crashed engine back with the same backend request. */
export async function restartEngine(): Promise<void> {
  const { requestedBackend, setEngine } = useStudio.getState();
  setEngine({ capability: null, selfTest: null, selfTestStatus: 'idle' });
  getClient().restart();
  await startEngine(requestedBackend);
}

/** Test builds only: crash the worker on purpose. */
export function crashEngineForTest(message: string): void {
  getClient().request('debugCrash', { message }).catch(() => {});
}
