/**
 * The signature parser's fast path (`Signature.quickParse`) against its general path (`parseGeneral`), over every
 * declared signature of every package: for generated calls of every form (positional prefixes, varargs, options
 * objects in and out of declaration order, unknown and duplicate options, wrong-kind values, `undefined`, too many
 * arguments), a fast-path result must be the very object the general path gives (same keys, same order, same
 * values), and a fast-path "no fit" must be a call the general path rejects. Then: the common calls are the ones the
 * fast path takes (the general path is never reached for them).
 */
import "./support/every-package";
import { cpu } from "@cinder/backend-cpu";
import * as nn from "@cinder/nn";
import * as torch from "@cinder/tensor";
import { type AnyParam, ArgumentError, type Signature, signatures } from "@cinder/tensor";
import { afterEach, describe, expect, it, vi } from "vitest";

torch.registerBackend(cpu);

type AnySig = Signature<readonly AnyParam[], readonly AnyParam[]>;
const all = signatures() as unknown as AnySig[];

const t23 = torch.tensor(
  [
    [1, 2, 3],
    [4, 5, 6],
  ],
  { dtype: "float32" },
);
/** Values tried for every parameter: the first one its kind accepts is its valid value, the first it refuses its wrong one. */
const POOL: unknown[] = [
  t23,
  torch.tensor([1, 0, 2]),
  torch.tensor(2.5),
  1,
  0,
  2,
  -1,
  0.5,
  true,
  false,
  "mean",
  "sum",
  "none",
  "cpu",
  "float32",
  "trunc",
  "floor",
  "zeros",
  "linear",
  "fan_in",
  [],
  [1, 2],
  [2, 3],
  [0.5, 0.25],
  [t23, t23],
  () => t23,
  null,
  Symbol("wrong"),
];

/** Whether a kind refuses a value (its parse returns its internal "bad" symbol). */
function refuses(p: AnyParam, v: unknown): boolean {
  try {
    const r = p.kind.parse(v);
    return typeof r === "symbol" && r !== v;
  } catch {
    return false; // a kind's test that throws on this value (data's Sized on a 0-dim tensor): not used
  }
}
/** A value a kind accepts without throwing. */
function accepts(p: AnyParam, v: unknown): boolean {
  try {
    const r = p.kind.parse(v);
    return !(typeof r === "symbol" && r !== v);
  } catch {
    return false;
  }
}

/** Up to two valid values of a parameter (its default first when it has one), and one value it refuses. */
function valuesOf(p: AnyParam): { ok: unknown[]; bad: unknown | undefined } {
  const ok: unknown[] = [];
  if (p.optional && p.default !== undefined) ok.push(p.default);
  const names = [...p.kind.name.matchAll(/"([^"]*)"/g)].map((m) => m[1]); // oneOf("a", "b") values
  for (const v of [...names, ...POOL]) {
    if (ok.length >= 2) break;
    if (!ok.includes(v) && accepts(p, v)) ok.push(v);
  }
  return { ok, bad: POOL.find((v) => refuses(p, v)) };
}

/** Calls of every form for one signature. */
function callsOf(sig: AnySig): unknown[][] {
  const pos = sig.positional;
  const kw = sig.keyword;
  const vals = [...pos, ...kw].map(valuesOf);
  const good = (i: number, alt = 0) => vals[i].ok[Math.min(alt, vals[i].ok.length - 1)];
  const calls: unknown[][] = [];
  for (let n = 0; n <= pos.length; n++) {
    const prefix = Array.from({ length: n }, (_, i) => good(i));
    if (prefix.some((v) => v === undefined)) break;
    calls.push(prefix, [...prefix, undefined]);
    if (n > 0) calls.push(prefix.map((v, i) => (i === n - 1 ? good(i, 1) : v)));
    if (n > 1) calls.push(prefix.map((v, i) => (i === 0 ? undefined : v)));
    // a wrong-kind value at each position
    for (let i = 0; i < n; i++) {
      if (vals[i].bad !== undefined) calls.push(prefix.map((v, j) => (j === i ? vals[i].bad : v)));
    }
    // options for the rest: in declaration order, reversed, one skipped, undefined, unknown, given twice
    const rest = [...pos.slice(n), ...kw].map((p, j) => [p.name, good(n + j)] as const);
    const defined = rest.filter(([, v]) => v !== undefined);
    const opts = (entries: readonly (readonly [string, unknown])[]) => [
      ...prefix,
      Object.fromEntries(entries),
    ];
    calls.push(opts([]), opts(defined), opts(defined.slice(0, 1)), opts([...defined].reverse()));
    if (defined.length > 1) calls.push(opts(defined.slice(1)));
    if (defined.length > 0) calls.push(opts([[defined[0][0], undefined], ...defined.slice(1)]));
    calls.push(opts([...defined, ["notAnOption", 1]]), opts([["dimm", 1]]));
    if (n > 0) calls.push(opts([[pos[n - 1].name, good(n - 1)]]));
    for (const [name] of rest) {
      const p = [...pos, ...kw].find((q) => q.name === name) as AnyParam;
      const bad = valuesOf(p).bad;
      if (bad !== undefined) calls.push(opts([[name, bad]]));
    }
  }
  // too many arguments; varargs spread out
  const full = pos.map((_, i) => good(i));
  if (!full.includes(undefined)) calls.push([...full, 7], [...full, 7, {}]);
  const va = pos.findIndex((p) => p.varargs);
  if (va >= 0) {
    const lead = pos.slice(0, va).map((_, i) => good(i));
    calls.push(
      [...lead, 2, 3],
      [...lead, [2, 3]],
      [...lead, 2, 3, {}],
      [...lead, [2, 3], { dtype: "int32" }],
    );
    calls.push([...lead, 2, "x"], [...lead, [2, 3], 4], [...lead]);
  }
  return calls;
}

class Thrown {
  constructor(readonly error: unknown) {}
}
function attempt<T>(f: () => T): T | Thrown {
  try {
    return f();
  } catch (e) {
    return new Thrown(e);
  }
}

function kindOf(r: unknown): "parsed" | "no fit" | "undecided" {
  if (typeof r === "object" && r !== null) return "parsed";
  const d = (r as symbol).description;
  if (d !== "no fit" && d !== "undecided") throw new Error(`unexpected quickParse result ${String(r)}`);
  return d;
}

describe("Signature.quickParse agrees with the general parser", () => {
  it("over generated calls of every form, for every declared signature", () => {
    expect(all.length).toBeGreaterThan(500);
    const seen = { parsed: 0, "no fit": 0, undecided: 0 };
    for (const sig of all) {
      for (const args of callsOf(sig)) {
        const g = attempt(() => sig.parseGeneral(args));
        const q = attempt(() => sig.quickParse(args));
        if (g instanceof Thrown) {
          // a kind's own test threw (data's Sized on a 0-dim tensor): the fast path throws the same or defers
          if (q instanceof Thrown) expect(String(q.error), sig.name).toBe(String(g.error));
          else expect(kindOf(q), sig.name).toBe("undecided");
          continue;
        }
        if (q instanceof Thrown) throw q.error;
        const what = `${sig.name}(${args.map((a) => (typeof a === "symbol" ? "<symbol>" : typeof a)).join(", ")})`;
        const k = kindOf(q);
        seen[k]++;
        if (k === "parsed") {
          expect(typeof g, `${what}: general path refused (${g})`).toBe("object");
          // the same keys in the same order, the same values
          expect(Object.keys(q as object), what).toEqual(Object.keys(g as object));
          for (const key of Object.keys(g as object)) {
            const a = (q as Record<string, unknown>)[key];
            const b = (g as Record<string, unknown>)[key];
            // varargs lists are fresh arrays on both paths; every other value is the very same
            if (Array.isArray(a) && sig.positional.some((p) => p.varargs && p.name === key)) {
              expect(a, `${what}.${key}`).toEqual(b);
            } else expect(Object.is(a, b), `${what}.${key}`).toBe(true);
          }
        } else if (k === "no fit") {
          expect(typeof g, `${what}: the fast path said "no fit", the general path parsed it`).toBe("string");
        }
        // tryParse and parse: the fast path's object or the general path's message, whichever applies
        const r = sig.tryParse(args);
        if (typeof g === "string") {
          expect(r, what).toBe(g);
          expect(() => sig.parse(args), what).toThrow(new ArgumentError(g));
        } else expect(r, what).toEqual(g);
      }
    }
    // every form is exercised, and most valid calls take the fast path
    expect(seen.parsed).toBeGreaterThan(5000);
    expect(seen["no fit"]).toBeGreaterThan(5000);
    expect(seen.undecided).toBeGreaterThan(5000);
  });
});

describe("the common calls take the fast path", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });
  const x = () => torch.randn([2, 3]);
  const cases: [string, () => unknown][] = [
    ["x.sum()", () => x().sum()],
    ["x.sum(1, true)", () => x().sum(1, true)],
    ["x.sum({ dim: 1, keepdim: true })", () => x().sum({ dim: 1, keepdim: true })],
    ["x.reshape(3, 2)", () => x().reshape(3, 2)],
    ["x.reshape([3, 2])", () => x().reshape([3, 2])],
    ["x.expand(4, 2, 3)", () => x().expand(4, 2, 3)],
    ["x.matmul(y)", () => x().matmul(x().t())],
    ["x.max(1) (the second overload)", () => x().max(1)],
    ["torch.zeros(2, 3)", () => torch.zeros(2, 3)],
    ["torch.zeros([2, 3], { out: null, dtype })", () => torch.zeros([2, 3], { out: null, dtype: "int32" })],
    ["torch.add(x, y, { alpha: 2 })", () => torch.add(x(), x(), { alpha: 2 })],
    ["F.relu(x)", () => nn.functional.relu(x())],
    ["F.crossEntropy(x, y)", () => nn.functional.crossEntropy(x(), torch.tensor([0, 2]))],
    ["x.backward()", () => x().requiresGrad_().sum().backward()],
  ];
  for (const [what, call] of cases) {
    it(what, () => {
      const general = vi.spyOn(torch.Signature.prototype, "parseGeneral");
      call();
      expect(general, `${what} reached the general parser`).not.toHaveBeenCalled();
    });
  }

  it("and give what the general path gives", () => {
    const y = x();
    for (const [sig, args] of [
      [torch.sum, [y, { dim: 1, keepdim: true }]],
      [torch.sum, [y, 1]],
      [torch.reshape, [y, [3, 2]]],
      [torch.zeros, [2, 3, { out: null, dtype: "int32" }]],
      [torch.add, [y, y, { alpha: 2 }]],
    ] as [{ signature: AnySig }, unknown[]][]) {
      const q = sig.signature.quickParse(args);
      expect(kindOf(q)).toBe("parsed");
      expect(Object.entries(q as object)).toEqual(Object.entries(sig.signature.parseGeneral(args) as object));
    }
  });

  it("a method of an op parses one argument array: the tensor, then the arguments as given", () => {
    const y = x();
    const parse = vi.spyOn(torch.Signature.prototype, "parse");
    y.sum(1, true);
    y.transpose(0, 1);
    expect(parse.mock.calls.map((c) => c[0])).toEqual([
      [y, 1, true],
      [y, 0, 1],
    ]);
  });

  it("options out of declaration order take the fast path, keys in the general path's order (by the call)", () => {
    const args = [2, 3, { dtype: "int32" }]; // zeros(*size, *, out=None, dtype=None, ...): dtype skips out
    const quick = torch.zeros.signature.quickParse(args);
    expect(kindOf(quick)).toBe("parsed");
    expect(Object.keys(quick as object)).toEqual(
      Object.keys(torch.zeros.signature.parseGeneral(args) as object),
    );
    expect(Object.keys(quick as object).slice(0, 3)).toEqual(["size", "dtype", "out"]);
  });

  it("errors come from the general path, unchanged", () => {
    // called untyped, as JavaScript would
    const y = x() as unknown as Record<"sum" | "max", (...a: unknown[]) => unknown>;
    expect(() => y.sum({ dimm: 1 })).toThrow('sum(): unknown option "dimm"; did you mean "dim"?');
    expect(() => y.sum(1, { dim: 1 })).toThrow('sum(): got multiple values for "dim"');
    expect(() => y.sum("a")).toThrow('sum(): argument "dim" must be int or int[] or null, got str "a"');
    expect(() => y.max("a")).toThrow('max(): no form takes (str "a"); expected one of:');
  });
});
