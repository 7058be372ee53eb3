/**
 * Node-only checkpoint store: one file, written whole or not at all (`writeFileAtomic`: a
 * temporary file renamed over the previous checkpoint), so the previous checkpoint stays valid if
 * writing fails (disk full, killed mid-write).
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic, type FileContent } from '../checkpoint/node-file';
import type { CheckpointStore } from '../train/checkpointer';

export interface FileStoreOptions {
  /** Replaceable writer of the temporary file (tests simulate a full disk). */
  writeFile?: (path: string, bytes: Uint8Array) => Promise<void>;
}

export function fileCheckpointStore(path: string, options: FileStoreOptions = {}): CheckpointStore {
  const write = options.writeFile;
  return {
    description: path,
    async save(bytes) {
      await writeFileAtomic(path, bytes, {
        code: 'PRETRAIN_CHECKPOINT_WRITE_FAILED',
        what: 'checkpoint',
        writeFile: write && ((temp: string, content: FileContent) => write(temp, content as Uint8Array)),
      });
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
