// Shape/view ops, indexing, sorting and matrix products called as in PyTorch, in plain JavaScript: every call
// form against PyTorch 1.13 (tests/fixtures/sigcases-views.json, from scripts/fixtures/sigcases_views.py).
import { cpu } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { signatureCases } from "./support/signature-cases.mjs";
import { thrownMessage } from "./support/thrown.mjs";

torch.registerBackend(cpu);
signatureCases("views", (name) => torch[name]);

describe("views, indexing, sorting: misuse reads like PyTorch", () => {
  const x = torch
    .tensor([
      [0, 5, 6],
      [6, 2, 1],
    ])
    .float();
  const idx = torch.tensor([
    [0, 1],
    [2, 0],
  ]);
  const message = thrownMessage;
  it("a float index tensor names the dtype expected and given", () => {
    expect(message(() => x.gather(1, idx.float()))).toBe(
      'gather(): argument "index": expected an integer index tensor (int64 or int32), got float32',
    );
    expect(message(() => x.indexSelect(0, torch.tensor([0.5])))).toBe(
      'indexSelect(): argument "index": expected an integer index tensor (int64 or int32), got float32',
    );
    expect(message(() => x.scatter(1, idx.float(), 1))).toBe(
      'scatter(): argument "index": expected an integer index tensor (int64 or int32), got float32',
    );
    expect(message(() => x.scatterAdd_(1, idx.double(), x))).toMatch(
      /scatterAdd_\(\).*int64 or int32.*got float64/,
    );
  });
  it("a number where a tensor is required", () => {
    expect(message(() => x.gather(1, 0))).toBe('gather(): argument "index" must be Tensor, got int 0');
    expect(message(() => torch.matmul(x, 2))).toBe('matmul(): argument "other" must be Tensor, got int 2');
    expect(message(() => x.scatterAdd(1, idx, 1))).toBe(
      'scatterAdd(): argument "src" must be Tensor, got int 1',
    );
  });
  it("bad options and values name the parameter", () => {
    expect(message(() => x.scatter(1, idx, 2, { reduce: "sum" }))).toMatch(
      /argument "reduce" must be "add" \| "multiply".*got str "sum"/,
    );
    expect(message(() => x.split({ splitSizeOrSections: 1 }))).toMatch(
      /split\(\): unknown option "splitSizeOrSections"/,
    );
    expect(message(() => x.sort(1, "desc"))).toBe(
      'sort(): argument "descending" must be bool, got str "desc"',
    );
    expect(message(() => x.reshape(3, "2"))).toMatch(/reshape\(\): argument "shape" must be int\[\]/);
    expect(message(() => x.transpose(0, 1, 2))).toMatch(/transpose\(\): takes 2 positional arguments/);
    expect(message(() => x.set([0], undefined))).toBe(
      'set(): argument "value" must be Tensor or Number, got undefined (call it as x.set([...items], value))',
    );
    expect(message(() => x.set([0], [1, 2, 3]))).toMatch(
      /set\(\): argument "value" must be Tensor or Number/,
    );
  });
  it("positional and option forms mean what PyTorch's mean", () => {
    expect(x.sort(1, true).values.toArray()).toEqual([
      [6, 5, 0],
      [6, 2, 1],
    ]);
    expect(x.topk(1, 0).indices.toArray()).toEqual([[1, 0, 0]]);
    expect(x.flatten({ startDim: 1 }).shape).toEqual([2, 3]);
    const [values, indices] = x.sort({ dim: 0, descending: true });
    expect(values.toArray()).toEqual([
      [6, 5, 6],
      [0, 2, 1],
    ]);
    expect(indices.toArray()).toEqual([
      [1, 0, 0],
      [0, 1, 1],
    ]);
    // scatter with a scalar and reduce: multiply and add, as PyTorch (not a plain write)
    const rep = torch.tensor([
      [0, 0],
      [2, 0],
    ]);
    expect(torch.full([2, 3], 2).float().scatter(1, rep, 3, { reduce: "multiply" }).toArray()).toEqual([
      [18, 2, 2],
      [6, 2, 6],
    ]);
    expect(torch.ones(2, 3).scatter(1, rep, 3, { reduce: "add" }).toArray()).toEqual([
      [7, 1, 1],
      [4, 1, 4],
    ]);
  });
});
