/**
 * A full garbage collection from a test, then the event-loop turns that let FinalizationRegistry callbacks run
 * (they never run inside synchronous code). Works without `--expose-gc`: the flag is set at run time and `gc`
 * taken from a fresh context.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Collect garbage and wait until finalisers have run. */
export async function collectGarbage(): Promise<void> {
  for (let i = 0; i < 2; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => setImmediate(r));
  }
}
