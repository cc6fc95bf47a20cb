/**
 * Downloading into the dataset cache: each mirror in turn, MD5-checked, written atomically. The body streams
 * into a temporary file beside the target (`<name>.<random>.part`); only a complete body whose MD5 matches is
 * renamed to the target name, so an interrupted, truncated or corrupt download never leaves a file that a later
 * run would take for the real one.
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

export interface DownloadOptions {
  /** Base URLs, each joined with `filename` (a missing trailing "/" is added). */
  mirrors: readonly string[];
  filename: string;
  /** Expected MD5 of the file as downloaded (hex). */
  md5: string;
  /** Directory to write into (created if missing). */
  dir: string;
  /** Give up on a mirror after this long without receiving data (default 30 s). */
  idleTimeoutMs?: number;
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

/** Join a mirror base URL and a file name. */
export function mirrorUrl(mirror: string, filename: string): string {
  return mirror.endsWith("/") ? `${mirror}${filename}` : `${mirror}/${filename}`;
}

/**
 * Download `filename` from the first mirror that delivers it with the right MD5 into `dir`; returns the path.
 * Throws a `DownloadError` listing every URL tried and why it failed, and leaves nothing behind.
 */
export async function downloadFile(options: DownloadOptions): Promise<string> {
  const { mkdir, open, rename, rm } = await import("node:fs/promises");
  const { join } = await import("node:path");
  const { createHash, randomBytes } = await import("node:crypto");
  const log =
    options.log === false ? () => {} : (options.log ?? ((m: string) => process.stderr.write(`${m}\n`)));
  const idle = options.idleTimeoutMs ?? 30_000;
  await mkdir(options.dir, { recursive: true });
  const target = join(options.dir, options.filename);
  const attempts: { url: string; error: string }[] = [];

  for (const mirror of options.mirrors) {
    const url = mirrorUrl(mirror, options.filename);
    const tmp = `${target}.${randomBytes(6).toString("hex")}.part`;
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => abort.abort(new Error(`no data for ${idle} ms`)), idle);
    };
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
      const hash = createHash("md5");
      let received = 0;
      const fh = await open(tmp, "wx");
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          arm();
          hash.update(chunk);
          received += chunk.length;
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
    }
  }
  const list = attempts.map((a) => `  - ${a.url}: ${a.error}`).join("\n");
  throw new DownloadError(
    `could not download ${options.filename} from any of ${options.mirrors.length} mirror(s):\n${list || "  (no mirrors given)"}\nNothing was written to ${options.dir}.${options.hint ? `\n${options.hint}` : ""}`,
    attempts,
  );
}
