/**
 * Counter-based random numbers: element i of a draw is a pure function of (key, counter + i), so any
 * backend (a CPU loop, a WGSL shader) produces the same stream, and a seeded program gives the same
 * numbers on every device. The hash is 32-bit integer arithmetic only (Math.imul / WGSL u32 multiply).
 */

/** A 32-bit integer hash (lowbias32 by Chris Wellons). */
export function hash32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Random 32 bits for (key, index); `index` is taken modulo 2^32. */
export function randomBits(key: number, index: number): number {
  return hash32((hash32((index >>> 0) ^ key) + 0x9e3779b9) ^ (key >>> 1));
}

/** Uniform in [0, 1) with 24 random bits, exactly representable in float32. */
export function randomUniform(key: number, index: number): number {
  return (randomBits(key, index) >>> 8) / 16777216;
}

/** Standard normal by Box-Muller from two independent uniforms of the same index. */
export function randomNormal(key: number, index: number): number {
  const u1 = 1 - randomUniform(key, index); // (0, 1]
  const u2 = randomUniform(key ^ 0x5bd1e995, index);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** The key a seed maps to: seeds may be any non-negative integer below 2^53. */
export function seedKey(seed: number): number {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  return hash32(lo ^ hash32(hi ^ 0x2545f491));
}

/** The global generator: a seed and a counter that advances by the number of values drawn. */
export class Generator {
  private seed = 0;
  private key = seedKey(0);
  private counter = 0;
  constructor(seed?: number) {
    this.manualSeed(seed ?? Date.now() * 1000 + Math.floor(Math.random() * 1000));
  }
  manualSeed(seed: number): this {
    if (!Number.isInteger(seed) || seed < 0 || seed > Number.MAX_SAFE_INTEGER) {
      throw new RangeError(`manualSeed expects a non-negative integer below 2^53, got ${seed}`);
    }
    this.seed = seed;
    this.key = seedKey(seed);
    this.counter = 0;
    return this;
  }
  initialSeed(): number {
    return this.seed;
  }
  /** Reserve `n` consecutive counters; returns the key and the first counter. */
  next(n: number): { key: number; counter: number } {
    const r = { key: this.key, counter: this.counter };
    this.counter = (this.counter + n) % 4294967296;
    return r;
  }
  getState(): { seed: number; counter: number } {
    return { seed: this.seed, counter: this.counter };
  }
  setState(s: { seed: number; counter: number }): void {
    this.manualSeed(s.seed);
    this.counter = s.counter;
  }
}

export const defaultGenerator = new Generator();
