/**
 * Random sampling beyond rand/randn (issue 14): `normal` (its four overloads), `bernoulli` / `bernoulli_`,
 * `multinomial`, `poisson` and the in-place fills `exponential_`, `geometric_`, `logNormal_`, `cauchy_`, `random_`,
 * each with PyTorch 1.13's signature and checks, drawing from Cinder's counter-based generators (the global one, or a
 * `generator` given), so a seed gives the same values on every device (not PyTorch's stream).
 *
 * `normal`, `bernoulli` and the fills are transforms of `rand`/`randn` draws by tensor ops, so they run on every
 * backend; `multinomial` and `poisson` run on the host (their draws take a data-dependent number of uniforms) and
 * need a device with synchronous reads, else an error naming `toAsync("cpu")`. Tensor parameters out of range (a
 * negative std, a probability outside [0, 1]) are errors where the device reads synchronously and NaN in a float
 * result elsewhere (WebGPU; PyTorch's CUDA kernels check asynchronously too). As in PyTorch's derivatives.yaml, the
 * samples' gradients with respect to the parameters are zero (`NormalBackward*`, `BernoulliBackward0`,
 * `PoissonBackward0`): sampling is not reparameterized.
 */
import { type DType, defaultIntDtype, isFloat } from "../dtype";
import { DTypeError, ShapeError } from "../errors";
import { needsGradAny, recordOp } from "../grad";
import { defaultGenerator, Generator, hash32, randomUniform } from "../random";
import { broadcastShapes } from "../shape";
import { ArgumentError, arg, k, op, overloads, self, signature } from "../signature";
import { type Tensor, tensorFromData } from "../tensor";
import { zeros } from "./creation";
import { checkSize, FACTORY_KEYWORDS, finish, resolveDtype } from "./creation-args";
import { inplace, type TensorOrScalar, where } from "./elementwise";
import { writeOut } from "./elementwise-signatures";
import { fromF64, readF64 } from "./linalg-host";
import { rand, randint, randn } from "./sampling";

const generatorArg = arg.opt("generator", k.instance(Generator, "Generator"));
const outOpt = arg.opt("out", k.tensor);
const method = { forms: ["method"] as const };
const fn = { forms: ["function"] as const };

/** Uniforms on [0, 1) (or standard normals) of `like`'s shape, in its dtype when float64, else float32. */
function draw(
  dist: "uniform" | "normal",
  like: { shape: readonly number[]; dtype: string; device: string },
  g: Generator | null,
): Tensor {
  const dtype = like.dtype === "float64" ? "float64" : "float32";
  const opts = { dtype, device: like.device, generator: g } as const;
  return dist === "uniform" ? rand([...like.shape], opts) : randn([...like.shape], opts);
}

/** The sample's gradient: zero for every parameter tensor, as PyTorch's derivatives.yaml. */
function zeroGrad(name: string, inputs: readonly (Tensor | null)[], output: Tensor): Tensor {
  if (!needsGradAny(inputs)) return output;
  const zero = (t: Tensor) => zeros([...t.shape], { dtype: t.dtype, device: t.device });
  return recordOp({ name, inputs, output, backward: () => inputs.map((t) => (t ? zero(t) : null)) });
}

/**
 * Checks tensor parameters elementwise: where `bad` holds, an error on devices that read synchronously; elsewhere
 * (WebGPU) the mask, so the caller writes NaN there (PyTorch's CUDA kernels too check asynchronously).
 */
function validate(bad: Tensor, message: string): Tensor | null {
  if (!bad.backend.readSync) return bad;
  if (bad.numel() > 0 && (bad.any().item() as boolean)) throw new ArgumentError(message);
  return null;
}
/** `y` with NaN where `bad` (a float result), as `validate` leaves it to the caller. */
const poisoned = (y: Tensor, bad: Tensor | null): Tensor =>
  bad && isFloat(y.dtype) ? where(bad, Number.NaN, y) : y;

const floatOnly = (what: string, kernel: string, dtype: DType): void => {
  if (!isFloat(dtype))
    throw new DTypeError(
      `${what}(): "${kernel}" not implemented for '${dtype}' (a floating point tensor is expected)`,
    );
};

// ---- normal ----

/** std >= 0, as PyTorch's message; for a tensor std, `validate`'s mask. */
function checkStd(std: TensorOrScalar): Tensor | null {
  if (typeof std === "object") {
    return validate(
      std.lt(0).logicalOr(std.isnan()),
      "normal(): normal expects all elements of std >= 0.0, but found std < 0",
    );
  }
  if (!(+std >= 0)) throw new ArgumentError(`normal(): normal expects std >= 0.0, but found std ${std}`);
  return null;
}

/** `mean + std * randn(shape)` with the zero gradients PyTorch records for `mean` / `std`. */
function normalValue(
  mean: TensorOrScalar,
  std: TensorOrScalar,
  g: Generator | null,
  out: Tensor | null,
  name: string,
): Tensor {
  const bad = checkStd(std);
  const m = typeof mean === "object" ? mean : null;
  const s = typeof std === "object" ? std : null;
  const like = (m ?? s) as Tensor;
  floatOnly("normal", "normal_kernel_cpu", like.dtype);
  const shape = m && s ? broadcastShapes(m.shape, s.shape, "normal") : like.shape;
  const z = draw("normal", { shape, dtype: like.dtype, device: like.device }, g);
  const detached = (v: TensorOrScalar) => (typeof v === "object" ? v.detach() : v);
  const y = poisoned(z.mul(detached(std)).add(detached(mean)).to(like.dtype), bad);
  if (out) return writeOut("normal", y, out, [mean, std]);
  return zeroGrad(name, [m, s], y);
}

const NORMAL_KEYWORDS = [generatorArg, outOpt] as const;
/**
 * `normal(mean, std, *, generator=None, out=None)` with tensor and/or float `mean`/`std` (broadcast), and
 * `normal(mean, std, size, *, generator=None, out=None, dtype=None, ...)` with two floats: samples of N(mean, std^2).
 */
export const normal = overloads(
  op(
    signature("normal", [arg("mean", k.tensor), arg("std", k.tensor)], NORMAL_KEYWORDS, fn),
    (a): Tensor => normalValue(a.mean, a.std, a.generator, a.out, "NormalBackward3"),
  ),
  op(
    signature("normal", [arg("mean", k.tensor), arg("std", k.float, 1)], NORMAL_KEYWORDS, fn),
    (a): Tensor => normalValue(a.mean, a.std, a.generator, a.out, "NormalBackward1"),
  ),
  op(
    signature("normal", [arg("mean", k.float), arg("std", k.tensor)], NORMAL_KEYWORDS, fn),
    (a): Tensor => normalValue(a.mean, a.std, a.generator, a.out, "NormalBackward2"),
  ),
  op(
    signature(
      "normal",
      [arg("mean", k.float), arg("std", k.float), arg("size", k.ints)],
      [generatorArg, ...FACTORY_KEYWORDS],
      fn,
    ),
    (a): Tensor => {
      checkStd(a.std);
      const dtype = resolveDtype("normal", a.dtype, "float32");
      floatOnly("normal", "normal_kernel_cpu", dtype);
      const z = randn(checkSize("normal", a.size), {
        dtype,
        device: a.device ?? undefined,
        generator: a.generator,
      });
      return finish(z.mul(a.std).add(a.mean), a.requiresGrad);
    },
  ),
);

// ---- bernoulli ----

/** p in [0, 1], as PyTorch's messages; for a tensor p, `validate`'s mask. */
function checkP(what: string, p: TensorOrScalar): Tensor | null {
  if (typeof p === "object") {
    floatOnly(what, "bernoulli_tensor_cpu_p_", p.dtype);
    const bad = p.lt(0).logicalOr(p.gt(1)).logicalOr(p.isnan());
    return validate(
      bad,
      `${what}(): expected every probability p in [0, 1] (Expected p_in >= 0 && p_in <= 1)`,
    );
  }
  if (!(+p >= 0 && +p <= 1)) {
    throw new ArgumentError(`${what}(): bernoulli_ expects p to be in [0, 1], but got p=${p}`);
  }
  return null;
}

/** 1 where a uniform draw of `like`'s shape is below `p` (a number or a tensor broadcast to it), in `like`'s dtype. */
function bernoulliDraw(like: Tensor, p: TensorOrScalar, g: Generator | null): Tensor {
  const pf = typeof p === "object" ? p.detach() : p;
  const wide = like.dtype === "float64" || (typeof pf === "object" && pf.dtype === "float64");
  const u = draw(
    "uniform",
    { shape: like.shape, dtype: wide ? "float64" : "float32", device: like.device },
    g,
  );
  return u.lt(pf).to(like.dtype);
}

function bernoulliOfInput(input: Tensor, g: Generator | null, out: Tensor | null): Tensor {
  const y = poisoned(bernoulliDraw(input, input, g), checkP("bernoulli", input));
  return out ? writeOut("bernoulli", y, out, [input]) : zeroGrad("BernoulliBackward0", [input], y);
}
function bernoulliOfP({
  input,
  p,
  generator,
}: {
  input: Tensor;
  p: number;
  generator: Generator | null;
}): Tensor {
  checkP("bernoulli", p);
  return bernoulliDraw(input, p, generator); // as PyTorch's: not differentiable (no grad_fn)
}
const pArg = arg("p", k.float);
/** `bernoulli(input, *, generator=None, out=None)`, `bernoulli(input, p, *, generator=None)`: 1 with probability `input` (or `p`), else 0. */
export const bernoulli = overloads(
  op(
    signature("bernoulli", [self], [generatorArg, outOpt], fn),
    (a): Tensor => bernoulliOfInput(a.input, a.generator, a.out),
  ),
  op(signature("bernoulli", [self, pArg], [generatorArg], fn), bernoulliOfP),
);
/** `x.bernoulli(*, generator=None)`, `x.bernoulli(p, *, generator=None)` */
export const bernoulliMethod = overloads(
  op(
    signature("bernoulli", [self], [generatorArg], method),
    (a): Tensor => bernoulliOfInput(a.input, a.generator, null),
  ),
  op(signature("bernoulli", [self, pArg], [generatorArg], method), bernoulliOfP),
);

/** `x.bernoulli_(p=0.5, *, generator=None)`: each element set to 1 with probability `p` (a number or a tensor broadcast to x), else 0. */
export const bernoulli_ = op(
  signature("bernoulli_", [self, arg("p", k.tensorOrScalar, 0.5)], [generatorArg], method),
  ({ input, p, generator }): Tensor => {
    const bad = checkP("bernoulli_", p);
    if (typeof p === "object") p.expand(input.shape);
    return inplace(input, [], () => poisoned(bernoulliDraw(input, p, generator), bad), "bernoulli_");
  },
);

// ---- multinomial ----

/**
 * `n` draws from each row of `probs` ([rows, c], row-major, every row with a positive sum). With replacement: the
 * inverse of the cumulative sums, by binary search (O(c + n log c) a row). Without: the Efraimidis-Spirakis keys
 * log(u_j) / w_j, largest first, which is distributed as drawing one category at a time in proportion to the weights
 * and removing it (PyTorch's distribution; it takes the top n of -Exp(1) / w the same way), O(c log c) a row.
 */
function sampleRows(
  probs: Float64Array,
  rows: number,
  c: number,
  n: number,
  replacement: boolean,
  g: Generator | null,
): Int32Array {
  const out = new Int32Array(rows * n);
  const per = replacement ? n : c;
  const { key, counter } = (g ?? defaultGenerator).next(rows * per);
  const u = (r: number, i: number) => randomUniform(key, counter + r * per + i);
  const acc = new Float64Array(c);
  const order = Array.from({ length: c }, (_, j) => j);
  for (let r = 0; r < rows; r++) {
    const w = probs.subarray(r * c, (r + 1) * c);
    if (replacement) {
      let total = 0;
      for (let j = 0; j < c; j++) {
        total += w[j];
        acc[j] = total;
      }
      for (let i = 0; i < n; i++) {
        // the first category whose cumulative sum exceeds u * total (never one of weight 0: its sum equals the one before)
        const target = u(r, i) * total;
        let lo = 0;
        let hi = c - 1;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (acc[mid] > target) hi = mid;
          else lo = mid + 1;
        }
        out[r * n + i] = lo;
      }
    } else {
      for (let j = 0; j < c; j++) acc[j] = w[j] > 0 ? Math.log(1 - u(r, j)) / w[j] : Number.NEGATIVE_INFINITY;
      order.sort((a, b) => acc[b] - acc[a] || a - b);
      for (let i = 0; i < n; i++) out[r * n + i] = order[i];
    }
  }
  return out;
}

function multinomialValue(input: Tensor, n: number, replacement: boolean, g: Generator | null): Tensor {
  const what = "multinomial";
  if (input.ndim !== 1 && input.ndim !== 2)
    throw new ShapeError(`${what}(): prob_dist must be 1 or 2 dim, got ${input.ndim} dims`);
  if (!isFloat(input.dtype))
    throw new DTypeError(
      `${what}(): multinomial only supports floating-point dtypes for input, got: ${input.dtype}`,
    );
  if (n <= 0)
    throw new ArgumentError(`${what}(): cannot sample n_sample <= 0 samples (got num_samples=${n})`);
  const c = input.shape[input.ndim - 1];
  if (!replacement && n > c)
    throw new ArgumentError(
      `${what}(): cannot sample n_sample > prob_dist.size(-1) samples without replacement (${n} > ${c})`,
    );
  const rows = input.ndim === 2 ? input.shape[0] : 1;
  const p = readF64(input, what);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    let positive = 0;
    for (let j = 0; j < c; j++) {
      const v = p[r * c + j];
      if (!(v >= 0 && v < Number.POSITIVE_INFINITY))
        throw new ArgumentError(
          `${what}(): probability tensor contains either \`inf\`, \`nan\` or element < 0 (${v} in row ${r})`,
        );
      sum += v;
      if (v > 0) positive++;
    }
    if (!(sum > 0))
      throw new ArgumentError(
        `${what}(): invalid multinomial distribution (sum of probabilities <= 0) in row ${r}`,
      );
    if (!replacement && positive < n) {
      throw new ArgumentError(
        `${what}(): invalid multinomial distribution (with replacement=False, not enough non-negative category to sample): row ${r} has ${positive} positive probabilities, ${n} samples asked`,
      );
    }
  }
  const shape = input.ndim === 2 ? [rows, n] : [n];
  return tensorFromData(
    sampleRows(p, rows, c, n, replacement, g),
    shape,
    "int32",
    input.device,
    `${what}()`,
  ).to(defaultIntDtype(input.backend));
}

const MULTINOMIAL = [self, arg("numSamples", k.int), arg("replacement", k.bool, false)] as const;
/**
 * `multinomial(input, num_samples, replacement=False, *, generator=None, out=None)`: `num_samples` category indices
 * (int32) drawn from each row of the 1-D or 2-D weights `input`; runs on the host (devices with synchronous reads).
 */
export const multinomial = op(
  signature("multinomial", MULTINOMIAL, [generatorArg, outOpt], fn),
  ({ input, numSamples, replacement, generator, out }): Tensor => {
    const y = multinomialValue(input, numSamples, replacement, generator);
    return out ? writeOut("multinomial", y, out, [input]) : y;
  },
);
/** `x.multinomial(num_samples, replacement=False, *, generator=None)` */
export const multinomialMethod = op(
  signature("multinomial", MULTINOMIAL, [generatorArg], method),
  ({ input, numSamples, replacement, generator }): Tensor =>
    multinomialValue(input, numSamples, replacement, generator),
);

// ---- poisson ----

/**
 * One Poisson(rate) draw from the uniforms `u(0), u(1), ...`: PyTorch's CPU sampler, Knuth's product of uniforms
 * below rate 10 and Hormann's transformed rejection (PTRS) from 10 on.
 */
export function samplePoisson(rate: number, u: (j: number) => number): number {
  if (rate === 0) return 0;
  if (rate === Number.POSITIVE_INFINITY) return rate;
  let j = 0;
  if (rate < 10) {
    const limit = Math.exp(-rate);
    let prod = 1;
    let k = -1;
    do {
      prod *= u(j++);
      k++;
    } while (prod > limit);
    return k;
  }
  const slam = Math.sqrt(rate);
  const loglam = Math.log(rate);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const U = u(j++) - 0.5;
    const V = u(j++);
    const us = 0.5 - Math.abs(U);
    const k = Math.floor(((2 * a) / us + b) * U + rate + 0.43);
    if (us >= 0.07 && V <= vr) return k;
    if (k < 0 || (us < 0.013 && V > us)) continue;
    if (Math.log(V) + Math.log(invalpha) - Math.log(a / (us * us) + b) <= -rate + k * loglam - lgamma(k + 1))
      return k;
  }
}

/** log Gamma(x) for x >= 1 (Lanczos, g = 7, n = 9: ~1e-15 relative). */
function lgamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let s = c[0];
  for (let i = 1; i < 9; i++) s += c[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

/** `poisson(input, generator=None)`: a Poisson(rate) count for each rate of `input` (floats, >= 0), in its dtype; on the host. */
export const poisson = op(
  signature("poisson", [self, generatorArg], [], fn),
  ({ input, generator }): Tensor => {
    floatOnly("poisson", "poisson_cpu", input.dtype);
    const rates = readF64(input, "poisson");
    const { key, counter } = (generator ?? defaultGenerator).next(rates.length);
    const out = new Float64Array(rates.length);
    for (let i = 0; i < rates.length; i++) {
      if (!(rates[i] >= 0))
        throw new ArgumentError("poisson(): invalid Poisson rate, expected rate to be non-negative");
      // each element draws its uniforms from a key of its own, as many as its sampler takes
      const sub = hash32(key ^ hash32((counter + i) >>> 0));
      out[i] = samplePoisson(rates[i], (j) => 1 - randomUniform(sub, j));
    }
    return zeroGrad("PoissonBackward0", [input], fromF64(out, input.shape, input));
  },
);

// ---- in-place fills ----

/** Fill `t` in place with `f(uniform or normal draw)` (computed in float64 for float64 tensors, float32 otherwise). */
function fill(
  what: string,
  t: Tensor,
  dist: "uniform" | "normal",
  f: (r: Tensor) => Tensor,
  g: Generator | null,
): Tensor {
  return inplace(t, [], () => f(draw(dist, t, g)).to(t.dtype), what);
}

/** `x.exponential_(lambd=1, *, generator=None)`: samples of Exp(lambd) (density `lambd * exp(-lambd x)`). */
export const exponential_ = op(
  signature("exponential_", [self, arg("lambd", k.float, 1)], [generatorArg], method),
  ({ input, lambd, generator }): Tensor => {
    if (!(lambd >= 0))
      throw new ArgumentError(
        `exponential_(): exponential_ expects lambda >= 0.0, but found lambda=${lambd}`,
      );
    floatOnly("exponential_", "exponential_cpu", input.dtype);
    // -log(1 - u) / lambd, with 1 - u in (0, 1]
    return fill("exponential_", input, "uniform", (u) => u.neg().log1p().neg().div(lambd), generator);
  },
);

/** `x.geometric_(p, *, generator=None)`: the number of Bernoulli(p) trials up to the first success (1, 2, ...). */
export const geometric_ = op(
  signature("geometric_", [self, arg("p", k.float)], [generatorArg], method),
  ({ input, p, generator }): Tensor => {
    if (!(p > 0 && p < 1))
      throw new ArgumentError(`geometric_(): geometric_ expects p to be in (0, 1), but got p=${p}`);
    // ceil(log(1 - u) / log(1 - p)), at least 1
    return fill(
      "geometric_",
      input,
      "uniform",
      (u) => u.neg().log1p().div(Math.log1p(-p)).ceil().clamp({ min: 1 }),
      generator,
    );
  },
);

/** `x.logNormal_(mean=1, std=2, *, generator=None)`: `exp` of N(mean, std^2) samples. */
export const logNormal_ = op(
  signature("logNormal_", [self, arg("mean", k.float, 1), arg("std", k.float, 2)], [generatorArg], method),
  ({ input, mean, std, generator }): Tensor => {
    if (!(std > 0))
      throw new ArgumentError(`logNormal_(): log_normal_ expects std > 0.0, but found std=${std}`);
    floatOnly("logNormal_", "log_normal_cpu", input.dtype);
    return fill("logNormal_", input, "normal", (z) => z.mul(std).add(mean).exp(), generator);
  },
);

/** `x.cauchy_(median=0, sigma=1, *, generator=None)`: samples of the Cauchy distribution. */
export const cauchy_ = op(
  signature("cauchy_", [self, arg("median", k.float, 0), arg("sigma", k.float, 1)], [generatorArg], method),
  ({ input, median, sigma, generator }): Tensor => {
    floatOnly("cauchy_", "cauchy_cpu", input.dtype);
    return fill(
      "cauchy_",
      input,
      "uniform",
      (u) => u.sub(0.5).mul(Math.PI).tan().mul(sigma).add(median),
      generator,
    );
  },
);

/** The largest value `random_()` draws for a dtype: PyTorch's `[0, 2^mantissa]` for floats, the type's maximum otherwise. */
const RANDOM_TOP: Record<string, number> = {
  float32: 2 ** 24,
  float64: 2 ** 53,
  int32: 2 ** 31 - 1,
  uint8: 255,
  bool: 1,
};

function randomFill(t: Tensor, from: number, to: number | null, g: Generator | null): Tensor {
  const high = to ?? RANDOM_TOP[t.dtype] + 1;
  if (!(from < high)) {
    throw new ArgumentError(
      `random_(): random_ expects 'from' to be less than 'to', but got from=${from} >= to=${high}`,
    );
  }
  if (to !== null && high - 1 > RANDOM_TOP[t.dtype] && !isFloat(t.dtype))
    throw new ArgumentError(`random_(): to - 1 is out of bounds for ${t.dtype} (got to=${to})`);
  return inplace(t, [], () => randomIntegers(t, from, high, g).to(t.dtype), "random_");
}

/**
 * Integers uniform on [from, high) in t's shape. Ranges up to 2^24 take one 24-bit draw (randint's); wider ones more
 * bits: float64 three draws (`floor(w * range)`, w with 53 random bits), int32 31 bits assembled in int32 arithmetic and taken modulo
 * the range (a bias below range / 2^31, as PyTorch's `random() % range`). int64 (exact doubles) takes the int32 way up to
 * 2^31 and float64's beyond, and adds `from` in int64 (it may lie outside int32).
 */
function randomIntegers(t: Tensor, from: number, high: number, g: Generator | null): Tensor {
  const range = high - from;
  const like = { shape: t.shape, dtype: "float32", device: t.device };
  if (range > 2 ** 24 && (t.dtype === "float64" || (t.dtype === "int64" && range > 2 ** 31))) {
    // 72 random bits rounded to float64's 53; the rounding may reach 1, hence the clamp
    const f64 = t.dtype === "float64" ? t : { shape: t.shape, dtype: "float64" as const, device: t.device };
    const w = draw("uniform", f64, g)
      .add(draw("uniform", f64, g).mul(2 ** -24))
      .add(draw("uniform", f64, g).mul(2 ** -48));
    return w
      .mul(range)
      .floor()
      .clamp({ max: range - 1 })
      .add(from);
  }
  if (range > 2 ** 24 && range <= 2 ** 31 && !isFloat(t.dtype)) {
    const hi = draw("uniform", like, g)
      .mul(2 ** 15)
      .floor()
      .to("int32");
    const lo = draw("uniform", like, g)
      .mul(2 ** 16)
      .floor()
      .to("int32");
    const bits = hi.mul(2 ** 16).add(lo); // [0, 2^31), exact in int32
    const v = range === 2 ** 31 ? bits : bits.remainder(range);
    return (t.dtype === "int64" ? v.to("int64") : v).add(from);
  }
  const dtype = isFloat(t.dtype) || t.dtype === "int64" ? t.dtype : "int32";
  return randint(from, high, [...t.shape], { dtype, device: t.device, generator: g });
}

/**
 * `x.random_(from=0, to=None, *, generator=None)`, `x.random_(to, *, generator=None)`: integers uniform on
 * [from, to), to defaulting to the dtype's range (PyTorch's `[0, 2^mantissa]` for floats).
 */
export const random_ = overloads(
  op(
    signature("random_", [self], [generatorArg], method),
    ({ input, generator }): Tensor => randomFill(input, 0, null, generator),
  ),
  op(
    signature("random_", [self, arg("to", k.int)], [generatorArg], method),
    ({ input, to, generator }): Tensor => randomFill(input, 0, to, generator),
  ),
  op(
    signature("random_", [self, arg("from_", k.int), arg.opt("to", k.int)], [generatorArg], method),
    ({ input, from_, to, generator }): Tensor => randomFill(input, from_, to, generator),
  ),
);
