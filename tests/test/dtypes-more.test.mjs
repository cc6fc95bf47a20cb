// The int8 and int16 dtypes against PyTorch 1.13's CPU (tests/fixtures/dtypes-more.json, from
// scripts/fixtures/dtypes_more.py): promotion for every pair of dtypes and torch.result_type with every kind of
// operand, printing, and expression cases (arithmetic and its wrap-around, casts, creation range errors,
// reductions with PyTorch's int64 results as Cinder's int32, views); and the clear errors of devices without them.
import { readFileSync } from "node:fs";
import { cpu } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { expressionCases } from "./support/expression-cases.mjs";
import { NaiveBackend } from "./support/naive-backend";

if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);

const fixture = JSON.parse(readFileSync(new URL("../fixtures/dtypes-more.json", import.meta.url), "utf8"));

describe("int8 and int16 promotion is PyTorch's", () => {
  it("covers every pair of dtypes", () => {
    expect(fixture.promote_types).toHaveLength(torch.DTYPES.length ** 2);
    for (const { a, b, result } of fixture.promote_types)
      expect(torch.promoteTypes(a, b), `${a} ${b}`).toBe(result);
  });
  it("torch.result_type with tensors, 0-dim tensors and numbers", () => {
    // the core's operand descriptions: a JS number's dtype comes from its value
    const op = (o) => (o.kind === "number" ? { kind: "number", dtype: torch.dtypeOfNumber(o.value) } : o);
    for (const { a, b, result } of fixture.result_type) {
      expect(torch.resultType([op(a), op(b)]), JSON.stringify([a, b])).toBe(result);
      expect(torch.resultType([op(b), op(a)]), JSON.stringify([b, a])).toBe(result);
    }
    // and through an op: an int8 tensor plus a JS int stays int8 (wrapping), plus a float is float32
    expect(torch.tensor([100], { dtype: "int8" }).add(200).toArray()).toEqual([44]);
    expect(torch.tensor([100], { dtype: "int8" }).add(0.5).dtype).toBe("float32");
  });
});

describe("int8 and int16 print as PyTorch's", () => {
  it.each(fixture.prints.map((p) => [p.cinder, p.text]))("%s", (code, text) => {
    expect(String(new Function("torch", `return (${code});`)(torch))).toBe(text);
  });
});

describe("int8 and int16 on devices without them", () => {
  it("a backend that does not list them refuses them by name, listing what it stores", async () => {
    torch.registerBackend(new NaiveBackend({ device: "naive-i8" }));
    try {
      const x = torch.tensor([1, 2], { dtype: "int8" });
      expect(() => x.to("naive-i8")).toThrow(
        /int8 is not supported on naive-i8; it stores float32, float64, int32, uint8, bool/,
      );
      expect(() => torch.zeros(2, { dtype: "int16", device: "naive-i8" })).toThrow(/int16 is not supported/);
      // the dtypes it does store still work
      expect(
        await x
          .int()
          .to("naive-i8")
          .add(1)
          .toAsync("cpu")
          .then((t) => t.toArray()),
      ).toEqual([2, 3]);
    } finally {
      torch.unregisterBackend("naive-i8");
    }
  });
  it("the CPU stores every dtype; dtype constants and methods", () => {
    expect(cpu.dtypes).toEqual(torch.DTYPES);
    expect([torch.int8, torch.int16, torch.short]).toEqual(["int8", "int16", "int16"]);
    const x = torch.tensor([1.5, -300.5]);
    expect(x.char().dtype).toBe("int8");
    expect(x.short().toArray()).toEqual([1, -300]);
    expect(x.char().type()).toBe("torch.CharTensor");
    expect(x.short().type()).toBe("torch.ShortTensor");
    expect([torch.itemSize("int8"), torch.itemSize("int16")]).toEqual([1, 2]);
    expect(() => x.char(1)).toThrow();
    expect(torch.tensor(new Int8Array([-1, 5])).dtype).toBe("int8");
    expect(torch.tensor(new Int16Array([-1, 5])).dtype).toBe("int16");
  });
});

describe("x.view(dtype) and autograd", () => {
  it("the same dtype is an ordinary view (it shares memory and records the gradient)", () => {
    const x = torch.tensor([1, 2], { dtype: "float32", requiresGrad: true });
    const y = x.view("float32");
    expect(y.requiresGrad).toBe(true);
    y.mul(3).sum().backward();
    expect(x.grad.toArray()).toEqual([3, 3]);
  });
  it("another dtype gives the bits in a new tensor, which does not require grad", () => {
    const x = torch.tensor([1, -2], { requiresGrad: true });
    const y = x.view("int32");
    expect(y.requiresGrad).toBe(false);
    expect(y.toArray()).toEqual([1065353216, -1073741824]);
  });
});

expressionCases("dtypes-more", "int8 and int16: values and errors are PyTorch's");
