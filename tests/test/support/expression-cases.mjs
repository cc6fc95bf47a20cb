// Replays expression fixtures (tests/fixtures/ops-extra.json, ops-more.json; see scripts/fixtures/ops_extra.py's
// docstring for the case format): each case's Cinder expression runs on the fixture's inputs and must give PyTorch's
// values (dtype, shape, elements); where PyTorch raised it must throw a message matching the case's paraphrase; where
// the output requires grad, the gradients of sum(out * w) must be PyTorch's; and where PyTorch's gradcheck passes,
// Cinder's gradcheck (finite differences, float64) must too.
import { readFileSync } from "node:fs";
import { gradcheck } from "@cinder/autograd";
import { cpu } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import { describe, expect, it } from "vitest";

if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);

const SPECIAL = {
  nan: Number.NaN,
  inf: Number.POSITIVE_INFINITY,
  "-inf": Number.NEGATIVE_INFINITY,
  "-0": -0,
};
const decode = (v) => (Array.isArray(v) ? v.map(decode) : typeof v === "string" ? SPECIAL[v] : v);
const flat = (v) => (Array.isArray(v) ? v.flatMap(flat) : [v]);
const DEFAULT_RTOL = { float32: 1e-6, float64: 1e-12 };

function leaf(rec, requiresGrad = rec.requires_grad) {
  const t = torch.tensor(decode(rec.values), { dtype: rec.dtype }).reshape(rec.shape);
  return requiresGrad ? t.requiresGrad_(true) : t;
}

/** The case's Cinder expression as a function of its inputs (in the fixture's order). */
function compile(c) {
  const names = Object.keys(c.inputs);
  const f = new Function("torch", ...names, `return (${c.cinder});`);
  return { names, run: (...ts) => f(torch, ...ts) };
}

function expectTensor(got, rec, what, rtol) {
  expect(got, `${what}: a tensor`).toBeInstanceOf(torch.Tensor);
  expect(got.dtype, `${what}: dtype`).toBe(rec.dtype);
  expect([...got.shape], `${what}: shape`).toEqual(rec.shape);
  const want = flat(decode(rec.values));
  const have = flat(got.toArray());
  const r = rtol ?? DEFAULT_RTOL[rec.dtype] ?? 0;
  // an absolute term scaled by the largest magnitude, for elements that cancel to near zero
  const scale = Math.max(1e-2, ...want.map((v) => (Number.isFinite(v) ? Math.abs(v) : 0)));
  want.forEach((e, i) => {
    const a = have[i];
    const exact = typeof e === "boolean" || r === 0 || !Number.isFinite(e);
    const ok = exact ? a === e || Object.is(a, e) : Math.abs(a - e) <= r * (Math.abs(e) + 0.1 * scale);
    expect(ok, `${what}[${i}]: got ${a}, PyTorch ${e}`).toBe(true);
  });
}

const weight = (t) =>
  torch
    .tensor(
      Array.from({ length: t.numel() }, (_, i) => ((i % 7) - 3) / 4),
      { dtype: t.dtype },
    )
    .reshape([...t.shape]);

/** Replays the cases of `tests/fixtures/<fixture>.json` (written by scripts/fixtures/expression_cases.py's users). */
export function expressionCases(fixture, title) {
  const { cases } = JSON.parse(
    readFileSync(new URL(`../../fixtures/${fixture}.json`, import.meta.url), "utf8"),
  );
  describe(title, () => {
    for (const c of cases) {
      it(`${c.name}: ${c.cinder}`, () => {
        const { names, run } = compile(c);
        const inputs = names.map((n) => leaf(c.inputs[n]));
        if (c.output.kind === "error") {
          let err;
          try {
            run(...inputs);
          } catch (e) {
            err = e;
          }
          expect(err, `PyTorch raised ${c.output.error}: ${c.output.message}`).toBeDefined();
          expect(String(err.message), `PyTorch: ${c.output.message}`).toMatch(
            new RegExp(c.output.match, "i"),
          );
          return;
        }
        const got = run(...inputs);
        const outs = c.output.kind === "tensors" ? c.output.values : [c.output];
        const gots = c.output.kind === "tensors" ? got : [got];
        expect(gots.length, "number of results").toBe(outs.length);
        outs.forEach((rec, i) => {
          expectTensor(gots[i], rec, `output ${i}`, c.rtol);
        });
        if (c.grads) {
          const parts = gots.filter((t) => t.requiresGrad).map((t) => t.mul(weight(t)).sum());
          parts.reduce((a, b) => a.add(b)).backward();
          for (const [name, rec] of Object.entries(c.grads)) {
            const g = inputs[names.indexOf(name)].grad;
            if (rec === null) expect(g ?? null, `grad of ${name}`).toBeNull();
            else expectTensor(g, rec, `grad of ${name}`, c.rtol);
          }
        }
        if (c.gradcheck) {
          const fresh = names.map((n) => leaf(c.inputs[n]));
          const f = (...ts) => {
            const r = run(...ts);
            return Array.isArray(r) ? torch.cat(r.map((t) => t.reshape(-1))) : r;
          };
          expect(gradcheck(f, fresh)).toBe(true);
        }
      });
    }
  });
}
