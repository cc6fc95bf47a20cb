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

export interface TrainingDashboard {
  /** Add one record; the curves update. Metrics may be numbers or one-element CPU tensors. */
  log(record: LogRecord): void;
  /** Everything logged so far. */
  readonly points: readonly DashboardPoint[];
  close(): Promise<void>;
}

export interface LiveDashboard extends TrainingDashboard {
  /** The page's address, e.g. "http://127.0.0.1:53211/". */
  readonly url: string;
  readonly port: number;
}

export interface FileDashboard extends TrainingDashboard {
  readonly path: string;
  /** Write the file now (waits for the write). */
  flush(): Promise<void>;
}

export interface DashboardOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind (default "127.0.0.1": the dashboard is not reachable from other machines). */
  host?: string;
  title?: string;
}

export interface DashboardFileOptions {
  title?: string;
  /** Minimum milliseconds between rewrites of the file (default 1000). */
  interval?: number;
  /** While training runs, the page reloads itself every so many seconds (default 2; 0 disables). */
  refreshSeconds?: number;
}

function toPoint(record: LogRecord, index: number): DashboardPoint {
  const p: DashboardPoint = { step: index };
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

/** Start a live dashboard server on 127.0.0.1 (Node only). */
export async function dashboard(opts: DashboardOptions = {}): Promise<LiveDashboard> {
  const http = await nodeImport<Http>("node:http");
  const title = opts.title ?? "Cinder training";
  const host = opts.host ?? "127.0.0.1";
  const points: DashboardPoint[] = [];
  const clients = new Set<ServerResponse>();
  let closed = false;

  const send = (res: ServerResponse, msg: unknown) => res.write(`data: ${JSON.stringify(msg)}\n\n`);

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD" }).end();
      return;
    }
    const noCache = { "Cache-Control": "no-store" };
    if (path === "/" || path === "/index.html") {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", ...noCache });
      res.end(dashboardHTML({ title, points, live: !closed }));
    } else if (path === "/data.json") {
      res.writeHead(200, { "Content-Type": "application/json; charset=utf-8", ...noCache });
      res.end(JSON.stringify({ title, points }));
    } else if (path === "/events") {
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
      req.on("close", () => clients.delete(res));
    } else {
      res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("not found");
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
  const port = typeof address === "object" && address ? address.port : (opts.port ?? 0);
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
