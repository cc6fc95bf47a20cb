/**
 * Issue 13 (dashboard): DNS rebinding (Host header), metric names that collide with Object.prototype,
 * unbounded event-stream clients, the 0.0.0.0 exposure warning and constant series. Servers bind 127.0.0.1
 * only; every wait is bounded.
 */
import { request } from "node:http";
import { afterEach, describe, expect, it, vi } from "vitest";
import { exposureWarning, warnIfExposed } from "../src/dashboard/index";
import { dashboard, type LiveDashboard } from "../src/index";
import { pathYs, renderPage } from "./fake-dom";

interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  /** Drop the connection (an event stream stays open until then). */
  close(): void;
}

/**
 * GET `path`, with an explicit Host header when `host` is given; resolves at the end of the body, or for an event
 * stream (which never ends) at its first chunk, leaving it open until `close()`.
 */
function get(port: number, path: string, host?: string, ms = 5000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (host !== undefined) headers.Host = host;
    const req = request({
      host: "127.0.0.1",
      port,
      path,
      headers,
      agent: false,
      setHost: host === undefined,
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`GET ${path}: no answer within ${ms} ms`));
    }, ms);
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      const done = () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body, headers: res.headers, close: () => req.destroy() });
      };
      res.on("data", (chunk: string) => {
        body += chunk;
        if (res.headers["content-type"]?.startsWith("text/event-stream")) done();
      });
      res.on("end", done);
    });
    req.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end();
  });
}

/** An open event stream (kept open until `close()`). */
const openStream = (port: number) => get(port, "/events");

const open: LiveDashboard[] = [];
async function start(opts: Parameters<typeof dashboard>[0] = {}): Promise<LiveDashboard> {
  const dash = await dashboard({ host: "127.0.0.1", ...opts });
  open.push(dash);
  return dash;
}
afterEach(async () => {
  for (const d of open.splice(0)) await d.close();
});

describe("dashboard Host header (DNS rebinding)", () => {
  it("refuses a foreign Host on every path with 421 and a short message", async () => {
    const dash = await start();
    dash.log({ loss: 1 });
    for (const path of ["/", "/data.json", "/events", "/nope"]) {
      for (const host of [
        "evil.example",
        `evil.example:${dash.port}`,
        `localhost:${dash.port}@evil.example`,
      ]) {
        const r = await get(dash.port, path, host);
        expect(r.status, `${path} Host: ${host}`).toBe(421);
        expect(r.body).toMatch(/host/i);
        expect(r.body.length).toBeLessThan(300);
        expect(r.body).not.toContain('"points"');
      }
    }
  });

  it("serves localhost, 127.0.0.1, [::1] and the bound address, with any port, case-insensitively", async () => {
    const dash = await start();
    dash.log({ loss: 1 });
    for (const host of [
      `127.0.0.1:${dash.port}`,
      "127.0.0.1",
      `localhost:${dash.port}`,
      "LocalHost",
      `[::1]:${dash.port}`,
      "localhost:9000", // an SSH tunnel (ssh -L 9000:127.0.0.1:port) keeps the name and changes the port
    ]) {
      const r = await get(dash.port, "/data.json", host);
      expect(r.status, host).toBe(200);
      expect(JSON.parse(r.body).points).toEqual([{ step: 0, loss: 1 }]);
    }
    expect((await fetch(dash.url)).status).toBe(200);
  });

  it("serves the names given in allowedHosts and rejects malformed entries", async () => {
    const dash = await start({ allowedHosts: ["Dash.Example", "::2"] });
    expect((await get(dash.port, "/data.json", "dash.example:8443")).status).toBe(200);
    expect((await get(dash.port, "/data.json", "[::2]")).status).toBe(200);
    expect((await get(dash.port, "/data.json", "other.example")).status).toBe(421);
    await expect(dashboard({ allowedHosts: ["http://x.example/"] })).rejects.toThrow(/allowedHosts/);
  });
});

describe("dashboard event-stream clients", () => {
  it("caps concurrent event streams (503 with a message) and admits a new one when one leaves", async () => {
    const dash = await start({ maxClients: 3 });
    const streams = [];
    for (let i = 0; i < 3; i++) streams.push(await openStream(dash.port));
    for (const s of streams) expect(s.status).toBe(200);
    const extra = await openStream(dash.port);
    expect(extra.status).toBe(503);
    expect(extra.body).toMatch(/too many/i);
    expect(extra.body).toMatch(/maxClients/);
    // pages and data are still served while the streams are full
    expect((await fetch(new URL("data.json", dash.url))).status).toBe(200);
    streams[0].close();
    let again = await openStream(dash.port);
    for (let i = 0; i < 50 && again.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 20));
      again = await openStream(dash.port);
    }
    expect(again.status).toBe(200);
    again.close();
    for (const s of streams) s.close();
  });

  it("defaults to 32 streams", async () => {
    const dash = await start();
    const streams = [];
    try {
      for (let i = 0; i < 32; i++) streams.push(await openStream(dash.port));
      expect(streams.every((s) => s.status === 200)).toBe(true);
      expect((await openStream(dash.port)).status).toBe(503);
    } finally {
      for (const s of streams) s.close();
    }
  });

  it("rejects a maxClients that is not a positive integer", async () => {
    await expect(dashboard({ maxClients: 0 })).rejects.toThrow(/maxClients/);
    await expect(dashboard({ maxClients: 1.5 })).rejects.toThrow(/maxClients/);
  });
});

describe("dashboard exposure warning", () => {
  it("names the exposure of a wildcard address, and nothing for loopback", () => {
    expect(exposureWarning("0.0.0.0", 8080)).toMatch(/0\.0\.0\.0:8080.*every (machine|host)/);
    expect(exposureWarning("::", 8080)).toMatch(/\[::\]:8080/);
    expect(exposureWarning("127.0.0.1", 8080)).toBeUndefined();
    expect(exposureWarning("::1", 8080)).toBeUndefined();
  });

  it("warns once per process", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      warnIfExposed("127.0.0.1", 1);
      expect(warn).not.toHaveBeenCalled();
      warnIfExposed("0.0.0.0", 1);
      warnIfExposed("::", 2);
      warnIfExposed("0.0.0.0", 3);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(/0\.0\.0\.0:1/);
    } finally {
      warn.mockRestore();
    }
  });
});

const HOSTILE = [
  "constructor",
  "toString",
  "val_constructor",
  "train_hasOwnProperty",
  "__proto__",
  "valueOf",
];

describe("metric names that are Object.prototype members", () => {
  it("the server keeps every name, __proto__ included", async () => {
    const dash = await start();
    const record = JSON.parse('{"__proto__": 0.5, "constructor": 1, "toString": 2, "loss": 3}');
    dash.log(record);
    expect(Object.keys(dash.points[0]).sort()).toEqual([
      "__proto__",
      "constructor",
      "loss",
      "step",
      "toString",
    ]);
    const data = JSON.parse((await get(dash.port, "/data.json")).body);
    expect(Object.keys(data.points[0]).sort()).toEqual([
      "__proto__",
      "constructor",
      "loss",
      "step",
      "toString",
    ]);
    expect(Object.getOwnPropertyDescriptor(data.points[0], "__proto__")?.value).toBe(0.5);
  });

  it("the page draws each of them (no blank dashboard)", () => {
    const points = JSON.parse(
      JSON.stringify(
        Array.from({ length: 4 }, (_, step) =>
          Object.fromEntries([["step", step], ...HOSTILE.map((k, i) => [k, i + step / 10])]),
        ),
      ),
    );
    const page = renderPage(points);
    expect(page.series("constructor", "constructor")?.getAttribute("data-points")).toBe("4");
    expect(page.series("constructor", "val_constructor")?.getAttribute("data-points")).toBe("4");
    expect(page.series("toString", "toString")?.getAttribute("data-points")).toBe("4");
    expect(page.series("hasOwnProperty", "train_hasOwnProperty")?.getAttribute("data-points")).toBe("4");
    expect(page.series("__proto__", "__proto__")?.getAttribute("data-points")).toBe("4");
    expect(page.series("valueOf", "valueOf")?.getAttribute("data-points")).toBe("4");
    // no chart starts on a log scale because its name is an Object.prototype member
    const boxes = page.charts.children;
    expect(boxes.length).toBe(5);
    for (const box of boxes) {
      const checkbox = box.findAll((e) => e.tag === "input")[0];
      expect(checkbox.checked, String(checkbox.getAttribute("data-log"))).toBe(false);
    }
    expect(page.summary.textContent).toContain("constructor 0.3");
  });

  it("a metric logged at some steps only is one connected line, even when named constructor", () => {
    const points: Record<string, number>[] = [
      { step: 0, constructor: 1, loss: 1 },
      { step: 1, loss: 0.9 },
      { step: 2, constructor: 2, loss: 0.8 },
    ];
    const page = renderPage(points);
    const d = page.series("constructor", "constructor")?.getAttribute("d") ?? "";
    expect(page.series("constructor", "constructor")?.getAttribute("data-points")).toBe("2");
    expect(d.match(/M/g)).toHaveLength(1);
    expect(d.match(/L/g)).toHaveLength(1);
  });
});

describe("constant series on the page", () => {
  const near = (a: number, b: number) => Math.abs(a - b) < 1;

  it("draws a constant lr 0.01 at its value, on an axis around it with sensible ticks", () => {
    const points = Array.from({ length: 10 }, (_, step) => ({ step, lr: 0.01 }));
    const page = renderPage(points);
    const ticks = page.yTicks("lr");
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    for (const t of ticks) {
      const v = Number(t.label.replace("\u2212", "-"));
      expect(v, t.label).toBeGreaterThan(0.008);
      expect(v, t.label).toBeLessThan(0.012);
    }
    const at = ticks.find((t) => t.label === "0.01");
    expect(at, ticks.map((t) => t.label).join(" ")).toBeDefined();
    const ys = pathYs(page.series("lr", "lr")?.getAttribute("d") ?? null);
    expect(ys).toHaveLength(10);
    for (const y of ys) expect(near(y, at!.y)).toBe(true);
  });

  it("handles negative, zero, large and tiny constants", () => {
    for (const value of [-3, 0, 1e6, 2.5e-7, 5e-324]) {
      const page = renderPage([
        { step: 0, m: value },
        { step: 1, m: value },
      ]);
      const ticks = page.yTicks("m");
      expect(ticks.length, String(value)).toBeGreaterThanOrEqual(1);
      const ys = pathYs(page.series("m", "m")?.getAttribute("d") ?? null);
      expect(
        ys.every((y) => Number.isFinite(y) && y > 30 && y < 258),
        `${value}: ${ys}`,
      ).toBe(true);
      if (value !== 0 && value > 1e-300) {
        for (const t of ticks) {
          const v = Number(t.label.replace("\u2212", "-"));
          expect(Math.abs(v - value), `${value}: tick ${t.label}`).toBeLessThanOrEqual(Math.abs(value) * 0.2);
        }
      }
    }
  });

  it("keeps nearly equal values apart and never loops on ticks for huge, nearly equal values", () => {
    const page = renderPage([
      { step: 0, a: 1e-15, b: 1e20 },
      { step: 1, a: 2e-15, b: 1e20 + 16384 },
    ]);
    const ys = pathYs(page.series("a", "a")?.getAttribute("d") ?? null);
    expect(ys).toHaveLength(2);
    expect(Math.abs(ys[0] - ys[1])).toBeGreaterThan(100);
    expect(page.yTicks("b").length).toBeLessThan(60);
  });
});
