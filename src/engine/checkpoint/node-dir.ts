/**
 * Node-only checkpoint I/O: a directory as a CheckpointSource, and writing an exported folder to disk.
 * Kept apart from index.ts so that the browser bundle never imports `fs`; import it as
 * `src/engine/checkpoint/node-dir` from the CLI and tests only.
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { CheckpointSource, ProgressListener } from './source';
import { EngineError } from '../errors';

export function createNodeDirSource(directory: string): CheckpointSource {
  const root = resolve(directory);
  const pathOf = (name: string): string => {
    const path = resolve(root, name);
    // Shard names come from an index file inside the checkpoint; never follow one out of the folder.
    if (path !== root && !path.startsWith(root + '/') && !path.startsWith(root + '\\')) {
      throw new EngineError('CHECKPOINT_BAD_FILE_NAME', `Refusing to read "${name}": it points outside ${root}.`);
    }
    return path;
  };
  return {
    description: `folder ${root}`,
    locate: pathOf,
    async list() {
      try {
        return await readdir(root);
      } catch (error) {
        throw new EngineError(
          'CHECKPOINT_FOLDER_UNREADABLE',
          `Cannot read folder ${root} (${(error as Error).message}).`,
        );
      }
    },
    async read(name: string, onProgress?: ProgressListener) {
      let bytes: Uint8Array;
      try {
        const buffer = await readFile(pathOf(name));
        bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        if (error instanceof EngineError) throw error;
        throw new EngineError(
          'CHECKPOINT_FOLDER_UNREADABLE',
          `Cannot read ${pathOf(name)} (${(error as Error).message}).`,
        );
      }
      onProgress?.({ file: name, loaded: bytes.byteLength, total: bytes.byteLength });
      return bytes;
    },
  };
}

/**
 * Writes each file into `directory` (created if needed). Every file goes to a temporary name first and is renamed
 * into place, so an interrupted export never leaves a half-written model.safetensors behind.
 */
export async function writeFolder(directory: string, files: Map<string, Uint8Array>): Promise<void> {
  const root = resolve(directory);
  await mkdir(root, { recursive: true });
  for (const [name, bytes] of files) {
    const path = join(root, name);
    await mkdir(dirname(path), { recursive: true });
    const temporary = join(dirname(path), `.${basename(path)}.partial`);
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  }
}
