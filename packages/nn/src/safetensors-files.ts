/**
 * Safetensors files on disk (Node): atomic saves that clean up after killed saves, and loads, in the argument order
 * of Python's `safetensors.torch` (`save_file(tensors, filename, metadata)`, `load_file(filename, device)`). The
 * format itself, in memory (usable in browsers), is `safetensors.ts`; `node:` modules are imported lazily.
 */
import type { Tensor } from "@cinder/tensor";
import { nodeImport } from "./node-import";
import {
  deserializeSafetensorsWithMetadata,
  type Entry,
  encode,
  entriesOf,
  kindOf,
  PYTHON_FORM,
  type TensorMap,
} from "./safetensors";

/**
 * Write `tensors` (a state dict, a Map or a record) to `path` atomically, in the argument order of Python's
 * `safetensors.torch.save_file(tensors, filename, metadata)`: a temporary file in the same directory is written,
 * flushed to disk and renamed over `path`. Metadata is an object of strings. Temporary files of `path` that a
 * killed save left (`<name>.tmp-<pid>-<random>` of a process that is gone) are removed first. A call with the path
 * first is a TypeError that gives the order. `torch.save(stateDict, path)` writes the same format.
 */
export async function saveSafetensors(
  tensors: TensorMap,
  path: string,
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  const list = entriesOf(tensors, "saveSafetensors");
  if (typeof path !== "string" || path === "") {
    throw new TypeError(
      `saveSafetensors: the second argument must be the path (a non-empty string), got ${kindOf(path)}; the order is ${PYTHON_FORM.saveSafetensors}`,
    );
  }
  const entries: Entry[] = [];
  for (const [name, t] of list)
    entries.push({ name, data: await t.dataAsync(), dtype: t.dtype, shape: t.shape });
  const bytes = encode(entries, metadata);
  const fs = await nodeImport("node:fs/promises");
  const { resolve } = await nodeImport("node:path");
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  savesInFlight.add(resolve(tmp));
  let fh: Awaited<ReturnType<typeof fs.open>> | null = null;
  try {
    await removeStaleTemps(path);
    fh = await fs.open(tmp, "w");
    await fh.writeFile(bytes);
    await fh.sync();
    await fh.close();
    fh = null;
    await fs.rename(tmp, path);
  } catch (e) {
    await fh?.close().catch(() => {});
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw e;
  } finally {
    savesInFlight.delete(resolve(tmp));
  }
}

/** The temporary files of this process's saves under way (absolute paths). */
const savesInFlight = new Set<string>();

/**
 * Remove what a killed save of `path` left behind: the files `<name>.tmp-<pid>-<random>` beside it whose process
 * is gone (or is this one, with no such save under way). A live process's temporary file, another target's, or
 * any other name is left alone. Best effort: a failure here never fails the save.
 */
async function removeStaleTemps(path: string): Promise<void> {
  const fs = await nodeImport("node:fs/promises");
  const { basename, dirname, join, resolve } = await nodeImport("node:path");
  const dir = dirname(path);
  const escaped = basename(path).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = new RegExp(`^${escaped}\\.tmp-(\\d+)-[0-9a-z]+$`);
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = pattern.exec(name);
    if (!m) continue;
    const file = resolve(join(dir, name));
    const pid = Number(m[1]);
    if (savesInFlight.has(file) || (pid !== process.pid && processAlive(pid))) continue;
    await fs.rm(file, { force: true }).catch(() => {});
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to another user
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Read a safetensors file into tensors (in header order), as Python's `safetensors.torch.load_file(filename,
 * device)`: the device may be given as a string or as `{ device }`.
 */
export async function loadSafetensors(
  path: string,
  opts: { device?: string } | string = {},
): Promise<Map<string, Tensor>> {
  return (await loadSafetensorsWithMetadata(path, opts)).tensors;
}

/** Read a safetensors file: its tensors and its `__metadata__`. */
export async function loadSafetensorsWithMetadata(
  path: string,
  opts: { device?: string } | string = {},
): Promise<{ tensors: Map<string, Tensor>; metadata: Record<string, string> }> {
  if (typeof path !== "string" || path === "") {
    throw new TypeError(
      `loadSafetensors: the first argument must be the path (a non-empty string), got ${kindOf(path)}; the order is loadSafetensors(path, { device }?), as Python's safetensors.torch.load_file(filename, device)`,
    );
  }
  if (typeof opts === "string") opts = { device: opts };
  const fs = await nodeImport("node:fs/promises");
  const buf = await fs.readFile(path);
  return deserializeSafetensorsWithMetadata(
    new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength),
    path,
    opts,
  );
}
