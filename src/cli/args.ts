/**
 * Small, strict argument parsing for the `fewshot` CLI: unknown flags and missing values are
 * errors with a hint, never silently ignored.
 */
export interface FlagSpec {
  /** 'string' takes a value, 'boolean' does not. */
  type: 'string' | 'boolean';
  /** One line for --help. */
  help: string;
  /** Value placeholder for --help, e.g. DIR. */
  placeholder?: string;
  /** May be given more than once (values collected in order). */
  multiple?: boolean;
}

export interface ParsedArgs {
  flags: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function parseArgs(argv: string[], spec: Record<string, FlagSpec>): ParsedArgs {
  const flags: ParsedArgs['flags'] = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const flag = spec[name];
    if (!flag) {
      const known = Object.keys(spec)
        .map((k) => `--${k}`)
        .join(', ');
      throw new UsageError(`Unknown option --${name}. Known options: ${known}.`);
    }
    if (flag.type === 'boolean') {
      if (eq >= 0) throw new UsageError(`--${name} takes no value.`);
      flags[name] = true;
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined) throw new UsageError(`--${name} needs a value (${flag.placeholder ?? 'VALUE'}).`);
    if (flag.multiple) flags[name] = [...((flags[name] as string[] | undefined) ?? []), value];
    else flags[name] = value;
  }
  return { flags, positionals };
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const value = args.flags[name];
  return typeof value === 'string' ? value : undefined;
}

export function requireString(args: ParsedArgs, name: string, what: string): string {
  const value = stringFlag(args, name);
  if (value === undefined) throw new UsageError(`--${name} is required: ${what}.`);
  return value;
}

export function intFlag(
  args: ParsedArgs,
  name: string,
  fallback: number,
  { min = 1, max = Number.MAX_SAFE_INTEGER } = {},
): number {
  const raw = stringFlag(args, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new UsageError(`--${name} must be an integer between ${min} and ${max}, got "${raw}".`);
  return value;
}

export function numberFlag(args: ParsedArgs, name: string, fallback: number | undefined): number | undefined {
  const raw = stringFlag(args, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new UsageError(`--${name} must be a number, got "${raw}".`);
  return value;
}

export function formatHelp(spec: Record<string, FlagSpec>): string {
  const rows = Object.entries(spec).map(([name, flag]) => [
    `--${name}${flag.type === 'string' ? ` ${flag.placeholder ?? 'VALUE'}` : ''}`,
    flag.help,
  ]);
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`).join('\n');
}
