/**
 * The TypeScript side of a signature (`signature.ts`): from the declared parameters, the type of every call form
 * (`Calls<P, K>`: each prefix of the positional parameters, optionally followed by an options object for the rest)
 * and of the parsed arguments an implementation receives (`Parsed<P, K>`).
 */
import type { AnyParam, Param, Signature } from "./signature";

export type In<X> = X extends Param<string, infer T, infer O> ? (O extends true ? T | undefined : T) : never;
export type Out<X> = X extends Param<string, infer T, boolean> ? T : never;
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** What the parser hands the implementation: every parameter by name, defaults filled in. */
export type Parsed<P extends readonly AnyParam[], K extends readonly AnyParam[]> = Simplify<{
  [X in P[number] | K[number] as X["name"]]: Out<X>;
}>;

/** The options object for the parameters not given positionally, plus the keyword-only ones. */
export type Options<P extends readonly AnyParam[], K extends readonly AnyParam[]> = [
  P[number] | K[number],
] extends [never]
  ? never // no parameter left: no options object (an empty `{}` type would accept any value, `x.exp(1)` included)
  : Simplify<
      { [X in P[number] | K[number] as X["optional"] extends true ? X["name"] : never]?: In<X> } & {
        [X in P[number] | K[number] as X["optional"] extends true ? never : X["name"]]: In<X>;
      }
    >;

type AllOptional<P extends readonly AnyParam[], K extends readonly AnyParam[]> = [
  Extract<P[number] | K[number], { optional: false }>,
] extends [never]
  ? true
  : false;

/**
 * Every way to call a signature, as a union of argument tuples: a prefix of the positional parameters,
 * optionally followed by an options object for the rest (required ones then required in it).
 */
export type Calls<
  P extends readonly AnyParam[],
  K extends readonly AnyParam[] = [],
  Done extends readonly unknown[] = [],
> =
  | (AllOptional<P, K> extends true ? Done : never)
  | [...Done, Options<P, K>]
  | (P extends readonly [infer H extends AnyParam, ...infer R extends readonly AnyParam[]]
      ? H["varargs"] extends true
        ? // `f(2, 3)`, `f([2, 3])`, `f([2, 3], {...})` and `f(2, 3, {...})` (PyTorch's `torch.zeros(2, 3, dtype=...)`)
            | [...Done, ...Out<H>]
            | [...Done, Out<H>]
            | [...Done, Out<H>, Options<R, K>]
            | [...Done, ...Out<H>, Options<R, K>]
        : Calls<R, K, [...Done, In<H>]>
      : never);

/** The calls of a signature value: `constructor(...args: CallsOf<typeof LINEAR>)`. */
export type CallsOf<S> = S extends Signature<infer P, infer K> ? Calls<P, K> : never;
/** The parsed arguments of a signature value. */
export type ParsedOf<S> = S extends Signature<infer P, infer K> ? Parsed<P, K> : never;

/** The method form: the same calls without the leading self tensor. */
export type MethodCalls<
  P extends readonly AnyParam[],
  K extends readonly AnyParam[] = [],
> = P extends readonly [AnyParam, ...infer R extends readonly AnyParam[]] ? Calls<R, K> : never;
