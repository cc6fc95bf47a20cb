// Replays the PyTorch calls of tests/fixtures/sigcases-<area>.json (made by scripts/fixtures/sigcases_*.py)
// against Cinder, in plain JavaScript as a JavaScript user writes them: each case in every call form that its
// declared signature allows (as given; all keywords in one options object; the first argument positional and
// the rest as options; every parameter positional), each compared with PyTorch's result; and the same call with
// an extra argument, an unknown option and a wrong-kind value, each of which must throw an ArgumentError.
import { readFileSync } from "node:fs";
import * as torch from "@cinder/tensor";
import { describe, expect, it } from "vitest";

const FIXTURES = new URL("../../fixtures/", import.meta.url);

/**
 * `area`: the fixture's name; `resolve(name)`: Cinder's callable for a case's name ("sum",
 * "nn.functional.dropout"; for "new X" the class); `params()`: fresh parameters for optimizer cases.
 */
export function signatureCases(area, resolve, { params, makers } = {}) {
  const { cases } = JSON.parse(readFileSync(new URL(`sigcases-${area}.json`, FIXTURES), "utf8"));
  // `makers[tag](value)` rebuilds the arguments JSON cannot hold (sigcases.py's Make: optimizers, datasets, ...)
  const env = makers ? Object.assign((...a) => params(...a), { makers }) : params;
  describe(`PyTorch's call forms: ${area}`, () => {
    for (const c of cases) {
      it(c.id, () => runCase(c, resolve, env));
    }
  });
  return cases;
}

function decode(v, params) {
  if (Array.isArray(v)) return v.map((x) => decode(x, params));
  if (v === null || typeof v !== "object") return v;
  if ("$tensor" in v) {
    const t = torch.tensor(decode(v.$tensor, params), { dtype: v.dtype }).reshape(v.shape);
    if (v.requiresGrad) t.requiresGrad = true;
    return t;
  }
  if ("$dtype" in v) return v.$dtype;
  if ("$generator" in v) return new torch.Generator(v.$generator);
  if ("$float" in v) return Number(v.$float.replace("inf", "Infinity"));
  if ("$params" in v) return params();
  if ("$make" in v) return params.makers[v.$make](decode(v.with, params));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(x, params)]));
}

/** A case's call, "Tensor.add" / "new SGD" / "sum": whether a method, whether a constructor, and the name. */
function callee(c) {
  const method = c.call.startsWith("Tensor.");
  const ctor = c.call.startsWith("new ");
  return { method, ctor, name: method ? c.call.slice(7) : ctor ? c.call.slice(4) : c.call };
}

/** The declared signatures of a case's callable, for the form it is called in. */
function signaturesOf(c) {
  const { method, name } = callee(c);
  const sigs = torch
    .signatures()
    .filter((s) => s.name === name && s.forms.includes(method ? "method" : "function"));
  if (sigs.length === 0) throw new Error(`${c.call}: no declared signature named ${name}`);
  return sigs;
}

function invoker(c, resolve) {
  const { method, ctor, name } = callee(c);
  if (method) {
    return (args) => {
      const [self, ...rest] = args;
      if (typeof self[name] !== "function") throw new Error(`Tensor has no method ${name}`);
      return self[name](...rest);
    };
  }
  const f = resolve(name);
  if (typeof f !== "function") throw new Error(`${c.call}: not found`);
  return ctor ? (args) => new f(...args) : (args) => f(...args);
}

/** The call forms of one case: [label, args]. */
function forms(c, args, kwargs, sig) {
  const { method } = callee(c);
  const pos = sig.positional;
  const hasKw = Object.keys(kwargs).length > 0;
  const out = [["as given", hasKw ? [...args, kwargs] : [...args]]];
  if (pos.some((p) => p.varargs)) return out;
  const lead = method ? 1 : 0; // the self tensor of a method call stays in front
  const named = {};
  args.forEach((a, i) => {
    if (i >= lead) named[pos[i].name] = a;
  });
  const allKw = { ...named, ...kwargs };
  if (Object.keys(allKw).length > 0) out.push(["options object", [...args.slice(0, lead), allKw]]);
  if (args.length > lead + 1) {
    const rest = { ...kwargs };
    args.forEach((a, i) => {
      if (i > lead) rest[pos[i].name] = a;
    });
    out.push(["first positional, rest as options", [...args.slice(0, lead + 1), rest]]);
  }
  // every parameter positional: keywords that name positional parameters move into their slots
  const slots = [...args];
  const leftover = { ...kwargs };
  let last = args.length - 1;
  pos.forEach((p, i) => {
    if (i >= args.length && p.name in kwargs) {
      slots[i] = kwargs[p.name];
      delete leftover[p.name];
      last = Math.max(last, i);
    }
  });
  for (let i = args.length; i <= last; i++) if (!(i in slots)) slots[i] = pos[i].default;
  if (last >= args.length) {
    out.push([
      "all positional",
      Object.keys(leftover).length ? [...slots.slice(0, last + 1), leftover] : slots.slice(0, last + 1),
    ]);
  }
  return out;
}

function runCase(c, resolve, params) {
  const call = invoker(c, resolve);
  const fresh = () => ({ args: decode(c.args, params), kwargs: decode(c.kwargs, params) });
  const sigs = signaturesOf(c);
  const { args, kwargs } = fresh();
  const given = Object.keys(kwargs).length ? [...args, kwargs] : args;
  if (c.raises) {
    expect(() => call(given), `PyTorch: ${c.raises}`).toThrow();
    return;
  }
  const sig = sigs.find((s) => typeof s.tryParse(given) !== "string") ?? sigs[0];
  const formList = forms(c, args, kwargs, sig);
  for (const [label] of formList) {
    const f = fresh();
    const argsOf = forms(c, f.args, f.kwargs, sig).find(([l]) => l === label)[1];
    const got = call(argsOf);
    check(got, c, `${c.id} [${label}]`);
  }
  // bad calls: each must throw an ArgumentError, never compute
  const maxPos = Math.max(
    ...sigs.map((s) => (s.positional.some((p) => p.varargs) ? Infinity : s.positional.length)),
  );
  if (Number.isFinite(maxPos)) {
    const f = fresh();
    const extra = [...f.args, ...new Array(Math.max(0, maxPos - f.args.length)).fill(undefined), 7];
    expectArgumentError(
      () => call(extra),
      /positional argument|no form takes/,
      `${c.id} with an extra argument`,
    );
  }
  {
    const f = fresh();
    expectArgumentError(
      () => call([...f.args, { ...f.kwargs, notAnOption: 1 }]),
      /unknown option "notAnOption"|no form takes/,
      `${c.id} with an unknown option`,
    );
  }
  {
    const f = fresh();
    const lead = callee(c).method ? 1 : sig.positional[0]?.name === "input" ? 1 : 0;
    const wrong = Symbol("wrong");
    const param = sig.positional[lead] ?? sig.keyword[0];
    if (param && param.kind.name !== "object") {
      const bad =
        f.args.length > lead
          ? f.args.map((a, i) => (i === lead ? wrong : a))
          : [...f.args, { ...f.kwargs, [param.name]: wrong }];
      const withKw = f.args.length > lead && Object.keys(f.kwargs).length ? [...bad, f.kwargs] : bad;
      expectArgumentError(() => call(withKw), /must be|no form takes/, `${c.id} with a wrong-kind value`);
    }
  }
}

function expectArgumentError(fn, pattern, what) {
  let err;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `${what}: expected an ArgumentError, nothing was thrown`).toBeDefined();
  expect(err, `${what}: ${err}`).toBeInstanceOf(torch.ArgumentError);
  expect(String(err.message), what).toMatch(pattern);
}

function check(got, c, what) {
  const exp = c.expect;
  if (c.check === "repr") return expect(String(got), what).toBe(exp);
  if (c.check === "forward") {
    // a module: its printout, then its output for the case's inputs (in eval mode when c.eval)
    expect(String(got), what).toBe(c.repr);
    if (c.eval) got.eval();
    return close(got(...decode(c.inputs)), decode(exp), `${what} forward`, c.atol);
  }
  if (c.check === "len") return expect(got.length, what).toBe(exp);
  if (c.check === "list") return close([...got], decode(exp), what, c.atol);
  if (c.check === "lens") {
    return close(
      got.map((x) => x.length),
      exp,
      what,
      c.atol,
    );
  }
  if (c.check === "lrs") {
    // a scheduler: each group's lr after construction, then after each optimizer.step() + scheduler.step(...)
    const lrs = [got.optimizer.paramGroups.map((g) => g.lr)];
    for (const a of c.steps) {
      got.optimizer.step();
      got.step(...a);
      lrs.push(got.optimizer.paramGroups.map((g) => g.lr));
    }
    return close(lrs, exp, what, c.atol);
  }
  if (c.check === "groups") {
    const groups = got.paramGroups;
    expect(groups.length, what).toBe(exp.length);
    exp.forEach((g, i) => {
      for (const [key, v] of Object.entries(g))
        close(groups[i][key], decode(v), `${what} group ${i} ${key}`, c.atol);
    });
    return;
  }
  close(got, decode(exp), what, c.atol, c.check === "shape");
}

function close(got, exp, what, atol = 1e-5, shapeOnly = false) {
  if (exp instanceof torch.Tensor) {
    expect(got, `${what}: expected a Tensor`).toBeInstanceOf(torch.Tensor);
    expect([...got.shape], `${what}: shape`).toEqual([...exp.shape]);
    expect(got.dtype, `${what}: dtype`).toBe(exp.dtype);
    if (shapeOnly) return;
    // the elements in row-major order (toArray() of a 0-dim tensor is a bare number)
    const av = [got.toArray()].flat(Infinity);
    const bv = [exp.toArray()].flat(Infinity);
    for (let i = 0; i < av.length; i++) closeNum(av[i], bv[i], `${what}[${i}]`, atol);
    return;
  }
  if (Array.isArray(exp)) {
    expect(got != null && typeof got.length === "number", `${what}: expected a sequence, got ${got}`).toBe(
      true,
    );
    expect(got.length, `${what}: length`).toBe(exp.length);
    for (let i = 0; i < exp.length; i++) close(got[i], exp[i], `${what}[${i}]`, atol, shapeOnly);
    return;
  }
  if (exp !== null && typeof exp === "object") {
    for (const [k, v] of Object.entries(exp)) close(got[k], v, `${what}.${k}`, atol, shapeOnly);
    return;
  }
  if (typeof exp === "number" && got instanceof torch.Tensor) return closeNum(got.item(), exp, what, atol);
  if (typeof exp === "number") return closeNum(got, exp, what, atol);
  expect(got, what).toEqual(exp);
}

function closeNum(x, y, what, atol) {
  if (typeof y === "boolean" || typeof x === "boolean") return expect(Boolean(x), what).toBe(Boolean(y));
  if (Number.isNaN(y)) return expect(Number.isNaN(x), `${what}: ${x} should be NaN`).toBe(true);
  if (!Number.isFinite(y)) return expect(x, what).toBe(y);
  expect(Math.abs(x - y) <= atol + 1e-5 * Math.abs(y), `${what}: ${x} vs PyTorch ${y}`).toBe(true);
}
