/**
 * Every error a user meets early says what was expected and what was given: shapes, dtypes, devices, the
 * valid range. Assertions are on the message text, not just on the throw.
 */
import { cpu } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import { afterAll, describe, expect, it } from "vitest";
import { NaiveBackend } from "./support/naive-backend";

const naive = new NaiveBackend();
const cpuT = (data: torch.TensorData) => torch.tensor(data, { device: "cpu" });
const naiveT = (data: torch.TensorData) => torch.tensor(data, { device: "naive" });

torch.registerBackend(cpu);
torch.registerBackend(naive);
afterAll(() => torch.unregisterBackend("naive"));

describe("shape mismatches name both shapes", () => {
  it("elementwise ops", () => {
    const a = torch.ones(2, 3);
    const b = torch.ones(4);
    expect(() => a.add(b)).toThrow(torch.ShapeError);
    expect(() => a.add(b)).toThrow(/add: shapes \[2, 3\] and \[4\] cannot be broadcast together/);
    expect(() => a.mul(torch.ones(3, 2))).toThrow(/mul: shapes \[2, 3\] and \[3, 2\] cannot be broadcast/);
    expect(() => torch.ones(2, 1, 5).sub(torch.ones(3, 4))).toThrow(
      /size of tensor a \(5\) must match the size of tensor b \(4\)/,
    );
  });

  it("in-place ops whose result would not fit", () => {
    expect(() => torch.ones(3).add_(torch.ones(2, 3))).toThrow(
      /output with shape \[3\] doesn't match the broadcast shape \[2, 3\]/,
    );
  });

  it("matmul and friends", () => {
    const a = torch.ones(3, 2);
    expect(() => a.matmul(torch.ones(3, 2))).toThrow(torch.ShapeError);
    expect(() => a.matmul(torch.ones(3, 2))).toThrow(
      /shapes cannot be multiplied \(3x2 and 3x2\).*\[3, 2\] and \[3, 2\]/,
    );
    expect(() => torch.ones(2, 3, 4).matmul(torch.ones(5, 6))).toThrow(
      /\(3x4 and 5x6\).*\[2, 3, 4\] and \[5, 6\]/,
    );
    expect(() => torch.ones(3).dot(torch.ones(4))).toThrow(
      /dot: expected 1-D tensors of the same size, got shapes \[3\] and \[4\]/,
    );
    expect(() => torch.ones(2, 3).mv(torch.ones(2))).toThrow(/mv: .*got shapes \[2, 3\] and \[2\]/);
    expect(() => torch.ones(2, 2, 3).bmm(torch.ones(3, 3, 2))).toThrow(
      /bmm: .*got shapes \[2, 2, 3\] and \[3, 3, 2\]/,
    );
    expect(() => torch.ones(3).matmul(torch.tensor(2))).toThrow(
      /both arguments need at least 1 dimension, got 1D and 0D/,
    );
  });

  it("cat, stack, reshape, view and expand", () => {
    expect(() => torch.cat([torch.ones(2, 3), torch.ones(2, 4)], 0)).toThrow(
      /sizes of tensors must match except in dimension 0: expected \[2, 3\]-like, got \[2, 4\] for tensor 1/,
    );
    expect(() => torch.stack([torch.ones(2), torch.ones(3)])).toThrow(
      /\[2\] at entry 0 and \[3\] at entry 1/,
    );
    expect(() => torch.ones(2, 3).reshape(4, 2)).toThrow(/shape \[4, 2\] is invalid for input of size 6/);
    expect(() => torch.ones(2, 3).expand(2, 4)).toThrow(
      /expanded size of the tensor \(4\) must match the existing size \(3\)/,
    );
  });
});

describe("indexing out of range names the index, the dim and its size", () => {
  const x = torch.arange(12).reshape(3, 4);
  it("integer indices", () => {
    expect(() => x.at(3)).toThrow(torch.IndexError);
    expect(() => x.at(3)).toThrow("index 3 is out of bounds for dimension 0 with size 3");
    expect(() => x.at(0, -5)).toThrow("index -5 is out of bounds for dimension 1 with size 4");
    expect(() => x.set([5], 1)).toThrow("index 5 is out of bounds for dimension 0 with size 3");
  });
  it("list and tensor indices", () => {
    expect(() => x.at([0, 7])).toThrow("index 7 is out of bounds for dimension 0 with size 3");
    expect(() => x.at(":", torch.tensor([1, -9]))).toThrow(
      "index -9 is out of bounds for dimension 1 with size 4",
    );
    expect(() => x.set([[0], [4]], 1)).toThrow("index 4 is out of bounds for dimension 1 with size 4");
  });
  it("too many indices, bad masks, float indices", () => {
    expect(() => x.at(0, 0, 0)).toThrow("too many indices for tensor of dimension 2 (got 3)");
    expect(() => x.at(torch.tensor([true, false]))).toThrow(
      /the shape of the mask \[2\] at index 0 does not match the shape of the indexed tensor \[3, 4\]/,
    );
    expect(() => x.at(torch.tensor([0.5]))).toThrow(
      /tensors used as indices must be long, int, byte or bool tensors, got float32/,
    );
  });
  it("dims out of range name the valid range", () => {
    expect(() => x.sum({ dim: 2 })).toThrow(
      "sum: dimension out of range (expected to be in range of [-2, 1], but got 2)",
    );
    expect(() => x.transpose(0, -3)).toThrow(/transpose: dimension out of range .*\[-2, 1\], but got -3/);
    expect(() => x.gather(1, torch.tensor([[9]]))).toThrow(/out of bounds|9/);
  });
});

describe("view on a non-contiguous tensor points to contiguous() and reshape()", () => {
  it("after transpose", () => {
    const t = torch.ones(2, 3).t();
    expect(() => t.view(6)).toThrow(torch.ShapeError);
    expect(() => t.view(6)).toThrow(/view size is not compatible with input tensor's size and stride/);
    expect(() => t.view(6)).toThrow(/cannot view shape \[3, 2\] with strides \[1, 3\] as \[6\]/);
    expect(() => t.view(6)).toThrow(/\.reshape\(\.\.\.\) instead, or call \.contiguous\(\) first/);
    expect(t.contiguous().view(6).shape).toEqual([6]);
    expect(t.reshape(6).shape).toEqual([6]);
  });
});

describe("unknown dtypes and devices list the valid ones", () => {
  it("dtypes", () => {
    const bad = "float8" as torch.DType;
    expect(() => torch.tensor([1], { dtype: bad })).toThrow(
      'unknown dtype "float8": expected one of float32, float64, int32, uint8, bool',
    );
    expect(() => torch.zeros([2], { dtype: "long" as torch.DType })).toThrow(
      /unknown dtype "long": expected one of .*int64.* \(torch.long is "int64"\)/,
    );
    expect(torch.ones(2).to("int64").dtype).toBe("int64");
    expect(torch.ones(2).type("complex64").dtype).toBe("complex64");
    expect(() => torch.ones(2).type("complex32" as torch.DType)).toThrow(/unknown dtype "complex32"/);
  });
  it("devices", () => {
    expect(() => torch.zeros([2], { device: "tpu" })).toThrow(torch.DeviceError);
    expect(() => torch.zeros([2], { device: "tpu" })).toThrow(
      /unknown device "tpu": registered devices are cpu, naive/,
    );
    expect(() => torch.ones(2).to("webgpu")).toThrow(/unknown device "webgpu".*initWebGPU\(\)/);
  });
});

describe("item() needs exactly one element", () => {
  it("names the element count and the shape", () => {
    expect(() => torch.ones(2, 3).item()).toThrow(
      /a Tensor with 6 elements cannot be converted to a scalar: item\(\) needs exactly one element, got shape \[2, 3\]/,
    );
    expect(() => torch.ones(0).item()).toThrow(/a Tensor with 0 elements/);
    expect(torch.ones(1, 1).item()).toBe(1);
  });
  it("and the async form says the same", async () => {
    await expect(naiveT([1, 2]).itemAsync()).rejects.toThrow(/a Tensor with 2 elements cannot be converted/);
  });
});

describe("tensors on two devices", () => {
  it("elementwise ops name both devices and how to move one", () => {
    const a = cpuT([1, 2]);
    const b = naiveT([3, 4]);
    expect(() => a.add(b)).toThrow(torch.DeviceError);
    expect(() => a.add(b)).toThrow(
      /expected all tensors to be on the same device, but found tensors on cpu and naive/,
    );
    expect(() => a.add(b)).toThrow(/\.to\("cpu"\) or \.to\("naive"\)/);
    expect(() => b.mul(a)).toThrow(/found tensors on naive and cpu/);
  });
  it("every multi-tensor op checks", () => {
    const a = cpuT([
      [1, 2],
      [3, 4],
    ]);
    const b = naiveT([
      [1, 2],
      [3, 4],
    ]);
    for (const [name, f] of [
      ["matmul", () => a.matmul(b)],
      ["cat", () => torch.cat([a, b])],
      ["where", () => torch.where(cpuT([true, false]), a, b)],
      ["gather", () => a.gather(1, naiveT([[0], [1]]))],
      ["copy_", () => a.copy_(b)],
      ["set", () => a.set([0], naiveT([7, 8]))],
    ] as const) {
      expect(f, name).toThrow(/cpu and naive|naive and cpu/);
    }
  });
  it("moving explicitly works", async () => {
    const a = cpuT([1, 2]);
    const b = naiveT([3, 4]);
    expect(a.add(await b.toAsync("cpu")).toArray()).toEqual([4, 6]);
    expect(await a.to("naive").add(b).toArrayAsync()).toEqual([4, 6]);
  });
  it("a sync read of an async-only device names the async call", () => {
    const b = naiveT([3, 4]);
    expect(() => b.data()).toThrow(/cannot read a naive tensor synchronously: use `await t.dataAsync\(\)`/);
    expect(() => naiveT([3]).item()).toThrow(/cannot read a naive tensor synchronously/);
    expect(() => b.to("cpu")).toThrow(/use `await t.toAsync\("cpu"\)`/);
  });
});

describe("tensor() input validation", () => {
  it("ragged nested arrays say where", () => {
    expect(() => torch.tensor([[1, 2], [3]])).toThrow(torch.ShapeError);
    expect(() => torch.tensor([[1, 2], [3]])).toThrow(
      "tensor(): expected sequence of length 2 at dim 1 (got 1)",
    );
    expect(() => torch.tensor([[1, 2], 3] as number[][])).toThrow(
      /expected sequence of length 2 at dim 1 \(got number\)/,
    );
    expect(() => torch.tensor([1, [2]] as unknown as number[])).toThrow(
      /expected a number or boolean at depth 1, got a list of length 1/,
    );
    expect(() =>
      torch.tensor([
        [[1], [2]],
        [[3], [4, 5]],
      ]),
    ).toThrow(/expected sequence of length 1 at dim 2 \(got 2\)/);
    expect(() => torch.tensor(["a"] as unknown as number[])).toThrow(
      /expected a number or boolean at depth 1, got string/,
    );
  });
  it("inferred integers are int64 on the CPU; on a backend without int64, values outside int32 are rejected", () => {
    expect(torch.tensor([1, 2 ** 40]).dtype).toBe("int64");
    expect(torch.tensor([1, 2 ** 40]).toArray()).toEqual([1, 2 ** 40]);
    expect(() => torch.tensor([1, 2 ** 40], { device: "naive" })).toThrow(RangeError);
    expect(() => torch.tensor([1, 2 ** 40], { device: "naive" })).toThrow(
      /value 1099511627776 at flat index 1 does not fit int32: pass \{ dtype: "int64" \} or \{ dtype: "float64" \}/,
    );
    expect(() => torch.tensor([-(2 ** 31) - 1], { device: "naive" })).toThrow(
      /value -2147483649 at flat index 0 does not fit int32/,
    );
    expect(() => torch.tensor([2 ** 40], { dtype: "int32" })).toThrow(
      /value 1099511627776 at flat index 0 does not fit int32/,
    );
    expect(() => torch.tensor([300], { dtype: "uint8" })).toThrow(
      /value 300 at flat index 0 does not fit uint8/,
    );
    expect(torch.tensor([2 ** 40], { dtype: "float64" }).item()).toBe(2 ** 40);
    expect(torch.tensor([2 ** 31 - 1, -(2 ** 31)]).toArray()).toEqual([2147483647, -2147483648]);
  });
  it("int64 values outside the range stored exactly (2^53 - 1) are rejected naming the value", () => {
    expect(() => torch.tensor([1, 2 ** 53], { dtype: "int64" })).toThrow(
      /value 9007199254740992 at flat index 1 does not fit int64 \(Cinder stores int64 exactly, within ±\(2\^53 - 1\)\)/,
    );
    expect(() => torch.tensor([Number.POSITIVE_INFINITY], { dtype: "int64" })).toThrow(/does not fit int64/);
    expect(torch.tensor([2 ** 53 - 1, -(2 ** 53 - 1)], { dtype: "int64" }).toArray()).toEqual([
      2 ** 53 - 1,
      -(2 ** 53 - 1),
    ]);
  });
  it("BigInt64Array data becomes int64, each value range-checked", () => {
    const t = torch.tensor(new BigInt64Array([1n, -2n, 9007199254740991n]));
    expect(t.dtype).toBe("int64");
    expect(t.toArray()).toEqual([1, -2, 9007199254740991]);
    expect(torch.tensor(new BigInt64Array([7n]), { dtype: "int32" }).dtype).toBe("int32");
    expect(() => torch.tensor(new BigInt64Array([1n, 2n ** 62n]))).toThrow(
      /tensor\(\): int64 value 4611686018427387904 is outside the range Cinder stores int64 exactly/,
    );
    // @ts-expect-error fromTypedArray shares the array, and a BigInt64Array cannot be shared
    expect(() => torch.fromTypedArray(new BigInt64Array([1n]))).toThrow(
      /BigInt64Array cannot be shared; use tensor\(data\) to copy it/,
    );
  });
});

describe("dtype errors name both dtypes", () => {
  it("in-place ops that would need a wider result", () => {
    expect(() => torch.tensor([1, 2]).add_(0.5)).toThrow(
      /result type float32 can't be cast to the desired output type int64/,
    );
  });
  it("mean of integers and matmul of mixed floats", () => {
    expect(() => torch.tensor([1, 2]).mean()).toThrow(
      /mean\(\): .*Input dtype must be a floating point dtype, got int64/,
    );
    expect(() => torch.ones(2, 2).matmul(torch.ones([2, 2], { dtype: "float64" }))).toThrow(
      /expected both tensors to have the same dtype, but got float32 and float64/,
    );
  });
});
