/** Downloads against a local HTTP server on 127.0.0.1 that serves fixture files in good and bad ways. */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { cpu } from "@cinder/backend-cpu";
import { registerBackend } from "@cinder/tensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DownloadError, downloadFile, MNIST } from "../src/index";
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

beforeAll(async () => {
  server = createServer((req, res) => {
    const [, mode, name] = (req.url ?? "").split("/");
    hits.push(`${mode}/${name}`);
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

describe("downloadFile", () => {
  it("downloads a file whose MD5 matches, leaving only that file", async () => {
    const dir = tempDir();
    const path = await downloadFile({
      mirrors: [`${base}/good/`],
      filename: IMG,
      md5: md5(files[IMG]),
      dir,
      ...quiet,
    });
    expect(path).toBe(join(dir, IMG));
    expect(readFileSync(path).equals(files[IMG])).toBe(true);
    expect(readdirSync(dir)).toEqual([IMG]);
  });

  it("rejects a bad MD5 and caches nothing", async () => {
    const dir = tempDir();
    const err = await downloadFile({
      mirrors: [`${base}/bad/`],
      filename: IMG,
      md5: md5(files[IMG]),
      dir,
      ...quiet,
    }).catch((e) => e);
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
    const err = await downloadFile({
      mirrors: [`${base}/cut/`],
      filename: IMG,
      md5: md5(files[IMG]),
      dir,
      ...quiet,
    }).catch((e) => e);
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
