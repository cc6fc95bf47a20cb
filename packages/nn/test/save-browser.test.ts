/**
 * `save` / `load` in a browser: test/browser/save-load.ts is bundled for the browser with esbuild (tsup's, from the
 * sources; Node built-ins left out as a browser bundle leaves them) and run in headless Chromium (/usr/bin/chromium,
 * `--headless=new --no-sandbox`, a fresh `--user-data-dir`) from a server on 127.0.0.1. The page round-trips a
 * state dict through an ArrayBuffer, a Blob and IndexedDB (`"indexeddb://..."`), fetches the file Python wrote, and
 * after a reload finds what it saved in IndexedDB. Chromium is driven over the DevTools protocol on a pipe
 * (`--remote-debugging-pipe`), so no driver package is needed. Skips when /usr/bin/chromium is missing.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, HEADLESS_ARGS } from "../../../scripts/lib/chromium.mjs";
import type { RunResult } from "./browser/save-load";

const ENTRY = fileURLToPath(new URL("./browser/save-load.ts", import.meta.url));
const PYTHON_FILE = fileURLToPath(new URL("./fixtures/torch-save.safetensors", import.meta.url));
const fx = JSON.parse(readFileSync(new URL("./fixtures/torch-save.json", import.meta.url), "utf8")) as {
  keys: string[];
  state: Record<string, { values: number[] }>;
};

/** esbuild, as the repository's build (tsup) brings it. */
async function bundle(): Promise<string> {
  const fromTsup = createRequire(createRequire(import.meta.url).resolve("tsup"));
  const esbuild = fromTsup("esbuild") as typeof import("esbuild");
  const r = await esbuild.build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["@cinder/source"],
    external: ["node:*"],
    minify: true,
    logLevel: "silent",
  });
  return r.outputFiles[0].text;
}

/** The DevTools protocol over Chromium's pipe (fd 3 in, fd 4 out; messages end with a NUL byte). */
class Cdp {
  private next = 1;
  private readonly calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly waiters: { method: string; resolve: (v: unknown) => void }[] = [];
  readonly console: string[] = [];
  constructor(
    private readonly out: Writable,
    input: Readable,
  ) {
    let buf = Buffer.alloc(0);
    input.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (let end = buf.indexOf(0); end >= 0; end = buf.indexOf(0)) {
        this.receive(JSON.parse(buf.subarray(0, end).toString("utf8")));
        buf = buf.subarray(end + 1);
      }
    });
  }
  private receive(msg: {
    id?: number;
    method?: string;
    params?: Record<string, unknown>;
    result?: unknown;
    error?: { message: string };
  }): void {
    if (msg.id !== undefined) {
      const call = this.calls.get(msg.id);
      this.calls.delete(msg.id);
      if (msg.error) call?.reject(new Error(`CDP: ${msg.error.message}`));
      else call?.resolve(msg.result);
      return;
    }
    if (msg.method === "Runtime.consoleAPICalled") {
      const args = (msg.params?.args as { value?: unknown; description?: string }[]) ?? [];
      this.console.push(args.map((a) => String(a.value ?? a.description)).join(" "));
    } else if (msg.method === "Runtime.exceptionThrown") {
      this.console.push(`[exception] ${JSON.stringify(msg.params?.exceptionDetails)}`);
    }
    const i = this.waiters.findIndex((w) => w.method === msg.method);
    if (i >= 0) this.waiters.splice(i, 1)[0].resolve(msg.params);
  }
  send<T = Record<string, unknown>>(method: string, params: object = {}, sessionId?: string): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.out.write(`${JSON.stringify({ id, method, params, sessionId })}\0`);
    });
  }
  waitFor(method: string): Promise<unknown> {
    return new Promise((resolve) => this.waiters.push({ method, resolve }));
  }
  close(): void {
    for (const { reject } of this.calls.values()) reject(new Error("CDP: Chromium went away"));
    this.calls.clear();
  }
}

/** Reject after `ms` with what the page logged. */
function within<T>(p: Promise<T>, ms: number, what: string, logs: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s\n${logs()}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

describe.skipIf(!existsSync(CHROMIUM))("save/load in headless Chromium", () => {
  let server: Server | undefined;
  let url = "";
  let chrome: ChildProcess | undefined;
  let cdp: Cdp | undefined;
  let session = "";
  let stderr = "";
  const profile = mkdtempSync(join(tmpdir(), "cinder-chromium-"));
  const logs = () =>
    `page console:\n${cdp?.console.join("\n") ?? ""}\nchromium stderr (last lines):\n${stderr.split("\n").slice(-15).join("\n")}`;

  /** Load the page and evaluate `expression` in it (awaiting its promise). */
  async function onPage<T>(expression: string): Promise<T> {
    const loaded = cdp!.waitFor("Page.loadEventFired");
    await cdp!.send("Page.navigate", { url }, session);
    await within(loaded, 30_000, "page load", logs);
    const r = await within(
      cdp!.send<{ result: { value: T }; exceptionDetails?: { exception?: { description?: string } } }>(
        "Runtime.evaluate",
        { expression, awaitPromise: true, returnByValue: true },
        session,
      ),
      30_000,
      expression,
      logs,
    );
    if (r.exceptionDetails) {
      throw new Error(`${expression} threw: ${r.exceptionDetails.exception?.description}\n${logs()}`);
    }
    return r.result.value;
  }

  beforeAll(async () => {
    const js = await bundle();
    const python = readFileSync(PYTHON_FILE);
    server = createServer((req, res) => {
      if (req.url === "/") {
        res.writeHead(200, { "content-type": "text/html" });
        res.end('<!doctype html><meta charset="utf-8"><script type="module" src="/bundle.js"></script>');
      } else if (req.url === "/bundle.js") {
        res.writeHead(200, { "content-type": "text/javascript" }).end(js);
      } else if (req.url === "/python.safetensors") {
        res.writeHead(200, { "content-type": "application/octet-stream" }).end(python);
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    chrome = spawn(
      CHROMIUM,
      [
        ...HEADLESS_ARGS,
        `--user-data-dir=${profile}`,
        "--remote-debugging-pipe",
        "--no-default-browser-check",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-extensions",
        "about:blank",
      ],
      { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] },
    );
    chrome.stderr!.on("data", (d) => {
      stderr = (stderr + d).slice(-20_000);
    });
    cdp = new Cdp(chrome.stdio[3] as Writable, chrome.stdio[4] as Readable);
    chrome.on("exit", () => cdp?.close());
    const { targetId } = await within(
      cdp.send<{ targetId: string }>("Target.createTarget", { url: "about:blank" }),
      30_000,
      "starting Chromium",
      logs,
    );
    ({ sessionId: session } = await cdp.send<{ sessionId: string }>("Target.attachToTarget", {
      targetId,
      flatten: true,
    }));
    await cdp.send("Page.enable", {}, session);
    await cdp.send("Runtime.enable", {}, session);
  }, 60_000);

  afterAll(async () => {
    if (chrome && chrome.exitCode === null) {
      const exited = new Promise((resolve) => chrome!.once("exit", resolve));
      await cdp?.send("Browser.close").catch(() => {});
      await within(exited, 5_000, "closing Chromium", () => "").catch(() => chrome!.kill("SIGKILL"));
    }
    server?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  it("round-trips a state dict through ArrayBuffer, Blob and IndexedDB; fetches Python's file; IndexedDB keeps it", async () => {
    const r = await onPage<RunResult>(`cinderSaveLoad.run(${JSON.stringify(`${url}python.safetensors`)})`);
    expect(r.name).toBe("save"); // the minified bundle keeps the name
    expect(r.bytes).toBeGreaterThan(0);
    expect(r.fromArrayBuffer).toEqual(r.output);
    expect(r.fromBlob).toEqual(r.output);
    expect(r.fromIndexedDb).toEqual(r.output);
    expect(r.checkpointEpoch).toBe(3);
    expect(r.python.keys).toEqual(fx.keys);
    expect(r.python.fc1).toEqual(fx.state["fc1.weight"].values);
    expect(r.python.relativeSame).toBe(true);
    expect(r.errors.missing).toBe(
      'load(): nothing is saved under "indexeddb://cinder-test/nothing-here" (IndexedDB database "cinder", store "files")',
    );
    expect(r.errors.pathSave).toBe(
      'save(): there is no file system here to write "mnist.pth" to: call save(obj) for the bytes, or save to "indexeddb://name"',
    );
    // a reloaded page finds the state dict in IndexedDB
    expect(await onPage<Record<string, number[]>>("cinderSaveLoad.again()")).toEqual(r.state);
  }, 60_000);
});
