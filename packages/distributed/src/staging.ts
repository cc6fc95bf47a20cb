/**
 * How tensors meet the backend protocol's contiguous typed arrays (shared by the collectives and point to point).
 *
 * A contiguous CPU tensor of float32, float64, int32, uint8 or bool goes as a view of its own storage: no copy in
 * and none back (the backend reads and writes the tensor's memory; only its version counter is bumped, as an
 * in-place op does). Any other tensor (strided views, int8/int16, WebGPU) is read into a fresh array, and results are
 * written back with `copy_` (which keeps its strides and device), outside autograd as PyTorch's c10d. `bool` travels
 * as uint8 (its storage), int8/int16 widened to int32.
 *
 * The staging rule: on a device with synchronous reads (the CPU) a call returns at once, `undefined` or, with
 * `asyncOp: true`, a {@link Work} whose `wait()` writes the results back. On a device without them (WebGPU) the
 * tensors are read asynchronously, so the call returns a Promise of the same.
 */
import { type DType, fromTypedArray, isHalf, noGrad, type Tensor, valuesOf } from "@cinder/tensor";

import type { CollectiveArray, Work } from "./backend";

/** What a collective returns: nothing, a {@link Work} (`asyncOp: true`), or, for WebGPU tensors, a Promise of either. */
export type CollectiveResult = Work | undefined | Promise<Work | undefined>;

/**
 * How many tensors went as views of their storage (`direct`) and how many were copied (`copied`); tests read it to
 * see the fast path taken. `direct: false` turns the fast path off (tests compare the two).
 */
export const staging = { direct: 0, copied: 0, useDirect: true };

/** The storage's own memory for `t`'s elements, when `t` is a contiguous CPU tensor of a protocol type; else null. */
function storageView(t: Tensor): CollectiveArray | null {
  if (!staging.useDirect || t.device !== "cpu" || !t.isContiguous()) return null;
  // writeView_ runs a pending program and unshares a buffer pending programs read, as any in-place write does
  const v = t.writeView_;
  const h = v.handle;
  const n = t.numel();
  if (
    h instanceof Float32Array ||
    h instanceof Float64Array ||
    h instanceof Int32Array ||
    h instanceof Uint8Array
  )
    return h.subarray(v.offset, v.offset + n);
  return null;
}

/** The protocol's array of a tensor's contiguous elements (bool as uint8). */
function asArray(data: ArrayLike<number>, dtype: DType): CollectiveArray {
  if (data instanceof Float32Array || data instanceof Float64Array || data instanceof Int32Array) return data;
  if (data instanceof Uint8Array) return data;
  if (dtype === "bool") return Uint8Array.from(data as ArrayLike<number>, Number);
  // int8/int16 travel widened to int32; the write-back casts wrap as the narrow type's own arithmetic would
  if (data instanceof Int8Array || data instanceof Int16Array) return Int32Array.from(data);
  // float16/bfloat16 travel as their float32 values (exact); the write-back rounds the results to the dtype once
  if (isHalf(dtype)) return valuesOf(dtype, data) as Float32Array;

  throw new TypeError(`distributed: no collective array for dtype ${dtype}`);
}

const readsSync = (t: Tensor) => typeof t.backend.readSync === "function";

/** Reads tensors (synchronously when every one can be): views of their storage where possible. */
export function readAll(ts: readonly Tensor[]): CollectiveArray[] | Promise<CollectiveArray[]> {
  // a complex tensor's storage holds 2 words per element: the collectives would read half of it
  const complex = ts.find((t) => t.dtype === "complex64" || t.dtype === "complex128");
  if (complex) {
    throw new TypeError(
      `distributed: ${complex.dtype} tensors are not supported by the collectives yet; pass torch.viewAsReal(t) (a real view of the same storage: sums, broadcasts and gathers of it are the complex ones)`,
    );
  }
  // int64 storage holds exact doubles (a Float64Array), read as is: sums and products check first (int64.ts)
  if (ts.every(readsSync))
    return ts.map((t) => {
      const direct = storageView(t);
      if (direct !== null) {
        staging.direct++;
        return direct;
      }
      staging.copied++;
      return asArray(t.data() as ArrayLike<number>, t.dtype);
    });
  staging.copied += ts.length;
  return Promise.all(ts.map(async (t) => asArray((await t.dataAsync()) as ArrayLike<number>, t.dtype)));
}

/** Writes `data` into `t` in place (any strides, dtype and device), outside autograd. */
export function writeBack(t: Tensor, data: CollectiveArray): void {
  if (t.device === "cpu" && ownerOf(t, data) !== null) {
    t.bumpVersion(); // the backend wrote the storage itself
    return;
  }
  let src = fromTypedArray(data, t.shape as number[]);
  if (t.device !== "cpu") src = src.to(t.device);
  noGrad(() => t.copy_(src));
}

/** `t`'s storage buffer when `data` is a view of exactly `t`'s elements in it (else null). */
function ownerOf(t: Tensor, data: CollectiveArray): unknown {
  if (!t.isContiguous()) return null;
  const v = t.view_;
  const h = v.handle as CollectiveArray;
  if (!ArrayBuffer.isView(h) || h.buffer !== data.buffer || h.constructor !== data.constructor) return null;
  return data.byteOffset === h.byteOffset + v.offset * h.BYTES_PER_ELEMENT && data.length === t.numel()
    ? h
    : null;
}

/**
 * Runs a call: reads `inputs`, starts `start(arrays)` on the backend, and on completion runs `finish` (the
 * write-back). Returns per the staging rule (module docs).
 */
export function run(
  asyncOp: boolean,
  inputs: readonly Tensor[],
  start: (arrays: CollectiveArray[]) => { work: Work; finish: () => void },
): CollectiveResult {
  // an async call's backend reads and writes the tensors' memory until it completes: their storage stays referenced
  // until then, so disposing a tensor meanwhile cannot hand its buffer to another tensor (the CPU buffer pool)
  const pinned = asyncOp ? inputs.map((t) => t.storage.account) : [];
  for (const p of pinned) p.retain();
  const go = (arrays: CollectiveArray[]): Work | undefined => {
    const { work, finish } = start(arrays);
    let done = false;
    const complete = () => {
      if (!done) {
        done = true;
        try {
          finish();
        } finally {
          for (const p of pinned) p.release();
        }
      }
    };
    if (!asyncOp) {
      work.wait();
      complete();
      return undefined;
    }
    return {
      wait(timeoutMs?: number): void {
        work.wait(timeoutMs);
        complete();
      },
      isCompleted(): boolean {
        if (!done && work.isCompleted()) complete();
        return done;
      },
    };
  };
  const arrays = readAll(inputs);
  return arrays instanceof Promise ? arrays.then(go) : go(arrays);
}
