/**
 * The reductions, scans and statistics of issue 14 against PyTorch 1.13 (tests/fixtures/ops-stats.json, written by
 * scripts/fixtures/ops_stats.py; see that script for the case format): std_mean, var_mean, median, nanmedian, mode,
 * kthvalue, quantile, nanquantile, count_nonzero, aminmax, unique, unique_consecutive, cummax, cummin,
 * logcumsumexp and scatter_reduce(_), on several shapes (zero-size and non-contiguous inputs included), dtypes,
 * ties, NaN and infinities, and their errors.
 *
 * Each case is replayed from the JSON: its call with its arguments (PyTorch's keywords as a final options object),
 * then the output (dtype, shape, values; named tuples also by field name), the autograd node's name, and the
 * gradients of `(out * weights).sum()` against PyTorch's; where PyTorch raised, Cinder must throw (with PyTorch's
 * message where the case says `exact`). Cases whose gradient PyTorch's own gradcheck passes are checked by Cinder's
 * `gradcheck` too (finite differences, float64). Finally the ops run on the naive third-party test backend (protocol
 * version 1, asynchronous reads only, no float64) and give the cpu's results: they are compositions of primitives.
 */
import { readFileSync } from "node:fs";
import { gradcheck } from "@cinder/autograd";
import { cpu } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import { beforeAll, describe, expect, it } from "vitest";
import { type Call, invoke, isTensorArg, leafOf, type TensorArg } from "./support/fixture-calls";
import {
  beyondInt64,
  close,
  type Decoded,
  decode,
  flatten,
  type TensorRecord,
  TOLERANCE,
} from "./support/fixture-values";
import { NaiveBackend } from "./support/naive-backend";

type Tensor = torch.Tensor;

interface Case extends Call {
  name: string;
  expect:
    | { tensor: TensorRecord }
    | { tuple: TensorRecord[]; names: string[] | null }
    | { error: { type: string; message: string } };
  exact?: boolean;
  ties?: { dim: number; keepdim: boolean };
  grad?: { weights: TensorRecord; grads: (TensorRecord | null)[] } | { error: string };
  grad_fn?: string;
  gradcheck?: boolean;
  rtol?: number;
  note?: string;
}

const fixture: { torch: string; cases: Case[] } = JSON.parse(
  readFileSync(new URL("../fixtures/ops-stats.json", import.meta.url), "utf8"),
);

beforeAll(() => {
  if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);
});

/** Ops whose autograd node Cinder records itself (composites such as quantile have the nodes of their parts). */
const OWN_NODES = /^(Tensor\.)?(median|nanmedian|kthvalue|mode|cummax|cummin|logcumsumexp|scatterReduce_?)$/;

/**
 * Where Cinder's gradient differs from PyTorch 1.13's on purpose: PyTorch's backward fails for a src larger than
 * the index (it returns an index-shaped gradient); Cinder's src gradient has src's shape, zero past the index.
 */
const PYTORCH_GRAD_FAILS = /^scatter_reduce_\w+_src_larger$/;

function viewOf(t: Tensor, a: TensorArg): Tensor {
  if (a.view === "t") return t.transpose(-2, -1);
  if (a.view === "step") return t.at("...", "::2");
  if (a.view === "clone") return t.clone();
  return t;
}

const leavesOf = (c: Case) => c.args.map((a) => (isTensorArg(a) ? leafOf(a) : null));
const firstOf = (r: unknown): Tensor => (Array.isArray(r) ? r[0] : r) as Tensor;

/** Mismatches between a Cinder tensor and a fixture record. */
function compareTensor(
  actual: unknown,
  exp: TensorRecord,
  what: string,
  rtol?: number,
  grads = false,
): string[] {
  if (!(actual instanceof torch.Tensor)) return [`${what}: expected a tensor, got ${String(actual)}`];
  if (actual.dtype !== exp.dtype) return [`${what}: dtype ${actual.dtype}, expected ${exp.dtype}`];
  if (JSON.stringify([...actual.shape]) !== JSON.stringify(exp.shape)) {
    return [`${what}: shape [${actual.shape}], expected [${exp.shape}]`];
  }
  const base = TOLERANCE[exp.dtype];
  // gradients of composites (a few kernels deep) get a little more room than the outputs
  const tol = grads && exp.dtype === "float32" ? { rtol: 2e-5, atol: 1e-6 } : base;
  const got = flatten(actual.toArray() as Decoded);
  const want = flatten(decode(exp.values));
  const out: string[] = [];
  want.forEach((e, i) => {
    const a = got[i];
    const ok =
      typeof e === "boolean"
        ? a === e
        : close(+a, e, rtol ?? tol.rtol, rtol === undefined ? tol.atol : Math.max(tol.atol, 1e-7));
    if (!ok && out.length < 8) out.push(`${what}[${i}]: got ${String(a)}, expected ${String(e)}`);
  });
  return out;
}

/** Ties: each index points along `dim` at an element equal to its value (NaN to a NaN). */
function checkTies(c: Case, leaves: (Tensor | null)[], r: unknown): string[] {
  const { dim, keepdim } = c.ties as NonNullable<Case["ties"]>;
  const input = viewOf(leaves[0] as Tensor, c.args[0] as TensorArg).detach();
  const [values, indices] = r as [Tensor, Tensor];
  const idx = keepdim ? indices : indices.unsqueeze(dim);
  const at = flatten(input.gather(dim, idx).toArray() as Decoded);
  const vals = flatten(values.toArray() as Decoded);
  return vals.flatMap((v, i) =>
    Object.is(v, at[i]) || v === at[i] || (Number.isNaN(+v) && Number.isNaN(+at[i]))
      ? []
      : [`index ${i}: input there is ${at[i]}, value is ${v}`],
  );
}

function checkCase(c: Case): void {
  const leaves = leavesOf(c);
  const exp = c.expect;
  if ("error" in exp) {
    let err: unknown;
    try {
      invoke(c, leaves, viewOf);
    } catch (e) {
      err = e;
    }
    expect(err, `PyTorch raised ${exp.error.type}: ${exp.error.message}`).toBeInstanceOf(Error);
    if (c.exact) expect((err as Error).message).toContain(exp.error.message.trim());
    return;
  }
  if ("tensor" in exp && beyondInt64(exp.tensor)) {
    expect(() => invoke(c, leaves, viewOf), "PyTorch's int64 result is past 2^53 - 1").toThrow(/int64/);
    return;
  }
  const r = invoke(c, leaves, viewOf);
  if ("tensor" in exp) {
    expect(compareTensor(r, exp.tensor, "output", c.rtol)).toEqual([]);
  } else {
    expect(Array.isArray(r), "a tuple of tensors").toBe(true);
    const list = r as Tensor[];
    expect(list.length).toBe(exp.tuple.length);
    const problems = exp.tuple.flatMap((t, i) =>
      c.ties && i === 1
        ? compareTensor(list[i], { ...t, values: t.values }, "indices").filter((p) => /dtype|shape/.test(p))
        : compareTensor(list[i], t, `output[${i}]`, c.rtol),
    );
    expect(problems).toEqual([]);
    if (exp.names) {
      exp.names.forEach((n, i) => {
        expect((r as unknown as Record<string, unknown>)[n], `.${n}`).toBe(list[i]);
      });
    }
    if (c.ties) expect(checkTies(c, leaves, r)).toEqual([]);
  }
  const out = firstOf(r);
  if (c.grad_fn && OWN_NODES.test(c.call)) expect(out.gradFn?.name, "node").toBe(c.grad_fn);
  if (!c.grad) return;
  const grad = c.grad;
  if ("error" in grad) {
    const y = out.mul(torch.onesLike(out)).sum();
    if (PYTORCH_GRAD_FAILS.test(c.name)) {
      y.backward();
      for (const [i, a] of c.args.entries()) {
        if (isTensorArg(a) && a.requiresGrad) expect([...(leaves[i] as Tensor).grad!.shape]).toEqual(a.shape);
      }
      return;
    }
    expect(() => y.backward(), `PyTorch raised: ${grad.error}`).toThrow();
    return;
  }
  const w = torch
    .tensor(decode(grad.weights.values) as never, { dtype: grad.weights.dtype })
    .reshape(grad.weights.shape);
  out.mul(w).sum().backward();
  const problems: string[] = [];
  grad.grads.forEach((g, i) => {
    if (g === null) return;
    problems.push(...compareTensor(leaves[i]?.grad, g, `grad of argument ${i}`, c.rtol, true));
  });
  expect(problems).toEqual([]);
}

const groups = new Map<string, Case[]>();
for (const c of fixture.cases) {
  const op = c.call.replace(/^Tensor\./, "").replace(/_$/, "");
  groups.set(op, [...(groups.get(op) ?? []), c]);
}
for (const [op, list] of groups) {
  describe(op, () => {
    for (const c of list) it(c.name, () => checkCase(c));
  });
}

describe("gradients by finite differences (where PyTorch's gradcheck passes)", () => {
  for (const c of fixture.cases.filter((k) => k.gradcheck)) {
    it(c.name, () => {
      const grads = c.args.flatMap((a, i) => (isTensorArg(a) && a.requiresGrad ? [i] : []));
      const xs = grads.map((i) => leafOf(c.args[i] as TensorArg, "float64"));
      const fixed = c.args.map((a) => (isTensorArg(a) ? leafOf({ ...a, requiresGrad: false }) : null));
      const f = (...ts: Tensor[]) => {
        const leaves = [...fixed];
        grads.forEach((i, j) => {
          leaves[i] = ts[j];
        });
        return firstOf(invoke(c, leaves, viewOf));
      };
      expect(gradcheck(f, xs)).toBe(true);
    });
  }
});

describe("on a version 1 backend with asynchronous reads only and no float64 (the naive test backend)", () => {
  const device = "naive-stats";
  beforeAll(() => {
    torch.registerBackend(new NaiveBackend({ device, unsupported: ["float64"] }));
  });
  const values = [3, 1, 2, 2, 5, Number.NaN, 0, 7, 1, 1, 4, 6, -2, 0.5, 2, 9];
  const idx = [
    [0, 0, 3],
    [1, 1, 1],
    [2, 3, 3],
    [3, 0, 1],
  ];
  const ops: [string, (x: Tensor) => Tensor][] = [
    ["cummax values", (x) => x.cummax(1).values],
    ["cummin indices", (x) => x.cummin(0).indices],
    ["logcumsumexp", (x) => x.logcumsumexp(1)],
    ["median along a dim", (x) => x.median(1).values],
    ["median of all", (x) => x.maskedFill(x.isnan(), 0).median()],
    ["nanmedian indices", (x) => x.nanmedian(1).indices],
    ["kthvalue", (x) => x.kthvalue(2, 0).values],
    ["mode indices", (x) => x.mode(1).indices],
    ["quantile", (x) => x.quantile(torch.tensor([0.2, 0.9], { dtype: "float32", device: x.device }), 0)],
    ["nanquantile", (x) => x.nanquantile(0.3, 1, true, { interpolation: "higher" })],
    ["countNonzero", (x) => x.countNonzero(1)],
    ["aminmax", (x) => x.aminmax({ dim: 1 }).max],
    ["varMean", (x) => torch.varMean(x, 0)[0]],
    ...(["sum", "prod", "mean", "amax", "amin"] as const).map((r): [string, (x: Tensor) => Tensor] => [
      `scatterReduce ${r}`,
      (x) =>
        x.scatterReduce(1, torch.tensor(idx, { device: x.device }), x.narrow(1, 0, 3).contiguous(), r, {
          includeSelf: r !== "amin",
        }),
    ]),
  ];
  for (const [name, f] of ops) {
    it(name, async () => {
      const want = f(torch.tensor(values, { dtype: "float32" }).reshape([4, 4]));
      const got = f(torch.tensor(values, { dtype: "float32", device }).reshape([4, 4]));
      expect(got.device).toBe(device);
      // the CPU's int64 index results are the naive backend's default integer, int32 (it stores no int64)
      expect(got.dtype).toBe(torch.intOn(want.dtype, got.backend));
      expect([...got.shape]).toEqual([...want.shape]);
      const a = Array.from(await got.dataAsync());
      const b = Array.from(want.data());
      const bad = a.flatMap((v, i) => (close(v, b[i], 1e-6, 1e-6) ? [] : [`${i}: ${v} vs ${b[i]}`]));
      expect(bad).toEqual([]);
    });
  }
  it("unique says it needs synchronous reads", () => {
    expect(() => torch.unique(torch.tensor([3, 1, 3], { device }))).toThrow(/synchronous reads/);
  });
});
