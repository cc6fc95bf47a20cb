/**
 * Random sampling: rand/randn (and their `*_like`), randint, randperm, the in-place `uniform_`/`normal_`, and
 * the global generator (`manualSeed`, `initialSeed`, `seed`). Each takes PyTorch's signature, keywords in a final
 * options object (see creation-args.ts for the parameters they share with the other creation ops).
 */
import type { Device } from "../backend";
import type { DType } from "../dtype";
import { allocTypedArray, checkAllocation, isFloat } from "../dtype";
import { DTypeError } from "../errors";
import { defaultGenerator, Generator, randomUniform } from "../random";
import { numel } from "../shape";
import { ArgumentError, arg, k, op, overloads, self, signature } from "../signature";
import { emptyTensor, type Tensor, tensorFromData } from "../tensor";
import {
  checkCount,
  checkRequiresGrad,
  checkSize,
  defaultIntOn,
  FACTORY_KEYWORDS,
  finish,
  getDefaultDevice,
  LIKE_KEYWORDS,
  type LikeArgs,
  resolveDtype,
  type SizeArgs,
  sizeArg,
} from "./creation-args";
import { checkScalarFits } from "./range-check";

const generatorArg = arg.opt("generator", k.instance(Generator, "Generator"));
/** `*, generator=None, out=None, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False` */
const RANDOM_KEYWORDS = [generatorArg, ...FACTORY_KEYWORDS] as const;

function randomFill(
  fn: string,
  shape: readonly number[],
  dist: "uniform" | "normal",
  dtype: DType,
  device: Device | null,
  generator: Generator | null,
  requiresGrad: boolean,
): Tensor {
  if (!isFloat(dtype)) {
    throw new DTypeError(
      `${fn}(): expected a floating point dtype, got ${dtype} (${dist === "uniform" ? '"check_uniform_bounds"' : '"normal_kernel"'} is not implemented for integers)`,
    );
  }
  const t = emptyTensor(shape, dtype, device ?? getDefaultDevice(), `${fn}()`);
  const { key, counter } = (generator ?? defaultGenerator).next(t.numel());
  if (t.numel() > 0) t.backend.random(dist, key, counter, t.view_);
  return finish(t, requiresGrad);
}

/** The op `fn(*size, *, generator=None, ...)`: `size` drawn from `dist`, float32 unless a dtype is given. */
const bySize =
  (fn: string, dist: "uniform" | "normal") =>
  ({ size, generator, dtype, device, requiresGrad }: SizeArgs & { generator: Generator | null }): Tensor =>
    randomFill(
      fn,
      checkSize(fn, size),
      dist,
      resolveDtype(fn, dtype, "float32"),
      device,
      generator,
      requiresGrad,
    );

/** The op `fn(input, *, ...)`: the input's shape drawn from `dist`, on its dtype and device unless given. */
const likeInput =
  (fn: string, dist: "uniform" | "normal") =>
  ({ input, dtype, device, requiresGrad }: LikeArgs): Tensor =>
    randomFill(
      fn,
      input.shape,
      dist,
      resolveDtype(fn, dtype, input.dtype),
      device ?? input.device,
      null,
      requiresGrad,
    );

/** `rand_like(input, *, memory_format=None, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False)` */
export const randLike = op(
  signature("randLike", [self], LIKE_KEYWORDS, { forms: ["function"] }),
  likeInput("randLike", "uniform"),
);

/** `randn_like(input, *, memory_format=None, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False)` */
export const randnLike = op(
  signature("randnLike", [self], LIKE_KEYWORDS, { forms: ["function"] }),
  likeInput("randnLike", "normal"),
);

/**
 * `rand(*size, *, generator=None, out=None, dtype=None, layout=None, device=None, pin_memory=False,
 * requires_grad=False)`: uniform on [0, 1).
 */
export const rand = op(signature("rand", [sizeArg], RANDOM_KEYWORDS), bySize("rand", "uniform"));

/**
 * `randn(*size, *, generator=None, out=None, dtype=None, layout=None, device=None, pin_memory=False,
 * requires_grad=False)`: standard normal.
 */
export const randn = op(signature("randn", [sizeArg], RANDOM_KEYWORDS), bySize("randn", "normal"));

const RANDINT_HIGH = signature("randint", [arg("high", k.int), arg("size", k.ints)], RANDOM_KEYWORDS);
const RANDINT = signature(
  "randint",
  [arg("low", k.int), arg("high", k.int), arg("size", k.ints)],
  RANDOM_KEYWORDS,
);

interface RandintArgs extends SizeArgs {
  generator: Generator | null;
}

function randintImpl(low: number, high: number, a: RandintArgs): Tensor {
  if (!(high > low)) {
    throw new ArgumentError(
      `randint(): expected low < high, got low=${low}, high=${high} (random_ expects 'from' to be less than 'to')`,
    );
  }
  const shape = checkSize("randint", a.size);
  const dtype = resolveDtype("randint", a.dtype, defaultIntOn(a.device));
  checkScalarFits("randint", low, dtype, a.dtype === null);
  checkScalarFits("randint", high - 1, dtype, a.dtype === null);
  checkRequiresGrad("randint", a.requiresGrad, dtype);
  checkAllocation(numel(shape), dtype, "randint()", shape);
  // float32, which every device has (WebGPU has no float64); u has 24 random bits, exact in float32, and the
  // clamp catches the one rounding of u * range that could reach `high`
  const u = randomFill("randint", shape, "uniform", "float32", a.device, a.generator, false);
  const range = high - low;
  // v: integers in [0, range), exact in float32 (u * range has at most 24 significant bits above the point)
  const v = u
    .mul(range)
    .floor()
    .clamp({ max: range - 1 });
  return finish(offsetBy(v, low, range, dtype), a.requiresGrad);
}

/**
 * `low + v` in `dtype` without an int32 overflow on the way: float dtypes add in their own precision; int32 casts
 * v directly while it fits, and for ranges beyond 2^31 (low < 0 < high) takes 2^31 off the large draws (exact:
 * Sterbenz) and adds it back as two halves, every intermediate inside int32 because the result is.
 */
function offsetBy(v: Tensor, low: number, range: number, dtype: DType): Tensor {
  // int64 holds every intermediate exactly (v < 2^24 and the result within its checked range)
  if (isFloat(dtype) || dtype === "int64") return v.to(dtype).add(low);
  if (range <= 2 ** 31) return v.to("int32").add(low).to(dtype);
  const big = v.ge(2 ** 31);
  const half = big.to("int32").mul(2 ** 30);
  return v
    .sub(big.to("float32").mul(2 ** 31))
    .to("int32")
    .add(low)
    .add(half)
    .add(half)
    .to(dtype);
}

/**
 * `randint(high, size, *, ...)` and `randint(low, high, size, *, generator=None, out=None, dtype=None,
 * layout=None, device=None, pin_memory=False, requires_grad=False)`: integers uniform on [low, high); int64 by
 * default (int32 on a backend without int64).
 */
export const randint = overloads(
  op(RANDINT_HIGH, (a): Tensor => randintImpl(0, a.high, a)),
  op(RANDINT, (a): Tensor => randintImpl(a.low, a.high, a)),
);

const RANDPERM = signature("randperm", [arg("n", k.int)], RANDOM_KEYWORDS);
/**
 * `randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, pin_memory=False,
 * requires_grad=False)`: a random permutation of 0..n-1 (int64 by default, int32 on a backend without
 * int64), from the seeded generator (shuffled in int32, then cast).
 */
export const randperm = op(RANDPERM, ({ n, generator, dtype: asked, device, requiresGrad }): Tensor => {
  checkCount("randperm", "n", n);
  const dtype = resolveDtype("randperm", asked, defaultIntOn(device));
  checkRequiresGrad("randperm", requiresGrad, dtype);
  checkAllocation(n, "int32", "randperm()", [n]);
  if (n > 2 ** 31) {
    throw new ArgumentError(
      `randperm(): argument "n" must be at most 2^31 (the values are int32, Cinder's integer type), got ${n}`,
    );
  }
  const { key, counter } = (generator ?? defaultGenerator).next(n);
  const p = allocTypedArray("int32", n, "randperm()");
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(randomUniform(key, counter + i) * (i + 1));
    const tmp = p[i];
    p[i] = p[j];
    p[j] = tmp;
  }
  const t = tensorFromData(p, [n], "int32", device ?? getDefaultDevice(), "randperm()");
  return finish(dtype === "int32" ? t : t.to(dtype), requiresGrad);
});

/** Fill `t` in place with `scale * r + shift`, r drawn from `dist` (in t's dtype, float32 for integer tensors). */
function fillInPlace(
  fn: string,
  t: Tensor,
  dist: "uniform" | "normal",
  scale: number,
  shift: number,
  generator: Generator | null,
): Tensor {
  const r = randomFill(
    fn,
    t.shape,
    dist,
    t.isFloatingPoint() ? t.dtype : "float32",
    t.device,
    generator,
    false,
  );
  const rv = r.mul(scale).add(shift).view_;
  t.backend.copy(rv, t.writeView_);
  t.bumpVersion();
  return t;
}

/** `Tensor.uniform_(from_=0, to=1, *, generator=None)`: fills in place, uniform on [from_, to). */
export const uniform_ = op(
  signature("uniform_", [self, arg("from_", k.float, 0), arg("to", k.float, 1)], [generatorArg], {
    forms: ["method"],
  }),
  ({ input: t, from_, to, generator }): Tensor => {
    if (!(from_ <= to)) {
      throw new ArgumentError(
        `uniform_(): expected from_ <= to, got from_=${from_}, to=${to} (uniform_ expects to return a [from, to) range)`,
      );
    }
    return fillInPlace("uniform_", t, "uniform", to - from_, from_, generator);
  },
);

/** `Tensor.normal_(mean=0, std=1, *, generator=None)`: fills in place from N(mean, std^2). */
export const normal_ = op(
  signature("normal_", [self, arg("mean", k.float, 0), arg("std", k.float, 1)], [generatorArg], {
    forms: ["method"],
  }),
  ({ input: t, mean, std, generator }): Tensor => {
    if (!(std >= 0)) throw new ArgumentError(`normal_(): argument "std" must be >= 0, got ${std}`);
    return fillInPlace("normal_", t, "normal", std, mean, generator);
  },
);

// ---- the global generator ----

/** `manual_seed(seed)`: seed the global generator (restarting its stream); returns it. */
export const manualSeed = op(
  signature("manualSeed", [arg("seed", k.int)]),
  ({ seed }): Generator => defaultGenerator.manualSeed(seed),
);
/** `initial_seed()`: the global generator's seed. */
export const initialSeed = op(signature("initialSeed", []), (): number => defaultGenerator.initialSeed());
/** `seed()`: seed the global generator non-deterministically; returns the seed. */
export const seed = op(signature("seed", []), (): number => defaultGenerator.seed());
