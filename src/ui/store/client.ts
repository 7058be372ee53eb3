/**
 * The studio's one engine client (the worker), shared by every action module. Worker events go to
 * every listener registered here, so modules that react to events need not import each other.
 */
import type { WorkerEventPayload } from '../../worker/protocol';
import { EngineClient, EngineRequestError } from '../engineClient';
import { useStudio } from './index';

let client: EngineClient | null = null;
const listeners: ((event: WorkerEventPayload) => void)[] = [];

export function errorInfo(error: unknown): { code: string; message: string } {
  if (error instanceof EngineRequestError) return { code: error.code, message: error.message };
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

/** Registers a handler of worker events (module load time; handlers run in registration order). */
export function onEngineEvent(listener: (event: WorkerEventPayload) => void): void {
  listeners.push(listener);
}

export function getClient(): EngineClient {
  client ??= new EngineClient({
    onCrash: (message) =>
      useStudio.getState().setEngine({ engineStatus: 'crashed', engineError: { code: 'WORKER_CRASHED', message } }),
    onUnattributedError: (code, message) => useStudio.getState().setEngine({ engineError: { code, message } }),
    onEvent: (event) => listeners.forEach((listener) => listener(event)),
  });
  return client;
}
