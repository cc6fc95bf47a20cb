/**
 * PyTorch's intra-op thread control for the CPU backend: `setNumThreads(n)` / `getNumThreads()`, as
 * `torch.set_num_threads(int)` / `torch.get_num_threads()`. The threads split large float32 matrix products
 * (see pool.ts); the default is `$CINDER_NUM_THREADS` in Node when set, else the machine's parallelism
 * (`os.availableParallelism()` in Node, `navigator.hardwareConcurrency` in browsers), at most 8.
 * `setNumThreads(1)` means no worker threads.
 */
import { arg, k, op, signature } from "@cinder/tensor";
import { getThreads, setThreads } from "./pool";

const positiveInt = k.where(k.int, (n) => n >= 1, "int >= 1");

/**
 * `set_num_threads(num)`: the number of threads (the calling thread included) that large CPU matrix products
 * split over; 1 runs them on the calling thread alone. Takes effect from the next product (workers start when a
 * product first needs them). Where threads are unavailable (no SharedArrayBuffer, a page that is not
 * cross-origin isolated, Node < 20.16) products run on one thread whatever the setting.
 */
export const setNumThreads = op(signature("setNumThreads", [arg("num", positiveInt)]), ({ num }): void => {
  setThreads(num);
});

/** `get_num_threads()`: the number of threads large CPU matrix products split over. */
export const getNumThreads = op(signature("getNumThreads", []), (): number => getThreads());
