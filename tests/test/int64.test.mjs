// int64 on the CPU against PyTorch 1.13 (tests/fixtures/int64.json, from scripts/fixtures/int64.py): promotion,
// arithmetic, division, bitwise ops and shifts past 32 bits, casts, creation, reductions with int64 results, int64
// index tensors, views through the two's-complement bytes; and, by hand, what Cinder refuses where PyTorch would
// hold a value it cannot store exactly (past 2^53 - 1): an error naming the value, never a rounded number.
import { readFileSync } from "node:fs";
import { cpu } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { expressionCases } from "./support/expression-cases.mjs";
import { NaiveBackend } from "./support/naive-backend";

if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);

const fixture = JSON.parse(readFileSync(new URL("../fixtures/int64.json", import.meta.url), "utf8"));
const MAX = 2 ** 53 - 1;
const long = (v) => torch.tensor(v, { dtype: "int64" });

describe("int64 promotion is PyTorch's", () => {
  it.each(fixture.promote_types.map((c) => [c.a, c.b, c.result]))("%s with %s is %s", (a, b, result) => {
    expect(torch.promoteTypes(a, b)).toBe(result);
    expect(torch.promoteTypes(b, a)).toBe(result);
  });
});

expressionCases("int64", "int64: values and errors are PyTorch's");

describe("int64 past the range Cinder stores exactly (2^53 - 1) is an error naming the value", () => {
  const tooBig = /int64 value 9007199254740992 is outside the range Cinder stores int64 exactly/;
  it("arithmetic, eager and fused", () => {
    expect(long([MAX, -MAX]).neg().toArray()).toEqual([-MAX, MAX]);
    expect(() => long([MAX]).add(1).toArray()).toThrow(tooBig);
    expect(() =>
      long([2 ** 27, 2 ** 26])
        .mul(long([2 ** 26, 2 ** 27]))
        .toArray(),
    ).toThrow(tooBig);
    // a chain long enough to fuse (fused programs check every int64 node)
    const x = torch.full([200], 2 ** 52, { dtype: "int64" });
    expect(() => x.add(x).sub(1).toArray()).toThrow(tooBig);
    expect(x.sub(1).add(x).toArray()[0]).toBe(MAX);
    expect(() => long([3]).pow(40).toArray()).toThrow(
      /int64 value of about 1.2157665459056929e\+19 is outside/,
    );
    expect(() => long([1]).bitwiseLeftShift(53).toArray()).toThrow(tooBig);
  });
  it("products run in float64 while |a| @ |b| (which bounds every partial sum) stays in range", () => {
    const a = long([
      [3000000000, -2],
      [3, 4],
    ]);
    const p = a.matmul(long([[5], [6]]));
    expect(p.dtype).toBe("int64");
    expect(p.toArray()).toEqual([[14999999988], [39]]);
    expect(
      long([1, 2, 3])
        .dot(long([4, 5, 6]))
        .item(),
    ).toBe(32);
    expect(() => long([[2 ** 30, 1]]).mm(long([[2 ** 30], [-1]]))).toThrow(
      /int64 product: a partial sum: int64 value of about 1.1529215046068470e\+18 is outside/,
    );
  });
  it("reductions check every partial result", () => {
    expect(() =>
      long([2 ** 52, 2 ** 52])
        .sum()
        .item(),
    ).toThrow(/sum: int64 value 9007199254740992/);
    expect(() =>
      long([2 ** 52, 2 ** 52, -5])
        .cumsum(0)
        .toArray(),
    ).toThrow(tooBig);
    expect(() =>
      long([2 ** 30, 2 ** 30])
        .prod()
        .item(),
    ).toThrow(/prod: int64 value of about 1.1529215046068470e\+18/);
    expect(torch.arange(100000, { dtype: "int64" }).sum().item()).toBe(4999950000);
  });
  it("casts from float: NaN, ±inf and values from 2^53 on (x86 PyTorch gives INT64_MIN for the first ones)", () => {
    expect(() => torch.tensor([1, Number.NaN]).long()).toThrow(/cannot convert NaN to int64/);
    expect(() => torch.tensor([Number.NEGATIVE_INFINITY]).long()).toThrow(
      /cannot convert -Infinity to int64/,
    );
    expect(() => torch.tensor([2 ** 53], { dtype: "float64" }).long()).toThrow(
      /cast of 9007199254740992 to int64/,
    );
    expect(
      torch
        .tensor([-0.5, 2 ** 52 + 0.5], { dtype: "float64" })
        .long()
        .toArray(),
    ).toEqual([0, 2 ** 52]);
    expect(Object.is(torch.tensor([-0.5]).long().item(), 0)).toBe(true);
    expect(() => torch.full([2], 2 ** 60, { dtype: "int64" })).toThrow(/cannot be converted to type int64_t/);
  });
  it("x.view(int64) of bits past the range, BigInt64Array data", () => {
    expect(() => torch.tensor([1], { dtype: "float64" }).view("int64")).toThrow(
      /view\(\): int64 value 4607182418800017408 is outside the range/,
    );
    expect(long([-1]).view("float64").view("int64").item()).toBe(-1);
    expect(torch.tensor(new BigInt64Array([-(2n ** 53n) + 1n])).item()).toBe(-MAX);
  });
});

describe("int64 storage and devices", () => {
  it("data() is the Float64Array of exact values; item() and tolist() give numbers", () => {
    const x = long([
      [3000000000, -1],
      [2, 0],
    ]);
    expect(x.data()).toBeInstanceOf(Float64Array);
    expect(x.tolist()).toEqual([
      [3000000000, -1],
      [2, 0],
    ]);
    expect(x.sum().item()).toBe(3000000001);
    expect(x.type()).toBe("torch.LongTensor");
    expect(torch.itemSize("int64")).toBe(8);
    expect([torch.int64, torch.long]).toEqual(["int64", "int64"]);
  });
  it("a backend without int64: to() converts to int32 after a range check, int64 asked for there is refused", async () => {
    torch.registerBackend(new NaiveBackend({ device: "naive-i64" }));
    try {
      // labels made on the CPU move to such a device (WebGPU) as its integer type, int32
      const moved = long([7, -(2 ** 31)]).to("naive-i64");
      expect(moved.dtype).toBe("int32");
      expect(await moved.toArrayAsync()).toEqual([7, -(2 ** 31)]);
      expect(() => long([1, 2 ** 31]).to("naive-i64")).toThrow(
        /to\(\): int64 value 2147483648 at flat index 1 does not fit int32, the integer type of naive-i64/,
      );
      expect(() => torch.zeros(2, { dtype: "int64", device: "naive-i64" })).toThrow(
        /int64 is not supported on naive-i64; it stores/,
      );
      expect(torch.defaultIntDtype(torch.getBackend("naive-i64"))).toBe("int32");
      expect(torch.defaultIntDtype(cpu)).toBe("int64");
      // bool + a JS integer is the default integer of the tensor's backend
      const b = torch.tensor([true, false], { device: "naive-i64" });
      expect(b.add(3).dtype).toBe("int32");
      expect(torch.tensor([true, false]).add(3).dtype).toBe("int64");
      expect(
        await long([5, -6])
          .int()
          .to("naive-i64")
          .add(1)
          .toAsync("cpu")
          .then((t) => t.toArray()),
      ).toEqual([6, -5]);
    } finally {
      torch.unregisterBackend("naive-i64");
    }
  });
});

describe("PyTorch's int64 defaults: int64 on the CPU, the backend's default integer (int32) without int64", () => {
  // each op on a device: what PyTorch makes int64 (creation from JS integers, index results, integer sums)
  const ops = [
    ["tensor([1, 2])", (d) => torch.tensor([1, 2], { device: d })],
    ["arange(4)", (d) => torch.arange(4, { device: d })],
    ["full([2], 3)", (d) => torch.full([2], 3, { device: d })],
    ["randint(0, 5, [3]) (range)", (d) => torch.randint(0, 5, [3], { device: d }).clamp(0, 0)],
    ["argmax", (d) => torch.tensor([1, 5, 2], { dtype: "float32", device: d }).argmax()],
    [
      "max(dim).indices",
      (d) =>
        torch
          .tensor(
            [
              [1, 5],
              [7, 2],
            ],
            { dtype: "float32", device: d },
          )
          .max(1).indices,
    ],
    ["sort().indices", (d) => torch.tensor([3, 1, 2], { dtype: "float32", device: d }).sort().indices],
    ["topk().indices", (d) => torch.tensor([3, 1, 2], { dtype: "float32", device: d }).topk(2).indices],
    ["argsort", (d) => torch.tensor([3, 1, 2], { dtype: "float32", device: d }).argsort()],
    ["cummax().indices", (d) => torch.tensor([1, 3, 2], { dtype: "float32", device: d }).cummax(0).indices],
    ["int32 sum", (d) => torch.tensor([1, 2, 3], { dtype: "int32", device: d }).sum()],
    ["bool sum", (d) => torch.tensor([true, false, true], { device: d }).sum()],
    ["uint8 cumsum", (d) => torch.tensor([200, 100], { dtype: "uint8", device: d }).cumsum(0)],
    ["int32 prod", (d) => torch.tensor([2, 3], { dtype: "int32", device: d }).prod()],
  ];
  it.each(ops.map(([name, f]) => [name, f]))("%s", async (_name, f) => {
    const c = f("cpu");
    expect(c.dtype).toBe("int64");
    torch.registerBackend(new NaiveBackend({ device: "naive-def" }));
    try {
      const n = f("naive-def");
      expect(n.dtype).toBe("int32");
      expect(await n.toArrayAsync()).toEqual(c.toArray());
    } finally {
      torch.unregisterBackend("naive-def");
    }
  });
  it("print as PyTorch: int64 without a dtype, int32 with it", () => {
    expect(String(torch.tensor([1, 2]))).toBe("tensor([1, 2])");
    expect(String(torch.tensor([1, 2], { dtype: "int32" }))).toBe("tensor([1, 2], dtype=torch.int32)");
    expect(String(torch.tensor([], { dtype: "int64" }))).toBe("tensor([], dtype=torch.int64)");
  });
});
