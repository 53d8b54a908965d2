/**
 * Seeded pseudo-random numbers for the neighbourhood simulation.
 *
 * Generator: mulberry32 (Tommy Ettinger, 2017, public domain): a 32-bit state advanced by the
 * Weyl increment 0x6D2B79F5 and scrambled by two xorshift-multiply rounds. Period 2^32, passes
 * gjrand/PractRand up to several GB: ample for one simulated day (a few hundred thousand draws).
 * Every operation is 32-bit integer arithmetic (`Math.imul`, `>>>`), so the sequence is
 * identical on every JavaScript engine and platform.
 *
 * Independent streams are derived from one user seed and a label (`deriveSeed(seed, "cloud")`),
 * so adding draws to one sub-model never shifts the numbers another sub-model sees.
 */

/** A 32-bit unsigned integer seed. */
export type Seed = number;

/** FNV-1a over the UTF-16 code units of `text`, then murmur3's fmix32 finaliser. */
function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h >>> 0);
}

/** murmur3 32-bit finaliser: a bijection on uint32 with full avalanche. */
function fmix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A seed for an independent stream: a hash of the parent seed and the labels (strings or
 * integers). Same inputs, same seed; any change of input gives an unrelated seed.
 */
export function deriveSeed(seed: Seed, ...labels: ReadonlyArray<string | number>): Seed {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new RangeError(`seed must be a uint32, got ${seed}`);
  return hashString(`${seed >>> 0}/${labels.join("/")}`);
}

/**
 * mulberry32 with a readable, restorable state (`state`), plus the draws the simulation needs.
 * Not cryptographic; never use it for keys or nonces.
 */
export class Prng {
  /** The current 32-bit state; `new Prng(prng.state)` continues the same sequence. */
  state: number;

  constructor(seed: Seed) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
      throw new RangeError(`seed must be a uint32, got ${seed}`);
    this.state = seed >>> 0;
  }

  /** Next uniform uint32. */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [min, max). */
  uniformIn(min: number, max: number): number {
    return min + (max - min) * this.uniform();
  }

  /** Uniform integer in [min, max] (both inclusive); modulo bias is below 2^-20 for spans under 4096. */
  integerIn(min: number, max: number): number {
    if (!Number.isInteger(min) || !Number.isInteger(max) || max < min)
      throw new RangeError(`bad integer range [${min}, ${max}]`);
    return min + (this.nextUint32() % (max - min + 1));
  }

  /** True with probability `p`. */
  bernoulli(p: number): boolean {
    return this.uniform() < p;
  }

  /**
   * Standard normal by the Box–Muller transform (Box & Muller, 1958): z = sqrt(-2 ln u1) cos(2π u2),
   * u1 in (0, 1]. One normal per two uniforms (the sine twin is discarded, which keeps the
   * state a single integer).
   */
  normal(mean = 0, sd = 1): number {
    const u1 = 1 - this.uniform(); // (0, 1]: ln(u1) is finite
    const u2 = this.uniform();
    return mean + sd * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Lognormal: exp(N(mu, sigma²)); the median is exp(mu), the mean exp(mu + sigma²/2). */
  lognormal(mu: number, sigma: number): number {
    return Math.exp(this.normal(mu, sigma));
  }

  /** Mean-one lognormal factor exp(sigma·z − sigma²/2): multiplicative noise that does not bias the mean. */
  meanOneLognormal(sigma: number): number {
    return Math.exp(sigma * this.normal() - (sigma * sigma) / 2);
  }
}
