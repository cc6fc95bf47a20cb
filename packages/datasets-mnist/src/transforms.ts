/**
 * torchvision-style transforms: callable objects, `new transforms.Compose([new transforms.ToTensor(),
 * new transforms.Normalize([0.1307], [0.3081])])`, called as `t(image)`. A plain function works wherever a
 * transform is expected.
 *
 * Each transform may also have a batch form, `forwardBatch(x)`, that applies it to a whole batch `[B, ...]` at
 * once; a dataset's `getBatch` uses it so that a batch of 64 images costs a few tensor ops instead of 64 times
 * as many. `Compose` has a batch form when all its parts have one.
 */
import { arg, type CallsOf, fromTypedArray, k, signature, Tensor, tensor } from "@cinder/tensor";

/** torchvision is not in the PyTorch fixture: its 0.14 signatures, from its docs. */
function tv(name: string) {
  return { torch: `torchvision.transforms.${name}`, forms: ["function"] } as const;
}
const floatOrFloats = k.or(k.float, k.floats);

/** `ToTensor()`. */
const TO_TENSOR = signature("transforms.ToTensor", [], [], tv("ToTensor"));
/** `Normalize(mean, std, inplace=False)`. */
const NORMALIZE = signature(
  "transforms.Normalize",
  [arg("mean", floatOrFloats), arg("std", floatOrFloats), arg("inplace", k.bool, false)],
  [],
  tv("Normalize"),
);
/** `Compose(transforms)`. */
const COMPOSE = signature(
  "transforms.Compose",
  [
    arg(
      "transforms",
      k.test<readonly TransformFn<any, any>[]>(
        "a list of transforms (callables)",
        (v) => Array.isArray(v) && v.every((t) => typeof t === "function"),
      ),
    ),
  ],
  [],
  tv("Compose"),
);
/** `Lambda(lambd)`, plus Cinder's keyword-only `batchFn`: the same function for a whole batch `[B, ...]`. */
const LAMBDA = signature("transforms.Lambda", [arg("lambd", k.fn)], [arg.opt("batchFn", k.fn)], tv("Lambda"));

/** Anything usable as a transform: a function, optionally with a batch form. */
export type TransformFn<I = Tensor, O = Tensor> = ((x: I) => O) & {
  /** The batch form: the transform of each item of a batch `[B, ...]`, computed at once. */
  forwardBatch?(x: Tensor): Tensor;
};

/** Merged with the class below, so that transforms are callable: `t(x)`. */
export interface Transform<I = Tensor, O = Tensor> {
  // biome-ignore lint/style/useShorthandFunctionType: an interface, to merge with the class Transform
  (x: I): O;
}

/** Base class: implement `forward(x)`, and `forwardBatch(x)` when the transform can take a whole batch. */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: transforms are callable objects, like torchvision's
export abstract class Transform<I = Tensor, O = Tensor> {
  constructor() {
    // a function object with this class's prototype, so that `t(x)` works
    const fn = (x: I): O => (fn as unknown as Transform<I, O>).forward(x);
    Object.setPrototypeOf(fn, new.target.prototype);
    // biome-ignore lint/correctness/noConstructorReturn: transforms are callable, like torchvision's
    return fn as unknown as Transform<I, O>;
  }
  /** The transform of one item; `t(x)` calls it. */
  abstract forward(x: I): O;
  /** The transform of each item of a batch `[B, ...]`, computed at once. Absent when there is no batch form. */
  forwardBatch?(x: Tensor): Tensor;
  /** torchvision's repr, e.g. `Normalize(mean=[0.1307], std=[0.3081])`. */
  toString(): string {
    return `${this.constructor.name}()`;
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

/**
 * An image tensor to a float32 tensor in [0, 1], channels first, like torchvision's ToTensor:
 * uint8 [H, W] -> float32 [1, H, W] divided by 255; uint8 [H, W, C] -> [C, H, W]. Tensors of other dtypes are
 * converted to float32 and not scaled (torchvision scales only byte images). Batch form: [B, H, W] ->
 * [B, 1, H, W] and [B, H, W, C] -> [B, C, H, W].
 */
export class ToTensor extends Transform<Tensor, Tensor> {
  static readonly signature = TO_TENSOR;
  constructor(...args: CallsOf<typeof TO_TENSOR>) {
    super();
    TO_TENSOR.parse(args);
  }
  /** One image to float32 `[C, H, W]`, byte images divided by 255. */
  forward(img: Tensor): Tensor {
    if (img.ndim === 2) return byteMap(img, [1, ...img.shape], TO_UNIT) ?? scale(img).unsqueeze(0);
    if (img.ndim === 3) return scale(img).permute([2, 0, 1]).contiguous();
    throw new RangeError(
      `ToTensor: expected an image of shape [H, W] or [H, W, C], got [${img.shape.join(", ")}]`,
    );
  }
  override forwardBatch(batch: Tensor): Tensor {
    if (batch.ndim === 3)
      return (
        byteMap(batch, [batch.shape[0], 1, batch.shape[1], batch.shape[2]], TO_UNIT) ??
        scale(batch).unsqueeze(1)
      );
    if (batch.ndim === 4) return scale(batch).permute([0, 3, 1, 2]).contiguous();
    throw new RangeError(
      `ToTensor: expected a batch of shape [B, H, W] or [B, H, W, C], got [${batch.shape.join(", ")}]`,
    );
  }
}

function scale(x: Tensor): Tensor {
  return x.dtype === "uint8" ? x.float().div(255) : x.float();
}

/**
 * The fast path for grayscale byte images on the CPU: every output pixel is `lut[byte]`, one pass, no
 * intermediate tensors. The tables are computed with the same float32 roundings as the tensor ops they replace
 * (`float().div(255)`, then `sub(mean).div(std)`), so results are bit-identical. Returns null when `x` is not a
 * contiguous uint8 CPU tensor.
 */
function byteMap(x: Tensor, shape: readonly number[], lut: Float32Array): Tensor | null {
  if (x.dtype !== "uint8" || x.device !== "cpu" || !x.isContiguous()) return null;
  const storage = x.storage.handle;
  if (!(storage instanceof Uint8Array)) return null;
  const n = x.numel();
  const bytes = storage.subarray(x.offset, x.offset + n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lut[bytes[i]];
  return fromTypedArray(out, shape);
}

const f32 = Math.fround;
const TO_UNIT = Float32Array.from({ length: 256 }, (_, v) => f32(v / 255));

function normalizedLut(mean: number, std: number): Float32Array {
  const m = f32(mean);
  const s = f32(std);
  return Float32Array.from(TO_UNIT, (u) => f32(f32(u - m) / s));
}

/**
 * `Normalize(mean, std, inplace=False)`: `(x - mean[c]) / std[c]` per channel of a float tensor [..., C, H, W]
 * (so the same code is the batch form); with `inplace` the input tensor is overwritten. Like torchvision, it
 * needs a float tensor: put it after ToTensor.
 */
export class Normalize extends Transform<Tensor, Tensor> {
  static readonly signature = NORMALIZE;
  readonly mean: readonly number[];
  readonly std: readonly number[];
  readonly inplace: boolean;
  private consts: { device: string; mean: Tensor; std: Tensor } | undefined;
  constructor(...args: CallsOf<typeof NORMALIZE>) {
    super();
    const { mean, std, inplace } = NORMALIZE.parse(args);
    this.inplace = inplace;
    this.mean = typeof mean === "number" ? [mean] : [...mean];
    this.std = typeof std === "number" ? [std] : [...std];
    if (this.mean.length !== this.std.length && this.mean.length !== 1 && this.std.length !== 1) {
      throw new RangeError(`Normalize: mean has ${this.mean.length} values but std has ${this.std.length}`);
    }
    if (this.std.some((s) => Math.fround(s) === 0)) {
      throw new RangeError(
        `Normalize: std evaluated to zero after conversion to float32, leading to division by zero (std=[${this.std.join(", ")}])`,
      );
    }
  }
  /** mean and std as float32 [C, 1, 1] tensors on `device` (made on first use, so no backend is needed before). */
  private constants(device: string): { mean: Tensor; std: Tensor } {
    if (this.consts?.device !== device) {
      const c = Math.max(this.mean.length, this.std.length);
      const col = (v: readonly number[]) =>
        tensor(v, { dtype: "float32", device }).reshape(v.length, 1, 1).expand(c, 1, 1);
      this.consts = { device, mean: col(this.mean), std: col(this.std) };
    }
    return this.consts;
  }
  /** `(x - mean) / std` per channel of a float tensor `[..., C, H, W]`. */
  forward(x: Tensor): Tensor {
    if (!x.isFloatingPoint()) {
      throw new TypeError(`Normalize: expected a float tensor, got ${x.dtype} (apply ToTensor first)`);
    }
    if (x.ndim < 3)
      throw new RangeError(
        `Normalize: expected a tensor of shape [..., C, H, W], got [${x.shape.join(", ")}]`,
      );
    const c = x.shape[x.ndim - 3];
    const channels = Math.max(this.mean.length, this.std.length);
    if (channels !== c && channels !== 1) {
      throw new RangeError(
        `Normalize: ${channels} channel means for an image with ${c} channels (shape [${x.shape.join(", ")}])`,
      );
    }
    const { mean, std } = this.constants(x.device);
    return this.inplace ? x.sub_(mean).div_(std) : x.sub(mean).div(std);
  }
  override forwardBatch(x: Tensor): Tensor {
    return this.forward(x);
  }
  override toString(): string {
    return `Normalize(mean=[${this.mean.join(", ")}], std=[${this.std.join(", ")}]${this.inplace ? ", inplace=True" : ""})`;
  }
}

/** `Compose(transforms)`: apply transforms one after another. Has a batch form when every part has one. */
export class Compose<I = Tensor, O = Tensor> extends Transform<I, O> {
  static readonly signature = COMPOSE;
  readonly transforms: readonly TransformFn<any, any>[];
  /** ToTensor then a one-channel Normalize at the start: fused into one table lookup for byte images. */
  private readonly fused: Float32Array | undefined;
  constructor(
    ...args:
      | [transforms: readonly TransformFn<any, any>[]]
      | [options: { transforms: readonly TransformFn<any, any>[] }]
  ) {
    super();
    this.transforms = [...COMPOSE.parse(args).transforms];
    const [a, b] = this.transforms;
    if (
      a instanceof ToTensor &&
      b instanceof Normalize &&
      b.mean.length === 1 &&
      b.std.length === 1 &&
      !b.inplace
    ) {
      this.fused = normalizedLut(b.mean[0], b.std[0]);
    }
    if (this.transforms.every((t) => typeof t.forwardBatch === "function")) {
      this.forwardBatch = (x: Tensor) => {
        const f =
          this.fused && x.ndim === 3 ? byteMap(x, [x.shape[0], 1, x.shape[1], x.shape[2]], this.fused) : null;
        return this.transforms.slice(f ? 2 : 0).reduce((y, t) => t.forwardBatch!(y), f ?? x);
      };
    }
  }
  /** Applies each transform in turn. */
  forward(x: I): O {
    const f =
      this.fused && x instanceof Tensor && x.ndim === 2 ? byteMap(x, [1, ...x.shape], this.fused) : null;
    return this.transforms.slice(f ? 2 : 0).reduce<unknown>((y, t) => t(y), f ?? x) as O;
  }
  override toString(): string {
    return `Compose(\n${this.transforms.map((t) => `    ${t instanceof Transform ? t.toString() : `Lambda(${t.name || "fn"})`}`).join("\n")}\n)`;
  }
}

/**
 * `Lambda(lambd)`: a function as a transform. Cinder's keyword-only `batchFn` gives the same function for a whole
 * batch: `new Lambda(f, { batchFn: g })`.
 */
export class Lambda<I = Tensor, O = Tensor> extends Transform<I, O> {
  /** The declared torchvision signature of `Lambda(...)`, which the constructor parses its arguments with. */
  static readonly signature = LAMBDA;
  /** The wrapped function. */
  readonly fn: (x: I) => O;
  constructor(
    ...args:
      | [lambd: (x: I) => O]
      | [lambd: (x: I) => O, options: { batchFn?: ((x: Tensor) => Tensor) | null }]
      | [options: { lambd: (x: I) => O; batchFn?: ((x: Tensor) => Tensor) | null }]
  ) {
    super();
    const { lambd, batchFn } = LAMBDA.parse(args);
    this.fn = lambd as (x: I) => O;
    if (batchFn) this.forwardBatch = batchFn as (x: Tensor) => Tensor;
  }
  /** Calls the wrapped function. */
  forward(x: I): O {
    return this.fn(x);
  }
  override toString(): string {
    return "Lambda()";
  }
}
