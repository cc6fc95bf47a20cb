/** `Module`'s argument handling: `to()`'s PyTorch forms, the names it accepts, and the error for a module cycle. */
import {
  ArgumentError,
  type Device,
  DTYPES,
  type DType,
  k,
  type Param,
  signature,
  Tensor,
} from "@cinder/tensor";
import type { Module } from "./module";

/** What `to()` takes: a device, a dtype, both, a tensor (its device and dtype), or `{ device, dtype, nonBlocking }`. */
export interface ToOptions {
  device?: Device | null;
  dtype?: DType | null;
  /** Accepted for PyTorch compatibility; copies are synchronous. */
  nonBlocking?: boolean;
}
const TO_OPTION_NAMES = ["device", "dtype", "nonBlocking"];
function isDType(s: unknown): s is DType {
  return typeof s === "string" && (DTYPES as readonly string[]).includes(s);
}
const toItem = (v: unknown): boolean =>
  (typeof v === "string" && v.length > 0) ||
  v === null ||
  typeof v === "boolean" ||
  v instanceof Tensor ||
  (typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype);
/** `to(*args, **kwargs)`: PyTorch's forms are to(device, dtype, non_blocking), to(dtype), to(tensor). */
const toArgs: Param<"args", readonly unknown[], true> = {
  name: "args",
  kind: k.where(
    k.any,
    (v) => Array.isArray(v) && v.length <= 3 && v.every(toItem),
    "device, dtype, Tensor or { device, dtype, nonBlocking }",
  ) as Param<"args", readonly unknown[], true>["kind"],
  optional: true,
  default: [],
  varargs: true,
};
export const TO = signature("nn.Module.to", [toArgs]);

/** Resolve `to()`'s arguments to a device and a dtype, PyTorch's way (`torch._C._nn._parse_to`). */
export function parseTo(items: readonly unknown[]): { device?: Device; dtype?: DType } {
  let device: Device | undefined;
  let dtype: DType | undefined;
  const bad = (what: string) =>
    new ArgumentError(
      `to(): ${what}; expected to(device), to(dtype), to(device, dtype), to(tensor) or to({ device, dtype })`,
    );
  let positional = 0;
  for (const v of items) {
    if (typeof v === "object" && v !== null && !(v instanceof Tensor)) {
      for (const [key, x] of Object.entries(v)) {
        if (!TO_OPTION_NAMES.includes(key))
          throw new ArgumentError(`to(): unknown option "${key}" (options: ${TO_OPTION_NAMES.join(", ")})`);
        if (x === undefined || x === null) continue;
        if (key === "device") {
          if (typeof x !== "string" || isDType(x))
            throw bad(`option "device" must be a device, got ${String(x)}`);
          device = x;
        } else if (key === "dtype") {
          if (!isDType(x)) throw bad(`option "dtype" must be a dtype, got ${String(x)}`);
          dtype = x;
        } else if (typeof x !== "boolean") throw bad(`option "nonBlocking" must be bool, got ${String(x)}`);
      }
      continue;
    }
    positional++;
    if (v instanceof Tensor) {
      device = v.device;
      dtype = v.dtype;
    } else if (isDType(v)) dtype = v;
    else if (typeof v === "string") {
      if (positional > 1) throw bad(`a device must come first, got "${v}" in position ${positional}`);
      device = v;
    } else if (typeof v === "boolean") {
      if (positional === 1) throw bad("nonBlocking cannot come first");
    } else if (v !== null) throw bad(`cannot take ${String(v)}`);
  }
  return { device, dtype };
}

/** A module, parameter or buffer name PyTorch accepts (and that Cinder's field walk sees). */
export function checkName(what: string, name: string, owner: Module): void {
  if (name === "") throw new Error(`${what} name can't be empty string ""`);
  if (name.includes(".")) throw new Error(`${what} name can't contain ".", got: ${name}`);
  if (name.startsWith("_"))
    throw new Error(`${what} name can't start with "_" in Cinder (such fields are internal), got: ${name}`);
  if (name in owner && !(Object.hasOwn(owner, name) && Object.keys(owner).includes(name)))
    throw new Error(`attribute '${name}' already exists`);
}

/**
 * The error for a module that contains itself (PyTorch's recursive walks hit RecursionError there): names the
 * module, where it sits (`from`, a dotted path, "" for the root) and the path `to` that leads back to it.
 */
export function cycleError(m: Module, from: string, to: string): Error {
  const chain = [from || "(root)"];
  let p = from;
  for (const s of (from ? to.slice(from.length + 1) : to).split(".")) {
    p = p ? `${p}.${s}` : s;
    chain.push(p);
  }
  const at = from ? `"${from}"` : "the root";
  return new Error(
    `module cycle: the ${m.constructor.name} at ${at} contains itself as "${to}" (${chain.join(" -> ")}); a module cannot contain itself, so its printout and state dict would never end (PyTorch raises RecursionError here)`,
  );
}
