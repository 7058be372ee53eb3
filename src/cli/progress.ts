/** A one-line progress bar on stderr: redrawn in place on a TTY, one line per update otherwise. */
import type { CliIO } from './context';
import type { ProgressInfo } from '../engine/studio';

/** Width of the bar in characters. */
const BAR_WIDTH = 28;

export class ProgressBar {
  private lastLine = '';
  private lastPrintAt = 0;

  constructor(
    private readonly io: CliIO,
    /** Non-TTY output prints at most one line per this many ms (logs stay readable). */
    private readonly minIntervalMs = 2000,
  ) {}

  update(done: number, total: number, detail: string): void {
    const fraction = total > 0 ? Math.min(1, done / total) : 0;
    const filled = Math.round(fraction * BAR_WIDTH);
    const line = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}% ${done}/${total} ${detail}`;
    if (this.io.stderrIsTTY) {
      this.io.stderr(`\r${line.padEnd(this.lastLine.length)}`);
    } else {
      const now = Date.now();
      if (now - this.lastPrintAt < this.minIntervalMs && done < total) return;
      this.lastPrintAt = now;
      this.io.stderr(`${line}\n`);
    }
    this.lastLine = line;
  }

  done(): void {
    if (this.io.stderrIsTTY && this.lastLine) this.io.stderr('\n');
    this.lastLine = '';
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The progress bar's text for one loop progress event (every training run of `fewshot train`). */
export function progressText(p: ProgressInfo, phase: string | null = null): string {
  return `${phase ? `${phase} ` : ''}epoch ${p.epoch}/${p.epochs} loss ${p.loss?.toFixed(4) ?? '-'} lr ${p.learningRate.toExponential(2)} ${p.examplesPerSecond.toFixed(1)} ex/s ETA ${p.etaSeconds === null ? '…' : formatDuration(p.etaSeconds)}`;
}
