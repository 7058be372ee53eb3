/**
 * `fewshot` — the FewShot Studio engine on the command line (Node; wasm, cpu or webgpu backend).
 * Exit codes: 0 ok, 1 error in the input or the run (message on stderr), 2 usage error.
 */
import { EngineError, fileErrorReason } from '../engine/studio';
import { UsageError, formatHelp, parseArgs } from './args';
import { COMMON_FLAGS, type CliIO, type Command } from './context';
import { adaptCommand } from './commands/adapt';
import { benchFewshotCommand } from './commands/bench-fewshot';
import { embedCommand } from './commands/embed';
import { evalCommand } from './commands/eval';
import { fillMaskCommand } from './commands/fill-mask';
import { infoCommand } from './commands/info';
import { predictCommand } from './commands/predict';
import { pretrainCommand } from './commands/pretrain';
import { tokenizeCommand } from './commands/tokenize';
import { trainCommand } from './commands/train';
import { vocabCommand } from './commands/vocab';
import { zeroShotCommand } from './commands/zero-shot';

export const COMMANDS: Command[] = [
  infoCommand,
  tokenizeCommand,
  fillMaskCommand,
  predictCommand,
  embedCommand,
  trainCommand,
  evalCommand,
  vocabCommand,
  pretrainCommand,
  adaptCommand,
  zeroShotCommand,
  benchFewshotCommand,
];

const defaultIO: CliIO = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  stderrIsTTY: Boolean(process.stderr.isTTY),
};

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'fewshot — few-shot text classification with BERT encoders, on your own machine.',
    '',
    'Usage: fewshot <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Every command takes --json (machine-readable output), --backend cpu|wasm|webgpu and --help.',
  ].join('\n');
}

function commandHelp(command: Command): string {
  return [
    `Usage: ${command.usage}`,
    '',
    command.summary,
    '',
    'Options:',
    formatHelp({ ...command.flags, ...COMMON_FLAGS }),
  ].join('\n');
}

/** A clear sentence for a Node filesystem error (never its stack), or null for other errors. */
export function describeFileError(error: unknown): string | null {
  const e = error as NodeJS.ErrnoException & { dest?: string };
  const reason = fileErrorReason(error);
  if (!(error instanceof Error) || !reason) return null;
  const where = e.path ? ` ${e.path}${e.dest ? ` → ${e.dest}` : ''}` : '';
  return `Cannot ${e.syscall ?? 'use'}${where}: ${reason}. [${e.code}]`;
}

export async function main(argv: string[], io: CliIO = defaultIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(`${mainHelp()}\n`);
    return name ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr(`Unknown command "${name}".\n\n${mainHelp()}\n`);
    return 2;
  }
  try {
    const args = parseArgs(rest, { ...command.flags, ...COMMON_FLAGS });
    if (args.flags.help) {
      io.stdout(`${commandHelp(command)}\n`);
      return 0;
    }
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`fewshot ${command.name}: ${error.message}\n\n${commandHelp(command)}\n`);
      return 2;
    }
    const fileError = describeFileError(error);
    if (fileError) {
      io.stderr(`fewshot ${command.name}: ${fileError}\n`);
      return 1;
    }
    if (error instanceof EngineError) {
      io.stderr(`fewshot ${command.name}: ${error.message} [${error.code}]\n`);
      return 1;
    }
    io.stderr(`fewshot ${command.name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}
