/**
 * The counts behind `memory()`: tensors, storages and bytes that are neither released (disposed, freed by
 * `tidy`) nor collected by the garbage collector.
 *
 * Releases are counted exactly, when they happen. Collection is learnt from a FinalizationRegistry, but one
 * registration per tensor would cost more than a small op (~0.5-1.5 us, and V8 keeps a registered object alive
 * through young-generation collections). So tensors and storages the collector manages (a `gcManaged` backend:
 * the CPU) are counted in *cohorts*: consecutive members share one small token object that each of them
 * references, and only the token is registered. When the last member of a cohort is collected, so is the token,
 * and its finaliser subtracts what the cohort still counted. A storage of `OWN_COHORT_BYTES` or more (its op
 * costs far more than a registration) is a cohort of its own, so large buffers are reported exactly.
 *
 * What that means for `memory()`: a collected tensor stops being counted when (1) the last member of its cohort
 * (at most `COHORT_MEMBERS` tensors and small storages made around the same time) has been collected and (2) the
 * finaliser has run, which happens between tasks of the event loop, never inside synchronous code. Storage of a
 * backend the collector does not manage (WebGPU) is registered per tensor, as it must be freed (memory.ts).
 */

/** What a cohort still counts: its members not yet released. The finaliser holds this, not the token. */
class Tally {
  tensors = 0;
  storages = 0;
  bytes = 0;
}

/** The token the members of a cohort reference; collected with the last of them. */
export class Cohort {
  /** Members that joined (full at `COHORT_MEMBERS`). */
  members = 0;
  constructor(readonly tally: Tally) {}
}

/** Live counts over every device. */
export const stats = { tensors: 0, storages: 0, bytes: 0 };

/** Members of one cohort: a collected member stays counted until the cohort's last member is collected too. */
export const COHORT_MEMBERS = 64;
/** A GC-managed storage at least this large is a cohort of its own (counted exactly). */
export const OWN_COHORT_BYTES = 16 * 1024;

const collected = new FinalizationRegistry<Tally>((t) => {
  stats.tensors -= t.tensors;
  stats.storages -= t.storages;
  stats.bytes -= t.bytes;
});

function cohort(): Cohort {
  const tally = new Tally();
  const c = new Cohort(tally);
  collected.register(c, tally);
  return c;
}

let current = cohort();

function join(): Cohort {
  let c = current;
  if (c.members === COHORT_MEMBERS) current = c = cohort();
  c.members++;
  return c;
}

/** Count a new tensor; on a GC-managed backend, return the cohort the tensor must reference. */
export function countTensor(gcManaged: boolean | undefined): Cohort | null {
  stats.tensors++;
  if (gcManaged !== true) return null;
  const c = join();
  c.tally.tensors++;
  return c;
}

/** Uncount a released tensor (once). */
export function uncountTensor(c: Cohort | null): void {
  stats.tensors--;
  if (c !== null) c.tally.tensors--;
}

/** Count a new storage of `bytes`; if the GC manages it, return the cohort its bookkeeping must reference. */
export function countStorage(bytes: number, gcManaged: boolean): Cohort | null {
  stats.storages++;
  stats.bytes += bytes;
  if (!gcManaged) return null;
  const c = bytes >= OWN_COHORT_BYTES ? cohort() : join();
  c.tally.storages++;
  c.tally.bytes += bytes;
  return c;
}

/** Uncount a freed storage (once). */
export function uncountStorage(c: Cohort | null, bytes: number): void {
  stats.storages--;
  stats.bytes -= bytes;
  if (c === null) return;
  c.tally.storages--;
  c.tally.bytes -= bytes;
}
