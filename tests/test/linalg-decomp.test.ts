/**
 * torch.linalg's norms and decompositions against PyTorch 1.13 (tests/fixtures/linalg-decomp.json, written by
 * scripts/fixtures/linalg_decomp.py; see that script for the case format): values on several shapes (batches and
 * zero-size included) and dtypes, errors (PyTorch's messages), gradients of a weighted sum of the outputs against
 * PyTorch's, and Cinder's gradcheck (finite differences, float64) for every differentiable case.
 *
 * Eigenvectors and singular vectors are unique up to sign: both sides flip each column so that its entry of largest
 * magnitude is positive (`signfix`); the completed columns of a full SVD are checked for orthonormality only.
 */
import { readFileSync } from "node:fs";
import { gradcheck } from "@cinder/autograd";
import { cpu } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import { beforeAll, describe, expect, it } from "vitest";
import { type Call, invoke, isTensorArg, leafOf, type TensorArg } from "./support/fixture-calls";
import { close, type Decoded, decode, flatten, type TensorRecord } from "./support/fixture-values";

type Tensor = torch.Tensor;

interface Case extends Call {
  name: string;
  expect:
    | { tensor: TensorRecord }
    | { tuple: TensorRecord[]; names: string[] | null }
    | { error: { type: string; message: string } };
  signfix?: "eigh" | "svd";
  grad?: { weights: (TensorRecord | null)[]; grads: (TensorRecord | null)[] } | { error: string };
  gradcheck?: true | "sym";
  rtol?: number;
}

const fixture: { torch: string; cases: Case[] } = JSON.parse(
  readFileSync(new URL("../fixtures/linalg-decomp.json", import.meta.url), "utf8"),
);

beforeAll(() => {
  if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);
});

const fromRecord = (r: TensorRecord): Tensor =>
  torch.tensor(decode(r.values) as never, { dtype: r.dtype }).reshape(r.shape);

/** Columns flipped so that each one's entry of largest magnitude is positive (the same flip on Vh's rows). */
function signfix(kind: Case["signfix"], outs: Tensor[]): Tensor[] {
  const flip = (M: Tensor) => {
    const idx = M.detach().abs().argmax(-2, true);
    return M.detach().gather(-2, idx).sign();
  };
  if (kind === "eigh") return [outs[0], outs[1].mul(flip(outs[1]))];
  if (kind === "svd") {
    const kk = outs[1].shape[outs[1].ndim - 1];
    const U = outs[0].narrow(-1, 0, kk);
    const s = flip(U);
    return [U.mul(s), outs[1], outs[2].narrow(-2, 0, kk).mul(s.transpose(-2, -1))];
  }
  return outs;
}

function compare(actual: unknown, exp: Tensor, what: string, rtol: number, atol: number): string[] {
  if (!(actual instanceof torch.Tensor)) return [`${what}: expected a tensor, got ${String(actual)}`];
  if (actual.dtype !== exp.dtype) return [`${what}: dtype ${actual.dtype}, expected ${exp.dtype}`];
  if (JSON.stringify([...actual.shape]) !== JSON.stringify([...exp.shape])) {
    return [`${what}: shape [${actual.shape}], expected [${exp.shape}]`];
  }
  const got = flatten(actual.detach().toArray() as Decoded);
  const want = flatten(exp.toArray() as Decoded);
  const out: string[] = [];
  want.forEach((e, i) => {
    if (!close(+got[i], +e, rtol, atol) && out.length < 6)
      out.push(`${what}[${i}]: got ${got[i]}, expected ${e}`);
  });
  return out;
}
const tol = (dtype: string, c: Case) =>
  dtype === "float32" ? { rtol: c.rtol ?? 1e-4, atol: 1e-4 } : { rtol: c.rtol ?? 1e-9, atol: 1e-10 };

/** Q^T Q = I for the columns of Q (the completed ones of a full SVD). */
function orthonormal(Q: Tensor): string[] {
  const n = Q.shape[Q.ndim - 1];
  const g = torch.matmul(Q.transpose(-2, -1), Q);
  const I = torch.eye(n, { dtype: Q.dtype }).expand(g.shape);
  return compare(g, I, "Q^T Q", 0, Q.dtype === "float32" ? 1e-5 : 1e-12);
}

function checkCase(c: Case): void {
  const leaves = c.args.map((a) => (isTensorArg(a) ? leafOf(a) : null));
  const exp = c.expect;
  if ("error" in exp) {
    let err: unknown;
    try {
      invoke(c, leaves);
    } catch (e) {
      err = e;
    }
    expect(err, `PyTorch raised ${exp.error.type}: ${exp.error.message}`).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(exp.error.message.trim());
    if (exp.error.type === "_LinAlgError") expect(err).toBeInstanceOf(torch.linalg.LinAlgError);
    return;
  }
  const r = invoke(c, leaves);
  const expected = "tensor" in exp ? [fromRecord(exp.tensor)] : exp.tuple.map(fromRecord);
  const got = "tensor" in exp ? [r as Tensor] : [...(r as Tensor[])];
  if ("tuple" in exp) {
    expect(got.length).toBe(exp.tuple.length);
    exp.names?.forEach((n, i) => {
      const field = n === "singular_values" ? "singularValues" : n;
      expect((r as unknown as Record<string, unknown>)[field], `.${field}`).toBe(got[i]);
    });
  }
  const { rtol, atol } = tol(expected[0].dtype, c);
  const problems: string[] = [];
  const shapes = got.map((t, i) =>
    JSON.stringify([...t.shape]) === JSON.stringify([...expected[i].shape]) ? [] : [`output ${i} shape`],
  );
  problems.push(...shapes.flat());
  if (c.signfix === "svd") {
    problems.push(...orthonormal(got[0]), ...orthonormal(got[2].transpose(-2, -1)));
  }
  if (problems.length === 0) {
    const a = signfix(c.signfix, got);
    const e = signfix(c.signfix, expected);
    a.forEach((t, i) => {
      problems.push(...compare(t, e[i], `output ${i}`, rtol, atol));
    });
  }
  expect(problems).toEqual([]);
  if (!c.grad) return;
  const grad = c.grad;
  const outs = signfix(c.signfix, got);
  if ("error" in grad) {
    expect(() => outs[0].sum().backward()).toThrow();
    return;
  }
  let loss: Tensor | null = null;
  grad.weights.forEach((w, i) => {
    if (w === null) return;
    const term = outs[i].mul(fromRecord(w)).sum();
    loss = loss === null ? term : loss.add(term);
  });
  (loss as unknown as Tensor).backward();
  const gp: string[] = [];
  grad.grads.forEach((g, i) => {
    if (g === null) return;
    const gt = tol(g.dtype, c);
    gp.push(...compare(leaves[i]?.grad, fromRecord(g), `grad of argument ${i}`, gt.rtol * 10, gt.atol * 10));
  });
  expect(gp).toEqual([]);
}

const groups = new Map<string, Case[]>();
for (const c of fixture.cases) groups.set(c.call, [...(groups.get(c.call) ?? []), c]);
for (const [call, list] of groups) {
  describe(call, () => {
    for (const c of list) it(c.name, () => checkCase(c));
  });
}

describe("gradients by finite differences (gradcheck, float64)", () => {
  for (const c of fixture.cases.filter((k) => k.gradcheck && "grad" in k && !("error" in (k.grad ?? {})))) {
    it(c.name, () => {
      const grad = c.grad as { weights: (TensorRecord | null)[] };
      const which = c.args.flatMap((a, i) => (isTensorArg(a) && a.requiresGrad ? [i] : []));
      const xs = which.map((i) => leafOf(c.args[i] as TensorArg, "float64", true));
      const fixed = c.args.map((a) => (isTensorArg(a) ? leafOf(a, "float64", false) : null));
      const weights = grad.weights.map((w) => (w === null ? null : fromRecord(w).to("float64")));
      const f = (...ts: Tensor[]) => {
        const leaves = [...fixed];
        which.forEach((i, j) => {
          leaves[i] = c.gradcheck === "sym" ? ts[j].add(ts[j].transpose(-2, -1)) : ts[j];
        });
        const r = invoke(c, leaves);
        const outs = signfix(c.signfix, r instanceof torch.Tensor ? [r] : [...(r as Tensor[])]);
        let y: Tensor | null = null;
        weights.forEach((w, i) => {
          if (w === null) return;
          const term = outs[i].mul(w).sum();
          y = y === null ? term : y.add(term);
        });
        return y as unknown as Tensor;
      };
      expect(gradcheck(f, xs)).toBe(true);
    });
  }
});

describe("devices without synchronous reads", () => {
  it("name toAsync('cpu') in the error", () => {
    const x = torch.eye(2);
    const fake = Object.create(x, { backend: { value: { ...x.backend, readSync: undefined } } }) as Tensor;
    expect(() => torch.linalg.det(fake)).toThrow(/toAsync\("cpu"\)/);
  });
});
