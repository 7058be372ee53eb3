/**
 * The engine worker entry: receives typed requests, runs them on the engine, answers with
 * results or error messages. No request can produce an unhandled rejection: every handler runs
 * inside one try/catch that turns failures into `error` messages with a code.
 */
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { configureWasmPaths, handleRequest, requestFailure } from './handlers';
import { PROTOCOL_VERSION, isWorkerRequest, type WorkerMessage } from './protocol';

interface WorkerScope {
  postMessage(message: WorkerMessage): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<unknown>) => void): void;
  addEventListener(type: 'unhandledrejection', listener: (event: PromiseRejectionEvent) => void): void;
}

// The wasm binaries are bundled and served from our own origin: no CDN, works offline.
configureWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlainUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
});

const scope = self as unknown as WorkerScope;
const post = (message: WorkerMessage) => scope.postMessage(message);

scope.addEventListener('message', (event: MessageEvent<unknown>) => {
  const request = event.data;
  if (!isWorkerRequest(request)) {
    post({
      v: PROTOCOL_VERSION,
      type: 'error',
      id: null,
      code: 'BAD_REQUEST',
      message: 'The engine received a message that is not a request.',
    });
    return;
  }
  if (request.v !== PROTOCOL_VERSION) {
    post({
      v: PROTOCOL_VERSION,
      type: 'error',
      id: request.id,
      code: 'PROTOCOL_VERSION',
      message: `Protocol version ${request.v} is not supported (engine speaks ${PROTOCOL_VERSION}). Reload the page.`,
    });
    return;
  }
  handleRequest(request, post).then(
    (result) => post({ v: PROTOCOL_VERSION, type: 'result', id: request.id, request: request.type, result }),
    (error: unknown) => post({ v: PROTOCOL_VERSION, type: 'error', id: request.id, ...requestFailure(error) }),
  );
});

// Last line of defence: report, never leave a rejection unhandled.
scope.addEventListener('unhandledrejection', (event: PromiseRejectionEvent) => {
  event.preventDefault();
  post({ v: PROTOCOL_VERSION, type: 'error', id: null, ...requestFailure(event.reason) });
});

post({ v: PROTOCOL_VERSION, type: 'ready' });
