// The shape, indexing and linear-algebra-lite ops of issue 14 called as in PyTorch, in plain JavaScript: every call
// form against PyTorch 1.13 (tests/fixtures/sigcases-extra.json, from scripts/fixtures/sigcases_extra.py).
import { cpu } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { signatureCases } from "./support/signature-cases.mjs";
import { thrownMessage } from "./support/thrown.mjs";

if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);
// "linalg.cross" is torch.linalg.cross
signatureCases("extra", (name) => name.split(".").reduce((o, p) => o?.[p], torch));

describe("issue 14 ops: misuse reads like PyTorch", () => {
  const x = torch.arange(12).float().reshape(3, 4);
  const message = thrownMessage;
  it("a wrong kind names the parameter and what it takes", () => {
    expect(message(() => x.roll("1"))).toMatch(/roll\(\): argument "shifts" must be int or int\[\]/);
    expect(message(() => torch.meshgrid(x.at(0), { indexing: "ab" }))).toMatch(
      /argument "indexing" must be "ij" \| "xy"/,
    );
    expect(message(() => torch.cdist(x, x, 2, "fast"))).toMatch(/argument "computeMode" must be/);
    expect(message(() => torch.einsum(x))).toMatch(/einsum\(\): argument "args" must be equation/);
    expect(message(() => torch.tensordot(x, x, "2"))).toMatch(
      /argument "dims" must be int, \(int\[\], int\[\]\)/,
    );
  });
  it("index tensors are int64 (or int32)", () => {
    expect(message(() => x.take(torch.tensor([0.5])))).toMatch(
      /take\(\): argument "index": expected an integer index tensor \(int64 or int32\), got float32/,
    );
    expect(message(() => x.indexAdd(0, torch.tensor([0.5]), x.at(":1")))).toMatch(
      /indexAdd\(\).*int32.*float32/,
    );
  });
  it("views write through", () => {
    const y = x.clone();
    y.diagonal().fill_(-1);
    expect(y.diagonal().toArray()).toEqual([-1, -1, -1]);
    const u = torch.arange(6).float();
    const win = u.unfold(0, 2, 2);
    win.at(1).fill_(0);
    expect(u.toArray()).toEqual([0, 1, 0, 0, 4, 5]);
  });
});
