#!/usr/bin/env node
/**
 * Serve the browser MNIST page (examples/browser/dist/) on 127.0.0.1 and print its URL. Builds it first unless
 * `--no-build` is given; `--port N` picks the port (default: a free one).
 *
 *   node examples/browser/serve.mjs            # then open the URL in Chrome/Edge 113+ (WebGPU)
 *   node examples/browser/serve.mjs --no-build --port 8080
 *
 * The .gz data files are served as bytes (no Content-Encoding), so the page gunzips them itself.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer } from "node:http";
import { dirname, extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".map": "application/json",
  ".json": "application/json",
  ".svg": "image/svg+xml",
};

/** Start the server on 127.0.0.1; resolves to it and its URL. */
export async function serve({ port = 0, root = dist } = {}) {
  const server = createServer(async (req, res) => {
    let path;
    try {
      path = decodeURIComponent(new URL(req.url ?? "/", "http://127.0.0.1").pathname);
    } catch {
      res.writeHead(400, { "content-type": "text/plain" }).end("bad request\n");
      return;
    }
    const file = normalize(join(root, path.endsWith("/") ? `${path}index.html` : path));
    const size = file.startsWith(root + sep)
      ? await stat(file).then(
          (s) => (s.isFile() ? s.size : -1),
          () => -1,
        )
      : -1;
    if (size < 0 || (req.method !== "GET" && req.method !== "HEAD")) {
      res
        .writeHead(size < 0 ? 404 : 405, { "content-type": "text/plain" })
        .end(`${req.method} ${path}: ${size < 0 ? "not found" : "method not allowed"}\n`);
      return;
    }
    res.writeHead(200, {
      "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      "content-length": size,
      "cache-control": "no-store",
    });
    if (req.method === "HEAD") res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  return { server, url: `http://127.0.0.1:${server.address().port}/` };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: { port: { type: "string", default: "0" }, "no-build": { type: "boolean", default: false } },
  });
  if (!values["no-build"]) await (await import("./build.mjs")).buildPage();
  const { url } = await serve({ port: Number(values.port) });
  console.log(url);
  console.log(`(${url}?steps=60 for a short run; Ctrl-C to stop)`);
}
