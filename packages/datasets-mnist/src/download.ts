/**
 * Downloading into the dataset cache: each mirror in turn, MD5-checked, written atomically. The body streams
 * into a temporary file beside the target (`<name>.<random>.part`); only a complete body whose MD5 matches is
 * renamed to the target name, so an interrupted, truncated or corrupt download never leaves a file that a later
 * run would take for the real one. A body longer than the file's known size, or a transfer longer than the time
 * limit, is cut off. Temporary files left by a killed run (whose process is gone) are removed before downloading
 * and after a failure.
 */
import { nodeImport } from "./node-import";

/**
 * Thrown when a file could not be downloaded from any mirror; the message lists each URL tried, why it
 * failed, and how to get the files offline.
 */
export class DownloadError extends Error {
  override name = "DownloadError";
  /** Each URL tried and why it failed. */
  readonly attempts: readonly { url: string; error: string }[];
  constructor(message: string, attempts: readonly { url: string; error: string }[]) {
    super(message);
    this.attempts = attempts;
  }
}

/**
 * What to download and how: the mirrors to try, the file name, its expected MD5 and size, and a time limit.
 */
export interface DownloadOptions {
  /** Base URLs, each joined with `filename` (a missing trailing "/" is added). */
  mirrors: readonly string[];
  filename: string;
  /** Expected MD5 of the file as downloaded (hex). */
  md5: string;
  /** Directory to write into (created if missing). */
  dir: string;
  /**
   * The file's size in bytes, when known: a body longer than that (or a server announcing more) is cut off
   * without reading further, since it cannot be the file.
   */
  size?: number;
  /** Give up on a mirror after this long without receiving data (default 30 s). */
  idleTimeoutMs?: number;
  /** Give up on a mirror when the whole transfer takes longer than this (default 10 minutes). */
  timeoutMs?: number;
  /** Progress lines ("Downloading <url>"); default stderr, `false` for silence. */
  log?: ((message: string) => void) | false;
  /** Added to the error when every mirror fails: how else to get the file. */
  hint?: string;
}

function describeError(e: unknown): string {
  const err = e as { message?: string; cause?: { code?: string; message?: string } };
  const cause = err.cause ? ` (${err.cause.code ?? err.cause.message})` : "";
  return `${err.message ?? String(e)}${cause}`;
}

/** The default time limit of one file's transfer from one mirror: 10 minutes. */
export const DEFAULT_DOWNLOAD_TIMEOUT_MS = 10 * 60_000;

/** A `.part` file not written for this long belongs to no live download (whose idle timeout is far shorter). */
const STALE_PART_MS = 10 * 60_000;

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM"; // alive, owned by someone else
  }
}

/**
 * Remove the temporary files of `filename` in `dir` that no live download is writing: those whose process (the
 * pid in `<filename>.<pid>.<random>.part`) is gone, and any not written for 10 minutes (including the
 * `<filename>.<random>.part` of earlier versions). Returns the names removed.
 */
export async function removeStaleParts(dir: string, filename: string): Promise<string[]> {
  const { readdir, rm, stat } = await nodeImport("node:fs/promises");
  const { join } = await nodeImport("node:path");
  const names = await readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(`${filename}.`) || !name.endsWith(".part")) continue;
    const middle = name.slice(filename.length + 1, -".part".length);
    const m = /^(?:(\d+)\.)?[0-9a-f]{12}$/.exec(middle);
    if (!m) continue;
    const path = join(dir, name);
    const pid = m[1] === undefined ? undefined : Number(m[1]);
    let stale = pid !== undefined && !isRunning(pid);
    if (!stale) {
      const st = await stat(path).catch(() => undefined);
      stale = st !== undefined && Date.now() - st.mtimeMs > STALE_PART_MS;
    }
    if (stale) {
      await rm(path, { force: true });
      removed.push(name);
    }
  }
  return removed;
}

/** Join a mirror base URL and a file name. */
export function mirrorUrl(mirror: string, filename: string): string {
  return mirror.endsWith("/") ? `${mirror}${filename}` : `${mirror}/${filename}`;
}

/**
 * Download `filename` from the first mirror that delivers it with the right MD5 into `dir`; returns the path.
 * Throws a `DownloadError` listing every URL tried and why it failed, and leaves nothing behind.
 */
export async function downloadFile(options: DownloadOptions): Promise<string> {
  const { mkdir, open, rename, rm } = await nodeImport("node:fs/promises");
  const { join } = await nodeImport("node:path");
  const { createHash, randomBytes } = await nodeImport("node:crypto");
  const log =
    options.log === false ? () => {} : (options.log ?? ((m: string) => process.stderr.write(`${m}\n`)));
  const idle = options.idleTimeoutMs ?? 30_000;
  const timeLimit = options.timeoutMs ?? DEFAULT_DOWNLOAD_TIMEOUT_MS;
  const size = options.size;
  await mkdir(options.dir, { recursive: true });
  const target = join(options.dir, options.filename);
  const attempts: { url: string; error: string }[] = [];
  const sweep = async () => {
    const removed = await removeStaleParts(options.dir, options.filename);
    if (removed.length)
      log(`Removed ${removed.length} stale temporary file(s) of ${options.filename}: ${removed.join(", ")}`);
  };
  await sweep().catch(() => {}); // cleaning up is best effort: it never stops a download

  for (const mirror of options.mirrors) {
    const url = mirrorUrl(mirror, options.filename);
    const tmp = `${target}.${process.pid}.${randomBytes(6).toString("hex")}.part`;
    const abort = new AbortController();
    let received = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(
        () => abort.abort(new Error(`no data for ${idle} ms (after receiving ${received} bytes)`)),
        idle,
      );
    };
    const deadline = setTimeout(
      () =>
        abort.abort(
          new Error(`time limit of ${timeLimit} ms exceeded (timeoutMs) after receiving ${received} bytes`),
        ),
      timeLimit,
    );
    log(`Downloading ${url}`);
    try {
      arm();
      // identity: the MD5 is of the file's bytes, which a transparently decoded body would not have
      const res = await fetch(url, {
        signal: abort.signal,
        redirect: "follow",
        headers: { "accept-encoding": "identity" },
      });
      if (!res.ok || !res.body)
        throw new Error(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`);
      const declared = Number(res.headers.get("content-length") ?? Number.NaN);
      if (size !== undefined && Number.isFinite(declared) && declared > size) {
        abort.abort(
          new Error(
            `the server announces ${declared} bytes (content-length), more than the known size of ${options.filename}, ${size} bytes; not read`,
          ),
        );
        throw abort.signal.reason;
      }
      const hash = createHash("md5");
      const fh = await open(tmp, "wx");
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          arm();
          received += chunk.length;
          if (size !== undefined && received > size) {
            abort.abort(
              new Error(
                `body larger than the known size of ${options.filename}: limit ${size} bytes, received ${received} bytes; aborted`,
              ),
            );
            throw abort.signal.reason;
          }
          hash.update(chunk);
          await fh.write(chunk);
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
      if (Number.isFinite(declared) && received !== declared && !res.headers.get("content-encoding")) {
        throw new Error(`incomplete body: received ${received} of ${declared} bytes`);
      }
      const md5 = hash.digest("hex");
      if (md5 !== options.md5.toLowerCase()) {
        throw new Error(`MD5 mismatch: expected ${options.md5}, got ${md5} (${received} bytes)`);
      }
      await rename(tmp, target);
      return target;
    } catch (e) {
      const reason = abort.signal.aborted ? describeError(abort.signal.reason) : describeError(e);
      attempts.push({ url, error: reason });
      log(
        `Failed to download ${url}: ${reason}${options.mirrors.length > attempts.length ? " (trying the next mirror)" : ""}`,
      );
      await rm(tmp, { force: true });
    } finally {
      clearTimeout(timer);
      clearTimeout(deadline);
    }
  }
  await sweep().catch(() => {});
  const list = attempts.map((a) => `  - ${a.url}: ${a.error}`).join("\n");
  throw new DownloadError(
    `could not download ${options.filename} from any of ${options.mirrors.length} mirror(s):\n${list || "  (no mirrors given)"}\nNothing was written to ${options.dir}.${options.hint ? `\n${options.hint}` : ""}`,
    attempts,
  );
}
