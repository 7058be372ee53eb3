/**
 * The typed, versioned message protocol between the UI (main thread) and the engine worker.
 *
 * Requests carry an id; the worker answers each with exactly one `result` or `error` message
 * carrying the same id. Unsolicited events (progress, crashes caught inside the worker) use
 * `event`. Bump PROTOCOL_VERSION on any incompatible change: both sides check it.
 */
import type { CapabilityReport } from '../engine/backend';
import type { SelfTestResult } from '../engine/selftest';

export const PROTOCOL_VERSION = 1;

/** The capability report plus its one-line summary for the header badge. */
export type HelloResult = CapabilityReport & { summary: string };

/** Every request type with its parameters and result. */
export interface RequestMap {
  /** Bring up the backend (once) and report capabilities. */
  hello: { params: { backend: string | null }; result: HelloResult };
  /** Small matmul + softmax on the active backend, with timings. */
  selfTest: { params: Record<string, never>; result: SelfTestResult };
  /** Test builds only: make the worker die with an uncaught error, to exercise crash recovery. */
  debugCrash: { params: { message: string }; result: never };
}

export type RequestType = keyof RequestMap;

/** A request as posted to the worker. */
export type WorkerRequest = {
  [K in RequestType]: { v: typeof PROTOCOL_VERSION; id: number; type: K; params: RequestMap[K]['params'] };
}[RequestType];

/** Stable error codes; the UI picks its wording and recovery action by code. */
export type ErrorCode =
  | 'BAD_REQUEST'
  | 'PROTOCOL_VERSION'
  | 'NOT_READY'
  | 'INTERNAL'
  | (string & {}); // engine codes (EngineError.code) pass through unchanged

/** Streaming events not tied to a request. */
export type WorkerEventPayload = { kind: 'log'; level: 'info' | 'warn'; message: string };

/** Everything the worker posts back. */
export type WorkerMessage =
  | { v: typeof PROTOCOL_VERSION; type: 'result'; id: number; request: RequestType; result: unknown }
  | { v: typeof PROTOCOL_VERSION; type: 'error'; id: number | null; code: ErrorCode; message: string }
  | { v: typeof PROTOCOL_VERSION; type: 'event'; event: WorkerEventPayload }
  | { v: typeof PROTOCOL_VERSION; type: 'ready' };

export function isWorkerRequest(value: unknown): value is WorkerRequest {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<WorkerRequest>;
  return typeof candidate.id === 'number' && typeof candidate.type === 'string' && typeof candidate.v === 'number';
}
