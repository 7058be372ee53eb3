/**
 * Node-only: writing one file all-or-nothing, the single-file counterpart of `writeFolder`
 * (node-dir.ts). The CLI's outputs (predictions, reports, vocabularies, logs) and the pretraining
 * checkpoint go through it, so a kill or a full disk mid-write never destroys the previous file.
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, realpath, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { EngineError, fileErrorReason } from '../errors';

/** What `writeFileAtomic` writes: the whole content, or chunks that may arrive over time. */
export type FileContent = string | Uint8Array | AsyncIterable<string | Uint8Array>;

export interface FileWriteOptions {
  /** The EngineError code on failure (default `OUTPUT_WRITE_FAILED`). */
  code?: string;
  /** What the file is, for the message ("checkpoint" → "The previous checkpoint is unchanged."). */
  what?: string;
  /**
   * Replaceable writer of the temporary file (tests simulate a full disk with it). The default
   * writes, fsyncs and closes.
   */
  writeFile?: (tempPath: string, content: FileContent) => Promise<void>;
}

/**
 * `.<name>.<pid>.<random>.partial`: hidden, beside the target (a rename is atomic only within one
 * file system), unique per writer, and naming the process so that a later write can tell the
 * leftovers of a killed writer from the file of a live one.
 */
const TEMP_NAME = /^\.(.+)\.(\d+)\.[0-9a-f]{8}\.partial$/;

/** The file a temporary file of `writeFileAtomic` was for, or null for any other name. */
export function atomicTempTarget(name: string): string | null {
  return TEMP_NAME.exec(name)?.[1] ?? null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temporary files for `name` left in `folder` by writers that were killed mid-write. */
async function removeLeftovers(folder: string, name: string): Promise<void> {
  for (const entry of await readdir(folder).catch(() => [] as string[])) {
    const match = TEMP_NAME.exec(entry);
    if (!match || match[1] !== name) continue;
    const pid = Number(match[2]);
    if (pid !== process.pid && !alive(pid)) await rm(join(folder, entry), { force: true }).catch(() => undefined);
  }
}

async function writeAndSync(path: string, content: FileContent, mode: number | null): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    // 'wx': never reuse a file that is already there.
    handle = await open(path, 'wx');
    // Keep the permissions of the file being replaced (a rename would otherwise reset them).
    if (mode !== null) await handle.chmod(mode);
    await handle.writeFile(content);
    // Some file systems report a full disk only when the data is flushed; do it before the rename.
    await handle.sync();
  } finally {
    await handle?.close();
  }
}

/**
 * Writes `path` whole or not at all: the content goes to a temporary file beside it, which is
 * flushed to disk and then renamed over `path` (atomic on one file system). A reader sees the
 * previous file or the new one, never a part; a kill or a full disk mid-write leaves the previous
 * file as it was (and a hidden temporary file that the next write of `path` removes). Failures are
 * EngineErrors that say which file, why, and that the previous one is unchanged.
 */
export async function writeFileAtomic(
  path: string,
  content: FileContent,
  options: FileWriteOptions = {},
): Promise<void> {
  // Through a symlink: replace the file it points to, as a plain write would, not the link.
  const target = await realpath(path).catch(() => resolve(path));
  const folder = dirname(target);
  const name = basename(target);
  const what = options.what ?? 'file';
  const fail = (reason: string, previous: boolean) =>
    new EngineError(
      options.code ?? 'OUTPUT_WRITE_FAILED',
      `Could not write ${path}: ${reason}. ${previous ? `The previous ${what} is unchanged.` : 'Nothing was written.'}`,
    );
  const info = await stat(target).catch(() => null);
  if (info?.isDirectory()) throw fail(`it is a folder, not a ${what}; give a file name`, false);
  const folderInfo = await stat(folder).catch(() => null);
  if (!folderInfo) throw fail(`the folder ${folder} does not exist; create it first`, false);
  if (!folderInfo.isDirectory()) throw fail(`${folder} is a file, not a folder; check the path`, false);
  await removeLeftovers(folder, name);

  const temp = join(folder, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.partial`);
  const write =
    options.writeFile ?? ((p: string, c: FileContent) => writeAndSync(p, c, info ? info.mode & 0o7777 : null));
  try {
    await write(temp, content);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    // A content stream's own error already says what went wrong.
    if (error instanceof EngineError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const reason = fileErrorReason(error) ?? (error as Error).message;
    throw fail(code ? `${reason} (${code})` : reason, Boolean(info));
  }
}
