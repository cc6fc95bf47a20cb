// float16 and bfloat16 against PyTorch 1.13's CPU (tests/fixtures/half.json, from scripts/fixtures/half.py): the
// two conversions (all 65,536 patterns decoded, edge cases and random float32 patterns encoded), promotion, printing,
// a bfloat16 Linear trained by SGD, and expression cases (every elementwise op of the op table, scalars, casts,
// reductions, products, softmax, indexing, gradients) compared bit for bit; which path 16-bit ops take on the CPU;
// and the clear errors of devices without them.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import "@cinder/autograd";
import { cpu, halfStats } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { expressionCases } from "./support/expression-cases.mjs";
import { NaiveBackend } from "./support/naive-backend";

if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);

const fixture = JSON.parse(readFileSync(new URL("../fixtures/half.json", import.meta.url), "utf8"));
const HALVES = ["float16", "bfloat16"];
const decoders = { float16: torch.fromFloat16Bits, bfloat16: torch.fromBFloat16Bits };
const encoders = { float16: torch.toFloat16Bits, bfloat16: torch.toBFloat16Bits };

describe("the conversions are PyTorch's", () => {
  it.each(HALVES)("%s: all 65,536 bit patterns decode to PyTorch's float32 bits", (dtype) => {
    const f = new Float32Array(65536);
    // (NaN as the canonical quiet NaN, as the fixture writes it: a JS NaN may carry the pattern's payload)
    for (let b = 0; b < 65536; b++) f[b] = Number.isNaN(decoders[dtype](b)) ? Number.NaN : decoders[dtype](b);
    const hash = createHash("sha256").update(new Uint8Array(f.buffer)).digest("hex");
    expect(hash).toBe(fixture.decode_sha256[dtype]);
    // and every pattern but NaN's encodes back to itself (NaN to the dtype's quiet NaN)
    for (let b = 0; b < 65536; b++) {
      const back = encoders[dtype](f[b]);
      if (Number.isNaN(f[b])) expect(Number.isNaN(decoders[dtype](back))).toBe(true);
      else if (back !== b) expect(back, `pattern ${b}`).toBe(b);
    }
  });
  it.each(HALVES)("%s: float32 edge cases and 4096 random patterns encode to PyTorch's bits", (dtype) => {
    const u = new Uint32Array(fixture.encode.f32);
    const f = new Float32Array(u.buffer);
    const want = fixture.encode[dtype];
    const got = Array.from(f, (v) => encoders[dtype](v));
    // NaN payloads: PyTorch's float16 keeps the sign and top payload bits of a NaN; JS numbers have no payload, so
    // a NaN encodes to the quiet NaN (checked as NaN, not bits)
    for (let i = 0; i < want.length; i++) {
      if (Number.isNaN(f[i])) expect(Number.isNaN(decoders[dtype](got[i])), `NaN ${u[i]}`).toBe(true);
      else if (got[i] !== want[i]) expect(got[i], `float32 bits 0x${u[i].toString(16)}`).toBe(want[i]);
    }
  });
  it("float64 values round through float32 first, as PyTorch's casts", () => {
    const { f64, bits16, bitsbf } = fixture.encode;
    const t = torch.tensor(f64, { dtype: "float64" });
    expect(Array.from(t.half().data())).toEqual(bits16);
    expect(Array.from(t.bfloat16().data())).toEqual(bitsbf);
    expect(Array.from(torch.tensor(f64, { dtype: "float16" }).data())).toEqual(bits16);
  });
});

describe("float16 and bfloat16 promotion is PyTorch's", () => {
  it("promote_types with every dtype", () => {
    for (const { a, b, result } of fixture.promote_types) {
      expect(torch.promoteTypes(a, b), `${a} ${b}`).toBe(result);
      expect(torch.promoteTypes(b, a), `${b} ${a}`).toBe(result);
    }
  });
  it("result_type with tensors, 0-dim tensors and numbers", () => {
    const op = (o) => (o.kind === "number" ? { kind: "number", dtype: torch.dtypeOfNumber(o.value) } : o);
    for (const { a, b, result } of fixture.result_type) {
      expect(torch.resultType([op(a), op(b)]), JSON.stringify([a, b])).toBe(result);
      expect(torch.resultType([op(b), op(a)]), JSON.stringify([b, a])).toBe(result);
    }
  });
});

describe("float16 and bfloat16 print as PyTorch's", () => {
  it.each(fixture.prints.map((p) => [p.cinder, p.text]))("%s", (code, text) => {
    expect(String(new Function("torch", `return (${code});`)(torch))).toBe(text);
  });
});

describe("names, methods and storage", () => {
  it("dtype constants, methods, legacy names, element size, data() as bits", () => {
    expect([torch.float16, torch.half, torch.bfloat16]).toEqual(["float16", "float16", "bfloat16"]);
    const x = torch.tensor([1, -2.5]);
    expect(x.half().dtype).toBe("float16");
    expect(x.bfloat16().dtype).toBe("bfloat16");
    expect(x.to(torch.half).type()).toBe("torch.HalfTensor");
    expect(x.type("torch.BFloat16Tensor").dtype).toBe("bfloat16");
    expect(x.bfloat16().type()).toBe("torch.BFloat16Tensor");
    expect([torch.itemSize("float16"), torch.itemSize("bfloat16")]).toEqual([2, 2]);
    expect(x.half().isFloatingPoint()).toBe(true);
    // data() is the storage's bits (a Uint16Array, as numpy's float16 buffer); toArray()/item() the values
    expect(x.half().data()).toEqual(new Uint16Array([0x3c00, 0xc100]));
    expect(x.half().toArray()).toEqual([1, -2.5]);
    expect(x.bfloat16().select(0, 1).item()).toBe(-2.5);
    expect(() => x.half(1)).toThrow();
    expect(() => torch.zeros(2, { dtype: "half" })).toThrow(/torch.half is "float16"/);
    // a Uint16Array's numbers, not bits, make a float16 tensor (as any TypedArray's values)
    expect(torch.tensor(new Uint16Array([15360, 3]), { dtype: "float16" }).toArray()).toEqual([15360, 3]);
  });
  it("leaves require grad; gradients come back in the dtype", () => {
    const a = torch.tensor([0.5, -1.25, 3], { dtype: "bfloat16" }).requiresGrad_();
    a.mul(a).sum().backward();
    expect(a.grad.dtype).toBe("bfloat16");
    expect(a.grad.toArray()).toEqual([1, -2.5, 6]);
    const h = torch.tensor([0.1, 2]).half().requiresGrad_();
    h.mul(3).sum().backward();
    expect(h.grad.dtype).toBe("float16");
    expect(h.grad.toArray()).toEqual([3, 3]);
  });
});

describe("the CPU's 16-bit paths", () => {
  it("fused and unfused programs give the same bits; unfused version 1 calls run one-node programs", () => {
    for (const dtype of HALVES) {
      const x = torch.arange(200).float().div(7).sub(10).to(dtype);
      const chain = (t) => t.mul(t).add(1).div(t.abs().add(0.5)).neg().sum(0);
      const fused = chain(x.reshape(20, 10));
      torch.setFusion(false);
      const before = halfStats.fused;
      let eager;
      try {
        eager = chain(x.reshape(20, 10));
      } finally {
        torch.setFusion(true);
      }
      expect(halfStats.fused).toBeGreaterThan(before);
      expect(fused.dtype).toBe(dtype);
      expect(fused.data()).toEqual(eager.data());
    }
  });
  it("other primitives run on float32 copies, rounded once (a bfloat16 matmul past 4096 multiply-adds)", () => {
    const a = torch.arange(400).float().div(50).reshape(20, 20).bfloat16();
    const b = torch.arange(400).float().sub(30).div(70).reshape(20, 20).bfloat16();
    const before = halfStats.viaFloat32;
    const y = a.matmul(b);
    expect(halfStats.viaFloat32).toBeGreaterThan(before);
    expect(y.data()).toEqual(a.float().matmul(b.float()).bfloat16().data());
  });
});

describe("bfloat16 products that round every multiply-add", () => {
  it("run on the values where the device reads synchronously, as tensor ops elsewhere: the same bits", async () => {
    // the CPU without synchronous reads: the stepwise product must take its tensor-op path there
    const noSync = Object.create(cpu, {
      device: { value: "cpu-nosync" },
      readSync: { value: undefined },
      read: { value: (v) => cpu.read(v) },
    });
    torch.registerBackend(noSync);
    try {
      const a = torch.arange(24).float().sub(11).div(7).reshape(2, 3, 4).bfloat16();
      const b = torch.arange(40).float().sub(17).div(9).reshape(2, 4, 5).bfloat16();
      const before = { ...torch.stepwiseStats };
      const host = torch.bmm(a, b);
      expect(torch.stepwiseStats.host).toBe(before.host + 1);
      const ops = await torch.bmm(a.to("cpu-nosync"), b.to("cpu-nosync")).toAsync("cpu");
      expect(torch.stepwiseStats.ops).toBe(before.ops + 1);
      expect(ops.data()).toEqual(host.data());
      // and both differ from float32 accumulation rounded once somewhere (the point of the stepwise rounding)
      expect(host.data()).not.toEqual(a.float().bmm(b.float()).bfloat16().data());
    } finally {
      torch.unregisterBackend("cpu-nosync");
    }
  });
});

describe("a bfloat16 Linear trains like PyTorch's", () => {
  it("5 SGD steps: losses and parameters within bfloat16 tolerance", async () => {
    const { nn, optim } = { nn: await import("@cinder/nn"), optim: await import("@cinder/optim") };
    const f = fixture.linear_sgd;
    const lin = new nn.Linear(4, 3).bfloat16();
    expect(lin.weight.dtype).toBe("bfloat16");
    torch.noGrad(() => {
      lin.weight.copy_(torch.tensor(f.init.weight, { dtype: "bfloat16" }));
      lin.bias.copy_(torch.tensor(f.init.bias, { dtype: "bfloat16" }));
    });
    const x = torch.tensor(f.x, { dtype: "bfloat16" });
    const y = torch.tensor(f.y, { dtype: "bfloat16" });
    const opt = new optim.SGD(lin.parameters(), 0.1);
    const losses = [];
    for (let i = 0; i < 5; i++) {
      opt.zeroGrad();
      const loss = lin.forward(x).sub(y).pow(2).mean();
      loss.backward();
      opt.step();
      losses.push(loss.item());
    }
    const close = (a, b) => Math.abs(a - b) <= 2 ** -7 * Math.max(1, Math.abs(b));
    for (const [i, l] of losses.entries())
      expect(close(l, f.losses[i]), `loss ${i}: ${l} vs ${f.losses[i]}`).toBe(true);
    const want = f.weight.flat();
    for (const [i, w] of lin.weight.toArray().flat().entries())
      expect(close(w, want[i]), `weight ${i}`).toBe(true);
  });
});

describe("float16 and bfloat16 on devices without them", () => {
  it("a backend that does not list them refuses them by name", () => {
    torch.registerBackend(new NaiveBackend({ device: "naive-f16" }));
    try {
      const x = torch.tensor([1, 2], { dtype: "float16" });
      expect(() => x.to("naive-f16")).toThrow(/float16 is not supported on naive-f16/);
      expect(() => torch.zeros(2, { dtype: "bfloat16", device: "naive-f16" })).toThrow(
        /bfloat16 is not supported/,
      );
    } finally {
      torch.unregisterBackend("naive-f16");
    }
  });
});

expressionCases("half", "float16 and bfloat16 ops give PyTorch's bits (or its errors)");
