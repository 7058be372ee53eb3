/** What every CLI command gets: parsed args, output streams and backend setup. */
import {
  KERNEL_MODES,
  formatConfusionMatrix,
  memoryLimitsFromAdapter,
  setKernelMode,
  type KernelMode,
  type MemoryLimits,
  type Metrics,
} from '../engine/studio';
import {
  NODE_BACKENDS,
  initNodeBackend,
  isNodeBackendName,
  nodeBackendReport,
  type NodeBackendName,
} from '../engine/studio/node';
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
  backend: {
    type: 'string',
    placeholder: 'cpu|wasm|webgpu',
    help: 'compute backend (default wasm: SIMD WebAssembly; webgpu needs the "webgpu" package and Vulkan)',
  },
  kernels: {
    type: 'string',
    placeholder: 'fused|stock',
    help: "on webgpu: our own kernels (default fused) or TensorFlow.js's stock ops, to compare them",
  },
  help: { type: 'boolean', help: 'show help for this command' },
};

/** The backend a command runs on. */
export interface CliBackend {
  name: NodeBackendName;
  /** For the run's log line: "wasm", or "webgpu (google swiftshader, SwiftShader driver 5.0.0)". */
  label: string;
  /** The adapter's limits as training plans them (webgpu only; null on cpu and wasm). */
  memoryLimits: MemoryLimits | null;
}

export async function setupBackend(args: ParsedArgs): Promise<CliBackend> {
  const requested = stringFlag(args, 'backend') ?? 'wasm';
  if (!isNodeBackendName(requested))
    throw new UsageError(`--backend must be one of ${NODE_BACKENDS.join(', ')}, got "${requested}".`);
  const kernels = stringFlag(args, 'kernels') ?? 'fused';
  if (!(KERNEL_MODES as readonly string[]).includes(kernels))
    throw new UsageError(`--kernels must be one of ${KERNEL_MODES.join(', ')}, got "${kernels}".`);
  setKernelMode(kernels as KernelMode);
  const name = await initNodeBackend(requested);
  const report = nodeBackendReport();
  return { name, label: report?.label ?? name, memoryLimits: memoryLimitsFromAdapter(report?.limits ?? null) };
}

export function wantsJson(args: ParsedArgs): boolean {
  return args.flags.json === true;
}

export function printJson(io: CliIO, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

/** Metrics as a table: accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix. */
export function printMetrics(io: CliIO, title: string, metrics: Metrics, labels: string[]): void {
  io.stdout(
    `\n${title}: accuracy ${metrics.accuracy.toFixed(4)}, macro-F1 ${metrics.macroF1.toFixed(4)} (${metrics.n} examples)\n`,
  );
  const width = Math.max(5, ...labels.map((l) => l.length));
  io.stdout(`${'label'.padEnd(width)}  precision  recall  f1      support\n`);
  for (const c of metrics.perClass) {
    io.stdout(
      `${c.label.padEnd(width)}  ${c.precision.toFixed(4).padEnd(9)}  ${c.recall.toFixed(4)}  ${c.f1.toFixed(4)}  ${c.support}\n`,
    );
  }
  io.stdout(
    `\nconfusion matrix (rows: true, columns: predicted)\n${formatConfusionMatrix(metrics.confusion, labels)}\n`,
  );
}

/** Metrics without the per-example list (that belongs in predictions files, not metrics.json). */
export function compactMetrics(metrics: Metrics | null) {
  if (!metrics) return null;
  const { predictions: _predictions, ...rest } = metrics;
  return rest;
}
