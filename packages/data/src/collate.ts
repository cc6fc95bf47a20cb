/**
 * Collation: turning a list of samples into one batch, like PyTorch's `default_collate`.
 */
import { stack, Tensor, type TypedArray, tensor } from "@cinder/tensor";

/**
 * The type `defaultCollate` makes of a list of `T`: tensors, numbers, booleans and TypedArrays become one tensor
 * with a leading batch dimension; strings a list of strings; arrays and tuples are collated position by position;
 * plain objects key by key.
 */
export type Collated<T> = T extends Tensor
  ? Tensor
  : T extends number | boolean | TypedArray
    ? Tensor
    : T extends string
      ? string[]
      : T extends readonly unknown[]
        ? { -readonly [K in keyof T]: Collated<T[K]> }
        : T extends object
          ? { [K in keyof T]: Collated<T[K]> }
          : never;

/** A function that makes one batch of a list of samples. */
export type CollateFn<T, B> = (samples: T[]) => B;

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return (v as object).constructor?.name ?? "an object";
  return typeof v;
}

/**
 * PyTorch's `default_collate`:
 * - tensors are stacked along a new first dimension (they must share shape, dtype and device);
 * - numbers become a 1-D tensor: int64 (PyTorch's) when every number of the batch is an integer, float32 otherwise
 *   (JavaScript cannot tell `1.0` from `1`, so the test is per batch: return tensors, or pass a `collateFn`, when a
 *   float value may happen to be integral in a whole batch); booleans become a bool tensor;
 * - TypedArrays are stacked as tensors of their own dtype (PyTorch does the same for numpy arrays);
 * - strings stay strings: a list;
 * - arrays (lists, tuples) are collated position by position and must all have the same length;
 * - plain objects are collated key by key (the keys of the first sample).
 */
export function defaultCollate<T>(batch: readonly T[]): Collated<T> {
  return collate(batch, "batch") as Collated<T>;
}

function collate(batch: readonly unknown[], path: string): unknown {
  if (batch.length === 0) throw new RangeError("defaultCollate: cannot collate an empty batch");
  const elem = batch[0];
  if (elem instanceof Tensor) {
    for (let i = 1; i < batch.length; i++) {
      if (!(batch[i] instanceof Tensor)) {
        throw new TypeError(
          `defaultCollate: ${path}[0] is a Tensor but ${path}[${i}] is ${describe(batch[i])}`,
        );
      }
    }
    return stack(batch as Tensor[], 0);
  }
  if (typeof elem === "number") {
    const values = batch as number[];
    let ints = true;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v !== "number") {
        throw new TypeError(`defaultCollate: ${path}[0] is a number but ${path}[${i}] is ${describe(v)}`);
      }
      if (ints && !Number.isInteger(v)) ints = false;
    }
    return ints && values.every((v) => v >= -2147483648 && v <= 2147483647)
      ? tensor(Int32Array.from(values))
      : tensor(Float32Array.from(values));
  }
  if (typeof elem === "boolean") return tensor(batch as boolean[]);
  if (typeof elem === "string") return [...(batch as string[])];
  if (ArrayBuffer.isView(elem) && !(elem instanceof DataView)) {
    return stack(
      (batch as TypedArray[]).map((a) => tensor(a)),
      0,
    );
  }
  if (Array.isArray(elem)) {
    const n = elem.length;
    for (let i = 1; i < batch.length; i++) {
      const b = batch[i];
      if (!Array.isArray(b) || b.length !== n) {
        throw new RangeError(
          `defaultCollate: each element in list of batch should be of equal size: ${path}[0] has length ${n} but ${path}[${i}] is ${Array.isArray(b) ? `of length ${b.length}` : describe(b)}`,
        );
      }
    }
    const out = new Array(n);
    for (let k = 0; k < n; k++) {
      out[k] = collate(
        batch.map((b) => (b as unknown[])[k]),
        `${path}[*][${k}]`,
      );
    }
    return out;
  }
  if (elem !== null && typeof elem === "object" && isPlainObject(elem)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(elem)) {
      out[key] = collate(
        batch.map((b) => (b as Record<string, unknown>)[key]),
        `${path}[*].${key}`,
      );
    }
    return out;
  }
  throw new TypeError(
    `defaultCollate: ${path} must contain tensors, numbers, booleans, strings, TypedArrays, arrays or plain objects; found ${describe(elem)}`,
  );
}

function isPlainObject(v: object): boolean {
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

/** Apply `fn` to every tensor in a (nested) batch structure: arrays and plain objects are rebuilt. */
export function mapTensors<B>(batch: B, fn: (t: Tensor) => Tensor): B {
  const walk = (v: unknown): unknown => {
    if (v instanceof Tensor) return fn(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === "object" && isPlainObject(v)) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return walk(batch) as B;
}
