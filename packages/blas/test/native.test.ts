/** The addon's own checks: wrong arguments are exceptions naming what was expected, never out-of-bounds access. */
import { describe, expect, it } from "vitest";
import { loadNative } from "../src/native";

const f32 = (n: number) => new Float32Array(n).fill(1);

describe("the addon's gemm", () => {
  const { gemm } = loadNative();
  /** 2x3 @ 3x2 into 2x2, row-major, with some arguments replaced. */
  const call = (over: Record<number, unknown> = {}) => {
    const args: unknown[] = [false, false, 2, 2, 3, f32(6), 0, 3, 0, f32(6), 0, 2, 0, f32(4), 0, 2, 0, 1];
    for (const [i, v] of Object.entries(over)) args[Number(i)] = v;
    return (gemm as (...a: unknown[]) => void)(...args);
  };

  it("multiplies in place", () => {
    const C = f32(4);
    call({ 13: C });
    expect([...C]).toEqual([3, 3, 3, 3]);
  });

  it("refuses wrong arguments with what it expected", () => {
    expect(() => (gemm as (...a: unknown[]) => void)(false, false, 1)).toThrow(
      /expected 18 arguments, got 3/,
    );
    expect(() => call({ 0: 1 })).toThrow(/transA and transB must be booleans/);
    expect(() => call({ 2: -1 })).toThrow(/M must be an integer in \[0, 2147483647\]/);
    expect(() => call({ 3: Number.NaN })).toThrow(/N must be an integer/);
    expect(() => call({ 4: 1.5 })).toThrow(/K must be an integer/);
    expect(() => call({ 5: [1, 2, 3] })).toThrow(/A must be a Float32Array or a Float64Array/);
    expect(() => call({ 9: new Float64Array(6) })).toThrow(/arrays of one type/);
  });

  it("refuses products that would read or write past an array", () => {
    expect(() => call({ 6: 1 })).toThrow(/A needs 7 elements, its array has 6/);
    expect(() => call({ 13: f32(3) })).toThrow(/C needs 4 elements, its array has 3/);
    expect(() => call({ 16: 4, 17: 2 })).toThrow(/C needs 8 elements, its array has 4/); // a second batch item
    expect(() => call({ 11: 1 })).toThrow(/leading dimension of B is 1, less than its 2 columns/);
  });
});
