/**
 * Small seeded pseudo-random number generator for everything the engine randomises (data splits,
 * shuffles, dropout seeds, head initialisation). Deterministic across browsers and Node: only
 * 32-bit integer arithmetic (`Math.imul`, `>>>`), never `Math.random`.
 *
 * Generator: mulberry32 (Tommy Ettinger's 32-bit counter + avalanche mix). Its whole state is one
 * uint32 counter that advances by a fixed odd constant per draw, so `getState()/setState()` restore
 * a stream exactly and cheaply (training checkpoints store it). Period 2^32 per stream, which is
 * plenty for shuffling; forks give independent streams for independent purposes.
 */

/** Serializable generator state: the seed it was created with and the current counter. */
export interface RngState {
  /** uint32 seed the stream was created from (forks derive their seeds from it). */
  seed: number;
  /** uint32 counter; advances by `GOLDEN` on every 32-bit draw. */
  counter: number;
}

/** Weyl-sequence increment of mulberry32 (odd, so the counter visits all 2^32 values). */
const GOLDEN = 0x6d2b79f5;
const TWO_POW_32 = 4294967296;

/** murmur3 fmix32 finaliser: a bijective avalanche on uint32. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over the UTF-16 code units of `s`, then fmix32 (uint32). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h >>> 0);
}

/** Normalises any finite number (or a string) to a uint32 seed. */
function toSeed(seed: number | string): number {
  if (typeof seed === 'string') return hashString(seed);
  if (!Number.isFinite(seed)) throw new RangeError(`Rng seed must be a finite number, got ${seed}`);
  // Fold in the high bits so seeds above 2^32 (and negative seeds) still differ.
  const lo = seed >>> 0;
  const hi = Math.floor(seed / TWO_POW_32) >>> 0;
  return hi === 0 ? lo : fmix32(lo ^ Math.imul(hi, 0x9e3779b1));
}

export class Rng {
  private seed: number;
  private counter: number;

  /** @param seed any finite number or a string; equal seeds give equal streams. */
  constructor(seed: number | string = 0) {
    this.seed = toSeed(seed);
    this.counter = this.seed;
  }

  /** Next uniformly distributed uint32 in [0, 2^32). */
  nextUint32(): number {
    this.counter = (this.counter + GOLDEN) >>> 0;
    let t = this.counter;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform float in [0, 1) with 32 bits of randomness. */
  nextFloat(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling). `n` must be an integer in [1, 2^32]. */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new RangeError(`Rng.nextInt(n) needs an integer 1 <= n <= 2^32, got ${n}`);
    }
    // Reject the top partial block so every residue is equally likely.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** Shuffles `array` in place (Fisher–Yates) and returns it. */
  shuffle<T>(array: T[]): T[] {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /**
   * Standard normal sample (Box–Muller, cosine branch). Uses two uniform draws per call and
   * caches nothing, so the state is always just the counter.
   */
  normal(mean = 0, std = 1): number {
    // 1 - u is in (0, 1], so log never sees 0.
    const u1 = 1 - this.nextFloat();
    const u2 = this.nextFloat();
    return mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /**
   * An independent deterministic substream named `label`. It depends only on this generator's
   * seed and the label, NOT on how many numbers were drawn here, so adding a draw in one part of
   * the program never changes the numbers another part gets (e.g. `fork('split')`,
   * `fork('epoch:3')`). Forks of forks are fine.
   */
  fork(label: string | number): Rng {
    const child = new Rng(0);
    const s = fmix32((this.seed ^ Math.imul(hashString(String(label)), 0x9e3779b1)) >>> 0);
    child.seed = s;
    child.counter = s;
    return child;
  }

  /** Snapshot for checkpoints (plain JSON). */
  getState(): RngState {
    return { seed: this.seed, counter: this.counter };
  }

  /** Restores a snapshot from `getState()`; the stream continues exactly where it was. */
  setState(state: RngState): void {
    if (!isUint32(state?.seed) || !isUint32(state?.counter)) {
      throw new RangeError(`Rng.setState expects {seed, counter} as uint32 numbers, got ${JSON.stringify(state)}`);
    }
    this.seed = state.seed;
    this.counter = state.counter;
  }

  /** A new generator continuing from the same state (draws from it do not affect this one). */
  clone(): Rng {
    const r = new Rng(0);
    r.setState(this.getState());
    return r;
  }
}

function isUint32(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < TWO_POW_32;
}
