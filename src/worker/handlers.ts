/**
 * Request handlers of the engine worker. Kept apart from the entry file so they can be unit-tested
 * in Node without a Worker.
 */
import { describeCapability, initBestBackend, type CapabilityReport, type WasmPaths } from '../engine/backend';
import { runSelfTest } from '../engine/selftest';
import { EngineError } from '../engine/checkpoint/types';
import type { ErrorCode, RequestMap, WorkerMessage, WorkerRequest } from './protocol';

let capability: Promise<CapabilityReport> | null = null;
let wasmPaths: WasmPaths | undefined;

/** The worker entry passes the bundler's URLs of the wasm binaries (served locally, no CDN). */
export function configureWasmPaths(paths: WasmPaths): void {
  wasmPaths = paths;
}

/** Brings the backend up once; later calls return the same report. */
function ensureBackend(override: string | null): Promise<CapabilityReport> {
  capability ??= initBestBackend({ override, wasmPaths });
  return capability;
}

export async function handleRequest(request: WorkerRequest, _post: (message: WorkerMessage) => void): Promise<RequestMap[typeof request.type]['result']> {
  switch (request.type) {
    case 'hello': {
      const report = await ensureBackend(request.params.backend);
      return { ...report, summary: describeCapability(report) };
    }
    case 'selfTest':
      if (!capability) throw new EngineError('NOT_READY', 'Send `hello` before `selfTest`: the backend is not initialised yet.');
      await capability;
      return runSelfTest();
    case 'debugCrash':
      if (import.meta.env?.MODE === 'production') throw new EngineError('BAD_REQUEST', 'debugCrash exists only in dev and test builds.');
      // Throwing from a timer escapes every handler: the worker's global error fires, as in a real crash.
      setTimeout(() => {
        throw new Error(request.params.message);
      });
      return new Promise<never>(() => {});
    default: {
      const unknownType: never = request;
      throw new EngineError('BAD_REQUEST', `Unknown request type ${JSON.stringify((unknownType as { type: string }).type)}.`);
    }
  }
}

/** Turns anything thrown into an error message with a stable code. */
export function requestFailure(error: unknown): { code: ErrorCode; message: string } {
  if (error instanceof EngineError) return { code: error.code, message: error.message };
  if (error instanceof Error) return { code: 'INTERNAL', message: error.message || error.name };
  return { code: 'INTERNAL', message: String(error) };
}
