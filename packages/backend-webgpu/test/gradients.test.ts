/**
 * Every differentiable op of the core's op table, and the reductions, products, views and indexing ops the
 * autograd gradcheck covers, run forward and backward on webgpu and on the cpu: outputs and gradients agree
 * within float32 tolerance.
 */
import "@cinder/autograd";
import { cpu } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import { assertClose } from "@cinder/tensor/testing";
import { describe, it } from "vitest";
import { gpu } from "./setup";

torch.registerBackend(cpu);

type Fn = (...xs: torch.Tensor[]) => torch.Tensor;

/** Inputs inside each op's smooth domain, as plain data (the same on both devices). */
function inputs(op: string, shapes: number[][], seed: number): number[][] {
  torch.manualSeed(seed);
  return shapes.map((s, i) => {
    let x = torch.randn(s);
    if (
      ["sqrt", "rsqrt", "log", "log2", "log10", "log1p", "reciprocal"].includes(op) ||
      (op === "pow" && i === 0)
    ) {
      x = x.abs().add(0.5);
    }
    if (op === "tan") x = x.mul(0.3);
    if (["asin", "acos", "atanh", "erfinv"].includes(op)) x = x.tanh().mul(0.8);
    if (op === "acosh") x = x.abs().add(1.5);
    if (["abs", "relu", "sign", "copysign"].includes(op)) x = x.add(x.sign().mul(0.2));
    if ((op === "remainder" || op === "fmod") && i === 1) x = x.abs().add(1.5);
    if ((op === "maximum" || op === "minimum") && i === 1) x = x.add(0.05);
    return Array.from(x.data());
  });
}

async function run(device: string, fn: Fn, shapes: number[][], data: number[][]): Promise<number[][]> {
  const xs = data.map((d, i) =>
    torch.tensor(d, { dtype: "float32" }).reshape(shapes[i]).to(device).requiresGrad_(),
  );
  const y = fn(...xs);
  torch.manualSeed(99);
  y.backward(torch.randn(y.shape as number[]).to(device));
  const out = [Array.from(await y.dataAsync())];
  for (const x of xs) out.push(Array.from(await x.grad!.dataAsync()));
  return out;
}

async function compare(name: string, fn: Fn, shapes: number[][]): Promise<void> {
  const data = inputs(name.split(" ")[0], shapes, 5);
  const [g, c] = [await run("webgpu", fn, shapes, data), await run("cpu", fn, shapes, data)];
  const tol = { rtol: 2e-4, atol: 2e-4 };
  assertClose(g[0], c[0], tol, `${name}: output`);
  for (let i = 1; i < g.length; i++) assertClose(g[i], c[i], tol, `${name}: gradient of input ${i - 1}`);
}

const method =
  (op: string) =>
  (x: torch.Tensor, ...rest: torch.Tensor[]) =>
    (x as unknown as Record<string, (...a: torch.Tensor[]) => torch.Tensor>)[op](...rest);

describe.skipIf(!gpu)("gradients on webgpu equal the cpu's", () => {
  for (const op of torch.UNARY_OPS) {
    if (!torch.unaryOps[op].grad) continue;
    it(`unary ${op}`, () => compare(op, method(op), [[3, 5]]));
  }
  for (const op of torch.BINARY_OPS) {
    if (!torch.binaryOps[op].grad) continue;
    it(`binary ${op} (broadcast)`, () => compare(op, method(op), [[3, 5], [5]]));
  }
  const cases: [string, number[][], Fn][] = [
    ["sum dim", [[3, 4]], (x) => x.sum({ dim: 1 })],
    ["mean", [[2, 3, 4]], (x) => x.mean({ dim: [0, 2], keepdim: true })],
    ["max dim", [[3, 4]], (x) => x.max({ dim: 1 }).values],
    ["var", [[3, 4]], (x) => x.var({ dim: 1 })],
    ["logsumexp", [[3, 4]], (x) => x.logsumexp({ dim: 1 })],
    ["cumsum", [[3, 4]], (x) => x.cumsum(1)],
    ["softmax", [[3, 4]], (x) => x.softmax(1)],
    ["logSoftmax", [[3, 4]], (x) => x.logSoftmax(0)],
    [
      "matmul",
      [
        [5, 4],
        [4, 3],
      ],
      (a, b) => a.matmul(b),
    ],
    [
      "matmul batched",
      [
        [2, 3, 4],
        [4, 5],
      ],
      (a, b) => a.matmul(b),
    ],
    ["views", [[2, 3, 4]], (x) => x.transpose(0, 2).reshape(4, 6).at("1:3", "::2")],
    ["advanced indexing", [[4, 5]], (x) => x.at([0, 2, 2], [1, 3, 4])],
    [
      "gather",
      [[3, 4]],
      (x) =>
        x.gather(
          1,
          torch
            .tensor([
              [3, 0],
              [1, 1],
              [2, 0],
            ])
            .to(x.device),
        ),
    ],
    [
      "cat",
      [
        [2, 3],
        [1, 3],
      ],
      (a, b) => torch.cat([a, b], 0),
    ],
    ["clamp", [[3, 4]], (x) => x.clamp(-0.5, 0.5)],
  ];
  for (const [name, shapes, fn] of cases) it(name, () => compare(name, fn, shapes));
});
