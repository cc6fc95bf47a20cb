/**
 * Counter-based random numbers: element i of a draw is a pure function of (key, counter + i), so any
 * backend (a CPU loop, a WGSL shader) produces the same stream, and a seeded program gives the same
 * numbers on every device. The hash is 32-bit integer arithmetic only (Math.imul / WGSL u32 multiply).
 */
import { arg, type CallsOf, k, Signature, signature } from "./signature";

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

/** What `getState()` returns and `setState()` takes (PyTorch's is a ByteTensor; Cinder's state is two numbers). */
export interface GeneratorState {
  seed: number;
  counter: number;
}

/** Seeds: PyTorch takes any 64-bit integer; Cinder's are the integers a JS number holds exactly. */
const seedKind = k.where(
  k.int,
  (s) => s >= 0 && s <= Number.MAX_SAFE_INTEGER,
  "a non-negative integer below 2^53",
);
const isState = (s: Record<string, unknown>): boolean =>
  Object.keys(s).length === 2 &&
  Number.isInteger(s.seed) &&
  (s.seed as number) >= 0 &&
  (s.seed as number) <= Number.MAX_SAFE_INTEGER &&
  Number.isInteger(s.counter) &&
  (s.counter as number) >= 0 &&
  (s.counter as number) < 4294967296;

/** `Generator.manual_seed(seed) -> Generator` */
const MANUAL_SEED = signature("Generator.manualSeed", [arg("seed", seedKind)]);
/** `Generator.initial_seed() -> int` */
const INITIAL_SEED = signature("Generator.initialSeed", []);
/** `Generator.seed() -> int`: a fresh non-deterministic seed, set and returned. */
const SEED = signature("Generator.seed", []);
/** `Generator.get_state() -> state` */
const GET_STATE = signature("Generator.getState", []);
/** `Generator.set_state(new_state) -> Generator` */
const SET_STATE = signature("Generator.setState", [
  arg("newState", k.where(k.dict, isState, "a Generator state { seed, counter } from getState()")),
]);
/**
 * The constructor: PyTorch's `Generator(device='cpu')` (Cinder's streams are the same on every device, so the
 * device is only recorded), and Cinder's shorthand `new Generator(seed)` for `new Generator().manualSeed(seed)`,
 * declared apart (not registered: it is not PyTorch's).
 */
const CONSTRUCTOR = signature("Generator", [arg("device", k.device, "cpu")]);
const CONSTRUCTOR_SEED = new Signature(
  "Generator",
  [arg.opt("seed", seedKind)] as const,
  [arg("device", k.device, "cpu")] as const,
);

/** A non-deterministic seed (PyTorch's `default_rng_seed_val` is similar: time and entropy). */
function freshSeed(): number {
  return (Date.now() * 1000 + Math.floor(Math.random() * 1000)) % Number.MAX_SAFE_INTEGER;
}

/**
 * A random number generator (torch.Generator): a seed and a counter that advances by the number of values drawn.
 * `new Generator()` seeds itself non-deterministically; `new Generator(seed)` is `new Generator().manualSeed(seed)`.
 */
export class Generator {
  private seed_ = 0;
  private key = seedKey(0);
  private counter = 0;
  /** The device named at construction (streams do not depend on it). */
  readonly device: string;
  constructor(...args: CallsOf<typeof CONSTRUCTOR>);
  constructor(...args: CallsOf<typeof CONSTRUCTOR_SEED>);
  constructor(...args: unknown[]) {
    const torch = CONSTRUCTOR.tryParse(args);
    const { seed, device } =
      typeof torch !== "string" ? { seed: null, ...torch } : CONSTRUCTOR_SEED.parse(args);
    this.device = device;
    this.setSeed(seed ?? freshSeed());
  }
  private setSeed(seed: number): void {
    this.seed_ = seed;
    this.key = seedKey(seed);
    this.counter = 0;
  }
  /** Set the seed (and restart the stream); returns the generator. */
  manualSeed(...args: CallsOf<typeof MANUAL_SEED>): this {
    this.setSeed(MANUAL_SEED.parse(args).seed);
    return this;
  }
  /** The seed last set. */
  initialSeed(...args: CallsOf<typeof INITIAL_SEED>): number {
    INITIAL_SEED.parse(args);
    return this.seed_;
  }
  /** Seed with a fresh non-deterministic seed and return it. */
  seed(...args: CallsOf<typeof SEED>): number {
    SEED.parse(args);
    const s = freshSeed();
    this.setSeed(s);
    return s;
  }
  /** Reserve `n` consecutive counters; returns the key and the first counter. */
  next(n: number): { key: number; counter: number } {
    const r = { key: this.key, counter: this.counter };
    this.counter = (this.counter + n) % 4294967296;
    return r;
  }
  /** The state (`{ seed, counter }`), for `setState`. */
  getState(...args: CallsOf<typeof GET_STATE>): GeneratorState {
    GET_STATE.parse(args);
    return { seed: this.seed_, counter: this.counter };
  }
  /** Restore a state from `getState()`; returns the generator. */
  setState(...args: [newState: GeneratorState]): this {
    const s = SET_STATE.parse(args).newState as unknown as GeneratorState;
    this.setSeed(s.seed);
    this.counter = s.counter;
    return this;
  }
}

/** The global generator: random ops use it unless given a `generator`, and `manualSeed` seeds it. */
export const defaultGenerator = new Generator();
