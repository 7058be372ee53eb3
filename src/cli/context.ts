/** What every CLI command gets: parsed args, output streams and backend setup. */
import { initNodeBackend, type NodeBackendName } from '../engine/tf/node';
import { UsageError, stringFlag, type FlagSpec, type ParsedArgs } from './args';

export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** True when stderr is a terminal (progress bars redraw in place). */
  stderrIsTTY: boolean;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  flags: Record<string, FlagSpec>;
  run: (args: ParsedArgs, io: CliIO) => Promise<number>;
}

/** Flags every command accepts. */
export const COMMON_FLAGS: Record<string, FlagSpec> = {
  json: { type: 'boolean', help: 'machine-readable JSON output' },
  backend: { type: 'string', placeholder: 'cpu|wasm', help: 'compute backend (default wasm: SIMD WebAssembly)' },
  help: { type: 'boolean', help: 'show help for this command' },
};

export async function setupBackend(args: ParsedArgs): Promise<NodeBackendName> {
  const requested = stringFlag(args, 'backend') ?? 'wasm';
  if (requested !== 'cpu' && requested !== 'wasm')
    throw new UsageError(
      `--backend must be cpu or wasm in Node, got "${requested}". (WebGPU runs in the browser studio.)`,
    );
  return initNodeBackend(requested);
}

export function wantsJson(args: ParsedArgs): boolean {
  return args.flags.json === true;
}

export function printJson(io: CliIO, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}
