/**
 * Node-only corpus files: expands files and folders into a sorted list of text files, skips
 * binary files with a warning, and streams lines with their byte offsets (so a data position
 * resumes with a seek, not a re-read). Kept apart from corpus.ts so the browser bundle never
 * imports `fs`.
 */
import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EngineError } from '../errors';
import type { CorpusSource, TextChunk } from './corpus';

export interface CorpusFile {
  path: string;
  bytes: number;
}

/** Bytes sniffed at the start of a file to decide whether it is text. */
const SNIFF_BYTES = 8192;

/** True when the first bytes look binary: a NUL byte, invalid UTF-8, or many control characters. */
export function looksBinary(bytes: Uint8Array): boolean {
  if (bytes.includes(0)) return true;
  let control = 0;
  for (const b of bytes) if (b < 32 && b !== 9 && b !== 10 && b !== 13 && b !== 12) control++;
  if (bytes.length > 0 && control / bytes.length > 0.05) return true;
  try {
    // A multi-byte character may be cut at the sniff boundary: drop up to 3 trailing bytes.
    let end = bytes.length;
    while (end > 0 && end > bytes.length - 4 && (bytes[end - 1] & 0xc0) === 0x80) end--;
    if (end > 0 && bytes[end - 1] >= 0xc0) end--;
    new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, end));
    return false;
  } catch {
    return true;
  }
}

/**
 * Expands `paths` (files and folders; folders recursively, `.txt` files only, sorted by path) into
 * the corpus file list. Binary files are skipped with a warning. Throws CORPUS_NOT_FOUND for a
 * missing path and CORPUS_EMPTY (naming the paths) when no text file remains.
 */
export async function listCorpusFiles(paths: readonly string[]): Promise<{ files: CorpusFile[]; warnings: string[] }> {
  const files: CorpusFile[] = [];
  const warnings: string[] = [];
  const visit = async (path: string, explicit: boolean): Promise<void> => {
    let info;
    try {
      info = await stat(path);
    } catch {
      throw new EngineError('CORPUS_NOT_FOUND', `Corpus path ${path} does not exist.`);
    }
    if (info.isDirectory()) {
      const names = (await readdir(path)).sort();
      for (const name of names) await visit(join(path, name), false);
      return;
    }
    if (!info.isFile()) return;
    if (!explicit && !path.toLowerCase().endsWith('.txt')) return;
    const handle = await open(path, 'r');
    try {
      const buffer = new Uint8Array(Math.min(SNIFF_BYTES, info.size));
      await handle.read(buffer, 0, buffer.length, 0);
      if (looksBinary(buffer)) {
        warnings.push(`${path} looks binary (not UTF-8 text); skipped.`);
        return;
      }
    } finally {
      await handle.close();
    }
    files.push({ path, bytes: info.size });
  };
  for (const p of paths) await visit(resolve(p), true);
  if (files.length === 0) {
    throw new EngineError(
      'CORPUS_EMPTY',
      `No text files in ${paths.join(', ')}: give .txt files (one passage per line) or folders containing them.`,
    );
  }
  return { files, warnings };
}

/** Lines of one file from byte `start`, each with the byte offset where it begins. */
async function* fileLines(path: string, doc: number, start: number): AsyncGenerator<TextChunk> {
  const decoder = new TextDecoder('utf-8');
  let pending: Uint8Array = new Uint8Array(0);
  let pendingOffset = start;
  const stream = createReadStream(path, { start, highWaterMark: 1 << 16 });
  const line = (bytes: Uint8Array, offset: number): TextChunk => {
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 13) end--; // CRLF
    return { text: decoder.decode(bytes.subarray(0, end)), doc, offset };
  };
  for await (const data of stream as AsyncIterable<Buffer>) {
    const chunk = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const joined = pending.length > 0 ? concat(pending, chunk) : chunk;
    let from = 0;
    for (let i = joined.indexOf(10); i >= 0; i = joined.indexOf(10, from)) {
      yield line(joined.subarray(from, i), pendingOffset + from);
      from = i + 1;
    }
    pendingOffset += from;
    pending = joined.slice(from);
  }
  if (pending.length > 0) yield line(pending, pendingOffset);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** A CorpusSource over text files (offset = byte offset of the line in its file). */
export function fileCorpusSource(files: readonly CorpusFile[]): CorpusSource {
  const total = files.reduce((n, f) => n + f.bytes, 0);
  return {
    description: files.length === 1 ? files[0].path : `${files.length} files (${(total / 1e6).toFixed(1)} MB)`,
    identity: files.map((f) => `${f.path.split('/').pop()}:${f.bytes}`).join(','),
    async *chunks(from) {
      for (let doc = from.doc; doc < files.length; doc++)
        yield* fileLines(files[doc].path, doc, doc === from.doc ? from.offset : 0);
    },
  };
}
