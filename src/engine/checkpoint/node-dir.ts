/**
 * Node-only checkpoint I/O: a directory as a CheckpointSource, and writing an exported folder to disk.
 * Kept apart from index.ts so that the browser bundle never imports `fs`; import it as
 * `src/engine/checkpoint/node-dir` from the CLI and tests only.
 */
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
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

/** Injectable file writer (tests use it to stop a write at a chosen point before killing the process). */
export interface FolderWriteOptions {
  writeFile?: (path: string, bytes: Uint8Array) => Promise<void>;
  /**
   * Files of the previous folder to carry into the new one when `files` has none of that name
   * (e.g. a pretraining run's checkpoint and log beside its exported model). Hard-linked, so the
   * previous folder stays whole until the swap.
   */
  preserve?: (file: string) => boolean;
}

const stagingPrefix = (name: string) => `.${name}.writing-`;
const retiredPrefix = (name: string) => `.${name}.previous-`;

/**
 * Finishes or undoes what an interrupted `writeFolder` left beside `directory`: a folder swapped
 * out but not yet replaced is put back, and half-written staging folders are removed.
 */
export async function recoverFolder(directory: string): Promise<void> {
  const root = resolve(directory);
  const parent = dirname(root);
  const name = basename(root);
  const siblings = await readdir(parent).catch(() => [] as string[]);
  const retired = siblings.filter((s) => s.startsWith(retiredPrefix(name))).sort();
  if (retired.length > 0 && !(await exists(root))) await rename(join(parent, retired.at(-1)!), root);
  for (const s of siblings) {
    if (s.startsWith(stagingPrefix(name)) || (s.startsWith(retiredPrefix(name)) && (await exists(join(parent, s)))))
      await rm(join(parent, s), { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Writes a whole folder all-or-nothing: every file goes into a staging folder beside `directory`,
 * which then replaces `directory` by renames, so a reader finds the previous folder or the new one,
 * never a mix of both (a full disk or a kill mid-write leaves the previous folder as it was; the
 * next write or load tidies up, see `recoverFolder`).
 */
export async function writeFolder(
  directory: string,
  files: Map<string, Uint8Array>,
  options: FolderWriteOptions = {},
): Promise<void> {
  const root = resolve(directory);
  const parent = dirname(root);
  const name = basename(root);
  const write = options.writeFile ?? ((path: string, bytes: Uint8Array) => writeFile(path, bytes));
  const failed = (what: string, error: unknown, existed: boolean) =>
    new EngineError(
      'EXPORT_WRITE_FAILED',
      `Could not write ${root}: ${what} (${(error as Error).message}). ${existed ? 'The previous folder is unchanged.' : 'Nothing was written.'}`,
    );
  try {
    await mkdir(parent, { recursive: true });
  } catch (error) {
    throw failed(`cannot create ${parent}`, error, false);
  }
  await recoverFolder(root);
  const existed = await exists(root);
  if (existed && !(await stat(root)).isDirectory()) {
    throw new EngineError('EXPORT_NOT_A_FOLDER', `${root} is a file, not a folder; choose another output folder.`);
  }
  const stamp = `${process.pid}-${Date.now()}`;
  const staging = join(parent, `${stagingPrefix(name)}${stamp}`);
  try {
    await mkdir(staging);
    for (const [file, bytes] of files) {
      const path = join(staging, file);
      await mkdir(dirname(path), { recursive: true });
      await write(path, bytes);
    }
    if (existed && options.preserve) {
      for (const file of await readdir(root)) {
        if (files.has(file) || !options.preserve(file) || !(await stat(join(root, file))).isFile()) continue;
        await link(join(root, file), join(staging, file)).catch(() => copyFile(join(root, file), join(staging, file)));
      }
    }
  } catch (error) {
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    throw failed('writing the files failed', error, existed);
  }
  if (!existed) {
    await rename(staging, root);
    return;
  }
  const retired = join(parent, `${retiredPrefix(name)}${stamp}`);
  await rename(root, retired);
  await rename(staging, root);
  await rm(retired, { recursive: true, force: true });
}
