/**
 * Epoch-based batch source for labeled examples (classifier head and prompt methods): every epoch
 * is a seeded, length-bucketed order of all examples (makeBatches), so the position inside the run
 * is just (epoch, cursor) and a restored run sees exactly the same batches.
 */
import { EngineError } from '../errors';
import { makeBatches, type Batch, type EncodedExample } from './batches';
import type { BatchSource, JsonValue } from './objective';

export interface EpochBatchOptions {
  batchSize: number;
  maxLength: number;
  /** Seed of the batch order (each epoch uses its own substream). */
  seed: number;
  epochs: number;
  /** Use exactly these batches every epoch, in order (golden parity tests). */
  plan?: Batch[] | null;
}

export class EpochBatches implements BatchSource<Batch> {
  readonly batchesPerEpoch: number;
  readonly epochs: number;
  private current: Batch[] = [];
  private cursor = 0;
  private epochNumber = 0;

  constructor(
    private readonly examples: readonly EncodedExample[],
    private readonly options: EpochBatchOptions,
  ) {
    this.batchesPerEpoch = options.plan ? options.plan.length : Math.ceil(examples.length / options.batchSize);
    this.epochs = options.epochs;
  }

  get epoch(): number {
    return this.epochNumber;
  }

  get atEpochEnd(): boolean {
    return this.epochNumber > 0 && this.cursor >= this.current.length;
  }

  private batchesOf(epoch: number): Batch[] {
    const { batchSize, maxLength, seed, plan } = this.options;
    return plan ?? makeBatches(this.examples, { batchSize, maxLength, seed, epoch });
  }

  async next(): Promise<Batch | null> {
    if (this.cursor >= this.current.length) {
      if (this.epochNumber >= this.epochs) return null;
      this.epochNumber += 1;
      this.cursor = 0;
      this.current = this.batchesOf(this.epochNumber);
    }
    return this.current[this.cursor++] ?? null;
  }

  getState(): JsonValue {
    return { epoch: this.epochNumber, cursor: this.cursor };
  }

  setState(state: JsonValue): void {
    const s = state as { epoch?: unknown; cursor?: unknown } | null;
    const epoch = s?.epoch;
    const cursor = s?.cursor;
    if (
      !Number.isInteger(epoch) ||
      !Number.isInteger(cursor) ||
      (epoch as number) < 0 ||
      (epoch as number) > this.epochs ||
      (cursor as number) < 0 ||
      (cursor as number) > this.batchesPerEpoch
    ) {
      throw new EngineError(
        'TRAIN_BAD_STATE',
        `The saved data position ${JSON.stringify(state)} does not fit this run (${this.epochs} epochs of ${this.batchesPerEpoch} batches).`,
      );
    }
    this.epochNumber = epoch as number;
    this.cursor = cursor as number;
    this.current = this.epochNumber > 0 ? this.batchesOf(this.epochNumber) : [];
  }
}
