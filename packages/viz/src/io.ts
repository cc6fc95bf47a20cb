/**
 * Node-only helpers, loaded lazily so that importing "@cinder/viz" never touches node:fs or node:http
 * (the figure/SVG half of the package runs in browsers). The module specifiers are passed through a
 * variable so that browser bundlers do not try to resolve them.
 */

/** `import(specifier)` hidden from bundlers. */
export function nodeImport<T>(specifier: string): Promise<T> {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier) as Promise<T>;
}

type FsPromises = typeof import("node:fs/promises");
type PathModule = typeof import("node:path");

export function isNode(): boolean {
  return typeof process !== "undefined" && typeof process.versions?.node === "string";
}

function requireNode(what: string): void {
  if (!isNode())
    throw new Error(`viz: ${what} needs Node.js (it writes files); in a browser use toSVG()/toHTML()`);
}

let tmpCounter = 0;

/**
 * Write `data` to `path` atomically (creating its folder if needed): into a temporary file next to it, then rename over the target, so a
 * reader (a browser reloading the file, a CI artifact upload) never sees a half-written file.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  requireNode("writing files");
  const fs = await nodeImport<FsPromises>("node:fs/promises");
  const { dirname, basename, join } = await nodeImport<PathModule>("node:path");
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${++tmpCounter}.tmp`);
  // create missing folders, as a user saving `out/fig.svg` on a fresh checkout expects
  await fs.mkdir(dirname(path), { recursive: true });
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw e;
  }
}

/** The lower-case extension of a path ("png" for "a/b.PNG"), or "" when it has none. */
export function extension(path: string): string {
  const m = /\.([A-Za-z0-9]+)$/.exec(path);
  return m ? m[1].toLowerCase() : "";
}
