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

/**
 * What a filesystem error code means for the user, and what to do. One table for the CLI's
 * messages and the engine's own file writers, so the same failure reads the same everywhere.
 */
const FILE_ERROR_REASONS: ReadonlyMap<string, string> = new Map([
  ['ENOENT', 'it does not exist; check the path'],
  ['EACCES', 'permission denied; choose a folder you can write to, or fix its permissions'],
  ['EPERM', 'the operation is not permitted there; choose another place'],
  ['EISDIR', 'it is a folder where a file was expected; give a file name'],
  ['ENOTDIR', 'part of the path is a file, not a folder; check the path'],
  ['ENOSPC', 'the disk is full; free some space or write elsewhere'],
  ['EDQUOT', 'the disk quota is used up; free some space or write elsewhere'],
  ['EROFS', 'the file system is read-only; write elsewhere'],
  ['EEXIST', 'a file or folder of that name is in the way; choose another path'],
  ['EMFILE', 'too many files are open; close other programs and try again'],
]);

/** The sentence for a Node filesystem error's code (`ENOSPC` → "the disk is full; …"), or null. */
export function fileErrorReason(error: unknown): string | null {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? (FILE_ERROR_REASONS.get(code) ?? null) : null;
}
