/**
 * `torch.cpu`'s device question, as `torch.cuda.device_count()` is asked before wrapping a model in `DataParallel`:
 * here the number of usable cores, the most ranks `cinder-run --nproc auto` starts.
 */
import { op, signature } from "@cinder/tensor";
import { usableCores } from "./node";

/**
 * `torch.cpu.device_count()` (PyTorch 2.1's; it answers 1 there): the number of usable cores
 * (`os.availableParallelism()` in Node, `navigator.hardwareConcurrency` in browsers).
 */
export const deviceCount = op(
  signature("cpu.deviceCount", [], [], { torch: "torch.cpu.device_count" }),
  (): number => usableCores(),
);
