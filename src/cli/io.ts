/** Standard input for the CLI. */
import { EngineError } from '../engine/studio';

/** Reads a UTF-8 file, or stdin when `path` is undefined or '-'. */
export async function readInputText(path: string | undefined): Promise<string> {
  if (path && path !== '-') {
    const { readFile } = await import('node:fs/promises');
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
