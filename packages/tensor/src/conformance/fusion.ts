/**
 * Fused elementwise programs (protocol version 2, `Backend.elementwise`). Each case runs a chain of elementwise ops
 * twice, once fused into programs and once with fusion off (one primitive call per op), and requires the same bits:
 * a node of a program rounds to its dtype exactly as the primitive's store would. Chains cover every unary and binary
 * primitive in each dtype, casts between dtypes, `where`, broadcasting and strided operands, constants, reductions at
 * the end of a chain, and the in-place writes that must not reach programs still pending (copy-on-write). Backends
 * without `elementwise` skip.
 */
import { BINARY_OPS, getBackend, UNARY_OPS } from "../backend";
import { DTYPES, type DType, isFloat } from "../dtype";
import { setFusion } from "../fusion";
import { tensor } from "../ops/creation";
import { accepts, binaryOps, unaryOps } from "../ops/elementwise";
import type { Tensor } from "../tensor";
import type { ConformanceCase, Supports } from "./support";

type Chain = (x: Tensor, y: Tensor) => Tensor;

/** Values with the special cases fused code must keep: signed zeros, halves, NaN, infinities, large magnitudes. */
const VALUES: Partial<Record<DType, number[]>> = {
  float32: [-2.5, -1, -0, 0, 0.5, 1.5, 2, 3.25, Number.NaN, Number.POSITIVE_INFINITY, -1e30, 7],
  float64: [-2.5, -1, -0, 0, 0.5, 1.5, 2, 3.25, Number.NaN, Number.NEGATIVE_INFINITY, 1e300, 7],
  float16: [-2.5, -1, -0, 0, 0.5, 1.5, 2, 3.25, Number.NaN, Number.POSITIVE_INFINITY, -60000, 7],
  bfloat16: [-2.5, -1, -0, 0, 0.5, 1.5, 2, 3.25, Number.NaN, Number.NEGATIVE_INFINITY, 1e30, 7],
  int32: [-7, -1, 0, 1, 2, 3, 5, 100, -100, 2147483647, -2147483648, 9],
  uint8: [0, 1, 2, 3, 5, 7, 100, 200, 255, 128, 64, 9],
  bool: [0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 1],
  int8: [-7, -1, 0, 1, 2, 3, 5, 100, -100, 127, -128, 9],
  int16: [-7, -1, 0, 1, 2, 3, 5, 100, -100, 32767, -32768, 9],
  // products of these stay inside the range int64 is stored exactly in (2^53)
  int64: [-7, -1, 0, 1, 2, 3, 5, 100, -100, 16777217, -16777215, 9],
};

/** Runs `chain` fused and unfused on `device` and compares every element's bits (Object.is). */
async function sameBits(device: string, dtype: DType, chain: Chain, what: string): Promise<void> {
  // 96 elements: above the size under which ops run eagerly (FUSE_MIN_NUMEL)
  const values = Array.from({ length: 8 }, () => VALUES[dtype] ?? []).flat();
  const make = () => {
    const x = tensor(values, { dtype, device }).reshape(8, 12);
    const y = tensor([...values].reverse(), { dtype, device })
      .reshape(12, 8)
      .t(); // strided
    return [x, y] as const;
  };
  const was = setFusion(false);
  let expected: ArrayLike<number> | null = null;
  let error: unknown = null;
  try {
    const [x, y] = make();
    expected = await chain(x, y).dataAsync();
  } catch (e) {
    error = e; // the same call must fail the same way fused
  } finally {
    setFusion(true);
  }
  try {
    const [x, y] = make();
    let got: ArrayLike<number>;
    try {
      got = await chain(x, y).dataAsync();
    } catch (e) {
      if (error !== null && String(e) === String(error)) return;
      throw e;
    }
    if (expected === null)
      throw new Error(`${what}: fused ops succeeded where unfused ones throw ${String(error)}`);
    for (let i = 0; i < expected.length; i++) {
      if (!Object.is(got[i], expected[i])) {
        throw new Error(
          `${what}: fused result differs at element ${i}: got ${got[i]}, unfused ops give ${expected[i]}`,
        );
      }
    }
  } finally {
    setFusion(was);
  }
}

const DTYPES_ALL: readonly DType[] = DTYPES;

export function fusionCases(has: Supports): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  const add = (name: string, dtype: DType, chain: Chain) =>
    cases.push({
      name: `fusion ${name} ${dtype}`,
      run: async (device) => {
        if (!getBackend(device).elementwise) return; // a version 1 backend runs ops one by one
        await sameBits(device, dtype, chain, `${name} (${dtype})`);
      },
    });
  for (const dtype of DTYPES_ALL.filter(has)) {
    for (const op of UNARY_OPS) {
      if (!accepts(unaryOps[op].only, dtype)) continue; // bitwise_not of floats is an error
      // the op between two others, so its operand and its result both live inside one program
      const float = unaryOps[op].kind === "float" || isFloat(dtype);
      add(`unary ${op}`, dtype, (x, y) => {
        const pre = dtype === "bool" ? x.logicalXor(y) : x.add(y).sub(1);
        const r = pre[op]() as Tensor;
        return r.dtype === "bool" ? r.logicalOr(x.gt(0)) : float ? r.mul(0.5).add(r) : r.mul(3).add(r);
      });
    }
    for (const op of BINARY_OPS) {
      if (!accepts(binaryOps[op].only, dtype)) continue; // hypot of integers, bitwise ops of floats: errors
      add(`binary ${op}`, dtype, (x, y) => {
        const a = dtype === "bool" ? x : x.mul(2);
        const r = a[op](y.add(dtype === "bool" ? false : 1) as Tensor) as Tensor;
        return r.dtype === "bool" ? r.logicalXor(x.ne(0)) : r.sub(x);
      });
    }
    for (const to of DTYPES_ALL.filter(has)) {
      if (to === dtype) continue;
      add(`cast to ${to}`, dtype, (x, y) => x.add(y).to(to).mul(2).to(dtype));
    }
  }
  // a reduction at the end of a chain runs in the chain's loop
  for (const dtype of DTYPES_ALL.filter(has)) {
    const pre = (x: Tensor, y: Tensor) => (dtype === "bool" ? x.logicalXor(y) : x.mul(y).add(x));
    add("sum at the end", dtype, (x, y) => pre(x, y).sum());
    add("sum over a dim at the end", dtype, (x, y) => pre(x, y).sum(1, true));
    add("sum over the strided dim at the end", dtype, (x, y) => pre(x, y).sum(0));
    if (dtype !== "bool") {
      add("prod at the end", dtype, (x, y) => pre(x, y).prod(0));
      add("amax and amin at the end", dtype, (x, y) => pre(x, y).amax(1).add(pre(x, y).amin(0).sum()));
    }
  }
  const floats = (["float32", "float64"] as DType[]).filter(has);
  for (const dtype of floats) {
    add("where, broadcast and constants", dtype, (x, y) => {
      const row = x.at("0:1").mul(-1); // [1, 12], broadcast down the rows
      return x.gt(row).where(x.sigmoid(), y.tanh().mul(0.25)).add(row).relu().mul(x.exp().clamp(0, 1));
    });
    add("mean and a chain read twice", dtype, (x, y) => {
      const t = x.sub(y).square();
      return t.mean().add(t.sum(1).amax()).add(t); // t is reduced fused, then computed for the final add
    });
    add("deep chain", dtype, (x) => {
      let t = x;
      for (let i = 0; i < 70; i++)
        t = t
          .mul(1.01)
          .add(i % 2 === 0 ? 0.5 : -0.5)
          .abs();
      return t;
    });
    cases.push({
      name: `fusion copy-on-write ${dtype}`,
      run: async (device) => {
        // a pending result must see its inputs as they were when the op was called
        const n = 100;
        const x = tensor(
          Array.from({ length: n }, (_, i) => i + 1),
          { dtype, device },
        );
        const y = x.mul(2).add(1);
        const v = x.at("1:");
        x.add_(10);
        v.fill_(0);
        const z = y.mul(x);
        const got = (await y.toArrayAsync()) as number[];
        const gotZ = (await z.toArrayAsync()) as number[];
        for (let i = 0; i < n; i++) {
          if (got[i] !== 2 * i + 3)
            throw new Error(`copy-on-write: y[${i}] = ${got[i]}, expected ${2 * i + 3}`);
          const want = i === 0 ? 33 : 0;
          if (gotZ[i] !== want) throw new Error(`copy-on-write: z[${i}] = ${gotZ[i]}, expected ${want}`);
        }
      },
    });
  }
  return cases;
}
