/** File and stdin helpers for the CLI. */
import { readFile } from 'node:fs/promises';
import { EngineError } from '../engine/errors';

/** Reads a UTF-8 file, or stdin when `path` is undefined or '-'. */
export async function readInputText(path: string | undefined): Promise<string> {
  if (path && path !== '-') {
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      throw new EngineError('CLI_READ_FAILED', `Cannot read ${path}: ${(error as Error).message}`);
    }
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function readInputBytes(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    throw new EngineError('CLI_READ_FAILED', `Cannot read ${path}: ${(error as Error).message}`);
  }
}

/** RFC 4180 field quoting for CSV output. */
export function csvField(value: string | number): string {
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
