/**
 * The MNIST examples' progress: plain lines when stderr is not a terminal (CI logs), a bar when it is; a loss from
 * the first reporting interval on, a rate and an ETA; no control characters in plain mode.
 */
import { describe, expect, it } from "vitest";
import { trainEpochs } from "../lib/mnist";
import { formatDuration, TrainingProgress } from "../lib/progress";
import { capture, controlChars, tinyTask } from "./fake";

const PLAIN_LINE =
  /^epoch \d+\/\d+ \| batch \d+\/\d+ \(\d+%\) \| loss \d+\.\d{4} \| [\d,.]+ samples\/s [\d,.]+ it\/s \| \d+:\d\d elapsed, ETA \d+:\d\d$/;

describe("TrainingProgress", () => {
  it("plain mode: a line every `every` batches with the interval's mean loss, the rate and the ETA", () => {
    const stream = capture();
    let t = 0;
    const p = new TrainingProgress({
      epochs: 2,
      batchesPerEpoch: 20,
      mode: "auto",
      stream,
      every: 5,
      now: () => t,
    });
    expect(p.mode).toBe("plain");
    p.startEpoch(0);
    for (let i = 0; i < 20; i++) {
      t += 50; // 50 ms a batch of 32: 20 it/s, 640 samples/s
      p.step(32, i < 5 ? 1.5 : 1);
      if (i === 2) expect(stream.text).toBe(""); // nothing before the first interval ends
    }
    p.endEpoch();
    p.stop();
    const lines = stream.text.trimEnd().split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe(
      "epoch 1/2 | batch 5/20 (25%) | loss 1.5000 | 640 samples/s 20.0 it/s | 0:00 elapsed, ETA 0:01",
    );
    expect(lines[3]).toBe(
      "epoch 1/2 | batch 20/20 (100%) | loss 1.0000 | 640 samples/s 20.0 it/s | 0:01 elapsed, ETA 0:00",
    );
    for (const line of lines) expect(line).toMatch(PLAIN_LINE);
    expect(controlChars(stream.text)).toEqual([]);
  });

  it("plain mode: the last batch of an epoch always reports, the default interval is a tenth of the epoch", () => {
    const stream = capture();
    const p = new TrainingProgress({ epochs: 1, batchesPerEpoch: 25, stream });
    expect(p.every).toBe(3);
    p.startEpoch(0);
    for (let i = 0; i < 25; i++) p.step(8, 0.5);
    p.stop();
    const batches = stream.text
      .trimEnd()
      .split("\n")
      .map((l) => Number(/batch (\d+)\//.exec(l)?.[1]));
    expect(batches).toEqual([3, 6, 9, 12, 15, 18, 21, 24, 25]);
  });

  it("bar mode on a terminal: the bar shows the loss from the first batch, then gives way to a summary line", () => {
    const stream = capture(true);
    let t = 0;
    const p = new TrainingProgress({ epochs: 1, batchesPerEpoch: 10, stream, color: false, now: () => t });
    expect(p.mode).toBe("bar");
    p.startEpoch(0);
    t += 1000;
    p.step(16, 2.25);
    p.log("a line from the example", () => {}); // clears and redraws: the bar shows batch 1's loss
    expect(stream.text).toContain("1/10 | loss 2.2500 | 16.0 samples/s | ETA 0:09");
    for (let i = 1; i < 10; i++) {
      t += 1000;
      p.step(16, 2);
    }
    p.endEpoch();
    p.stop();
    // the bar's line is cleared (ESC [2K), then the summary is written in its place
    expect(
      stream.text.endsWith(
        "\x1b[2Kepoch 1/1 | batch 10/10 (100%) | loss 2.0250 | 16.0 samples/s 1.0 it/s | 0:10 elapsed, ETA 0:00\n",
      ),
    ).toBe(true);
    expect(stream.text).not.toContain("\x1b[?25l"); // the cursor is never hidden (nothing to restore on Ctrl-C)
  });

  it("off: nothing", () => {
    const stream = capture(true);
    const p = new TrainingProgress({ epochs: 1, batchesPerEpoch: 4, stream, mode: "off" });
    p.startEpoch(0);
    for (let i = 0; i < 4; i++) p.step(1, 1);
    p.endEpoch();
    expect(stream.text).toBe("");
  });

  it("formats durations as m:ss and h:mm:ss", () => {
    expect(formatDuration(0)).toBe("0:00");
    expect(formatDuration(61.4)).toBe("1:01");
    expect(formatDuration(3725)).toBe("1:02:05");
    expect(formatDuration(Number.NaN)).toBe("-");
  });
});

describe("trainEpochs' progress (the MNIST loop on a tiny fake dataset)", () => {
  it("not a terminal: plain lines from the first batches, each with a loss, a rate and an ETA", async () => {
    const task = tinyTask();
    const stream = capture();
    const logged: string[] = [];
    const trained = await trainEpochs({
      ...task,
      epochs: 2,
      device: "cpu",
      prepare: (x) => x,
      log: (l) => logged.push(l),
      monitor: { progressStream: stream, progressEvery: 4 },
    });
    expect(trained.samples).toBe(192);
    const lines = stream.text.trimEnd().split("\n");
    expect(lines).toHaveLength(6); // batches 4, 8, 12 of each epoch
    expect(lines[0]).toMatch(/^epoch 1\/2 \| batch 4\/12 \(33%\) \| loss \d\.\d{4} \|/);
    for (const line of lines) expect(line).toMatch(PLAIN_LINE);
    expect(lines[5]).toMatch(/^epoch 2\/2 \| batch 12\/12 \(100%\) .* ETA 0:00$/);
    // the loss falls: the problem is learnable
    const losses = lines.map((l) => Number(/loss (\S+)/.exec(l)?.[1]));
    expect(losses[5]).toBeLessThan(losses[0]);
    expect(controlChars(stream.text)).toEqual([]);
    expect(logged).toEqual([]); // fewer than 300 batches: no seed line, but progress all the same
  });
});
