/** Test helpers for the CLI's tests (not part of the CLI). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CliIO } from './context';
import { main } from './main';

/** Runs the CLI in-process with `argv` and captures what it prints and its exit status. */
export async function runCli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), stderrIsTTY: false };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/** The loss lines of a run's train_log.jsonl (written by `fewshot train --out DIR`), in order. */
export function trainLogLosses(dir: string): { step?: number; loss?: number }[] {
  return readFileSync(join(dir, 'train_log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { step?: number; loss?: number })
    .filter((e) => e.loss !== undefined);
}
