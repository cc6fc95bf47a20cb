/**
 * Autograd over OpenBLAS: an MLP's forward and backward products (x @ W^T, and the transposed products of the
 * gradients) run on the provider and give the gradients Cinder's own GEMM gives, within float32 rounding.
 */
import { cpu, gemmProviderStats } from "@cinder/backend-cpu";
import * as nn from "@cinder/nn";
import { manualSeed, randint, randn, registerBackend, type Tensor } from "@cinder/tensor";
import { afterEach, describe, expect, it } from "vitest";
import { disable, enable } from "../src/index";

registerBackend(cpu);
afterEach(() => enable());

/** The loss and every parameter's gradient of one step of a 64-128-ReLU-10 MLP on fixed data and weights. */
function grads(on: boolean): { loss: number; grads: Float32Array[]; products: number } {
  if (on) enable();
  else disable();
  manualSeed(7);
  const model = new nn.Sequential(new nn.Linear(64, 128), new nn.ReLU(), new nn.Linear(128, 10));
  const x = randn([32, 64]);
  const y = randint(0, 10, [32]);
  const before = gemmProviderStats().products;
  const loss: Tensor = nn.F.crossEntropy(model.forward(x), y);
  loss.backward();
  return {
    loss: loss.item() as number,
    grads: [...model.parameters()].map((p) => p.grad?.data() as Float32Array),
    products: gemmProviderStats().products - before,
  };
}

describe("autograd on OpenBLAS", () => {
  it("an MLP's gradients equal those of Cinder's own GEMM within float32 rounding", () => {
    const own = grads(false);
    const blas = grads(true);
    expect(own.products).toBe(0);
    // forward: 2 products; backward: dW for both layers and dx for the second (the input needs no gradient)
    expect(blas.products).toBe(5);
    expect(blas.loss).toBeCloseTo(own.loss, 5);
    own.grads.forEach((g, i) => {
      const scale = Math.max(...g.map(Math.abs));
      blas.grads[i].forEach((v, j) => {
        if (Math.abs(v - g[j]) > 1e-5 * scale)
          expect.fail(`parameter ${i} [${j}]: ${v} (blas) vs ${g[j]} (own)`);
      });
    });
  });
});
