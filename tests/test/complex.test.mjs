// Complex dtypes (complex64, complex128) and linalg.eig/eigvals against PyTorch 1.13 (tests/fixtures/complex.json,
// from scripts/fixtures/complex.py): promotion, printing, expression cases (values, special values, broadcasting,
// non-contiguous and zero-size operands, mixed dtypes, layout ops, products, creation, PyTorch's errors), eig on
// random, symmetric, defective, complex and batched matrices; then what the fixtures cannot hold: views sharing
// storage, the once-only cast warning, autograd's refusal, devices without complex dtypes, call forms.
import { readFileSync } from "node:fs";
import { registerBackend, unregisterBackend } from "@cinder/tensor";
import * as torch from "cinder";
import { describe, expect, it, vi } from "vitest";
import { NaiveBackend } from "./support/naive-backend";

const fixture = JSON.parse(readFileSync(new URL("../fixtures/complex.json", import.meta.url), "utf8"));

const SPECIAL = { nan: Number.NaN, inf: Number.POSITIVE_INFINITY, "-inf": Number.NEGATIVE_INFINITY };
const num = (v) => (typeof v === "string" ? SPECIAL[v] : v);
const isComplexDtype = (d) => d === "complex64" || d === "complex128";

/** A fixture record {dtype, shape, values} as a tensor (complex elements as { re, im }). */
function leaf(rec) {
  const values = rec.values.map((v) => (Array.isArray(v) ? { re: num(v[0]), im: num(v[1]) } : num(v)));
  return torch.tensor(values, { dtype: rec.dtype }).reshape(rec.shape);
}

/** The tensor's elements as [re, im] pairs (complex) or numbers/booleans, flat. */
function elements(t) {
  const flat = (v) => (Array.isArray(v) ? v.flatMap(flat) : [v]);
  return flat(t.toArray()).map((v) => (typeof v === "object" ? [v.re, v.im] : v));
}

const RTOL = { complex64: 2e-6, complex128: 1e-12, float32: 2e-6, float64: 1e-12 };

function close(a, e, rtol, scale) {
  if (typeof e === "boolean" || !Number.isFinite(e)) return Object.is(a, e) || a === e;
  return Math.abs(a - e) <= rtol * (Math.abs(e) + 0.1 * scale);
}

function expectTensor(got, rec, what, rtol) {
  expect(got, `${what}: a tensor`).toBeInstanceOf(torch.Tensor);
  expect(got.dtype, `${what}: dtype`).toBe(rec.dtype);
  expect([...got.shape], `${what}: shape`).toEqual(rec.shape);
  const want = rec.values.map((v) => (Array.isArray(v) ? v.map(num) : num(v)));
  const have = elements(got);
  const r = rtol ?? RTOL[rec.dtype] ?? 0;
  const parts = want.flatMap((v) => (Array.isArray(v) ? v : [v]));
  const scale = Math.max(1e-2, ...parts.map((v) => (Number.isFinite(v) ? Math.abs(v) : 0)));
  want.forEach((e, i) => {
    const a = have[i];
    const ok = Array.isArray(e)
      ? close(a[0], e[0], r, scale) && close(a[1], e[1], r, scale)
      : r === 0
        ? Object.is(a, e) || a === e
        : close(a, e, r, scale);
    expect(ok, `${what}[${i}]: got ${JSON.stringify(a)}, PyTorch ${JSON.stringify(e)}`).toBe(true);
  });
}

describe("complex promotion is PyTorch's", () => {
  it("promote_types of complex64/complex128 with every dtype Cinder has", () => {
    let n = 0;
    for (const { a, b, result } of fixture.promote_types) {
      if (!(hasDtype(a) && hasDtype(b))) continue;
      expect(torch.promoteTypes(a, b), `${a} ${b}`).toBe(result);
      n++;
    }
    expect(n).toBeGreaterThanOrEqual(28); // every pair of the 7 real dtypes of PyTorch's with the 2 complex ones
  });
  it("result_type of complex tensors, 0-dim tensors and numbers with every kind of operand", async () => {
    const { resultType, dtypeOfNumber } = await import("@cinder/tensor");
    const op = (o) => (o.kind === "number" ? { kind: "number", dtype: dtypeOfNumber(o.value) } : o);
    let n = 0;
    for (const { a, b, result } of fixture.result_type) {
      if ((a.dtype && !hasDtype(a.dtype)) || (b.dtype && !hasDtype(b.dtype))) continue;
      expect(resultType([op(a), op(b)]), JSON.stringify([a, b])).toBe(result);
      expect(resultType([op(b), op(a)]), JSON.stringify([b, a])).toBe(result);
      n++;
    }
    expect(n).toBeGreaterThan(50);
  });
});

function hasDtype(d) {
  try {
    torch.zeros(0, { dtype: d });
    return true;
  } catch {
    return false;
  }
}

describe("complex tensors print as PyTorch's", () => {
  it.each(fixture.prints.map((p) => [p.cinder, p.text]))("%s", (code, text) => {
    expect(String(new Function("torch", `return (${code});`)(torch))).toBe(text);
  });
});

describe("complex ops give PyTorch's values and errors", () => {
  const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
  for (const c of fixture.cases) {
    it(`${c.name}: ${c.cinder}`, () => {
      const names = Object.keys(c.inputs);
      const f = new Function("torch", ...names, `return (${c.cinder});`);
      const run = () => f(torch, ...names.map((n) => leaf(c.inputs[n])));
      const out = c.output;
      if (out.kind === "error") {
        expect(run, `PyTorch: ${out.message}`).toThrow(new RegExp(out.match, "i"));
        return;
      }
      const got = run();
      if (out.kind === "value") expect(got).toBe(out.value);
      else if (out.kind === "tensor") expectTensor(got, out.value, c.name, c.rtol);
      else {
        expect(got).toHaveLength(out.values.length);
        for (const [i, rec] of out.values.entries()) expectTensor(got[i], rec, `${c.name} #${i}`, c.rtol);
      }
    });
  }
  it("(the complex -> real casts above warned once, as PyTorch's UserWarning shows once)", () => {
    const calls = warn.mock.calls.filter((c) => String(c[0]).includes("discards the imaginary part"));
    expect(calls).toHaveLength(1);
    warn.mockRestore();
  });
});

// ---- eig ----

/** |a - b| of complex [re, im] pairs. */
const dist = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1]);

/**
 * The matrices whose eigenvalues come in another order than PyTorch's (real matrices: LAPACK's real double-shift QR
 * deflates in another order than the complex QR); every other fixture matrix gives PyTorch's order.
 */
const ORDER_DIFFERS = new Set(["random 4x4 float32", "companion of x^4 - 1", "non-contiguous (transposed)"]);

describe("linalg.eig / eigvals against PyTorch's LAPACK", () => {
  for (const c of fixture.eig) {
    it(c.name, () => {
      const A = leaf(c.A);
      const [w, V] = torch.linalg.eig(A);
      const { eigenvalues, eigenvectors } = torch.linalg.eig(A);
      expect(eigenvalues.dtype).toBe(c.eigenvalues.dtype);
      expect(eigenvectors.dtype).toBe(c.eigenvectors.dtype);
      expect([...w.shape]).toEqual(c.eigenvalues.shape);
      expect([...V.shape]).toEqual(c.eigenvectors.shape);
      const n = c.A.shape[c.A.shape.length - 1];
      if (n === 0) return;
      const f32 = c.eigenvalues.dtype === "complex64";
      const tol = f32 ? 2e-4 : 1e-9;
      const ours = elements(w);
      const theirs = c.eigenvalues.values.map((v) => v.map(num));
      const vals = elements(torch.linalg.eigvals(A));
      const norm = Math.max(1, ...elements(A.abs().flatten()).map(Math.abs));
      const batches = ours.length / n;
      const Vo = elements(V);
      const Vt = c.eigenvectors.values.map((v) => v.map(num));
      // a defective eigenvalue is only as accurate as eps^(1/k) (k its multiplicity)
      const defective = c.name.includes("defective");
      const vtol = defective ? (f32 ? 1e-2 : 1e-4) : tol;
      for (let b = 0; b < batches; b++) {
        // the same eigenvalues as a set (LAPACK's dgeev orders a real matrix's differently): nearest unused match
        const used = new Set();
        const matchOf = [];
        for (let i = 0; i < n; i++) {
          const mine = ours[b * n + i];
          expect(dist(vals[b * n + i], mine), "eigvals = eig's eigenvalues").toBeLessThan(
            1e-6 * norm + 1e-30,
          );
          let best = -1;
          for (let j = 0; j < n; j++) {
            if (used.has(j)) continue;
            if (best < 0 || dist(mine, theirs[b * n + j]) < dist(mine, theirs[b * n + best])) best = j;
          }
          used.add(best);
          matchOf.push(best);
          expect(dist(mine, theirs[b * n + best]), `eigenvalue ${i}`).toBeLessThan(vtol * norm);
        }
        if (!ORDER_DIFFERS.has(c.name)) expect(matchOf, "PyTorch's order").toEqual([...Array(n).keys()]);
        for (let i = 0; i < n; i++) {
          const col = Array.from({ length: n }, (_, r) => Vo[b * n * n + r * n + i]);
          // unit 2-norm, largest component real and positive (zgeev's normalisation)
          const len = Math.hypot(...col.map((z) => Math.hypot(z[0], z[1])));
          expect(Math.abs(len - 1)).toBeLessThan(f32 ? 1e-5 : 1e-12);
          // (among components of equal magnitude, the one rounding made largest)
          const mag = col.map((z) => Math.hypot(z[0], z[1]));
          const top = Math.max(...mag);
          const real = col.filter((z, r) => z[1] === 0 && z[0] > 0 && mag[r] >= top * (1 - 1e-6));
          expect(real.length, "a largest component real and positive").toBeGreaterThan(0);
          // where the eigenvalue is simple, the vector is PyTorch's up to a unit factor: |<v, v_torch>| = 1
          const lam = theirs[b * n + matchOf[i]];
          const simple = theirs
            .slice(b * n, b * n + n)
            .every((o, j) => j === matchOf[i] || dist(o, lam) > 1e-3 * norm);
          if (!simple || defective) continue;
          const other = Array.from({ length: n }, (_, r) => Vt[b * n * n + r * n + matchOf[i]]);
          let re = 0;
          let im = 0;
          col.forEach((z, r) => {
            re += z[0] * other[r][0] + z[1] * other[r][1];
            im += z[0] * other[r][1] - z[1] * other[r][0];
          });
          expect(Math.abs(Math.hypot(re, im) - 1), `eigenvector ${i} (up to a unit factor)`).toBeLessThan(
            f32 ? 1e-3 : 1e-8,
          );
        }
      }
      // A V = V diag(w)
      const AV = A.to(V.dtype).matmul(V);
      const VW = V.mul(w.unsqueeze(-2));
      const resid = AV.sub(VW).abs().max().item();
      expect(resid).toBeLessThan((defective ? vtol : f32 ? 1e-5 : 1e-12) * norm * n);
    });
  }

  it("a real matrix gets dgeev's form: real eigenpairs exactly real, conjugate pairs adjacent, + imaginary first", () => {
    const A = torch.tensor(
      [
        [1, -2, 0.5, 0],
        [3, 0.5, -1, 2],
        [0, 1, 2, 1],
        [1, 0, 0, 3],
      ],
      { dtype: "float64" },
    );
    const [w, V] = torch.linalg.eig(A);
    const ws = w.tolist();
    const cols = V.t().tolist();
    for (let i = 0; i < 4; i++) {
      if (ws[i].im === 0) {
        expect(cols[i].every((z) => z.im === 0)).toBe(true);
        continue;
      }
      expect(ws[i].im).toBeGreaterThan(0);
      expect(ws[i + 1]).toEqual({ re: ws[i].re, im: -ws[i].im });
      expect(cols[i + 1]).toEqual(cols[i].map((z) => ({ re: z.re, im: -z.im })));
      i++;
    }
    expect(ws.filter((z) => z.im !== 0).length).toBe(2);
    expect(ws.filter((z) => z.im === 0).length).toBe(2);
  });

  it("refuses what PyTorch refuses: autograd (no complex backward), 1-D, non-square, ints, NaN/inf (eigvals too)", () => {
    const A = torch.randn([3, 3], { requiresGrad: true });
    expect(() => torch.linalg.eig(A)).toThrow(/linalg.eig.*autograd of complex tensors is not implemented/);
    expect(() => torch.linalg.eigvals(A)).toThrow(/autograd of complex tensors/);
    expect(torch.linalg.eigvals(A.detach()).dtype).toBe("complex64");
    const bad = torch.tensor(
      [
        [1, Number.NaN],
        [0, 1],
      ],
      { dtype: "float64" },
    );
    expect(() => torch.linalg.eigvals(bad)).toThrow(/should not contain infs or NaNs/);
    expect(() => torch.linalg.eig(A.detach(), 1)).toThrow(/argument/i);
    expect(() => torch.linalg.eig(A.detach(), { out: A })).toThrow(/out/);
    // the real decompositions refuse complex input by name (PyTorch has them; Cinder's are real)
    expect(() => torch.linalg.inv(torch.eye(2, { dtype: "complex64" }))).toThrow(
      /complex input is not supported yet/,
    );
  });
});

// ---- what the fixtures cannot hold ----

describe("complex storage: views share it, as PyTorch's", () => {
  it("viewAsReal, real and imag are views: writes through either side are seen by the other", () => {
    const z = torch.tensor([
      { re: 1, im: 2 },
      { re: 3, im: -1 },
    ]);
    const r = torch.viewAsReal(z);
    expect(r.dtype).toBe("float32");
    expect([...r.shape]).toEqual([2, 2]);
    expect([...r.stride()]).toEqual([2, 1]);
    r.at(0, 1).fill_(7);
    expect(z.toArray()).toEqual([
      { re: 1, im: 7 },
      { re: 3, im: -1 },
    ]);
    z.imag.mul_(2);
    expect(r.toArray()).toEqual([
      [1, 14],
      [3, -2],
    ]);
    z.real.copy_(torch.tensor([5, 6], { dtype: "float32" }));
    expect(z.toArray()).toEqual([
      { re: 5, im: 14 },
      { re: 6, im: -2 },
    ]);
    expect([...z.real.stride()]).toEqual([2]);
    // one version counter for all views (autograd's saved-tensor check reads it)
    const v = z.version;
    r.add_(1);
    expect(z.version).toBe(v + 1);
    // viewAsComplex of viewAsReal is the same storage again
    const back = torch.viewAsComplex(r);
    back.at(1).copy_(torch.tensor([{ re: 0, im: 0 }]).squeeze());
    expect(z.toArray()[1]).toEqual({ re: 0, im: 0 });
  });

  it("a pending fused program reading the real view keeps its values when the complex tensor is written after", () => {
    const z = torch.complex(torch.arange(0, 200, 1, { dtype: "float32" }), torch.ones(200));
    const r = torch.viewAsReal(z);
    const pending = r.mul(2).add(1); // fused on the CPU, not run yet
    z.mul_(0);
    expect(pending.at(3).toArray()).toEqual([7, 3]);
    expect(z.at(3).item()).toEqual({ re: 0, im: 0 });
  });

  it("item() and tolist() give { re, im }; tensor() takes them, numbers and nested lists", () => {
    const z = torch.tensor(
      [
        [{ re: 1, im: -1 }, 2],
        [0.5, { re: 0, im: 3 }],
      ],
      { dtype: "complex128" },
    );
    expect(z.at(0, 0).item()).toEqual({ re: 1, im: -1 });
    expect(z.tolist()).toEqual([
      [
        { re: 1, im: -1 },
        { re: 2, im: 0 },
      ],
      [
        { re: 0.5, im: 0 },
        { re: 0, im: 3 },
      ],
    ]);
    expect(torch.tensor([{ re: 1, im: 0 }]).dtype).toBe("complex64");
    expect(() => torch.tensor([{ re: 1, im: 0 }], { dtype: "float32" })).toThrow(/can't convert complex/);
    expect(() => torch.tensor([{ re: 1, img: 0 }])).toThrow(/expected a number/);
  });
});

describe("ops that read values element by element see both parts", () => {
  it("nonzero, bool casts, any: an element is nonzero when either part is; softmax/logsumexp refuse", () => {
    const z = torch.tensor([{ re: 0, im: 1 }, 0, { re: 2, im: 0 }, { re: 0, im: -0 }]);
    expect(z.nonzero().toArray()).toEqual([[0], [2]]);
    expect(z.bool().toArray()).toEqual([true, false, true, false]);
    expect(z.at("0:2").any().item()).toBe(true);
    expect(
      torch
        .tensor([{ re: 0, im: 3 }])
        .all()
        .item(),
    ).toBe(true);
    expect(() => z.softmax(0)).toThrow(/softmax: not supported for complex/);
    expect(() => z.logsumexp(0)).toThrow(/logsumexp: not supported for complex/);
  });
  it("real number fills of complex tensors keep their fraction (maskedFill, where with a number: PyTorch's values)", () => {
    const z = torch.zeros(3, { dtype: "complex64" });
    const m = torch.tensor([true, false, true]);
    expect(
      z
        .maskedFill(m, 2.5)
        .tolist()
        .map((v) => v.re),
    ).toEqual([2.5, 0, 2.5]);
    expect(
      torch
        .where(m, z, 1.5)
        .tolist()
        .map((v) => v.re),
    ).toEqual([0, 1.5, 0]);
    expect(torch.where(m, 0.1, z.to("complex128")).tolist()[0]).toEqual({ re: 0.1, im: 0 });
  });
  it("0-dim operands and results, and products over strided and broadcast views", () => {
    const w = torch.tensor([{ re: 1, im: -2 }]).squeeze();
    expect(w.ndim).toBe(0);
    expect(w.mul(w).item()).toEqual({ re: -3, im: -4 });
    expect(w.neg().item()).toEqual({ re: -1, im: 2 });
    const m = torch.tensor([
      [{ re: 1, im: 1 }, 2],
      [3, { re: 0, im: -1 }],
      [{ re: 2, im: 0 }, 1],
    ]);
    // prod over each dim of a transposed view equals the product of its elements one by one
    const t = m.t();
    const byHand = (row) =>
      row.reduce((p, z) => ({ re: p.re * z.re - p.im * z.im, im: p.re * z.im + p.im * z.re }));
    expect(t.prod(1).tolist()).toEqual(t.tolist().map(byHand));
    expect(t.prod(0).tolist()).toEqual(m.tolist().map(byHand));
    expect(m.mul(w).tolist()).toEqual(m.mul(w.expand(3, 2).contiguous()).tolist());
  });
});

describe("complex autograd is refused with a clear error", () => {
  it("requiresGrad on a complex tensor, and a real tensor requiring grad entering a complex op", () => {
    const z = torch.tensor([{ re: 1, im: 2 }]);
    expect(() => z.requiresGrad_()).toThrow(/autograd of complex tensors is not implemented/);
    expect(() => torch.tensor([{ re: 1, im: 2 }], { requiresGrad: true })).toThrow(/complex|floating point/);
    const x = torch.tensor([1, 2], { dtype: "float32", requiresGrad: true });
    expect(() => x.mul(z)).toThrow(/mul: autograd of complex tensors/);
    expect(() => torch.complex(x, x)).toThrow(/complex: autograd of complex tensors/);
    expect(() => x.to("complex64")).toThrow(/to: autograd of complex tensors/);
    // without grad the same calls work
    expect(torch.noGrad(() => x.mul(z)).dtype).toBe("complex64");
  });
});

describe("devices without complex dtypes refuse them", () => {
  it("a backend that does not list them names the dtype and what it stores", async () => {
    registerBackend(new NaiveBackend({ device: "naive-cx" }));
    try {
      const z = torch.tensor([{ re: 1, im: 2 }]);
      expect(() => z.to("naive-cx")).toThrow(/complex64 is not supported on naive-cx; it stores float32/);
      expect(() => torch.zeros(2, { dtype: "complex128", device: "naive-cx" })).toThrow(
        /complex128 is not supported/,
      );
    } finally {
      unregisterBackend("naive-cx");
    }
  });
});

describe("call forms of the complex functions (PyTorch's signatures)", () => {
  const re = torch.tensor([1, -2], { dtype: "float32" });
  const im = torch.tensor([0.5, 3], { dtype: "float32" });
  const z = torch.complex(re, im);
  it("positional, options and out= forms agree; extra arguments and unknown options throw", () => {
    expect(torch.complex({ real: re, imag: im }).toArray()).toEqual(z.toArray());
    expect(torch.complex(re, { imag: im }).toArray()).toEqual(z.toArray());
    const out = torch.zeros(2, { dtype: "complex64" });
    expect(torch.complex(re, im, { out })).toBe(out);
    expect(out.toArray()).toEqual(z.toArray());
    expect(() => torch.complex(re, im, re)).toThrow(/argument/i);
    expect(() => torch.complex(re, im, { bogus: 1 })).toThrow(/bogus/);
    expect(torch.polar({ abs: re.abs(), angle: im }).dtype).toBe("complex64");
    const pout = torch.zeros(2, { dtype: "complex64" });
    expect(torch.polar(re.abs(), im, { out: pout })).toBe(pout);
    expect(() => torch.polar(re, im, im)).toThrow(/argument/i);
    for (const [name, fn] of [
      ["viewAsReal", (...a) => torch.viewAsReal(...a)],
      ["real", (...a) => torch.real(...a)],
      ["imag", (...a) => torch.imag(...a)],
      ["conj", (...a) => torch.conj(...a)],
      ["resolveConj", (...a) => torch.resolveConj(...a)],
      ["conjPhysical", (...a) => torch.conjPhysical(...a)],
      ["angle", (...a) => torch.angle(...a)],
    ]) {
      expect(fn(z).toArray(), name).toEqual(fn({ input: z }).toArray());
      expect(() => fn(z, 1), name).toThrow(/argument/i);
      expect(() => fn(z, { bogus: 1 }), name).toThrow(/bogus/);
    }
    expect(torch.viewAsComplex({ input: torch.viewAsReal(z) }).toArray()).toEqual(z.toArray());
    expect(torch.isComplex(z)).toBe(true);
    expect(torch.isComplex({ input: re })).toBe(false);
    expect(torch.isConj(z)).toBe(false);
    expect(() => torch.isConj(z, 1)).toThrow(/argument/i);
    const aout = torch.zeros(2);
    expect(torch.angle(z, { out: aout })).toBe(aout);
    const cout = torch.zeros(2, { dtype: "complex64" });
    expect(torch.conjPhysical(z, { out: cout }).toArray()).toEqual(z.conj().toArray());
  });
  it("the methods: isComplex, conj, conjPhysical, resolveConj, isConj, angle; attributes real, imag, mH", () => {
    expect(z.isComplex()).toBe(true);
    expect(re.isComplex()).toBe(false);
    expect(z.conj().toArray()).toEqual(z.conjPhysical().toArray());
    expect(z.resolveConj()).toBe(z);
    expect(z.isConj()).toBe(false);
    expect(z.angle().toArray()).toEqual(torch.angle(z).toArray());
    expect(() => z.angle({ out: z })).toThrow(/out/);
    expect(re.real).toBe(re);
    expect(z.reshape(1, 2).mH.toArray()).toEqual(z.conj().reshape(2, 1).toArray());
    expect(() => z.mH).toThrow(/matrices or batches of matrices/);
  });
});
