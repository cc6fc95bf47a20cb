/**
 * Gate for the backends' fused optimizer updates (`Backend.adamStep` / `Backend.sgdStep`): a rule offers its
 * update to the parameter's backend when every tensor involved is a contiguous float tensor of the parameter's
 * dtype, shape and backend, and nothing needs recording; otherwise (or when the backend declines) it composes
 * the update from core ops. `setFusedUpdates(false)` forces the composed path (tests compare the two).
 */
import { needsGrad, type Tensor } from "@cinder/tensor";

let enabled = true;

/** Turn the fused fast paths on or off for every optimizer; returns the previous setting. */
export function setFusedUpdates(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/** Whether `p` and `others` (nulls skipped) may go to one fused backend call. */
export function canFuse(p: Tensor, others: readonly (Tensor | null | undefined)[]): boolean {
  if (!enabled || !p.isFloatingPoint() || !p.isContiguous() || needsGrad(p)) return false;
  const b = p.backend;
  for (const t of others) {
    if (t === null || t === undefined) continue;
    if (t.backend !== b || t.dtype !== p.dtype || !t.isContiguous() || needsGrad(t)) return false;
    if (!sameShape(t.shape, p.shape)) return false;
  }
  return true;
}

/** Whether two shapes are equal (an indexed loop: array methods take V8's generic paths on a `Size`). */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** After a fused update: bump the version counters of the tensors it wrote, as in-place ops do. */
export function wrote(ts: readonly (Tensor | null | undefined)[]): void {
  for (const t of ts) t?.bumpVersion();
}
