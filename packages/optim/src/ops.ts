/**
 * The two fused elementwise forms the update rules need (torch's `addcmul_` / `addcdiv_`), composed from core
 * ops with one temporary each. They run inside `step()`'s `tidy` scope, which frees the temporary.
 */
import type { Tensor } from "@cinder/tensor";

/** `self += value * t1 * t2`, in place. */
export function addcmul_(self: Tensor, t1: Tensor, t2: Tensor, value = 1): Tensor {
  const t = t1.mul(t2);
  if (value !== 1) t.mul_(value);
  return self.add_(t);
}

/** `self += value * t1 / t2`, in place. */
export function addcdiv_(self: Tensor, t1: Tensor, t2: Tensor, value = 1): Tensor {
  const t = t1.div(t2);
  if (value !== 1) t.mul_(value);
  return self.add_(t);
}
