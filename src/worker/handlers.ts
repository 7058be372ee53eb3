/**
 * Request handlers of the engine worker: each request becomes one call on the session or the
 * engine's door. Kept apart from the entry file so they can be unit-tested in Node without a Worker.
 */
import {
  EngineError,
  describeCapability,
  destroyGpuDeviceForTest,
  initBestBackend,
  parseDataset,
  defaultLabelWordsFor,
  rebuildBackend,
  watchGpuDevice,
  runSelfTest,
  type CapabilityReport,
  type WasmPaths,
  setKernelMode,
} from '../engine/studio';
import type { ErrorCode, RequestMap, WorkerEventPayload, WorkerMessage, WorkerRequest } from './protocol';
import { PROTOCOL_VERSION } from './protocol';
import { indexedDbProjectStore } from './project-store';
import { Session } from './session';

let capability: Promise<CapabilityReport> | null = null;
let wasmPaths: WasmPaths | undefined;
let session: Session | null = null;
let emitEvent: (event: WorkerEventPayload) => void = () => {};
let projectStore: ReturnType<typeof indexedDbProjectStore> | null = null;

/** The worker entry passes the bundler's URLs of the wasm binaries (served locally, no CDN). */
export function configureWasmPaths(paths: WasmPaths): void {
  wasmPaths = paths;
}

/** Brings the backend up once; later calls return the same report. */
function ensureBackend(override: string | null): Promise<CapabilityReport> {
  capability ??= initBestBackend({ override, wasmPaths }).then((report) => watchDevice(override, report));
  return capability;
}

/** Watches the WebGPU device; when it is lost, the session rebuilds the backend and recovers. */
function watchDevice(override: string | null, report: CapabilityReport): CapabilityReport {
  watchGpuDevice((reason) => {
    const rebuild = () => {
      capability = rebuildBackend({ override, wasmPaths }).then((next) => watchDevice(override, next));
      return capability;
    };
    if (session) session.deviceLost(reason, rebuild);
    else void rebuild();
  });
  return report;
}

async function requireSession(): Promise<Session> {
  if (!capability) throw new EngineError('NOT_READY', 'Send `hello` first: the backend is not initialised yet.');
  const report = await capability;
  // IndexedDB exists in browser workers; in Node (unit tests of the handlers) nothing is kept.
  projectStore ??= typeof indexedDB !== 'undefined' ? indexedDbProjectStore() : null;
  session ??= new Session((event) => emitEvent(event), { limits: report.limits, projectStore });
  return session;
}

export async function handleRequest(
  request: WorkerRequest,
  post: (message: WorkerMessage) => void,
): Promise<RequestMap[typeof request.type]['result']> {
  emitEvent = (event) => post({ v: PROTOCOL_VERSION, type: 'event', event });
  switch (request.type) {
    case 'hello': {
      if (request.params.kernels) setKernelMode(request.params.kernels);
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
    case 'planTraining':
      return (await requireSession()).planTraining(request.params);
    case 'estimateTraining':
      return (await requireSession()).estimateTraining(request.params);
    case 'startTraining':
      return (await requireSession()).startTraining(request.params);
    case 'startCrossValidation':
      return (await requireSession()).startCrossValidation(request.params);
    case 'evaluateFile': {
      const { file, fileName, mapping } = request.params;
      return (await requireSession()).evaluateFile(file, fileName, mapping ?? null);
    }
    case 'pauseTraining':
      return { state: (await requireSession()).pause() };
    case 'resumeTraining':
      return { state: (await requireSession()).resume() };
    case 'stopTraining':
      return { state: await (await requireSession()).stop() };
    case 'predict':
      return (await requireSession()).predict(request.params.inputs);
    case 'predictFile': {
      const { file, fileName, textColumn } = request.params;
      return (await requireSession()).predictFile(file, fileName, textColumn);
    }
    case 'fillMask':
      return (await requireSession()).fillMask(request.params.text, request.params.topK);
    case 'tokenize':
      return (await requireSession()).tokenize(request.params.text);
    case 'startAdapt':
      return (await requireSession()).startAdapt(request.params);
    case 'hubCacheStatus':
      return (await requireSession()).hubCacheStatus(request.params.repos, request.params.baseUrl);
    case 'hubCacheList':
      return (await requireSession()).hubCacheList(request.params.baseUrl);
    case 'hubCacheDelete': {
      const { repo, commit, baseUrl } = request.params;
      return (await requireSession()).hubCacheDelete(repo, commit, baseUrl);
    }
    case 'suggestPrompts':
      return (await requireSession()).suggestPrompts(request.params);
    case 'zeroShot':
      return (await requireSession()).zeroShot(request.params);
    case 'embed':
      return (await requireSession()).embed(request.params.inputs);
    case 'embeddingMap': {
      const { inputs, method, maxLength } = request.params;
      return (await requireSession()).embeddingMap(inputs, { method, maxLength });
    }
    case 'exportModel': {
      const { dtype, extraFiles, folderName } = request.params;
      return (await requireSession()).exportModel(dtype, extraFiles, folderName);
    }
    case 'parseDataset': {
      const { bytes, fileName, mapping } = request.params;
      const current = session?.hasModel ? session : null;
      // Token counts use the tokenizer of the model loaded now (the Data panel recounts after a load).
      const tokenizer = current?.currentModel ?? null;
      return parseDataset(bytes, fileName, {
        mapping,
        tokenLengths: tokenizer ? (inputs) => tokenizer.tokenLengths(inputs) : null,
        labelWords: tokenizer ? (labels) => defaultLabelWordsFor(labels, tokenizer.tokenizer) : null,
      });
    }
    case 'loadProject':
      return (await requireSession()).loadProject();
    case 'saveProject':
      return (await requireSession()).saveProject(request.params.patch);
    case 'clearProject':
      return (await requireSession()).clearProject();
    case 'exportRunModel':
      return (await requireSession()).exportRunModel(request.params.runId, request.params.extraFiles);
    case 'exportRunJob':
      return (await requireSession()).exportRunJob(request.params);
    case 'deleteRun':
      return (await requireSession()).deleteRun(request.params.runId);
    case 'loadSavedModel':
      return (await requireSession()).loadSavedModel();
    case 'resetToBase':
      return (await requireSession()).resetToBase();
    case 'continueRun':
      return (await requireSession()).continueRun(request.params.runId);
    case 'debugLoseDevice':
      if (import.meta.env?.MODE === 'production')
        throw new EngineError('BAD_REQUEST', 'debugLoseDevice exists only in dev and test builds.');
      return { destroyed: destroyGpuDeviceForTest() };
    case 'debugFailStorage':
      if (import.meta.env?.MODE === 'production')
        throw new EngineError('BAD_REQUEST', 'debugFailStorage exists only in dev and test builds.');
      // A full quota cannot be caused here for real: the next write fails as it would.
      projectStore?.failNextWrite(new DOMException('The quota has been exceeded.', 'QuotaExceededError'));
      return {};
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
