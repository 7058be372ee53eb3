/**
 * Request handlers of the engine worker. Kept apart from the entry file so they can be unit-tested
 * in Node without a Worker.
 */
import { describeCapability, initBestBackend, type CapabilityReport, type WasmPaths } from '../engine/backend';
import { runSelfTest } from '../engine/selftest';
import { EngineError } from '../engine/errors';
import { applyColumnMapping, detectColumns, parseDatasetFile } from '../engine/data';
import type { ErrorCode, RequestMap, WorkerEventPayload, WorkerMessage, WorkerRequest } from './protocol';
import { PROTOCOL_VERSION } from './protocol';
import { Session } from './session';

let capability: Promise<CapabilityReport> | null = null;
let wasmPaths: WasmPaths | undefined;
let session: Session | null = null;
let emitEvent: (event: WorkerEventPayload) => void = () => {};

/** The worker entry passes the bundler's URLs of the wasm binaries (served locally, no CDN). */
export function configureWasmPaths(paths: WasmPaths): void {
  wasmPaths = paths;
}

/** Brings the backend up once; later calls return the same report. */
function ensureBackend(override: string | null): Promise<CapabilityReport> {
  capability ??= initBestBackend({ override, wasmPaths });
  return capability;
}

async function requireSession(): Promise<Session> {
  if (!capability) throw new EngineError('NOT_READY', 'Send `hello` first: the backend is not initialised yet.');
  const report = await capability;
  session ??= new Session((event) => emitEvent(event), { limits: report.limits });
  return session;
}

export async function handleRequest(
  request: WorkerRequest,
  post: (message: WorkerMessage) => void,
): Promise<RequestMap[typeof request.type]['result']> {
  emitEvent = (event) => post({ v: PROTOCOL_VERSION, type: 'event', event });
  switch (request.type) {
    case 'hello': {
      const report = await ensureBackend(request.params.backend);
      return { ...report, summary: describeCapability(report) };
    }
    case 'selfTest':
      if (!capability)
        throw new EngineError('NOT_READY', 'Send `hello` before `selfTest`: the backend is not initialised yet.');
      await capability;
      return runSelfTest();
    case 'loadModel':
      return (await requireSession()).loadModel(request.params.source);
    case 'startTraining':
      return (await requireSession()).startTraining(
        request.params.train,
        request.params.dev,
        request.params.overrides,
        request.params.method,
      );
    case 'pauseTraining':
      return { state: (await requireSession()).pause() };
    case 'resumeTraining':
      return { state: (await requireSession()).resume() };
    case 'stopTraining':
      return { state: await (await requireSession()).stop() };
    case 'predict':
      return (await requireSession()).predict(request.params.inputs);
    case 'fillMask':
      return (await requireSession()).fillMask(request.params.text, request.params.topK);
    case 'startAdapt':
      return (await requireSession()).startAdapt(request.params);
    case 'hubCacheStatus':
      return (await requireSession()).hubCacheStatus(request.params.repos, request.params.baseUrl);
    case 'suggestPrompts':
      return (await requireSession()).suggestPrompts(request.params);
    case 'zeroShot':
      return (await requireSession()).zeroShot(request.params);
    case 'embed':
      return (await requireSession()).embed(request.params.inputs);
    case 'exportModel':
      return (await requireSession()).exportModel(request.params.dtype);
    case 'parseDataset': {
      const { bytes, fileName, mapping } = request.params;
      const parsed = parseDatasetFile(bytes, fileName);
      if (parsed.columns.length < 2) {
        throw new EngineError(
          'DATA_ONE_COLUMN',
          `${fileName} has only one column (${JSON.stringify(parsed.columns[0] ?? '')}). A dataset needs a text column and a label column.`,
        );
      }
      if (mapping) {
        for (const column of [mapping.text, mapping.textPair, mapping.label]) {
          if (column !== null && !parsed.columns.includes(column))
            throw new EngineError('BAD_REQUEST', `Column ${JSON.stringify(column)} is not in ${fileName}.`);
        }
      }
      const detected = mapping
        ? { ...mapping, reasons: [] as string[] }
        : detectColumns(parsed.columns, parsed.rows.slice(0, 500));
      const used = { text: detected.text, textPair: detected.textPair, label: detected.label };
      const examples = applyColumnMapping(parsed, used);
      const current = session?.hasModel ? session : null;
      const tokenLengths = current
        ? await current.tokenLengths(examples.map((e) => ({ text: e.text, textPair: e.textPair })))
        : null;
      return {
        fileName,
        format: parsed.format,
        columns: parsed.columns,
        mapping: used,
        reasons: detected.reasons,
        examples,
        warnings: parsed.warnings.map((w) => w.message),
        tokenLengths,
      };
    }
    case 'debugCrash':
      if (import.meta.env?.MODE === 'production')
        throw new EngineError('BAD_REQUEST', 'debugCrash exists only in dev and test builds.');
      // Throwing from a timer escapes every handler: the worker's global error fires, as in a real crash.
      setTimeout(() => {
        throw new Error(request.params.message);
      });
      return new Promise<never>(() => {});
    default: {
      const unknownType: never = request;
      throw new EngineError(
        'BAD_REQUEST',
        `Unknown request type ${JSON.stringify((unknownType as { type: string }).type)}.`,
      );
    }
  }
}

/** Turns anything thrown into an error message with a stable code. */
export function requestFailure(error: unknown): { code: ErrorCode; message: string } {
  if (error instanceof EngineError) return { code: error.code, message: error.message };
  if (error instanceof Error) return { code: 'INTERNAL', message: error.message || error.name };
  return { code: 'INTERNAL', message: String(error) };
}
