/**
 * PyTorch's call signatures, declared once per callable (the analogue of a `native_functions.yaml` schema).
 *
 * A signature lists the positional parameters in PyTorch's order and the keyword-only ones, each with a kind
 * (what values it takes) and, when optional, its default. From that one declaration come
 * - the argument parser: `f(1, true)`, `f({ dim: 1, keepdim: true })` and `f(1, { keepdim: true })` all give
 *   `{ dim: 1, keepdim: true }`; an extra argument, an unknown option or a value of the wrong kind throws an
 *   `ArgumentError` naming the function, the parameter, what was expected and what was given;
 * - the TypeScript types of every call form (`Calls<P, K>`), so the positional forms type-check;
 * - the docs (`String(signature)` prints PyTorch's form, `signatures()` lists every declared one) and the test
 *   that compares each with PyTorch's own.
 *
 * The keyword options object is recognised as the last argument when it is a plain object (`{...}`) and the
 * parameter at its position does not itself take plain objects.
 *
 * Parsing runs on every call, so the common call forms take a fast path (`Signature.quickParse`) that gives the same
 * object as the general parser; every error message comes from the general parser.
 */
import { DTYPES, type DType } from "./dtype";
import { opTracer } from "./op-tracer";
import { closest, describeValue, formatDefault, isPlainObject, snakeCase } from "./signature-messages";
import type { Calls, MethodCalls, Parsed } from "./signature-types";
import type { Tensor } from "./tensor";

// The Tensor class, handed over by tensor.ts when it loads: importing it here would close an import cycle
// (tensor -> methods -> ops -> signature -> tensor) that leaves `k` undefined in bundled builds.
let TensorClass: (abstract new (...a: never[]) => object) | null = null;
/** Called once by tensor.ts with the Tensor class. */
export function setTensorClass(ctor: abstract new (...a: never[]) => object): void {
  TensorClass = ctor;
}
// (a plain boolean, not a `v is Tensor` predicate: the predicate makes tsc resolve Tensor while Tensor is being typed)
const isTensor = (v: unknown): boolean => TensorClass !== null && v instanceof TensorClass;

/** A call that does not fit its signature: too many arguments, an unknown option, a value of the wrong kind. */
export class ArgumentError extends TypeError {
  override name = "ArgumentError";
}

const BAD: unique symbol = Symbol("bad argument");
type Bad = typeof BAD;

/** `quickParse` results other than the parsed arguments: the call certainly does not fit / the general path decides. */
export const NO_FIT: unique symbol = Symbol("no fit");
export const UNDECIDED: unique symbol = Symbol("undecided");
export type QuickMiss = typeof NO_FIT | typeof UNDECIDED;

/** What values a parameter takes: a check that returns the (possibly normalised) value or `BAD`. */
export interface Kind<T> {
  /** PyTorch's name for the type, used in errors and docs ("int", "Tensor", "int[]", "float?"). */
  readonly name: string;
  /** Returns the (possibly normalised) value, or `BAD` when the value is not of this kind. */
  readonly parse: (v: unknown) => T | Bad;
  /** The kind takes plain objects, so a trailing `{...}` in its position is a value, not the options. */
  readonly takesObjects?: boolean;
}

function kind<T>(name: string, parse: (v: unknown) => T | Bad, takesObjects = false): Kind<T> {
  return { name, parse, takesObjects };
}
const is =
  <T>(test: (v: unknown) => boolean) =>
  (v: unknown): T | Bad =>
    test(v) ? (v as T) : BAD;

const isInt = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v);
const isIntList = (v: unknown): v is readonly number[] => Array.isArray(v) && v.every(isInt);

/** The kinds of parameter values, named after PyTorch's schema types. */
export const k = {
  tensor: kind<Tensor>(
    "Tensor",
    is((v) => isTensor(v)),
  ),
  /** A tensor or a JS number/boolean (PyTorch's `Tensor | Number`). */
  tensorOrScalar: kind<Tensor | number | boolean>(
    "Tensor or Number",
    is((v) => isTensor(v) || typeof v === "number" || typeof v === "boolean"),
  ),
  scalar: kind<number | boolean>(
    "Number",
    is((v) => typeof v === "number" || typeof v === "boolean"),
  ),
  int: kind<number>("int", is(isInt)),
  float: kind<number>(
    "float",
    is((v) => typeof v === "number"),
  ),
  bool: kind<boolean>(
    "bool",
    is((v) => typeof v === "boolean"),
  ),
  str: kind<string>(
    "str",
    is((v) => typeof v === "string"),
  ),
  /** A list of ints (a shape, a permutation). */
  ints: kind<readonly number[]>("int[]", is(isIntList)),
  /** One int or a list of ints (PyTorch's `int[1]`/`int[2]`: a single int stands for every entry). */
  intOrInts: kind<number | readonly number[]>(
    "int or int[]",
    is((v) => isInt(v) || isIntList(v)),
  ),
  floats: kind<readonly number[]>(
    "float[]",
    is((v) => Array.isArray(v) && v.every((x) => typeof x === "number")),
  ),
  tensors: kind<readonly Tensor[]>(
    "Tensor[]",
    is((v) => Array.isArray(v) && v.every((x) => isTensor(x))),
  ),
  dtype: kind<DType>(
    "dtype",
    is((v) => (DTYPES as readonly unknown[]).includes(v)),
  ),
  /** A device name ("cpu", "webgpu", ...). */
  device: kind<string>(
    "device",
    is((v) => typeof v === "string" && v.length > 0),
  ),
  /** A function ("callable"). */
  fn: kind<(...a: never[]) => unknown>(
    "callable",
    is((v) => typeof v === "function"),
  ),
  /** A plain object (a state dict, a mapping). */
  dict: kind<Record<string, unknown>>("dict", is(isPlainObject), true),
  any: kind<unknown>("object", (v) => v, true),
  /** One of the given strings. */
  oneOf<const S extends string>(...values: S[]): Kind<S> {
    return kind<S>(
      values.map((s) => JSON.stringify(s)).join(" | "),
      is((v) => values.includes(v as S)),
    );
  },
  /** An instance of a class. */
  instance<T>(ctor: abstract new (...a: any) => T, name = ctor.name): Kind<T> {
    return kind<T>(
      name,
      is((v) => v instanceof ctor),
    );
  },
  /** `T?`: the kind, or `null` (Python's None). */
  opt<T>(kd: Kind<T>): Kind<T | null> {
    return kind<T | null>(`${kd.name} or null`, (v) => (v === null ? null : kd.parse(v)), kd.takesObjects);
  },
  /** Either kind (tried in order). */
  or<A, B>(a: Kind<A>, b: Kind<B>): Kind<A | B> {
    return kind<A | B>(
      `${a.name} or ${b.name}`,
      (v) => {
        const x = a.parse(v);
        return x === BAD ? b.parse(v) : x;
      },
      a.takesObjects || b.takesObjects,
    );
  },
  /**
   * A kind defined by a test, for values the other kinds do not describe (a dataset, a sampler, param groups). It
   * never claims a trailing plain object, so a call with every argument in the options object parses as options.
   */
  test<T>(name: string, test: (v: unknown) => boolean): Kind<T> {
    return kind<T>(name, is(test));
  },
  /** A kind with an extra condition on the value (`k.where(k.int, (n) => n >= 0, "int >= 0")`). */
  where<T>(kd: Kind<T>, test: (v: T) => boolean, name: string): Kind<T> {
    return kind<T>(
      name,
      (v) => {
        const x = kd.parse(v);
        return x !== BAD && test(x) ? x : BAD;
      },
      kd.takesObjects,
    );
  },
};

/** One parameter: its camelCase name, its kind, and whether it may be left out (then `default` applies). */
export interface Param<N extends string = string, T = unknown, O extends boolean = boolean> {
  readonly name: N;
  readonly kind: Kind<T>;
  readonly optional: O;
  readonly default: T | undefined;
  /** `*size`: takes every remaining positional argument (or one list). */
  readonly varargs: boolean;
}
/** A parameter of any name and kind. */
export type AnyParam = Param<string, any, boolean>;

/** A required parameter: `arg("input", k.tensor)`; an optional one with its default: `arg("dim", k.int, 0)`. */
export function arg<const N extends string, T>(name: N, kd: Kind<T>): Param<N, T, false>;
export function arg<const N extends string, T, D extends T>(name: N, kd: Kind<T>, dflt: D): Param<N, T, true>;
export function arg<const N extends string, T>(name: N, kd: Kind<T>, ...d: [T?]): Param<N, T, boolean> {
  return { name, kind: kd, optional: d.length > 0, default: d[0], varargs: false };
}
/** `T? name=None`: optional, `null` by default. */
arg.opt = <const N extends string, T>(name: N, kd: Kind<T>): Param<N, T | null, true> => ({
  name,
  kind: k.opt(kd),
  optional: true,
  default: null,
  varargs: false,
});
/** `*size`: `f(2, 3)` or `f([2, 3])`; the value is always the list. */
arg.varargs = <const N extends string>(
  name: N,
): Param<N, readonly number[], false> & { readonly varargs: true } => ({
  name,
  kind: k.ints,
  optional: false,
  default: undefined,
  varargs: true,
});

/**
 * A PyTorch parameter Cinder does not support (`out=`, `pin_memory=`): declared so that the positions and names
 * stay PyTorch's, and only its default is accepted; any other value is an error that says why.
 */
arg.unsupported = <const N extends string, D>(name: N, dflt: D, why: string): Param<N, D, true> => ({
  name,
  kind: kind<D>(`${formatDefault(dflt)} (${why})`, (v) => (v === dflt ? (v as D) : BAD)),
  optional: true,
  default: dflt,
  varargs: false,
});

/** The self tensor of a tensor op: `input` in `torch.f(input, ...)`, `self` in `x.f(...)`. */
export const self = arg("input", k.tensor);

export type { Calls, CallsOf, MethodCalls, Options, Parsed, ParsedOf } from "./signature-types";
export { formatDefault, isPlainObject, snakeCase };

/** What a declared signature says, for docs and tests: names, forms and parameters. */
export interface SignatureInfo {
  /** Cinder's qualified name ("sum", "nn.functional.dropout", "nn.Conv2d", "optim.Adam"). */
  readonly name: string;
  /** PyTorch's qualified name it mirrors ("torch.sum", "torch.nn.functional.dropout", ...). */
  readonly torchName: string;
  /** For tensor ops: which forms exist (`torch.f(x, ...)` and/or `x.f(...)`). */
  readonly forms: readonly ("function" | "method")[];
  readonly positional: readonly AnyParam[];
  readonly keyword: readonly AnyParam[];
}

/** Options of `signature()`: PyTorch's name when it differs, and the forms that exist. */
export interface SignatureOptions {
  /** PyTorch's qualified name, where it is not `torch.` + `name` with its function segments in snake_case. */
  torch?: string;
  /** Tensor ops: the forms that exist (default both when the first parameter is `self`). */
  forms?: readonly ("function" | "method")[];
}

const registry = new Map<string, Signature<readonly AnyParam[], readonly AnyParam[]>[]>();

/** Every signature declared so far (import the packages first), for docs and the PyTorch comparison test. */
export function signatures(): readonly SignatureInfo[] {
  return [...registry.values()].flat();
}

/** A value as error messages name it ("Tensor of shape [2] and dtype float32", "int 3", "list [1, 2]"). */
const describe = (v: unknown): string => describeValue(v, isTensor);

/** A declared signature: parses arguments, and prints as PyTorch's `name(a, b=1, *, c=None)`. */
export class Signature<P extends readonly AnyParam[], K extends readonly AnyParam[]>
  implements SignatureInfo
{
  readonly name: string;
  readonly torchName: string;
  readonly forms: readonly ("function" | "method")[];
  readonly positional: P;
  readonly keyword: K;
  /** The short name used in messages (`sum`, `dropout`, `Conv2d`, `LSTM.forward`). */
  readonly short: string;
  private readonly byName = new Map<string, AnyParam>();
  /** Positional then keyword-only parameters, for the defaults pass. */
  private readonly all: readonly AnyParam[];
  private readonly names: string[];
  private readonly varargsAt: number;
  private readonly self: boolean;
  /** For `quickParse`: every parameter's name with its default (undefined for required ones), in `all`'s order. */
  private readonly template: Record<string, unknown>;
  /** For `quickParse`: each parameter's index in `all`, and the names of the required ones. */
  private readonly indexOf = new Map<string, number>();
  private readonly required: readonly string[];

  constructor(name: string, positional: P, keyword: K, opts: SignatureOptions = {}) {
    this.name = name;
    this.positional = positional;
    this.keyword = keyword;
    // a module's forward is named with its class (`MultiheadAttention.forward`): "forward()" alone names nothing
    const parts = name.split(".");
    this.short =
      parts.length > 2 && parts[parts.length - 1] === "forward"
        ? parts.slice(-2).join(".")
        : parts[parts.length - 1];
    this.self = positional[0] === self;
    this.forms = opts.forms ?? (this.self ? ["function", "method"] : ["function"]);
    this.torchName =
      opts.torch ??
      `torch.${name
        .split(".")
        .map((seg) => (/^[a-z]/.test(seg) ? snakeCase(seg) : seg))
        .join(".")}`;
    this.all = [...positional, ...keyword];
    for (const param of this.all) {
      if (this.byName.has(param.name)) throw new Error(`signature ${name}: parameter ${param.name} twice`);
      this.byName.set(param.name, param);
    }
    this.names = [...this.byName.keys()];
    this.varargsAt = positional.findIndex((p) => p.varargs);
    this.all.forEach((p, i) => {
      this.indexOf.set(p.name, i);
    });
    this.required = this.all.filter((p) => !p.optional).map((p) => p.name);
    this.template = Object.fromEntries(this.all.map((p) => [p.name, p.default]));
  }

  /** Register this signature for `signatures()` (docs and the comparison with PyTorch). */
  register(): this {
    const list = registry.get(this.name) ?? [];
    list.push(this as unknown as Signature<readonly AnyParam[], readonly AnyParam[]>);
    registry.set(this.name, list);
    return this;
  }

  /** Parse a call's arguments (self included for tensor ops), or throw an `ArgumentError`. */
  parse(args: readonly unknown[]): Parsed<P, K> {
    const q = this.quickParse(args);
    if (typeof q === "object") return q;
    const r = this.parseGeneral(args);
    if (typeof r === "string") throw new ArgumentError(r);
    return r;
  }

  /** The parsed arguments, or the error message when they do not fit. */
  tryParse(args: readonly unknown[]): Parsed<P, K> | string {
    const q = this.quickParse(args);
    return typeof q === "object" ? q : this.parseGeneral(args);
  }

  /**
   * The fast path of `tryParse`. It gives the very object the general path would, with the same keys in the same
   * order (every parameter, in declaration order), for the common calls: positional arguments (varargs included),
   * optionally followed by an options object whose keys continue them in declaration order (`sum(x, { dim: 1,
   * keepdim: true })`; options that skip parameters or hold `undefined` are put in the general path's key order),
   * with no `undefined` among the positional arguments. It returns `NO_FIT` when the general path would certainly
   * return an error (whose message only the general path builds), and `UNDECIDED` when the general path must decide.
   */
  quickParse(args: readonly unknown[]): Parsed<P, K> | QuickMiss {
    const pos = this.positional;
    let n = args.length;
    let options: Record<string, unknown> | null = null;
    if (n > 0) {
      const last = args[n - 1];
      if (last === undefined) return UNDECIDED;
      // the options object, found as the general path finds it
      if (typeof last === "object" && isPlainObject(last)) {
        const at = this.varargsAt >= 0 && n - 1 >= this.varargsAt ? this.varargsAt : n - 1;
        if (!pos[at]?.kind.takesObjects) {
          options = last;
          n--;
        }
      }
    }
    const out: Record<string, unknown> = { ...this.template };
    let i = 0;
    let given = 0; // positional parameters given
    for (; given < pos.length && i < n; given++) {
      const param = pos[given];
      if (param.varargs) {
        const v = n - i === 1 && Array.isArray(args[i]) ? args[i] : args.slice(i, n);
        const x = param.kind.parse(v);
        if (x === BAD) return NO_FIT;
        out[param.name] = x;
        i = n;
        given++;
        break;
      }
      const v = args[i++];
      if (v === undefined) return UNDECIDED;
      const x = param.kind.parse(v);
      if (x === BAD) return NO_FIT;
      out[param.name] = x;
    }
    if (i < n) return NO_FIT; // too many positional arguments
    let inOrder = true;
    if (options !== null) {
      let next = given; // the general path puts option keys after the positional ones: same order only if they continue them
      for (const key in options) {
        if (!Object.hasOwn(options, key)) return UNDECIDED;
        const at = this.indexOf.get(key);
        if (at === undefined) return NO_FIT; // unknown option
        if (at < given) return NO_FIT; // given twice
        const v = options[key];
        if (v === undefined || at !== next) inOrder = false;
        if (v === undefined) continue; // "not given", as the general path reads it
        const x = this.all[at].kind.parse(v);
        if (x === BAD) return NO_FIT;
        out[key] = x;
        next++;
      }
    }
    const required = this.required;
    for (let j = 0; j < required.length; j++) if (out[required[j]] === undefined) return NO_FIT;
    return (inOrder ? out : this.generalOrder(out, given, options as Record<string, unknown>)) as Parsed<
      P,
      K
    >;
  }

  /**
   * `out` with its keys in the general parser's order, for options that skip parameters (`zerosLike(x, { dtype })`)
   * or hold `undefined`: the positional parameters given, the options' keys as written (those not undefined), then
   * the rest with their defaults in declaration order.
   */
  private generalOrder(out: Record<string, unknown>, given: number, options: Record<string, unknown>) {
    const all = this.all;
    const res: Record<string, unknown> = {};
    for (let j = 0; j < given; j++) res[all[j].name] = out[all[j].name];
    for (const key in options) if (options[key] !== undefined) res[key] = out[key];
    for (let j = given; j < all.length; j++)
      if (!Object.hasOwn(res, all[j].name)) res[all[j].name] = out[all[j].name];
    return res;
  }

  /** The general parser: any call form (options object, varargs, `undefined` for "not given"). */
  parseGeneral(args: readonly unknown[]): Parsed<P, K> | string {
    const pos = this.positional;
    let n = args.length;
    while (n > 0 && args[n - 1] === undefined) n--;
    let options: Record<string, unknown> | undefined;
    const last = args[n - 1];
    if (n > 0 && isPlainObject(last)) {
      const at = this.varargsAt >= 0 && n - 1 >= this.varargsAt ? this.varargsAt : n - 1;
      const param = pos[at];
      if (!param?.kind.takesObjects) {
        options = last;
        n--;
      }
    }
    // a parameter is given when `out` holds a value for it (kinds never produce undefined)
    const out: Record<string, unknown> = {};
    let i = 0;
    for (let p = 0; p < pos.length && i < n; p++) {
      const param = pos[p];
      if (param.varargs) {
        const v = Array.isArray(args[i]) && n - i === 1 ? args[i] : args.slice(i, n);
        const x = param.kind.parse(v);
        if (x === BAD) return this.bad(param, Array.isArray(args[i]) ? args[i] : args.slice(i, n));
        out[param.name] = x;
        i = n;
        break;
      }
      const v = args[i++];
      if (v === undefined) continue;
      const x = param.kind.parse(v);
      if (x === BAD) return this.bad(param, v);
      out[param.name] = x;
    }
    if (i < n) {
      const max = pos.length - (this.self ? 1 : 0);
      const got = n - (this.self ? 1 : 0);
      const names = pos.slice(this.self ? 1 : 0).map((p) => p.name);
      return `${this.short}(): takes ${max} positional argument${max === 1 ? "" : "s"}${names.length ? ` (${names.join(", ")})` : ""} but ${got} ${got === 1 ? "was" : "were"} given; keyword arguments go in a final options object`;
    }
    if (options) {
      for (const key of Object.keys(options)) {
        const v = options[key];
        const param = this.byName.get(key);
        if (!param) {
          const hint = closest(key, this.names);
          return `${this.short}(): unknown option "${key}"${hint ? `; did you mean "${hint}"?` : ""} (${this.names.length ? `options: ${this.names.filter((x) => !(this.self && x === "input")).join(", ")}` : "it takes no options"})`;
        }
        if (out[key] !== undefined) {
          return `${this.short}(): got multiple values for "${key}" (given positionally and in the options)`;
        }
        if (v === undefined) continue;
        const x = param.kind.parse(v);
        if (x === BAD) return this.bad(param, v);
        out[key] = x;
      }
    }
    const all = this.all;
    for (let j = 0; j < all.length; j++) {
      const param = all[j];
      if (out[param.name] !== undefined) continue;
      if (!param.optional) {
        return `${this.short}(): missing required argument "${param.name}" (${param.kind.name}); signature: ${this}`;
      }
      out[param.name] = param.default;
    }
    return out as Parsed<P, K>;
  }

  private bad(param: AnyParam, v: unknown): string {
    return `${this.short}(): argument "${param.name}" must be ${param.kind.name}, got ${describe(v)}`;
  }

  /** PyTorch's form, in Cinder's names: `sum(input, dim=None, keepdim=False, *, dtype=None)`. */
  toString(): string {
    const fmt = (p: AnyParam) =>
      (p.varargs ? `*${p.name}` : p.name) + (p.optional ? `=${formatDefault(p.default)}` : "");
    const parts = this.positional.map(fmt);
    if (this.keyword.length) parts.push("*", ...this.keyword.map(fmt));
    return `${this.short}(${parts.join(", ")})`;
  }
}

/** Declare a signature: positional parameters in PyTorch's order, then the keyword-only ones. */
export function signature<const P extends readonly AnyParam[], const K extends readonly AnyParam[] = []>(
  name: string,
  positional: P,
  keyword?: K,
  opts?: SignatureOptions,
): Signature<P, K> {
  return new Signature(name, positional, (keyword ?? []) as unknown as K, opts).register();
}

const impls = new WeakMap<object, (a: unknown) => unknown>();
/** The callables of `op` and `overloads` taking their arguments as one array (for `methodOf`). */
const callForms = new WeakMap<object, (args: unknown[]) => unknown>();

/**
 * The method form `x.f(...)` of a callable made by `op` or `overloads` whose first parameter is the tensor: the
 * same as `function (...args) { return f(this, ...args); }` without the spread into `f` and `f`'s own rest array.
 * Null for other functions.
 */
export function methodOf(f: object): ((this: unknown, ...args: unknown[]) => unknown) | null {
  const call = callForms.get(f);
  if (!call) return null;
  return function (this: unknown, ...rest: unknown[]) {
    // (unshift is several times slower than this copy)
    const n = rest.length;
    const args = new Array<unknown>(n + 1);
    args[0] = this;
    for (let i = 0; i < n; i++) args[i + 1] = rest[i];
    return call(args);
  };
}

/** Type-only key under which a callable carries its method form (the same calls without `self`). */
declare const METHOD: unique symbol;

/** A callable built from a signature: `f.signature` is its declaration. */
export type OpFn<P extends readonly AnyParam[], K extends readonly AnyParam[], R> = ((
  ...args: Calls<P, K>
) => R) & {
  readonly signature: Signature<P, K>;
  /** The method form, `x.f(...)` for `f(x, ...)` (types only). */
  readonly [METHOD]?: (...args: MethodCalls<P, K>) => R;
};

/** The method type of an op taking the tensor first: `x.f(...)` for `f(x, ...)`. */
export type AsMethod<F> = typeof METHOD extends keyof F
  ? NonNullable<F[typeof METHOD]>
  : F extends (...args: infer P) => infer R
    ? P extends readonly [Tensor, ...infer A]
      ? (...args: A) => R
      : never
    : never;

/**
 * An op from its signature and its implementation, which receives the parsed arguments by name:
 * `const sum = op(signature("sum", [self, arg.opt("dim", k.intOrInts), arg("keepdim", k.bool, false)]), (a) => ...)`.
 */
export function op<P extends readonly AnyParam[], K extends readonly AnyParam[], R>(
  sig: Signature<P, K>,
  impl: (a: Parsed<P, K>) => R,
): OpFn<P, K, R> {
  const call = (args: readonly unknown[]) => {
    const a = sig.parse(args);
    return opTracer === null ? impl(a) : (opTracer.call(sig.name, a, () => impl(a)) as R);
  };
  const f = (...args: unknown[]) => call(args);
  Object.defineProperty(f, "name", { value: sig.short });
  impls.set(f, impl as (a: unknown) => unknown);
  callForms.set(f, call);
  return Object.assign(f, { signature: sig }) as unknown as OpFn<P, K, R>;
}

type AnyOp = { readonly signature: Signature<any, any> };
type ArgsOf<F> = F extends { readonly signature: Signature<infer P, infer K> } ? Calls<P, K> : never;
type MethodArgsOf<F> = F extends { readonly signature: Signature<infer P, infer K> }
  ? MethodCalls<P, K>
  : never;
type RetOf<F> = F extends (...args: never) => infer R ? R : never;

/** PyTorch's overloads of one name, as TypeScript overloads (up to four forms). */
export interface Overloaded<F1, F2, F3 = never, F4 = never> {
  (...args: ArgsOf<F1>): RetOf<F1>;
  (...args: ArgsOf<F2>): RetOf<F2>;
  (...args: ArgsOf<F3>): RetOf<F3>;
  (...args: ArgsOf<F4>): RetOf<F4>;
  readonly signatures: readonly SignatureInfo[];
  readonly [METHOD]?: OverloadedMethod<F1, F2, F3, F4>;
}
export interface OverloadedMethod<F1, F2, F3, F4> {
  (...args: MethodArgsOf<F1>): RetOf<F1>;
  (...args: MethodArgsOf<F2>): RetOf<F2>;
  (...args: MethodArgsOf<F3>): RetOf<F3>;
  (...args: MethodArgsOf<F4>): RetOf<F4>;
}

/**
 * PyTorch's overloads (`max()`, `max(dim, keepdim)`, `max(other)`): the first whose signature fits the call runs;
 * when none fits, the error lists every form. Typed as TypeScript overloads.
 */
export function overloads<
  F1 extends AnyOp,
  F2 extends AnyOp,
  F3 extends AnyOp = never,
  F4 extends AnyOp = never,
>(...fns: [F1, F2, F3?, F4?]): Overloaded<F1, F2, F3, F4> {
  const sigs = (fns.filter(Boolean) as AnyOp[]).map(
    (f) => f.signature as Signature<readonly AnyParam[], readonly AnyParam[]>,
  );
  const run = fns.filter(Boolean).map((f) => impls.get(f as object) as (a: unknown) => unknown);
  const call = (args: unknown[]) => {
    for (let j = 0; j < sigs.length; j++) {
      // a form that certainly does not fit is passed over without building its error message
      const q = sigs[j].quickParse(args);
      if (q === NO_FIT) continue;
      const r = typeof q === "object" ? q : sigs[j].parseGeneral(args);
      if (typeof r !== "string")
        return opTracer === null ? run[j](r) : opTracer.call(sigs[j].name, r, () => run[j](r));
    }
    const errors = sigs.map((s) => s.parseGeneral(args) as string);
    const shown = sigs[0].positional[0] === self ? args.slice(1) : args;
    throw new ArgumentError(
      `${sigs[0].short}(): no form takes (${shown.map(describe).join(", ")}); expected one of:\n${sigs
        .map((s, j) => `  ${s}  (${errors[j].replace(/^[^:]*\(\): /, "")})`)
        .join("\n")}`,
    );
  };
  const f = (...args: unknown[]) => call(args);
  callForms.set(f, call);
  Object.defineProperty(f, "name", { value: sigs[0].short });
  return Object.assign(f, { signatures: sigs }) as never;
}
