/**
 * Resident kernels (issue 11): fused programs and optimizer updates that work in place on operands in heap.ts's
 * shared memory (CPU storage of 4 KiB or more) instead of streaming them block by block through fused-wasm.ts's
 * module memory, since copies into and out of a SharedArrayBuffer run at about a fifth of memcpy's speed. The same
 * rendered instructions (render-wasm.ts with a `base`) read each operand at its own address, taken from a pointer
 * table in the heap's argument area (KERNEL_ARGS); an operand broadcast run by run is read through a table of its
 * runs. Results are the streamed kernels' bits.
 */
import type { Expr, TypedArray, View } from "@cinder/tensor";
import { numel } from "../codegen";
import { accPosition, type Host, type Kernel, wasmFusedStats } from "./fused-wasm";
import { allocBlock, freeBlock, heapCounters, inHeap, KERNEL_ARGS, sharedMemory } from "./heap";
import { ACC, BLOCK, CONSTS, constSlots, MAX_CONSTS, PTRS, type Slot } from "./render-wasm";

/** Views of heap.ts's memory for resident kernels' arguments, renewed when the memory has grown. */
let args: Host | null = null;
export function residentArgs(): Host {
  const memory = sharedMemory() as WebAssembly.Memory;
  const b = memory.buffer as unknown as ArrayBuffer;
  if (args === null || args.f32.buffer !== b) {
    args = {
      memory,
      f32: new Float32Array(b),
      i32: new Int32Array(b),
      u8: new Uint8Array(b),
      f64: new Float64Array(b),
    };
  }
  return args;
}

/** Where the last elements of a resident kernel's operands are staged (16 bytes each, after the argument area). */
const STAGE = KERNEL_ARGS + 2048;

/**
 * Whether a resident kernel reads operand slot `s` of `v` through a table of its runs (render-wasm.ts): float32 runs
 * of a multiple of 4 elements (so no vector spans two), each one value (a per-channel bias) or contiguous values in
 * the heap (a bias over rows: the table holds their addresses).
 */
export const perRun = (s: Slot, v: View): boolean =>
  s.kind === "runs" && s.run % 4 === 0 && v.dtype === "float32" && (s.repeat || resident(v));

/** The values table of per-run operands (a heap block, -1: none yet) and its size in bytes. */
let tableAt = -1;
let tableBytes = 0;

/**
 * Write the table of `v`'s runs of `run` elements over `shape` from `at` (bytes): each run's value (`repeat`) or the
 * address of its first element; returns the address after it.
 */
export function runValues(
  a: Host,
  v: View,
  shape: readonly number[],
  run: number,
  repeat: boolean,
  at: number,
): number {
  const src = v.handle as TypedArray;
  const n = numel(shape);
  for (let f = 0, w = at >> 2; f < n; f += run, w++) {
    let rem = f;
    let off = v.offset;
    for (let d = shape.length - 1; d >= 0 && rem > 0; d--) {
      const q = rem % shape[d];
      rem = (rem - q) / shape[d];
      off += q * v.strides[d];
    }
    if (repeat) a.f32[w] = src[off];
    else a.i32[w] = src.byteOffset + 4 * off;
  }
  return at + 4 * (n / run);
}

/** Whether `v` is a whole float32 operand in heap.ts's memory, which resident kernels read in place. */
export const resident = (v: View): boolean =>
  v.dtype === "float32" && v.handle instanceof Float32Array && inHeap(v.handle);

/**
 * Run a resident kernel over `n` elements of whole operands in heap.ts's memory: stored into `out` or, with `sum`,
 * summed (the kernel masks the lanes past n, so reading up to 12 bytes past an operand is harmless: the heap keeps
 * slack after its last block).
 */
export function inPlace(
  kernel: Kernel,
  expr: Expr,
  slots: readonly Slot[],
  inputs: readonly View[],
  out: View,
  shape: readonly number[],
  sum: boolean,
): boolean {
  const n = numel(shape);
  // per-run operands: their values into the table (a heap block kept from call to call)
  let bytes = 0;
  for (const s of slots) if (s.kind === "runs") bytes += 4 * (n / s.run);
  if (bytes > tableBytes) {
    if (tableAt >= 0) freeBlock(tableAt);
    tableAt = allocBlock(bytes);
    tableBytes = tableAt < 0 ? 0 : bytes;
    if (tableAt < 0) return false;
  }
  const a = residentArgs();
  const tables: (number | null)[] = [];
  for (let k = 0, at = tableAt; k < slots.length; k++) {
    const s = slots[k];
    tables.push(s.kind === "runs" ? at : null);
    if (s.kind === "runs") at = runValues(a, inputs[k], shape, s.run, s.repeat, at);
  }
  if (!writeConsts(a, expr, slots, inputs)) return false;
  const ops = inputs.map((v, k) => (slots[k].kind === "vec" ? v : null));
  const p = (KERNEL_ARGS + PTRS) / 4;
  for (let k = 0; k < tables.length; k++) if (tables[k] !== null) a.i32[p + k] = tables[k] as number;
  if (sum) {
    setPointers(a, ops);
    a.f64.fill(0, (KERNEL_ARGS + ACC) / 8, (KERNEL_ARGS + ACC) / 8 + 4);
    kernel.run(0, ((n + 3) >> 2) << 4, n, 0);
    const f64 = a.f64;
    const acc = (KERNEL_ARGS + ACC) / 8;
    (out.handle as Float32Array)[out.offset] = f64[acc] + f64[acc + 2] + (f64[acc + 1] + f64[acc + 3]);
  } else {
    runResident(kernel, [...ops, out], [inputs.length], n, (m) => {
      // the staged last elements' runs start at the table entry of element m
      for (let k = 0; k < tables.length; k++) {
        const s = slots[k];
        if (s.kind === "runs") a.i32[p + k] = (tables[k] as number) + 4 * Math.floor(m / s.run);
      }
    });
  }
  wasmFusedStats.resident++;
  heapCounters.fusedInPlace++;
  return true;
}

/** The program's constant slots into the resident kernels' argument area; false when there are too many. */
export function writeConsts(a: Host, expr: Expr, slots: readonly Slot[], inputs: readonly View[]): boolean {
  const all = constSlots(expr, slots, inputs);
  if (all.length > MAX_CONSTS) return false;
  const c = (KERNEL_ARGS + CONSTS) / 4;
  for (let k = 0; k < all.length; k++) {
    const [v, dtype] = all[k];
    if (dtype === "bool") a.i32[c + k] = v !== 0 ? -1 : 0;
    else a.f32[c + k] = v;
  }
  return true;
}

/**
 * A sum per run over whole operands in the heap, in place: cut into the pieces the streamed loop sums (runs cut at
 * BLOCK boundaries too), each summed by one kernel call with the operands' addresses at its first element and added
 * to its run's float64 accumulator, so the bits are the streamed ones.
 */
export function sumRunsInPlace(
  kernel: Kernel,
  slots: readonly Slot[],
  inputs: readonly View[],
  out: View,
  shape: readonly number[],
  accStrides: readonly number[],
  run: number,
): void {
  const a = residentArgs();
  const n = numel(shape);
  const acc = new Float64Array(numel(out.shape));
  const p = (KERNEL_ARGS + PTRS) / 4;
  const at0 = (KERNEL_ARGS + ACC) / 8;
  const vecs = slots.map((s, k) => (s.kind === "vec" ? k : -1)).filter((k) => k >= 0);
  const bases = vecs.map((k) => (inputs[k].handle as Float32Array).byteOffset + 4 * inputs[k].offset);
  const f64 = a.f64;
  f64.fill(0, at0, at0 + 4);
  for (let s = 0; s < n; s += BLOCK) {
    const end = Math.min(n, s + BLOCK);
    for (let f = s; f < end; ) {
      const within = f % run;
      const take = Math.min(run - within, end - f);
      const at = accPosition(f - within, shape, accStrides);
      for (let j = 0; j < vecs.length; j++) a.i32[p + vecs[j]] = bases[j] + 4 * f;
      kernel.run(0, ((take + 3) >> 2) << 4, take, 0);
      acc[at] += f64[at0] + f64[at0 + 2] + (f64[at0 + 1] + f64[at0 + 3]);
      f64.fill(0, at0, at0 + 4);
      f += take;
    }
  }
  const dst = out.handle as Float32Array;
  for (let k = 0; k < acc.length; k++) dst[out.offset + k] = acc[k];
  wasmFusedStats.run++;
  wasmFusedStats.resident++;
  heapCounters.fusedInPlace++;
}

/** Operand k's address (null: a scalar, none) into the resident kernels' pointer table. */
export function setPointers(a: Host, ops: readonly (View | null)[]): void {
  const p = (KERNEL_ARGS + PTRS) / 4;
  for (let k = 0; k < ops.length; k++) {
    const v = ops[k];
    if (v !== null) a.i32[p + k] = (v.handle as Float32Array).byteOffset + 4 * v.offset;
  }
}

/**
 * Run a resident kernel that stores (`written`: the operands it writes) over `n` elements of the whole float32
 * operands `ops` in place (their constants already written): the first n & ~3 where they are, the last 1-3
 * staged in 16 bytes per operand, so that no vector store reaches past an operand.
 */
export function runResident(
  kernel: Kernel,
  ops: readonly (View | null)[],
  written: readonly number[],
  n: number,
  beforeTail?: (m: number) => void,
): void {
  const a = residentArgs();
  setPointers(a, ops);
  const m = n & ~3;
  if (m > 0) kernel.run(0, 4 * m, m, 0);
  if (m < n) {
    const p = (KERNEL_ARGS + PTRS) / 4;
    for (let k = 0; k < ops.length; k++) {
      const v = ops[k];
      if (v === null) continue;
      a.f32.set((v.handle as Float32Array).subarray(v.offset + m, v.offset + n), STAGE / 4 + 4 * k);
      a.i32[p + k] = STAGE + 16 * k;
    }
    beforeTail?.(m);
    kernel.run(0, 16, n - m, 0);
    for (const k of written) {
      const v = ops[k] as View;
      (v.handle as Float32Array).set(
        a.f32.subarray(STAGE / 4 + 4 * k, STAGE / 4 + 4 * k + n - m),
        v.offset + m,
      );
    }
  }
  wasmFusedStats.run++;
}
