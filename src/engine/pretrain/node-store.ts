/**
 * Node-only checkpoint store: one file, written to `<file>.partial` and renamed over the previous
 * checkpoint, so the previous checkpoint stays valid if writing fails (disk full, killed mid-write).
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { EngineError } from '../errors';
import type { CheckpointStore } from '../train/checkpointer';

export interface FileStoreOptions {
  /** Replaceable writer (tests simulate a full disk). Default fs.promises.writeFile. */
  writeFile?: (path: string, bytes: Uint8Array) => Promise<void>;
}

export function fileCheckpointStore(path: string, options: FileStoreOptions = {}): CheckpointStore {
  const write = options.writeFile ?? ((p: string, b: Uint8Array) => writeFile(p, b));
  return {
    description: path,
    async save(bytes) {
      const partial = `${path}.partial`;
      try {
        await write(partial, bytes);
      } catch (error) {
        await rm(partial, { force: true }).catch(() => undefined);
        throw new EngineError(
          'PRETRAIN_CHECKPOINT_WRITE_FAILED',
          `Could not write the checkpoint ${partial} (${(error as Error).message}); the previous checkpoint ${path} is unchanged.`,
        );
      }
      await rename(partial, path);
    },
    async load() {
      try {
        const b = await readFile(path);
        return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },
  };
}
