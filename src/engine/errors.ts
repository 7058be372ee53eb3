/**
 * The engine's one error type. Every bad input (a file, a setting, a request) becomes an
 * EngineError with a stable code that the worker, the UI and the CLI switch on, and a message
 * that says what is wrong, where, and what to do (docs/ARCHITECTURE.md, "Errors").
 */
export class EngineError extends Error {
  constructor(
    /** Stable code such as `SAFETENSORS_BAD_HEADER`; UI and CLI switch on it. */
    public readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}
