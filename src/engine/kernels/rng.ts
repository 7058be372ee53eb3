/**
 * The counter-based random numbers our dropout kernels draw (docs/ARCHITECTURE.md, "Own kernels"): the
 * value for element `counter` of a dropout site with seed `seed` is a pure function of the two, so the
 * forward pass makes its mask on the GPU with nothing uploaded but the seed (a uniform), and the
 * backward pass makes the same mask again instead of keeping it. The function is an integer hash
 * (Chris Wellons's "triple32" mixer, full-avalanche on 32 bits) of the counter offset by a hash of
 * the seed; it is written twice, in WGSL for the kernels and in JavaScript as the reference the tests
 * compare the GPU's masks with bit for bit.
 */

/** WGSL: `dropoutUniform(seed, counter)` → a float in [0, 1) with 24 random bits. */
export const RNG_WGSL = `
  fn fewshotMix32(v : u32) -> u32 {
    var x = v;
    x = x ^ (x >> 17u); x = x * 0xed5ad4bbu;
    x = x ^ (x >> 11u); x = x * 0xac4c1b51u;
    x = x ^ (x >> 15u); x = x * 0x31848babu;
    x = x ^ (x >> 14u);
    return x;
  }
  fn dropoutUniform(seed : u32, counter : u32) -> f32 {
    let bits = fewshotMix32(counter * 0x9e3779b9u + fewshotMix32(seed ^ 0x5bd1e995u));
    return f32(bits >> 8u) * (1.0 / 16777216.0);
  }
`;

function mix32(v: number): number {
  let x = v >>> 0;
  x = Math.imul(x ^ (x >>> 17), 0xed5ad4bb) >>> 0;
  x = Math.imul(x ^ (x >>> 11), 0xac4c1b51) >>> 0;
  x = Math.imul(x ^ (x >>> 15), 0x31848bab) >>> 0;
  return (x ^ (x >>> 14)) >>> 0;
}

/** JavaScript twin of the WGSL `dropoutUniform`: the same float for the same seed and counter. */
export function dropoutUniform(seed: number, counter: number): number {
  const bits = (Math.imul(counter >>> 0, 0x9e3779b9) + mix32((seed ^ 0x5bd1e995) >>> 0)) >>> 0;
  return (mix32(bits) >>> 8) / 16777216;
}

/**
 * A dropout site's seed as the u32 the kernels take: the forward options' seed folded to 32 bits, or a
 * fresh random one when the caller gave none (training without a fixed seed).
 */
export function dropoutSeedU32(seed: number | undefined): number {
  if (seed === undefined) return Math.floor(Math.random() * 2 ** 32) >>> 0;
  const whole = Math.floor(Math.abs(seed));
  return (whole % 2 ** 32) >>> 0;
}

/**
 * The dropout multiplier of `size` elements made in JavaScript from the same counters as the GPU
 * kernel: 1/(1 − rate) (as float32) where `dropoutUniform(seed, i) ≥ float32(rate)`, 0 elsewhere.
 * The stock path (cpu, wasm, `kernels: 'stock'`) multiplies by it, so a seed drops the same elements
 * on every backend and kernel setting and runs reproduce across them.
 */
export function counterDropoutMultiplier(seedU32: number, rate: number, size: number): Float32Array {
  const threshold = Math.fround(rate);
  const scale = Math.fround(1 / (1 - rate));
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = dropoutUniform(seedU32, i) >= threshold ? scale : 0;
  return out;
}
