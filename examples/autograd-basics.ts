/**
 * The seeds' autograd snippets (000, 001, 002, 004), line by line: gradients of small expressions, leaves,
 * gradFn names, detach, accumulation and zeroing, and the MSE gradients of seed 002.
 *
 *   pnpm example autograd-basics
 */
import * as torch from "cinder";

const checks: { what: string; ok: boolean }[] = [];
function check(what: string, got: unknown, want: unknown): void {
  const ok =
    typeof want === "number"
      ? Math.abs((got as number) - want) < 1e-5
      : JSON.stringify(got) === JSON.stringify(want);
  checks.push({ what, ok });
  console.log(`${ok ? "ok  " : "FAIL"} ${what}: ${String(got)}${ok ? "" : ` (expected ${String(want)})`}`);
}

// seed 000: z = (w x)^2, dz/dw = 2 (w x) x = 8
{
  const w = torch.tensor(1.0, { requiresGrad: true });
  const x = torch.tensor(2.0);
  const y = w.mul(x);
  const z = y.pow(2);
  z.backward();
  console.log(`PyTorch-style gradient: ${w.grad}`);
  check("seed 000: w.grad of (wx)^2", w.grad!.item(), 8);
  check("seed 000: z.gradFn", z.gradFn?.name, "PowBackward0");
}

// seed 001: y = x^2 + 3x, dy/dx at 2 = 7
{
  const x = torch.tensor(2.0, { requiresGrad: true });
  const y = x.pow(2).add(x.mul(3));
  y.backward();
  console.log(x.grad!.toString());
  check("seed 001: x.grad of x^2 + 3x", x.grad!.item(), 7);
}

// seed 001: y = w x + 2 prints with grad_fn=<AddBackward0>; dy/dw = x = 2
{
  const w = torch.tensor([1.0], { requiresGrad: true });
  const x = torch.tensor([2.0]);
  const y = w.mul(x).add(2);
  console.log(y.toString());
  check("seed 001: y printout", y.toString(), "tensor([4.], grad_fn=<AddBackward0>)");
  y.backward();
  check("seed 001: w.grad of wx + 2", w.grad!.toString(), "tensor([2.])");
}

// seed 004: z = x * y, loss = z.sum()
{
  const x = torch.tensor([1.0, 2.0, 3.0], { requiresGrad: true });
  const y = torch.tensor([4.0, 5.0, 6.0], { requiresGrad: true });
  const z = x.mul(y);
  const loss = z.sum();
  console.log("z:", z.toString());
  console.log("loss:", loss.toString());
  check("seed 004: z printout", z.toString(), "tensor([ 4., 10., 18.], grad_fn=<MulBackward0>)");
  check("seed 004: loss printout", loss.toString(), "tensor(32., grad_fn=<SumBackward0>)");
  loss.backward();
  check("seed 004: x.grad", x.grad!.toArray(), [4, 5, 6]);
  check("seed 004: y.grad", y.grad!.toArray(), [1, 2, 3]);
}

// seed 004: leaves
{
  const x = torch.tensor([1.0, 2.0, 3.0], { requiresGrad: true });
  const y = x.pow(2);
  const z = y.sum();
  check("seed 004: x.isLeaf", x.isLeaf, true);
  check("seed 004: y.isLeaf", y.isLeaf, false);
  check("seed 004: z.isLeaf", z.isLeaf, false);
}

// seed 004: detach shares data but not the graph
{
  const x = torch.tensor([1.0, 2.0, 3.0], { requiresGrad: true });
  const y = x.detach();
  y.add_(1);
  console.log(x.toString(), y.toString());
  check("seed 004: detach() drops requiresGrad", y.requiresGrad, false);
  check("seed 004: detach() shares storage (as in PyTorch)", x.toArray(), [2, 3, 4]);
}

// seed 004: gradients accumulate until zeroed; the vector case needs a gradient argument
{
  const x = torch.tensor(2.0, { requiresGrad: true });
  const f = () => x.pow(2).add(x.mul(3)).add(1);
  f().backward();
  f().backward();
  check("seed 004: two backward passes accumulate", x.grad!.item(), 14);
  x.grad!.zero_();
  f().backward();
  check("seed 004: after grad.zero_()", x.grad!.item(), 7);
  const v = torch.tensor([1.0, 2.0, 3.0], { requiresGrad: true });
  const sq = v.pow(2);
  sq.backward(torch.onesLike(sq));
  check("seed 004: vector y = x ** 2 with gradient ones", v.grad!.toArray(), [2, 4, 6]);
  const inference = torch.noGrad(() => x.mul(2));
  check("seed 004: no_grad result does not require grad", inference.requiresGrad, false);
}

// seed 002: scalar_grad: z = x w + b, MSE against 0; dL/dw = 2 (z - y) x = 80, dL/db = 16
{
  const x = torch.tensor(5);
  const y = torch.tensor(0, { dtype: "float32" });
  const w = torch.tensor(1, { requiresGrad: true, dtype: "float32" });
  const b = torch.tensor(3, { requiresGrad: true, dtype: "float32" });
  const z = x.mul(w).add(b);
  const loss = new torch.nn.MSELoss()(z, y);
  loss.backward();
  console.log("w.grad:", w.grad!.toString(), "b.grad:", b.grad!.toString());
  check("seed 002: w.grad", w.grad!.item(), 80);
  check("seed 002: b.grad", b.grad!.item(), 16);
}

// seed 002: matrix_grad: z = x @ w + b with MSE against zeros; gradients have the parameters' shapes
{
  torch.manualSeed(0);
  const x = torch.ones(2, 5);
  const y = torch.zeros(2, 3);
  const w = torch.randn(5, 3, { requiresGrad: true });
  const b = torch.randn(3, { requiresGrad: true });
  const z = torch.matmul(x, w).add(b);
  const loss = new torch.nn.MSELoss()(z, y);
  loss.backward();
  console.log("w.grad:\n", w.grad!.toString());
  console.log("b.grad:", b.grad!.toString());
  check("seed 002: w.grad shape", w.grad!.shape, [5, 3]);
  check("seed 002: b.grad shape", b.grad!.shape, [3]);
  // every row of x is ones, so each row of w.grad equals b.grad
  const wg = w.grad!.toArray() as number[][];
  const bg = b.grad!.toArray() as number[];
  check(
    "seed 002: w.grad rows equal b.grad",
    wg.every((row) => row.every((v, j) => Math.abs(v - bg[j]) < 1e-5)),
    true,
  );
}

const passed = checks.filter((c) => c.ok).length;
console.log(JSON.stringify({ example: "autograd-basics", device: "cpu", checks: checks.length, passed }));
if (passed !== checks.length) process.exitCode = 1;
