/**
 * State dicts and copies of the attention and Transformer modules: the stacks' layers are deep copies (own parameters,
 * the prototype's values), state dicts round-trip through safetensors, and a state dict Cinder initialised loads into
 * PyTorch 1.13's modules (strict) and gives Cinder's outputs there (scripts/fixtures/attention_fixtures.py --check).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { manualSeed, randn, type Tensor } from "@cinder/tensor";
import { afterAll, describe, expect, it } from "vitest";
import * as nn from "../src";
import { build, callOf, fx, type ModuleCase, run } from "./attention-helpers";

const PYTHON = "/usr/bin/python3";
const SCRIPT = new URL("../../../scripts/fixtures/attention_fixtures.py", import.meta.url).pathname;
const hasTorch = spawnSync(PYTHON, ["-c", "import torch"], { stdio: "ignore" }).status === 0;
const tmp = mkdtempSync(join(tmpdir(), "cinder-attention-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const values = (x: Tensor) => Array.from(x.double().data());

describe("the stacks hold deep copies of their layer (PyTorch's _get_clones)", () => {
  it("each layer has its own parameters, starting from the prototype's values", () => {
    manualSeed(3);
    const layer = new nn.TransformerEncoderLayer(8, 2, 16, 0.0);
    layer.eval();
    const enc = new nn.TransformerEncoder(layer, 3);
    expect(enc.layers.length).toBe(3);
    const proto = [...layer.stateDict()];
    const params = new Set<Tensor>();
    for (const l of enc.layers) {
      expect(l).not.toBe(layer);
      expect(l.constructor).toBe(nn.TransformerEncoderLayer);
      expect(l.training).toBe(false);
      const sd = [...l.stateDict()];
      expect(sd.map(([k]) => k)).toEqual(proto.map(([k]) => k));
      sd.forEach(([, v], i) => {
        expect(values(v)).toEqual(values(proto[i][1]));
        expect(v).not.toBe(proto[i][1]);
        params.add(v);
      });
      for (const p of l.parameters()) expect(p.requiresGrad).toBe(true);
    }
    expect(params.size).toBe(3 * proto.length);
    expect(enc.parameters().length).toBe(3 * layer.parameters().length);
    // a step on one copy leaves the others alone
    const w0 = (enc.layers.at(0) as nn.TransformerEncoderLayer).linear1.weight;
    w0.detach().mul_(0);
    expect(values((enc.layers.at(1) as nn.TransformerEncoderLayer).linear1.weight).some((v) => v !== 0)).toBe(
      true,
    );
    // the copies compute what the prototype does
    const x = randn(4, 2, 8);
    const one = new nn.TransformerEncoder(layer, 1).eval();
    expect(values(one(x))).toEqual(values(layer(x)));
  });
  it("a module activation is copied with its layer; a function is shared", () => {
    const act = new nn.GELU("tanh");
    const dec = new nn.TransformerDecoder(new nn.TransformerDecoderLayer(4, 2, 8, { activation: act }), 2);
    const a0 = (dec.layers.at(0) as nn.TransformerDecoderLayer).activation;
    expect(a0).toBeInstanceOf(nn.GELU);
    expect(a0).not.toBe(act);
    expect((a0 as nn.GELU).approximate).toBe("tanh");
    expect(String(dec)).toContain("(activation): GELU(approximate='tanh')");
    const fn = (x: Tensor) => x.tanh();
    const enc = new nn.TransformerEncoder(new nn.TransformerEncoderLayer(4, 2, 8, { activation: fn }), 2);
    expect((enc.layers.at(1) as nn.TransformerEncoderLayer).activation).toBe(fn);
  });
});

describe("state dicts move both ways", () => {
  it("round trip through safetensors bytes gives the same outputs", async () => {
    manualSeed(5);
    const t = new nn.Transformer(8, 2, 2, 2, 16, 0.0);
    const u = new nn.Transformer(8, 2, 2, 2, 16, 0.0);
    u.loadStateDict(await nn.load(await nn.save(t.stateDict())));
    const src = randn(4, 2, 8);
    const tgt = randn(3, 2, 8);
    expect(values(u(src, tgt))).toEqual(values(t(src, tgt)));
  });
  it.skipIf(!hasTorch)(
    "state dicts Cinder initialised load into PyTorch 1.13 (strict) and give Cinder's outputs (skipped without torch)",
    async () => {
      manualSeed(9);
      const all = new Map<string, Tensor>();
      const mine: Record<string, (number[] | null)[]> = {};
      fx.modules.forEach((c: ModuleCase, i) => {
        const m = build(c.spec);
        m.train(c.mode === "train");
        for (const [k, v] of m.stateDict()) all.set(`${i}/${k}`, v);
        const nc = { ...c, noGrad: true };
        mine[i] = run(m, nc, callOf(nc)).map((o) => (o ? values(o) : null));
      });
      const path = join(tmp, "cinder-modules.safetensors");
      await nn.saveSafetensors(all, path);
      const r = spawnSync(PYTHON, [SCRIPT, "--check", path], { encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      const theirs = JSON.parse(r.stdout) as Record<string, (number[] | null)[]>;
      expect(Object.keys(theirs).length).toBe(fx.modules.length);
      for (const [i, outs] of Object.entries(theirs)) {
        for (const [j, o] of outs.entries()) {
          const want = mine[i][j];
          if (o === null || want === null) {
            expect(o, `${fx.modules[+i].name} output ${j}`).toEqual(want);
            continue;
          }
          expect(o.length).toBe(want.length);
          for (const [k, v] of o.entries())
            expect(Math.abs(v - want[k]), `${fx.modules[+i].name} output ${j}[${k}]`).toBeLessThan(
              1e-5 + 1e-4 * Math.abs(v),
            );
        }
      }
    },
  );
});
