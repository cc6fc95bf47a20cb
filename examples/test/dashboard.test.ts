/**
 * `--dashboard`: the MNIST loop streams loss and accuracy to @cinder/viz's live dashboard. In process (a tiny fake
 * task, the events read over HTTP as a page would), and end to end (`pnpm example mnist-mlp -- --keep-dashboard`).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { DataLoader, TensorDataset } from "@cinder/data";
import { dashboard } from "@cinder/viz";
import * as torch from "cinder";
import { describe, expect, it } from "vitest";
import { trainEpochs } from "../lib/mnist";
import { tinyTask } from "./fake";
import { root, runExample } from "./run";

type Message = { type: string; points?: Record<string, unknown>[] };

/** Read Server-Sent Events from `url` until `until` holds for the messages so far (or `ms` pass). */
async function readEvents(url: string, until: (messages: Message[]) => boolean, ms = 20_000) {
  const res = await fetch(url);
  expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const messages: Message[] = [];
  let buffer = "";
  const timer = setTimeout(() => void reader.cancel(), ms);
  const pump = async () => {
    while (!until(messages)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        for (const line of buffer.slice(0, end).split("\n"))
          if (line.startsWith("data: ")) messages.push(JSON.parse(line.slice(6)));
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\n\n");
      }
    }
    clearTimeout(timer);
    await reader.cancel().catch(() => {});
    return messages;
  };
  return { connected: res, messages: pump() };
}

const pointsOf = (messages: Message[]) => messages.flatMap((m) => m.points ?? []);

describe("trainEpochs with a dashboard (in process, a tiny fake task)", () => {
  it("streams loss and train_accuracy while training and test_accuracy after each epoch", async () => {
    const dash = await dashboard({ title: "tiny" });
    try {
      expect(dash.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      // connect first, as an open page would: every point then arrives as its own "points" event
      const events = await readEvents(
        new URL("events", dash.url).href,
        (ms) => pointsOf(ms).filter((p) => "test_accuracy" in p).length >= 2,
      );
      const task = tinyTask(1);
      const testX = torch.randn(32, 3);
      const testSet = new TensorDataset(testX, testX.max({ dim: 1 }).indices);
      await trainEpochs({
        ...task,
        epochs: 2,
        device: "cpu",
        prepare: (x) => x,
        log: () => {},
        monitor: { progress: "off", dashboard: dash, testLoader: new DataLoader(testSet, { batchSize: 16 }) },
      });
      const messages = await events.messages;
      expect(messages[0]).toEqual({ type: "reset", points: [] });
      const streamed = messages.filter((m) => m.type === "points");
      // 12 batches an epoch, a point after each (at most 50 an epoch), the last one with the test accuracy
      expect(streamed).toHaveLength(24);
      const points = pointsOf(streamed);
      expect(points.map((p) => p.step)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
      expect(points[0]).toMatchObject({ step: 1, epoch: "1/2" });
      expect(points[0].loss).toBeGreaterThan(0);
      expect(points[0].train_accuracy).toBeGreaterThanOrEqual(0);
      expect(points[0].train_accuracy).toBeLessThanOrEqual(1);
      expect(points[11]).toMatchObject({ step: 12, epoch: "1/2" });
      expect(typeof points[11].test_accuracy).toBe("number");
      expect(points[23]).toMatchObject({ step: 24, epoch: "2/2" });
      expect(dash.points).toHaveLength(24);
    } finally {
      await dash.close();
    }
  });
});

/** Wait until `test` holds for the child's output, or fail when it exits first or `ms` pass. */
function waitFor(
  child: ChildProcess,
  out: { stdout: string; stderr: string },
  test: () => boolean,
  ms: number,
) {
  return new Promise<void>((resolve, reject) => {
    const check = () => {
      if (!test()) return;
      cleanup();
      resolve();
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`the example exited (${code}) first:\n${out.stderr.slice(-2000)}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out; stderr so far:\n${out.stderr.slice(-2000)}`));
    }, ms);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout!.off("data", check);
      child.stderr!.off("data", check);
      child.off("exit", onExit);
    };
    child.stdout!.on("data", check);
    child.stderr!.on("data", check);
    child.on("exit", onExit);
    check();
  });
}

describe("pnpm example mnist-mlp -- --dashboard (a child process, on the shipped sample)", () => {
  const args = ["--dataset", "mnist-sample", "--epochs", "1", "--train-size", "640", "--progress", "plain"];

  it("--keep-dashboard: after the JSON line the page, /data.json and /events still serve the run's metrics", async () => {
    const child = spawn(
      process.execPath,
      [
        "scripts/example.mjs",
        "mnist-mlp",
        "--",
        ...args,
        "--keep-dashboard",
        "--out",
        ".cache/test-dash.safetensors",
      ],
      { cwd: root, env: { ...process.env, FORCE_COLOR: "0" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    const out = { stdout: "", stderr: "" };
    child.stdout.setEncoding("utf8").on("data", (s: string) => (out.stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (out.stderr += s));
    try {
      await waitFor(child, out, () => out.stderr.includes("still serving"), 60_000);
      const url = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)\n/.exec(out.stderr)?.[1];
      expect(url).toBeDefined();
      // the JSON line is still the last line on stdout; the dashboard's notes went to stderr
      const json = JSON.parse(out.stdout.trim().split("\n").pop()!);
      expect(json).toMatchObject({ example: "mnist-mlp", dataset: "mnist-sample", trainSamples: 640 });
      expect(out.stderr).toMatch(/^epoch 1\/1 \| batch 1\/10 \(10%\) \| loss \d\.\d{4} \|/m);

      const html = await (await fetch(url!)).text();
      expect(html).toContain("<title>mnist-mlp on mnist-sample</title>");
      const data = await (await fetch(new URL("data.json", url))).json();
      expect(data.points).toHaveLength(10);
      expect(data.points[0]).toMatchObject({ step: 1, epoch: "1/1" });
      expect(data.points[0].loss).toBeGreaterThan(1); // ten classes, untrained: about ln 10
      expect(data.points[9].loss).toBeLessThan(data.points[0].loss);
      expect(data.points[9].test_accuracy).toBeCloseTo(json.testAccuracy, 4);

      const events = await readEvents(new URL("events", url).href, (ms) => ms.length > 0);
      const [reset] = await events.messages;
      expect(reset.type).toBe("reset");
      expect(reset.points?.[0]?.loss).toBe(data.points[0].loss);
    } finally {
      child.kill("SIGTERM");
      if (child.exitCode === null && child.signalCode === null)
        await new Promise((resolve) => child.once("exit", resolve));
    }
  }, 90_000);

  it("--dashboard alone: closes at the end, so the process exits after its JSON line", async () => {
    const { json, stderr } = runExample("mnist-mlp", [
      ...args,
      "--dashboard",
      "--out",
      ".cache/test-dash.safetensors",
    ]);
    expect(json.example).toBe("mnist-mlp");
    const url = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)\n/.exec(stderr)?.[1];
    expect(url).toBeDefined();
    expect(stderr).not.toContain("still serving");
    await expect(fetch(url!)).rejects.toThrow();
  }, 90_000);
});
