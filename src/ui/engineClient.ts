/**
 * The UI's only door to the engine: a small typed client around the module worker. It matches
 * answers to requests by id, turns worker crashes into rejected requests plus a crash callback,
 * and can restart the worker.
 */
import {
  PROTOCOL_VERSION,
  type RequestMap,
  type RequestType,
  type WorkerEventPayload,
  type WorkerMessage,
  type WorkerRequest,
} from '../worker/protocol';

export class EngineRequestError extends Error {
  constructor(
    public readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'EngineRequestError';
  }
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export interface EngineClientCallbacks {
  /** The worker died (uncaught error, failed to load); pending requests were rejected. */
  onCrash: (message: string) => void;
  /** Errors the worker reported without a request id (e.g. a stray rejection inside it). */
  onUnattributedError: (code: string, message: string) => void;
  /** Streaming events (download, training progress, logs). */
  onEvent?: (event: WorkerEventPayload) => void;
}

export class EngineClient {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly callbacks: EngineClientCallbacks) {
    this.spawn();
  }

  private spawn(): void {
    const worker = new Worker(new URL('../worker/engine.worker.ts', import.meta.url), {
      type: 'module',
      name: 'fewshot-engine',
    });
    worker.addEventListener('message', (event: MessageEvent<WorkerMessage>) => this.onMessage(event.data));
    worker.addEventListener('error', (event: ErrorEvent) => {
      event.preventDefault();
      this.crash(event.message || 'The engine worker stopped with an unknown error.');
    });
    worker.addEventListener('messageerror', () => this.crash('The engine sent a message that could not be read.'));
    this.worker = worker;
  }

  private onMessage(message: WorkerMessage): void {
    if (message.type === 'result' || (message.type === 'error' && message.id !== null)) {
      const pending = this.pending.get(message.id as number);
      if (!pending) return;
      this.pending.delete(message.id as number);
      if (message.type === 'result') pending.resolve(message.result);
      else pending.reject(new EngineRequestError(message.code, message.message));
    } else if (message.type === 'event') {
      this.callbacks.onEvent?.(message.event);
    } else if (message.type === 'error') {
      this.callbacks.onUnattributedError(message.code, message.message);
    }
  }

  private crash(message: string): void {
    this.worker?.terminate();
    this.worker = null;
    const error = new EngineRequestError('WORKER_CRASHED', `The engine crashed: ${message}`);
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
    this.callbacks.onCrash(message);
  }

  request<K extends RequestType>(type: K, params: RequestMap[K]['params']): Promise<RequestMap[K]['result']> {
    if (!this.worker)
      return Promise.reject(new EngineRequestError('WORKER_CRASHED', 'The engine is not running. Restart it first.'));
    const id = this.nextId++;
    const message = { v: PROTOCOL_VERSION, id, type, params } as WorkerRequest;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      // Dataset bytes are transferred, not copied.
      const transfer =
        type === 'parseDataset' ? [(params as RequestMap['parseDataset']['params']).bytes.buffer as ArrayBuffer] : [];
      this.worker!.postMessage(message, transfer);
    });
  }

  /** Replaces a crashed (or live) worker with a fresh one. */
  restart(): void {
    this.worker?.terminate();
    this.worker = null;
    for (const pending of this.pending.values())
      pending.reject(new EngineRequestError('WORKER_RESTARTED', 'The engine was restarted.'));
    this.pending.clear();
    this.spawn();
  }
}
