/**
 * Periodic checkpoints of a training loop's state (loop-state.ts) to a store that replaces the
 * previous checkpoint atomically or not at all, and resuming from it. Used by long runs
 * (`fewshot pretrain`); the cadence is every N steps and/or every M minutes, plus at the end.
 */
import type { TrainingLoop } from './loop';
import { deserializeLoopState, serializeLoopState } from './loop-state';

/** Where checkpoints go. `save` must replace the previous checkpoint atomically or not at all. */
export interface CheckpointStore {
  save(bytes: Uint8Array): Promise<void>;
  load(): Promise<Uint8Array | null>;
  /** For messages, e.g. the file path. */
  description: string;
}

/** The part of a training loop the checkpointer uses. */
export type CheckpointedLoop = Pick<
  TrainingLoop<unknown, unknown>,
  'step' | 'totalSteps' | 'summary' | 'captureState' | 'restoreState'
>;

export interface CheckpointCadence {
  /** Save every N optimizer steps (0 = off). */
  everySteps: number;
  /** Save every M minutes of wall time (0 = off). */
  everyMinutes: number;
}

export interface CheckpointSaved {
  step: number;
  bytes: number;
  seconds: number;
}

export class LoopCheckpointer {
  private lastSavedStep = -1;
  private lastSavedAt = Date.now();

  constructor(
    private readonly loop: CheckpointedLoop,
    private readonly store: CheckpointStore,
    private readonly cadence: CheckpointCadence,
    private readonly onSaved: (info: CheckpointSaved) => void = () => {},
    /** Told why a due checkpoint was not written. */
    private readonly onSkipped?: (message: string) => void,
  ) {}

  /** Restores the stored state into the loop; false when the store is empty. */
  async resume(): Promise<boolean> {
    const bytes = await this.store.load();
    if (!bytes) return false;
    this.loop.restoreState(deserializeLoopState(bytes, this.store.description));
    this.lastSavedStep = this.loop.step;
    this.lastSavedAt = Date.now();
    return true;
  }

  /** Saves when the cadence says so (or the run is done); call after every step. */
  async maybeSave(): Promise<void> {
    const step = this.loop.step;
    if (step === this.lastSavedStep) return;
    const { everySteps, everyMinutes } = this.cadence;
    const bySteps = everySteps > 0 && step % everySteps === 0;
    const byTime = everyMinutes > 0 && Date.now() - this.lastSavedAt >= everyMinutes * 60_000;
    if (bySteps || byTime || step >= this.loop.totalSteps) await this.save();
  }

  /** Saves now (no-op when this step is already saved). Never saves a diverged run or non-finite weights. */
  async save(): Promise<void> {
    if (this.loop.step === this.lastSavedStep) return;
    const started = Date.now();
    const state = await this.loop.captureState();
    // A step with a huge update can leave non-finite weights before its loss shows it: such a state
    // must never replace the last good checkpoint (the loop stops when it reads the next loss).
    const bad = [...state.tensors].find(([name, t]) => name.startsWith('param:') && !t.data.every(Number.isFinite));
    if (bad || this.loop.summary?.reason === 'diverged') {
      this.onSkipped?.(
        `Not saving step ${this.loop.step}: ${bad ? `${bad[0].slice(6)} is not finite` : 'the run diverged'}; ${this.store.description} keeps the last good checkpoint.`,
      );
      return;
    }
    const bytes = serializeLoopState(state);
    await this.store.save(bytes);
    this.lastSavedStep = this.loop.step;
    this.lastSavedAt = Date.now();
    this.onSaved({ step: this.loop.step, bytes: bytes.byteLength, seconds: (Date.now() - started) / 1000 });
  }
}
