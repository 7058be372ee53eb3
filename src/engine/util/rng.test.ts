import { describe, expect, it } from 'vitest';
import { Rng, hashString } from './rng';

const draw = (r: Rng, n = 20) => Array.from({ length: n }, () => r.nextUint32());

describe('Rng', () => {
  it('is deterministic for equal seeds and differs for different seeds', () => {
    expect(draw(new Rng(42))).toEqual(draw(new Rng(42)));
    expect(draw(new Rng(42))).not.toEqual(draw(new Rng(43)));
    expect(draw(new Rng('abc'))).toEqual(draw(new Rng('abc')));
    // seeds beyond 2^32 are not silently aliased to their low bits
    expect(draw(new Rng(2 ** 32 + 5))).not.toEqual(draw(new Rng(5)));
  });

  it('matches the mulberry32 reference values', () => {
    // Reference mulberry32 (a += 0x6D2B79F5 first) for seed 1, computed independently below.
    function ref(a: number) {
      return () => {
        a |= 0;
        a = (a + 0x6d2b79f5) | 0;
        let t = Math.imul(a ^ (a >>> 15), 1 | a);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return (t ^ (t >>> 14)) >>> 0;
      };
    }
    const f = ref(1);
    const expected = Array.from({ length: 10 }, () => f());
    expect(draw(new Rng(1), 10)).toEqual(expected);
  });

  it('nextFloat is in [0,1) and roughly uniform; nextInt covers [0,n) uniformly', () => {
    const r = new Rng(7);
    let sum = 0;
    for (let i = 0; i < 20000; i++) {
      const x = r.nextFloat();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      sum += x;
    }
    expect(sum / 20000).toBeCloseTo(0.5, 1);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60000; i++) counts[r.nextInt(6)]++;
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(500);
    expect(() => r.nextInt(0)).toThrow(RangeError);
    expect(() => r.nextInt(2.5)).toThrow(RangeError);
  });

  it('normal() has mean ~0 and std ~1', () => {
    const r = new Rng(3);
    const xs = Array.from({ length: 20000 }, () => r.normal());
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(Math.sqrt(variance) - 1)).toBeLessThan(0.03);
    expect(xs.every(Number.isFinite)).toBe(true);
  });

  it('shuffle is an in-place seeded permutation', () => {
    const a = Array.from({ length: 50 }, (_, i) => i);
    const b = a.slice();
    const ret = new Rng(9).shuffle(a);
    expect(ret).toBe(a);
    expect(a).not.toEqual(b);
    expect(a.slice().sort((x, y) => x - y)).toEqual(b);
    expect(new Rng(9).shuffle(b.slice())).toEqual(a);
    expect(new Rng(10).shuffle(b.slice())).not.toEqual(a);
  });

  it('getState/setState resume the stream exactly (including through JSON)', () => {
    const r = new Rng(123);
    draw(r, 7);
    r.normal();
    const saved = JSON.parse(JSON.stringify(r.getState()));
    const next = [...draw(r, 5), r.normal(), r.nextInt(1000)];
    const restored = new Rng(999);
    restored.setState(saved);
    expect([...draw(restored, 5), restored.normal(), restored.nextInt(1000)]).toEqual(next);
    expect(() => restored.setState({ seed: -1, counter: 0 })).toThrow(RangeError);
    // clone continues identically but independently
    const c = r.clone();
    expect(draw(c, 3)).toEqual(draw(r, 3));
  });

  it('fork gives independent substreams that do not depend on parent draws', () => {
    const a = new Rng(5);
    const b = new Rng(5);
    draw(b, 100);
    expect(draw(a.fork('split'))).toEqual(draw(b.fork('split')));
    expect(draw(a.fork('split'))).not.toEqual(draw(a.fork('epoch:0')));
    expect(draw(a.fork('split'))).not.toEqual(draw(a));
    expect(draw(new Rng(6).fork('split'))).not.toEqual(draw(new Rng(5).fork('split')));
    expect(draw(a.fork('x').fork('y'))).toEqual(draw(new Rng(5).fork('x').fork('y')));
    expect(hashString('a')).not.toBe(hashString('b'));
  });
});
