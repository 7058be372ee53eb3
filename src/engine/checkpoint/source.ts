/**
 * Where checkpoint files come from. A source reads one file by its name inside the checkpoint folder
 * (`config.json`, `model-00001-of-00002.safetensors`, ...) and reports progress; it returns null when the file does
 * not exist so that callers can probe for optional files. Implementations: dropped browser files
 * (`file-list-source.ts`) or one dropped zip (`zip-source.ts`), Hugging Face style HTTP (`hub-source.ts`), a Node directory (`node-dir.ts`, Node only).
 */
import { EngineError } from '../errors';

/** Progress of one file's read. `total` is null while the size is unknown (no Content-Length). */
export interface ReadProgress {
  file: string;
  loaded: number;
  total: number | null;
}

export type ProgressListener = (progress: ReadProgress) => void;

export interface CheckpointSource {
  /** Short human description for messages, e.g. `folder "my-model"` or a Hub URL. */
  readonly description: string;
  /**
   * File names available, when the source can list them cheaply (dropped files, a directory); null when it cannot
   * (HTTP), in which case callers probe with `read`.
   */
  list(): Promise<string[] | null>;
  /** The file's complete bytes, or null when it does not exist. Other failures throw EngineError. */
  read(name: string, onProgress?: ProgressListener): Promise<Uint8Array | null>;
  /** Where `name` would be found (a URL or path), for error messages. */
  locate(name: string): string;
  /** Non-fatal findings of the source itself (e.g. served offline from a cache), shown with the model. */
  readonly warnings?: readonly string[];
}

/** Reads a file that must exist, throwing `CHECKPOINT_FILE_NOT_FOUND` with its location otherwise. */
export async function readRequired(
  source: CheckpointSource,
  name: string,
  onProgress?: ProgressListener,
): Promise<Uint8Array> {
  const bytes = await source.read(name, onProgress);
  if (bytes === null) {
    throw new EngineError(
      'CHECKPOINT_FILE_NOT_FOUND',
      `${name} was not found in ${source.description} (looked at ${source.locate(name)}). Check the repository or folder name and that the file exists.`,
    );
  }
  return bytes;
}
