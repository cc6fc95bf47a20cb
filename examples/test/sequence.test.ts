/**
 * The sequence-model examples (char-rnn, gpt) at a tiny size: they train (the loss goes down), evaluate, sample and
 * end with a complete JSON line; their PyTorch twins (scripts/pytorch/*.py --compare) reach the same losses step by
 * step from the same initial weights and batches (gpt on WebGPU: sequence-webgpu.test.ts).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { root, runExample } from "./run";

const out = join(root, ".cache", "test-sequence");
mkdirSync(out, { recursive: true });

const TINY = {
  "char-rnn": ["--hidden", "32", "--embed", "16", "--seq-len", "16", "--batch-size", "8", "--lr", "0.01"],
  gpt: [
    "--n-embd",
    "32",
    "--n-layer",
    "2",
    "--seq-len",
    "32",
    "--batch-size",
    "8",
    "--lr",
    "0.01",
    "--warmup",
    "3",
  ],
} as const;
type Example = keyof typeof TINY;

function run(example: Example, extra: string[]) {
  const lossesOut = join(out, `${example}-${extra.join("")}.json`);
  const { json, stdout } = runExample(example, [
    ...TINY[example],
    "--eval-batches",
    "2",
    "--sample-len",
    "40",
    "--progress",
    "off",
    "--plots",
    join(out, `${example}.svg`),
    "--losses-out",
    lossesOut,
    ...extra,
  ]);
  const log = JSON.parse(readFileSync(lossesOut, "utf8")) as { losses: number[]; val: [number, number][] };
  return { json, stdout, log };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe.each(["char-rnn", "gpt"] as const)("%s at a tiny size", (example) => {
  it("trains (the loss goes down), evaluates, samples and ends with a complete JSON line", () => {
    const { json, stdout, log } = run(example, ["--steps", "16", "--eval-every", "8"]);
    expect(Object.keys(json)).toEqual(
      expect.arrayContaining(["example", "device", "trainLoss", "valLoss", "samplesPerSec", "sample"]),
    );
    expect(json).toMatchObject({ example, device: "cpu", steps: 16, samplesUnit: "characters" });
    expect(json.samplesPerSec).toBeGreaterThan(0);
    expect(json.sample).toMatch(/^Call me .{40}$/s);
    expect(stdout).toContain(json.sample);
    expect(log.losses).toHaveLength(16);
    expect(mean(log.losses.slice(-4))).toBeLessThan(mean(log.losses.slice(0, 4)) - 0.3);
    expect(log.val.map(([s]) => s)).toEqual([8, 16]);
    expect(log.val[1][1]).toBeLessThan(log.val[0][1]);
    expect(log.val[1][1]).toBeLessThan(Math.log(79)); // below guessing among the 79 characters
    expect(existsSync(join(out, `${example}.svg`))).toBe(true);
  }, 120_000);
});

const python = "/usr/bin/python3";
const hasTorch = existsSync(python) && spawnSync(python, ["-c", "import torch"]).status === 0;

describe.skipIf(!hasTorch)(
  "the PyTorch twins (scripts/pytorch, PyTorch 1.13) from Cinder's initial weights",
  () => {
    it.each(["char-rnn", "gpt"] as const)(
      "%s: the first 50 steps' losses and the validation loss match",
      (example) => {
        const script = join(root, "scripts", "pytorch", `${example.replace("-", "_")}.py`);
        const args = [
          ...TINY[example],
          "--steps",
          "50",
          "--eval-every",
          "0",
          "--eval-batches",
          "2",
          "--sample-len",
          "20",
        ];
        const res = spawnSync(python, [script, "--compare", ...args], {
          cwd: root,
          encoding: "utf8",
          timeout: 300_000,
        });
        expect(res.status, res.stderr.slice(-3000)).toBe(0);
        const report = JSON.parse(res.stdout.trim().split("\n").pop()!);
        expect(report.comparedSteps).toBe(50);
        expect(report.maxRelDiffFirstSteps).toBeLessThan(1e-4);
        expect(report.valRelDiff).toBeLessThan(1e-3);
        expect(report.cinderLosses[49]).toBeLessThan(report.cinderLosses[0]);
      },
      200_000,
    );
  },
);
