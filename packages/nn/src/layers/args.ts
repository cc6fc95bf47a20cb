/** Parameter declarations shared by the layers' constructor signatures (PyTorch's factory kwargs, sizes, losses). */
import { arg, type Kind, k } from "@cinder/tensor";

/** `device=None`: where the layer creates its parameters. */
export const deviceArg = arg.opt("device", k.device);
/** `dtype=None`: the parameters' dtype (float32 when null, as PyTorch's default dtype). */
export const dtypeArg = arg.opt("dtype", k.dtype);

/** An int, or a list of `n` ints (PyTorch's `_size_1_t`, `_size_2_t`). */
export function sizeKind(n: number): Kind<number | readonly number[]> {
  return k.where(
    k.intOrInts,
    (v) => typeof v === "number" || v.length === n,
    n === 1 ? "int or int[1]" : `int or int[${n}]`,
  );
}
export const size1 = sizeKind(1);
export const size2 = sizeKind(2);
export const size3 = sizeKind(3);
/** An int, or a list of n entries that are ints or null (keep the input's size): PyTorch's `_size_n_opt_t`. */
export function optSizeKind(n: number): Kind<number | readonly (number | null)[]> {
  return {
    ...k.where(
      k.any,
      (v) =>
        (typeof v === "number" && Number.isInteger(v)) ||
        (Array.isArray(v) && v.length === n && v.every((x) => x === null || Number.isInteger(x))),
      n === 1 ? "int or (int | None)[1]" : `int or (int | None)[${n}]`,
    ),
    takesObjects: false,
  } as Kind<number | readonly (number | null)[]>;
}

export { inplaceArg, reductionArg } from "../util";

/**
 * A loss's deprecated `size_average` / `reduce`: declared in PyTorch's position, accepting only None, with a
 * message pointing at `reduction`.
 */
export const legacyArg = <const N extends string>(name: N) =>
  arg.unsupported(name, null, `deprecated in PyTorch: use reduction ("mean", "sum" or "none")`);

/**
 * A shared base constructor's arguments, parsed by the signature the constructed class declares (`new.target`'s
 * `static signature`: MaxPool2d's `nn.MaxPool2d`, ...), so that each subclass only declares its signature.
 */
export function parseBy<S extends { parse(args: never): unknown }>(
  target: unknown,
  args: unknown[],
): ReturnType<S["parse"]> {
  return (target as { signature: S }).signature.parse(args as never) as ReturnType<S["parse"]>;
}
