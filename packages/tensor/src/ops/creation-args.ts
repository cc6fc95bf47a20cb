/**
 * What the creation ops (creation.ts) and the random ones (sampling.ts) share: the default device, the
 * parameters of PyTorch's factory functions, declared once, and the checks of their values.
 *
 * PyTorch's parameters Cinder lacks are declared keyword-only and accept only their default, so ported code that
 * spells the default still runs and anything else is a clear error: `out` (None), `pinMemory` (False),
 * `memoryFormat` (None: Cinder's new tensors are contiguous); `layout` takes None or "strided".
 *
 * A leaf module: it imports nothing from the tensor/methods/ops import cycle (only types), so the modules in
 * that cycle may use its values at their top level whatever order a bundle evaluates them in.
 */
import type { Device } from "../backend";
import { getBackend } from "../backend";
import type { DType } from "../dtype";
import { checkDType, defaultIntDtype, isFloat } from "../dtype";
import { DTypeError, fmtShape } from "../errors";
import { ArgumentError, arg, type Kind, k } from "../signature";
import type { Tensor } from "../tensor";

/** The options creation ops share: `dtype`, `device` and `requiresGrad`. */
export interface CreationOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

let defaultDevice: Device = "cpu";
/** The device creation ops use when none is given (torch.set_default_device). */
export function setDefaultDevice(device: Device): void {
  getBackend(device);
  defaultDevice = device;
}
/** The device creation ops use when none is given. */
export function getDefaultDevice(): Device {
  return defaultDevice;
}

/**
 * PyTorch's int64 default on `device` (the default device when null): int64 where its backend stores int64 (the
 * CPU), int32 elsewhere (WebGPU). The dtype of inferred integers, index results and integer sums.
 */
export function defaultIntOn(device: Device | null | undefined): DType {
  return defaultIntDtype(getBackend(device ?? defaultDevice));
}

// ---- the parameters the factory functions share ----

/**
 * A dtype name. Any string parses; `resolveDtype` then checks it, so an unknown one ("int64", "float16") gets the
 * message listing Cinder's dtypes and the int64 hint.
 */
const dtypeKind = k.where(k.str, () => true, "dtype") as unknown as Kind<DType>;
export const dtypeArg = arg.opt("dtype", dtypeKind);
export const deviceArg = arg.opt("device", k.device);
export const requiresGradArg = arg("requiresGrad", k.bool, false);
const layoutArg = arg.opt("layout", k.oneOf("strided"));
const outArg = arg.unsupported("out", null, "out= is not supported: use the returned tensor");
export const pinMemoryArg = arg.unsupported("pinMemory", false, "Cinder has no pinned memory");
export const memoryFormatArg = arg.unsupported(
  "memoryFormat",
  null,
  "Cinder's new tensors are always contiguous",
);
export const sizeArg = arg.varargs("size");

/** `dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False`: the end of every factory's keywords. */
const TENSOR_KEYWORDS = [dtypeArg, layoutArg, deviceArg, pinMemoryArg, requiresGradArg] as const;
/** The keyword-only parameters of a factory: `*, out=None, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False`. */
export const FACTORY_KEYWORDS = [outArg, ...TENSOR_KEYWORDS] as const;
/** The keyword-only parameters of a `*_like` function: `*, memory_format=None, dtype=None, ...` as FACTORY_KEYWORDS without `out`. */
export const LIKE_KEYWORDS = [memoryFormatArg, ...TENSOR_KEYWORDS] as const;

/** The parsed keyword arguments every factory has. */
export interface FactoryArgs {
  dtype: DType | null;
  device: Device | null;
  requiresGrad: boolean;
}
/** The parsed arguments of a `*size` factory (zeros, ones, empty, rand, randn). */
export interface SizeArgs extends FactoryArgs {
  size: readonly number[];
}
/** The parsed arguments of a `*_like` function. */
export interface LikeArgs extends FactoryArgs {
  input: Tensor;
}

// ---- checks ----

/** The dtype a call asked for (checked), or `fallback`. */
export function resolveDtype(fn: string, dtype: DType | null, fallback: DType): DType {
  if (dtype === null) return fallback;
  try {
    return checkDType(dtype);
  } catch (e) {
    throw new ArgumentError(`${fn}(): argument "dtype": ${(e as Error).message}`);
  }
}

/** PyTorch: "Only Tensors of floating point and complex dtype can require gradients". */
export function checkRequiresGrad(fn: string, requiresGrad: boolean, dtype: DType): void {
  if (requiresGrad && !isFloat(dtype)) {
    throw new DTypeError(
      `${fn}(): requiresGrad=true needs a floating point dtype, got ${dtype}: only Tensors of floating point and complex dtype can require gradients (pass { dtype: "float32" })`,
    );
  }
}

/**
 * Sizes must be non-negative (the parser has checked they are integers). Returns `size` itself: the Tensor
 * constructor copies the shape it is given.
 */
export function checkSize(fn: string, size: readonly number[], param = "size"): readonly number[] {
  const i = size.findIndex((d) => d < 0);
  if (i >= 0) {
    throw new ArgumentError(
      `${fn}(): argument "${param}" must have non-negative dimensions, got ${fmtShape(size)} (dimension ${i} is ${size[i]})`,
    );
  }
  return size;
}

export function checkCount(fn: string, param: string, n: number): void {
  if (n < 0) {
    throw new ArgumentError(`${fn}(): argument "${param}" must be non-negative, got ${n}`);
  }
}

/** `t`, set to require grad when the call asked for it. */
export function finish(t: Tensor, requiresGrad: boolean): Tensor {
  if (requiresGrad) t.requiresGrad_(true);
  return t;
}
