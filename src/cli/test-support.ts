/** Test helpers for the CLI's tests (not part of the CLI). */
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
