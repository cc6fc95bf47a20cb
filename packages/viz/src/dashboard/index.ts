/**
 * Live training dashboards (Node only; node:http and node:fs are imported when one starts, never at import).
 *
 *   const dash = await dashboard({ title: "MNIST MLP" });   // http://127.0.0.1:<port>/
 *   console.log(dash.url);
 *   dash.log({ step, loss: loss.item(), accuracy });
 *   await dash.close();
 *
 * `dashboard()` serves one page that draws the curves client-side and receives new points through
 * Server-Sent Events (`/events`; `/data.json` has all points). `dashboardFile(path)` instead rewrites a
 * self-contained HTML file atomically (for CI artifacts and offline runs); the page reloads itself while
 * training runs.
 *
 * The server answers only requests addressed to its own names (localhost, 127.0.0.1, [::1], the bound
 * address and `allowedHosts`; others get 421, against DNS rebinding), keeps at most `maxClients` event
 * streams open (default 32; more get 503) and warns once when bound to a wildcard address.
 */

import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { isTensorLike, type TensorLike } from "../data";
import { nodeImport, writeFileAtomic } from "../io";
import { type DashboardPoint, dashboardHTML } from "./page";

export type { DashboardPoint } from "./page";

/** A record to log: `step` (default: the number of records so far) and named metrics. */
export type LogRecord = { step?: number } & Record<
  string,
  number | boolean | string | null | undefined | TensorLike
>;

/** What `dashboard()` and `dashboardFile()` return: `log()` records, `points` holds them, `close()` ends. */
export interface TrainingDashboard {
  /** Add one record; the curves update. Metrics may be numbers or one-element CPU tensors. */
  log(record: LogRecord): void;
  /** Everything logged so far. */
  readonly points: readonly DashboardPoint[];
  /** Stops the server or writes the file a last time. */
  close(): Promise<void>;
}

/** A dashboard served over HTTP (`dashboard()`): open `url` in a browser. */
export interface LiveDashboard extends TrainingDashboard {
  /** The page's address, e.g. "http://127.0.0.1:53211/". */
  readonly url: string;
  readonly port: number;
}

/** A dashboard written to a self-updating HTML file (`dashboardFile()`). */
export interface FileDashboard extends TrainingDashboard {
  readonly path: string;
  /** Write the file now (waits for the write). */
  flush(): Promise<void>;
}

/** Options of `dashboard()`: where the server listens, the page title and its safety limits. */
export interface DashboardOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /**
   * Interface to bind (default "127.0.0.1": the dashboard is not reachable from other machines). Binding
   * "0.0.0.0" or "::" serves the metrics to every machine that can reach this one, without authentication
   * (a warning says so, once per process).
   */
  host?: string;
  title?: string;
  /**
   * More host names (no scheme, no port) the page may be reached under, e.g. a reverse proxy's name or
   * "myhost.local". Requests whose `Host` header names anything else are answered 421, so a web page that
   * rebinds its own DNS name to 127.0.0.1 cannot read the metrics. Always allowed: localhost, 127.0.0.1,
   * [::1] and the bound address (with a wildcard bind also this machine's name and addresses), on any port
   * (an SSH tunnel changes the port and keeps the name).
   */
  allowedHosts?: readonly string[];
  /** Most event streams (open pages) at once (default 32); more are answered 503 until one closes. */
  maxClients?: number;
}

/**
 * Options of `dashboardFile()`: page title, how often the file is rewritten and how often the page reloads.
 */
export interface DashboardFileOptions {
  title?: string;
  /** Minimum milliseconds between rewrites of the file (default 1000). */
  interval?: number;
  /** While training runs, the page reloads itself every so many seconds (default 2; 0 disables). */
  refreshSeconds?: number;
}

function toPoint(record: LogRecord, index: number): DashboardPoint {
  // metric names come from users: "constructor", "__proto__" and friends must be plain keys
  const p: DashboardPoint = Object.create(null);
  p.step = index;
  for (const [k, v] of Object.entries(record)) {
    if (v === undefined) continue;
    let value: number | string | null;
    if (typeof v === "number") value = v;
    else if (typeof v === "boolean") value = v ? 1 : 0;
    else if (typeof v === "string" || v === null) value = v;
    else if (isTensorLike(v)) {
      const d = v.data();
      if (d.length !== 1)
        throw new Error(
          `dashboard.log: metric ${JSON.stringify(k)} must be a number or a one-element tensor`,
        );
      value = Number(d[0]);
    } else throw new TypeError(`dashboard.log: metric ${JSON.stringify(k)} has unsupported type ${typeof v}`);
    if (typeof value === "number" && !Number.isFinite(value)) value = null;
    p[k] = value;
  }
  if (typeof p.step !== "number") throw new TypeError("dashboard.log: step must be a finite number");
  return p;
}

type Http = typeof import("node:http");
type Os = typeof import("node:os");

const DEFAULT_MAX_CLIENTS = 32;
const LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]"];
/** A Host header's name: a bracketed IPv6 address or a name without ":", "@", "/" and the like. */
const NAME = String.raw`(\[[0-9a-f:.]+\]|[^\s:[\]/\\@?#]+)`;
const HOST_NAME = new RegExp(`^${NAME}$`, "i");
/** A Host header: the name, then an optional port. */
const HOST_HEADER = new RegExp(`^${NAME}(?::\\d{1,5})?$`, "i");

/** A host name as it appears in a Host header: lower case, IPv6 addresses in brackets. */
function hostKey(name: string): string {
  const h = name.trim().toLowerCase();
  return h.includes(":") && !h.startsWith("[") ? `[${h}]` : h;
}

/** The name part of a Host header (lower case), or undefined if the header is missing or malformed. */
function hostOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = HOST_HEADER.exec(header.trim());
  return m ? m[1].toLowerCase() : undefined;
}

function isWildcard(address: string): boolean {
  return address === "0.0.0.0" || address === "::" || address === "[::]";
}

/** The warning for a server bound to a wildcard address (reachable from other machines), else undefined. */
export function exposureWarning(address: string, port: number): string | undefined {
  if (!isWildcard(address)) return undefined;
  const where = `${hostKey(address)}:${port}`;
  return (
    `@cinder/viz dashboard: listening on ${where} serves the training metrics to every machine that can ` +
    `reach this one on port ${port}, without authentication. Bind "127.0.0.1" (the default) unless that is ` +
    "intended; other host names must be listed in allowedHosts."
  );
}

let warnedExposure = false;

/** Warn (once per process) when a dashboard binds a wildcard address. */
export function warnIfExposed(address: string, port: number): void {
  const message = exposureWarning(address, port);
  if (message === undefined || warnedExposure) return;
  warnedExposure = true;
  console.warn(message);
}

/** Start a live dashboard server on 127.0.0.1 (Node only). */
export async function dashboard(opts: DashboardOptions = {}): Promise<LiveDashboard> {
  const maxClients = opts.maxClients ?? DEFAULT_MAX_CLIENTS;
  if (!Number.isInteger(maxClients) || maxClients < 1)
    throw new RangeError(`dashboard: maxClients must be a positive integer, got ${String(opts.maxClients)}`);
  const allowed = new Set(LOOPBACK_HOSTS);
  for (const name of opts.allowedHosts ?? []) {
    const key = typeof name === "string" ? hostKey(name) : "";
    if (!HOST_NAME.test(key))
      throw new TypeError(
        `dashboard: allowedHosts entry ${JSON.stringify(name)} is not a host name (give names without scheme or port)`,
      );
    allowed.add(key);
  }
  const http = await nodeImport<Http>("node:http");
  const title = opts.title ?? "Cinder training";
  const host = opts.host ?? "127.0.0.1";
  allowed.add(hostKey(host));
  const points: DashboardPoint[] = [];
  const clients = new Set<ServerResponse>();
  let closed = false;

  const send = (res: ServerResponse, msg: unknown) => res.write(`data: ${JSON.stringify(msg)}\n\n`);
  const text = { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" };
  const noCache = { "Cache-Control": "no-store" };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    // DNS rebinding: a page on evil.example that resolves its name to 127.0.0.1 is same-origin with us
    // but still sends "Host: evil.example"
    const name = hostOf(req.headers.host);
    if (name === undefined || !allowed.has(name)) {
      res
        .writeHead(421, { ...text, ...noCache, Connection: "close" })
        .end(
          "cinder dashboard: this host name is not served (DNS rebinding guard); " +
            "add it to dashboard({ allowedHosts }) if it is yours\n",
        );
      return;
    }
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/" || path === "/index.html") {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", ...noCache });
      res.end(dashboardHTML({ title, points, live: !closed }));
    } else if (path === "/data.json") {
      res.writeHead(200, { "Content-Type": "application/json; charset=utf-8", ...noCache });
      res.end(JSON.stringify({ title, points }));
    } else if (path === "/events") {
      if (!closed && clients.size >= maxClients) {
        res
          .writeHead(503, { ...text, ...noCache, "Retry-After": "10" })
          .end(
            `cinder dashboard: too many open event streams (${maxClients}); close a dashboard page ` +
              "or raise dashboard({ maxClients })\n",
          );
        return;
      }
      res.writeHead(200, {
        "Content-Type": "text/event-stream; charset=utf-8",
        Connection: "keep-alive",
        "X-Accel-Buffering": "no",
        ...noCache,
      });
      res.write("retry: 2000\n\n");
      send(res, { type: "reset", points });
      if (closed) {
        send(res, { type: "close" });
        res.end();
        return;
      }
      clients.add(res);
      res.on("close", () => clients.delete(res));
    } else {
      res.writeHead(404, text).end("not found");
    }
  };

  const server: Server = http.createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const info = typeof address === "object" && address ? address : undefined;
  const port = info ? info.port : (opts.port ?? 0);
  const bound = info ? info.address : host;
  allowed.add(hostKey(bound));
  if (isWildcard(bound)) {
    // reachable from other machines: they will use this machine's name or one of its addresses
    const os = await nodeImport<Os>("node:os");
    allowed.add(hostKey(os.hostname()));
    for (const list of Object.values(os.networkInterfaces()))
      for (const a of list ?? []) allowed.add(hostKey(a.address));
  }
  warnIfExposed(bound, port);
  const heartbeat = setInterval(() => {
    for (const c of clients) c.write(": ping\n\n");
  }, 15_000);
  heartbeat.unref();

  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}/`,
    port,
    points,
    log(record: LogRecord) {
      if (closed) throw new Error("dashboard.log: the dashboard is closed");
      const p = toPoint(record, points.length);
      points.push(p);
      for (const c of clients) send(c, { type: "points", points: [p] });
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      for (const c of clients) {
        send(c, { type: "close" });
        c.end();
      }
      clients.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      });
    },
  };
}

/**
 * A dashboard written to a self-contained HTML file, rewritten atomically at most every `interval` ms while
 * points arrive, and once more on `close()` (Node only). Open the file in a browser; it reloads itself.
 */
export async function dashboardFile(path: string, opts: DashboardFileOptions = {}): Promise<FileDashboard> {
  const title = opts.title ?? "Cinder training";
  const interval = opts.interval ?? 1000;
  const refreshSeconds = opts.refreshSeconds ?? 2;
  const points: DashboardPoint[] = [];
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let chain: Promise<void> = Promise.resolve();
  let error: unknown;

  const write = (): Promise<void> => {
    const html = dashboardHTML({ title, points, live: false, finished: closed, refreshSeconds });
    chain = chain
      .then(() => writeFileAtomic(path, html))
      .catch((e) => {
        error ??= e;
      });
    return chain;
  };
  const rethrow = () => {
    if (error !== undefined) {
      const e = error;
      error = undefined;
      throw e;
    }
  };
  const flush = async () => {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    await write();
    rethrow();
  };

  await flush();
  return {
    path,
    points,
    log(record: LogRecord) {
      if (closed) throw new Error("dashboard.log: the dashboard is closed");
      rethrow();
      points.push(toPoint(record, points.length));
      timer ??= setTimeout(() => {
        timer = undefined;
        void write();
      }, interval);
    },
    flush,
    async close() {
      if (closed) return;
      closed = true;
      await flush();
    },
  };
}
