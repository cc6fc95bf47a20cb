/** Downloads against a local HTTP server on 127.0.0.1 that serves fixture files in good and bad ways. */

import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { cpu } from "@cinder/backend-cpu";
import { registerBackend } from "@cinder/tensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_DOWNLOAD_TIMEOUT_MS, type DownloadOptions, removeStaleParts } from "../src/download";
import { DownloadError, downloadFile, FashionMNIST, KMNIST, MNIST } from "../src/index";
import { imagesIdx, labelsIdx, tempDir } from "./fixtures";

registerBackend(cpu);

const files: Record<string, Buffer> = {
  "train-images-idx3-ubyte.gz": gzipSync(imagesIdx(40)),
  "train-labels-idx1-ubyte.gz": gzipSync(labelsIdx(40)),
};
const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");

let server: Server;
let base: string;
const hits: string[] = [];

/** What the server sent on each endless/trickling/stalling response, and whether the client hung up. */
interface Stream {
  mode: string;
  sent: number;
  closedByClient: boolean;
  done: Promise<void>;
}
const streams: Stream[] = [];
/** Safety bounds of the never-ending responses, so that a client that never stops still ends the test. */
const ENDLESS_CAP_BYTES = 256 * 2 ** 20;
const ENDLESS_CAP_MS = 5_000;

/** Write a chunk every `everyMs` ms (as fast as the client reads), until it hangs up (or the safety bounds). */
function serveForever(res: import("node:http").ServerResponse, stream: Stream, chunk: Buffer, everyMs = 0) {
  const started = Date.now();
  const pump = () => {
    while (!res.destroyed) {
      if (stream.sent >= ENDLESS_CAP_BYTES || Date.now() - started > ENDLESS_CAP_MS) {
        res.end();
        return;
      }
      stream.sent += chunk.length;
      if (!res.write(chunk)) {
        res.once("drain", pump);
        return;
      }
      if (everyMs > 0) {
        setTimeout(pump, everyMs);
        return;
      }
    }
  };
  pump();
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const [, mode, name] = (req.url ?? "").split("/");
    hits.push(`${mode}/${name}`);
    if (mode === "endless" || mode === "trickle" || mode === "stall") {
      let resolve!: () => void;
      const stream: Stream = {
        mode,
        sent: 0,
        closedByClient: false,
        done: new Promise((r) => (resolve = r)),
      };
      streams.push(stream);
      res.on("close", () => {
        stream.closedByClient = !res.writableFinished;
        resolve();
      });
      res.writeHead(200); // no content-length: only the client can bound the body
      // endless: up to 64 MB/s, so that the safety bound is not reached before a client's time limit
      if (mode === "endless") serveForever(res, stream, Buffer.alloc(64 * 1024), 1);
      else if (mode === "trickle") serveForever(res, stream, Buffer.alloc(1), 20);
      else {
        stream.sent = 100;
        res.write(Buffer.alloc(100)); // then nothing, the connection held open
        setTimeout(() => res.end(), ENDLESS_CAP_MS).unref();
      }
      return;
    }
    const body = files[name];
    if (!body || mode === "missing") {
      res.writeHead(404).end("not found");
      return;
    }
    if (mode === "error") {
      res.writeHead(500).end("internal error");
      return;
    }
    if (mode === "bad") {
      const corrupt = Buffer.from(body);
      corrupt[corrupt.length >> 1] ^= 0x55;
      res.writeHead(200, { "content-length": corrupt.length }).end(corrupt);
      return;
    }
    if (mode === "announce") {
      // announces (and would send) a body far larger than the file
      res.writeHead(200, { "content-length": 1e9 });
      res.write(Buffer.alloc(1024));
      setTimeout(() => res.destroy(), ENDLESS_CAP_MS).unref();
      return;
    }
    if (mode === "cut") {
      // promise the whole body, send half of it, then drop the connection
      res.writeHead(200, { "content-length": body.length });
      res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.writeHead(200, { "content-length": body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const IMG = "train-images-idx3-ubyte.gz";
const quiet = { log: false as const };

/** Downloads IMG (with its MD5, quietly unless `log` is given) into `dir` from the server's `modes` (`${base}/<mode>/`). */
const getImg = (dir: string, modes: string[], options: Partial<DownloadOptions> = {}) =>
  downloadFile({
    mirrors: modes.map((m) => `${base}/${m}/`),
    filename: IMG,
    md5: md5(files[IMG]),
    dir,
    ...quiet,
    ...options,
  });
/** The error a failing `getImg` rejects with. */
const imgError = (dir: string, modes: string[], options: Partial<DownloadOptions> = {}) =>
  getImg(dir, modes, options).catch((e) => e);

describe("downloadFile", () => {
  it("downloads a file whose MD5 matches, leaving only that file", async () => {
    const dir = tempDir();
    const path = await getImg(dir, ["good"]);
    expect(path).toBe(join(dir, IMG));
    expect(readFileSync(path).equals(files[IMG])).toBe(true);
    expect(readdirSync(dir)).toEqual([IMG]);
  });

  it("rejects a bad MD5 and caches nothing", async () => {
    const dir = tempDir();
    const err = await imgError(dir, ["bad"]);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.message).toMatch(
      /bad\/train-images-idx3-ubyte\.gz: MD5 mismatch: expected [0-9a-f]{32}, got [0-9a-f]{32}/,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it("tries the next mirror after a failing one", async () => {
    const dir = tempDir();
    const lines: string[] = [];
    const path = await downloadFile({
      mirrors: [`${base}/error`, `${base}/missing/`, `${base}/good/`],
      filename: IMG,
      md5: md5(files[IMG]),
      dir,
      log: (m) => lines.push(m),
    });
    expect(readFileSync(path).equals(files[IMG])).toBe(true);
    expect(lines.filter((l) => l.startsWith("Failed"))).toEqual([
      `Failed to download ${base}/error/${IMG}: HTTP 500 Internal Server Error (trying the next mirror)`,
      `Failed to download ${base}/missing/${IMG}: HTTP 404 Not Found (trying the next mirror)`,
    ]);
    expect(readdirSync(dir)).toEqual([IMG]);
  });

  it("an interrupted transfer leaves nothing cached", async () => {
    const dir = tempDir();
    const err = await imgError(dir, ["cut"]);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.attempts).toHaveLength(1);
    expect(err.attempts[0].error).toMatch(/terminated|incomplete|socket|closed/i);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("offline: a clear error listing every mirror tried", async () => {
    const dir = tempDir();
    // a port that was just free on loopback: connection refused at once
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const closed = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const err = await downloadFile({
      mirrors: [`http://127.0.0.1:${closed}/a/`, `http://127.0.0.1:${closed}/b/`],
      filename: IMG,
      md5: md5(files[IMG]),
      dir,
      hint: "How to get the files: ...",
      ...quiet,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.message).toContain(`could not download ${IMG} from any of 2 mirror(s):`);
    expect(err.message).toContain(`  - http://127.0.0.1:${closed}/a/${IMG}: fetch failed (ECONNREFUSED)`);
    expect(err.message).toContain(`  - http://127.0.0.1:${closed}/b/${IMG}: fetch failed (ECONNREFUSED)`);
    expect(err.message).toContain(`Nothing was written to ${dir}.\nHow to get the files: ...`);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("bounded downloads: known size and time limits", () => {
  const lastStream = () => streams[streams.length - 1];
  /** Waits for the server's response on `stream` to end; the client hung up. */
  const expectHungUp = async (stream: Stream | undefined) => {
    await stream?.done;
    expect(stream?.closedByClient).toBe(true);
  };

  it("cuts off an endless body at the file's known size, naming the URL, the limit and the bytes received", async () => {
    const dir = tempDir();
    const size = files[IMG].length;
    const err = await imgError(dir, ["endless"], { size });
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.message).toMatch(
      new RegExp(
        `  - ${base}/endless/${IMG}: body larger than the known size of ${IMG.replace(/\./g, "\\.")}: limit ${size} bytes, received (\\d+) bytes; aborted`,
      ),
    );
    const received = Number(/received (\d+) bytes/.exec(err.message)?.[1]);
    expect(received).toBeGreaterThan(size);
    expect(received).toBeLessThan(size + 1024 * 1024);
    // the client hung up: the server stopped long before its own safety bound
    const stream = lastStream();
    await expectHungUp(stream);
    expect(stream.sent).toBeLessThan(ENDLESS_CAP_BYTES / 4);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("rejects a body announced larger than the known size without reading it", async () => {
    const dir = tempDir();
    const err = await imgError(dir, ["announce"], { size: files[IMG].length });
    expect(err.attempts[0].error).toBe(
      `the server announces 1000000000 bytes (content-length), more than the known size of ${IMG}, ${files[IMG].length} bytes; not read`,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it("a body of exactly the known size is accepted", async () => {
    const dir = tempDir();
    const path = await getImg(dir, ["good"], { size: files[IMG].length });
    expect(readFileSync(path).equals(files[IMG])).toBe(true);
  });

  it("without a known size, the time limit (timeoutMs) stops an endless body", async () => {
    const dir = tempDir();
    const err = await imgError(dir, ["endless"], { timeoutMs: 300 });
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.attempts[0].error).toMatch(
      /^time limit of 300 ms exceeded \(timeoutMs\) after receiving \d+ bytes$/,
    );
    await expectHungUp(lastStream());
    expect(readdirSync(dir)).toEqual([]);
  });

  it("the time limit stops a body that trickles (never idle long enough for the idle timeout)", async () => {
    const dir = tempDir();
    const err = await imgError(dir, ["trickle"], {
      size: files[IMG].length,
      idleTimeoutMs: 2_000,
      timeoutMs: 300,
    });
    expect(err.attempts[0].error).toMatch(
      /^time limit of 300 ms exceeded \(timeoutMs\) after receiving \d+ bytes$/,
    );
    await expectHungUp(lastStream());
    expect(readdirSync(dir)).toEqual([]);
  });

  it("a stalled body fails after the idle timeout, saying how much arrived", async () => {
    const dir = tempDir();
    const lines: string[] = [];
    const path = await getImg(dir, ["stall", "good"], { idleTimeoutMs: 200, log: (m) => lines.push(m) });
    // the next mirror delivers the file
    expect(path).toBe(join(dir, IMG));
    expect(lines).toContain(
      `Failed to download ${base}/stall/${IMG}: no data for 200 ms (after receiving 100 bytes) (trying the next mirror)`,
    );
    await expectHungUp(streams.find((s) => s.mode === "stall"));
    expect(readdirSync(dir)).toEqual([IMG]);
  });
  it("the default time limit is generous: 10 minutes per file", () => {
    expect(DEFAULT_DOWNLOAD_TIMEOUT_MS).toBe(10 * 60_000);
    expect(MNIST.downloadTimeoutMs).toBe(10 * 60_000);
  });

  it("every mirrored file's known size is in the table beside its MD5", () => {
    for (const cls of [MNIST, FashionMNIST, KMNIST]) {
      for (const [file, sum, size] of cls.resources) {
        expect(file).toMatch(/^(train|t10k)-(images-idx3|labels-idx1)-ubyte\.gz$/);
        expect(sum).toMatch(/^[0-9a-f]{32}$/);
        expect(Number.isInteger(size) && (size as number) > 1000).toBe(true);
      }
    }
    expect(MNIST.resources.map(([, , size]) => size)).toEqual([9912422, 28881, 1648877, 4542]);
  });

  it("MNIST.create cuts off a mirror that streams forever at the size in its table", async () => {
    class SizedMNIST extends MNIST {
      static override readonly resources = Object.entries(files).map(
        ([f, b]) => [f, md5(b), b.length] as const,
      );
    }
    const root = tempDir();
    const err = await SizedMNIST.create({
      root,
      download: true,
      mirrors: [`${base}/endless/`],
      ...quiet,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.message).toContain(
      `${base}/endless/${IMG}: body larger than the known size of ${IMG}: limit ${files[IMG].length} bytes`,
    );
    expect(readdirSync(join(root, "MNIST", "raw"))).toEqual([]);
  });

  it("MNIST.create honours a subclass's smaller downloadTimeoutMs", async () => {
    class HastyMNIST extends MNIST {
      static override readonly resources = Object.entries(files).map(([f, b]) => [f, md5(b)] as const);
      static override readonly downloadTimeoutMs = 250;
    }
    const root = tempDir();
    const err = await HastyMNIST.create({
      root,
      download: true,
      mirrors: [`${base}/trickle/`],
      ...quiet,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.attempts[0].error).toMatch(/^time limit of 250 ms exceeded/);
  });
});

describe("stale temporary files", () => {
  /** The pid of a process that has exited. */
  const deadPid = () => spawnSync(process.execPath, ["-e", ""]).pid as number;
  const hourAgo = () => new Date(Date.now() - 3600_000);

  function litter(dir: string) {
    const dead = deadPid();
    const names = {
      dead: `${IMG}.${dead}.0123456789ab.part`, // its process was killed
      oldFormat: `${IMG}.abcdef012345.part`, // an earlier version's, not written for an hour
      live: `${IMG}.${process.pid}.0123456789ab.part`, // a download running in a live process
      recentOldFormat: `${IMG}.fedcba987654.part`, // an earlier version's, written just now: may be live
      otherTarget: `train-labels-idx1-ubyte.gz.${dead}.0123456789ab.part`, // another file's
      unrelated: `${IMG}.notes.part`,
    };
    for (const n of Object.values(names)) writeFileSync(join(dir, n), "partial");
    utimesSync(join(dir, names.oldFormat), hourAgo(), hourAgo());
    return names;
  }

  it("are removed before downloading: a dead process's and any not written for 10 minutes", async () => {
    const dir = tempDir();
    const n = litter(dir);
    const log: string[] = [];
    await getImg(dir, ["good"], { log: (m) => log.push(m) });
    expect(readdirSync(dir).sort()).toEqual(
      [IMG, n.live, n.recentOldFormat, n.otherTarget, n.unrelated].sort(),
    );
    expect(log[0]).toBe(
      `Removed 2 stale temporary file(s) of ${IMG}: ${[n.dead, n.oldFormat].sort().join(", ")}`,
    );
  });

  it("are removed when the download fails too", async () => {
    const dir = tempDir();
    const n = litter(dir);
    await expect(getImg(dir, ["bad"])).rejects.toThrow(DownloadError);
    expect(readdirSync(dir).sort()).toEqual([n.live, n.recentOldFormat, n.otherTarget, n.unrelated].sort());
    expect(await removeStaleParts(dir, IMG)).toEqual([]);
  });

  it("a download killed with SIGKILL leaves a .part that the next run removes", async () => {
    const dir = tempDir();
    // a child process downloads from the endless mirror; it is killed once its .part file exists
    const src = new URL("../src/download.ts", import.meta.url).pathname;
    const script = `import { downloadFile } from ${JSON.stringify(src)};
await downloadFile({ mirrors: [${JSON.stringify(`${base}/endless/`)}], filename: ${JSON.stringify(IMG)}, md5: "0".repeat(32), dir: ${JSON.stringify(dir)}, log: false });`;
    const child = spawn(
      process.execPath,
      ["--conditions=@cinder/source", "--import", "tsx", "--input-type=module", "-e", script],
      {
        stdio: "ignore",
      },
    );
    const started = Date.now();
    while (!readdirSync(dir).some((f) => f.endsWith(".part"))) {
      if (Date.now() - started > 20_000) throw new Error("the child's download never started");
      await new Promise((r) => setTimeout(r, 20));
    }
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
    const [part] = readdirSync(dir);
    expect(part).toMatch(new RegExp(`^${IMG.replace(/\./g, "\\.")}\\.${child.pid}\\.[0-9a-f]{12}\\.part$`));
    await getImg(dir, ["good"]);
    expect(readdirSync(dir)).toEqual([IMG]);
  }, 30_000);
});

/** MNIST with the fixture files' MD5s, the way torchvision users override `resources`. */
class TinyMNIST extends MNIST {
  static override readonly resources = Object.entries(files).map(([f, b]) => [f, md5(b)] as const);
}

describe("MNIST.create({ download: true })", () => {
  it("downloads into <root>/MNIST/raw and loads; a second create does not download again", async () => {
    const root = tempDir();
    hits.length = 0;
    const ds = await TinyMNIST.create({
      root,
      download: true,
      mirrors: [`${base}/missing/`, `${base}/good/`],
      ...quiet,
    });
    expect(ds.length).toBe(40);
    expect(ds).toBeInstanceOf(TinyMNIST);
    expect(readdirSync(join(root, "MNIST", "raw")).sort()).toEqual(Object.keys(files).sort());
    expect(hits.filter((h) => h.startsWith("good/"))).toHaveLength(2);
    hits.length = 0;
    expect(
      (await TinyMNIST.create({ root, download: true, mirrors: [`${base}/good/`], ...quiet })).length,
    ).toBe(40);
    expect(hits).toEqual([]);
  });

  it("a failed download names the mirrors and says how to get the files offline", async () => {
    const root = tempDir();
    const err = await TinyMNIST.create({ root, download: true, mirrors: [`${base}/bad/`], ...quiet }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.message).toMatch(/^TinyMNIST: could not download train-images-idx3-ubyte\.gz/);
    expect(err.message).toContain("MD5 mismatch");
    expect(err.message).toContain(
      "to use it offline, put train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz",
    );
    expect(err.message).toContain("MNIST.create({ sample: true })");
    expect(readdirSync(join(root, "MNIST", "raw"))).toEqual([]);
  });

  it("the default mirrors are torchvision's", () => {
    expect(MNIST.mirrors[0]).toBe("https://ossci-datasets.s3.amazonaws.com/mnist/");
    expect(MNIST.resources.map(([f]) => f)).toEqual([
      "train-images-idx3-ubyte.gz",
      "train-labels-idx1-ubyte.gz",
      "t10k-images-idx3-ubyte.gz",
      "t10k-labels-idx1-ubyte.gz",
    ]);
  });
});
