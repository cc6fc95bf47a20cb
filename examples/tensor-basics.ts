/**
 * Tensor basics: the tensor sections of the seed tutorials, ported line by line (creation, conversion,
 * arithmetic, in-place ops, Hadamard and matrix products, reductions, math functions, the five kinds of
 * indexing, shape ops, cat, broadcasting). Each step prints like the tutorial and checks the value the
 * tutorial prints. Where a tutorial drew random numbers, the numbers it printed are used as fixed data.
 *
 *   pnpm example tensor-basics
 *
 * The last line is one JSON object with the headline figures: {"example", "device", "checks", "passed", "ms"}.
 */
import * as torch from "cinder";

const started = performance.now();
let checks = 0;
let passed = 0;
const failures: string[] = [];

type Nested = number | boolean | Nested[];

function same(a: unknown, b: Nested, tol: number): boolean {
  if (Array.isArray(b))
    return Array.isArray(a) && a.length === b.length && b.every((v, i) => same(a[i], v, tol));
  if (typeof b === "number" && typeof a === "number") {
    if (Number.isNaN(b)) return Number.isNaN(a);
    return a === b || Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));
  }
  return a === b;
}

/** Check a tensor (its values, or a plain value) against what the tutorial prints; `tol` for 4-digit prints. */
function check(
  what: string,
  actual: torch.Tensor | Nested | string,
  expected: Nested | string,
  tol = 0,
): void {
  checks++;
  const value = actual instanceof torch.Tensor ? actual.toArray() : actual;
  const ok = typeof expected === "string" ? value === expected : same(value, expected, tol);
  if (ok) passed++;
  else failures.push(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(value)}`);
}

function section(title: string): void {
  console.log(`\n=== ${title} ===`);
}

// ------------------------------------------------------------------------------------------------ creation
section("1. Creating tensors");
let data = torch.tensor(10);
console.log(data);
check("tensor(10)", data.toString(), "tensor(10)");
data = torch.tensor([
  [10, 20, 30],
  [40, 50, 60],
]);
console.log(data);
check("tensor from a list", data, [
  [10, 20, 30],
  [40, 50, 60],
]);
data = torch.zeros(2, 3); // torch.Tensor(2, 3): uninitialised in PyTorch, zeros here
console.log(data);
check("torch.Tensor(2, 3)", data.toString(), "tensor([[0., 0., 0.],\n        [0., 0., 0.]])");
data = torch.tensor([2.5, 3.3], { dtype: "int32" }); // torch.IntTensor([2.5, 3.3])
console.log(data);
check("IntTensor truncates", data, [2, 3]);
check("IntTensor dtype", data.dtype, "int32");

data = torch.arange(0, 10, 2);
console.log(data);
check("arange(0, 10, 2)", data, [0, 2, 4, 6, 8]);
data = torch.linspace(0, 9, 11);
console.log(data);
check("linspace(0, 9, 11)", data, [0, 0.9, 1.8, 2.7, 3.6, 4.5, 5.4, 6.3, 7.2, 8.1, 9], 1e-6);

torch.manualSeed(100);
data = torch.randn(2, 3);
console.log(data);
console.log("random seed:", torch.initialSeed());
check("initial_seed after manual_seed(100)", torch.initialSeed(), 100);
torch.manualSeed(100);
check("reseeding repeats randn", torch.randn(2, 3), data.toArray() as Nested);

console.log(torch.zeros(2, 3), torch.ones(2, 3));
const like = torch.tensor([
  [1, 2],
  [3, 4],
]);
check("zeros_like", torch.zerosLike(like), [
  [0, 0],
  [0, 0],
]);
check("ones_like", torch.onesLike(like), [
  [1, 1],
  [1, 1],
]);
data = torch.full([2, 3], 10);
console.log(data);
check("full([2, 3], 10)", data, [
  [10, 10, 10],
  [10, 10, 10],
]);
check("full_like(.., 20)", torch.fullLike(like, 20), [
  [20, 20],
  [20, 20],
]);
check("eye(3)", torch.eye(3), [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
]);
check("diag([1, 2, 3])", torch.diag(torch.tensor([1, 2, 3])), [
  [1, 0, 0],
  [0, 2, 0],
  [0, 0, 3],
]);
const r = torch.rand(2, 2);
check("rand in [0, 1)", r.ge(0).logicalAnd(r.lt(1)).all().item() as boolean, true);
const ri = torch.randint(1, 10, [3]);
check("randint(1, 10, [3]) in range", ri.ge(1).logicalAnd(ri.lt(10)).all().item() as boolean, true);

// ------------------------------------------------------------------------------------------------ conversion
section("2. Types and conversion");
data = torch.full([2, 3], 10);
console.log(data.dtype, "(torch.int64 on the CPU; int32 on a device without int64, such as WebGPU)");
check("default integer dtype", data.dtype, "int64");
data = data.type("float64"); // data.type(torch.DoubleTensor)
console.log(data.dtype);
check(".type(float64)", data.dtype, "float64");
check(".double()", torch.full([2, 3], 10).double().dtype, "float64");
check(".int() truncates", torch.tensor([1.5, 2.7]).int(), [1, 2]);
check("float + int stays float", torch.tensor([1.5, 2.7]).add(torch.tensor(3)).dtype, "float32");

// NumPy interop: a TypedArray plays the NumPy array. fromTypedArray shares memory, tensor() copies.
const array = new Int32Array([2, 3, 4]);
const shared = torch.fromTypedArray(array); // torch.from_numpy
shared.set([0], 100);
console.log(array);
check("from_numpy shares memory", Array.from(array), [100, 3, 4]);
const copied = torch.tensor(array); // torch.tensor(ndarray)
copied.set([0], 200);
console.log(array);
check("tensor(array) copies", Array.from(array), [100, 3, 4]);
check("tensor.numpy() analogue", Array.from(torch.tensor([2, 3, 4]).data()), [2, 3, 4]);

data = torch.tensor(30);
console.log(data.item());
check("item() of a 0-dim tensor", data.item() as number, 30);
check("item() of a 1-element tensor", torch.tensor([50.0]).item() as number, 50);
check("item() of [[18]]", torch.tensor([[18]]).item() as number, 18);

// ------------------------------------------------------------------------------------------------ arithmetic
section("3. Arithmetic and in-place ops");
data = torch.tensor([
  [3, 7, 4],
  [0, 0, 6],
]); // torch.randint(0, 10, [2, 3]) printed this
const added = data.add(10);
console.log(added);
check("add(10)", added, [
  [13, 17, 14],
  [10, 10, 16],
]);
check("data unchanged by add", data, [
  [3, 7, 4],
  [0, 0, 6],
]);
data.add_(10);
console.log(data);
check("add_(10) in place", data, [
  [13, 17, 14],
  [10, 10, 16],
]);
console.log(data.sub(5), data.mul(2), data.div(3), data.neg());
check("sub(5)", data.sub(5), [
  [8, 12, 9],
  [5, 5, 11],
]);
check("mul(2)", data.mul(2), [
  [26, 34, 28],
  [20, 20, 32],
]);
check(
  "div(3)",
  data.div(3),
  [
    [4.3333, 5.6667, 4.6667],
    [3.3333, 3.3333, 5.3333],
  ],
  1e-4,
);
check("neg()", data.neg(), [
  [-13, -17, -14],
  [-10, -10, -16],
]);

section("4. Hadamard product and matrix product");
let a = torch.tensor([
  [1, 2],
  [3, 4],
]);
const b = torch.tensor([
  [5, 6],
  [7, 8],
]);
console.log(torch.mul(a, b));
check("torch.mul(a, b)", torch.mul(a, b), [
  [5, 12],
  [21, 32],
]);
a = torch.tensor([
  [1, 2],
  [3, 4],
  [5, 6],
]);
console.log(a.matmul(b));
check("a @ b", a.matmul(b), [
  [19, 22],
  [43, 50],
  [67, 78],
]);
check("torch.matmul(a, b)", torch.matmul(a, b), [
  [19, 22],
  [43, 50],
  [67, 78],
]);

// ------------------------------------------------------------------------------------------------ reductions
section("5. Reductions and math functions");
data = torch.tensor(
  [
    [4, 0, 7],
    [6, 3, 5],
  ],
  { dtype: "float64" },
);
console.log(data.mean(), data.mean({ dim: 0 }), data.sum({ dim: 1 }));
check("mean()", data.mean(), 4.1667, 1e-4);
check("mean(dim=0)", data.mean({ dim: 0 }), [5, 1.5, 6]);
check("sum(dim=1)", data.sum({ dim: 1 }), [11, 14]);
console.log(torch.pow(data, 2), data.sqrt(), data.exp(), data.log());
check("pow(data, 2)", torch.pow(data, 2), [
  [16, 0, 49],
  [36, 9, 25],
]);
check(
  "sqrt()",
  data.sqrt(),
  [
    [2, 0, 2.6458],
    [2.4495, 1.7321, 2.2361],
  ],
  1e-4,
);
check(
  "exp()",
  data.exp(),
  [
    [54.598, 1, 1096.633],
    [403.428, 20.085, 148.413],
  ],
  1e-4,
);
check(
  "log()",
  data.log(),
  [
    [1.3863, Number.NEGATIVE_INFINITY, 1.9459],
    [1.7918, 1.0986, 1.6094],
  ],
  1e-4,
);

// ------------------------------------------------------------------------------------------------ indexing
section("6. Indexing: rows and columns, lists, ranges, booleans, several dims");
data = torch.tensor([
  [0, 7, 6, 5, 9],
  [6, 8, 3, 1, 0],
  [6, 3, 8, 7, 3],
  [4, 9, 5, 3, 1],
]); // torch.randint(0, 10, [4, 5]) printed this
console.log(data.at(0), data.at(":", 0), data.at(1, 2));
check("data[0]", data.at(0), [0, 7, 6, 5, 9]);
check("data[:, 0]", data.at(":", 0), [0, 6, 6, 4]);
check("data[1, 2]", data.at(1, 2), 3);
console.log(data.at([0, 1], [1, 2]), data.at([[0], [1]], [1, 2]));
check("data[[0, 1], [1, 2]]", data.at([0, 1], [1, 2]), [7, 3]);
check("data[[[0], [1]], [1, 2]]", data.at([[0], [1]], [1, 2]), [
  [7, 6],
  [8, 3],
]);
console.log(data.at(":3", ":2"), data.at("2:", ":2"), data.at(":", "1:4:2"));
check("data[:3, :2]", data.at(":3", ":2"), [
  [0, 7],
  [6, 8],
  [6, 3],
]);
check("data[2:, :2]", data.at("2:", ":2"), [
  [6, 3],
  [4, 9],
]);
check("data[:, 1:4:2]", data.at(":", "1:4:2"), [
  [7, 5],
  [8, 1],
  [3, 7],
  [9, 3],
]);
console.log(data.at(data.at(":", 2).gt(5)), data.at(":", data.at(1).gt(5)));
check("data[data[:, 2] > 5]", data.at(data.at(":", 2).gt(5)), [
  [0, 7, 6, 5, 9],
  [6, 3, 8, 7, 3],
]);
check("data[:, data[1] > 5]", data.at(":", data.at(1).gt(5)), [
  [0, 7],
  [6, 8],
  [6, 3],
  [4, 9],
]);
const cube = torch.arange(60).reshape(3, 4, 5); // torch.randint(0, 10, [3, 4, 5])
console.log(cube.at(0, ":", ":").shape, cube.at(":", 0, ":").shape, cube.at(":", ":", 0).shape);
check("data[0, :, :] shape", [...cube.at(0, ":", ":").shape], [4, 5]);
check("data[:, 0, :] shape", [...cube.at(":", 0, ":").shape], [3, 5]);
check("data[:, :, 0]", cube.at(":", ":", 0), [
  [0, 5, 10, 15],
  [20, 25, 30, 35],
  [40, 45, 50, 55],
]);
const grid = torch.zeros(2, 3);
grid.set([0, ":"], 1); // grid[0, :] = 1
grid.set([grid.eq(0)], 7); // grid[grid == 0] = 7
console.log(grid);
check("assignment through indexing", grid, [
  [1, 1, 1],
  [7, 7, 7],
]);

// ------------------------------------------------------------------------------------------------ shape ops
section("7. Shape operations");
data = torch.tensor([
  [10, 20, 30],
  [40, 50, 60],
]);
console.log(data.reshape(1, 6), data.reshape(3, 2), data.reshape(-1, 2));
check("reshape(1, 6)", data.reshape(1, 6), [[10, 20, 30, 40, 50, 60]]);
check("reshape(3, 2)", data.reshape(3, 2), [
  [10, 20],
  [30, 40],
  [50, 60],
]);
check("reshape(-1, 2)", data.reshape(-1, 2), [
  [10, 20],
  [30, 40],
  [50, 60],
]);
const v = torch.tensor([1, 2, 3, 4, 5]);
const data1 = v.unsqueeze(0);
const data2 = v.unsqueeze(1);
console.log("data1:", data1, "\ndata2:", data2, "\ndata3:", data1.squeeze(), "\ndata4:", data2.squeeze(1));
check("unsqueeze(dim=0)", data1, [[1, 2, 3, 4, 5]]);
check("unsqueeze(dim=1)", data2, [[1], [2], [3], [4], [5]]);
check("squeeze()", data1.squeeze(), [1, 2, 3, 4, 5]);
check("squeeze(dim=1)", data2.squeeze(1), [1, 2, 3, 4, 5]);

const t3 = torch.tensor([
  [
    [3, 7, 3, 0],
    [7, 3, 4, 8],
    [9, 6, 0, 0],
  ],
  [
    [0, 1, 3, 2],
    [2, 1, 3, 0],
    [4, 4, 3, 8],
  ],
]); // torch.randint(0, 10, [2, 3, 4]) printed this
const tr = torch.transpose(t3, 1, 2);
const pe = t3.permute([1, 2, 0]);
console.log("data1:", tr, tr.shape, "\ndata2:", pe, pe.shape);
check("transpose(data, 1, 2)", tr, [
  [
    [3, 7, 9],
    [7, 3, 6],
    [3, 4, 0],
    [0, 8, 0],
  ],
  [
    [0, 2, 4],
    [1, 1, 4],
    [3, 3, 3],
    [2, 0, 8],
  ],
]);
check("permute([1, 2, 0])", pe, [
  [
    [3, 0],
    [7, 1],
    [3, 3],
    [0, 2],
  ],
  [
    [7, 2],
    [3, 1],
    [4, 3],
    [8, 0],
  ],
  [
    [9, 4],
    [6, 4],
    [0, 3],
    [0, 8],
  ],
]);
console.log(data.isContiguous());
check("is_contiguous()", data.isContiguous(), true);
check("view(3, 2)", data.view(3, 2), [
  [10, 20],
  [30, 40],
  [50, 60],
]);
const swapped = torch.transpose(data, 0, 1);
console.log(swapped.isContiguous());
check("transpose is not contiguous", swapped.isContiguous(), false);
let refused = "";
try {
  swapped.view(2, 3);
} catch (e) {
  refused = (e as Error).message;
}
console.log(`view on it: ${refused}`);
check("view refuses a non-contiguous tensor", /contiguous\(\)/.test(refused), true);
check("contiguous().view(2, 3)", swapped.contiguous().view(2, 3), [
  [10, 40, 20],
  [50, 30, 60],
]);

// ------------------------------------------------------------------------------------------------ cat
section("8. Concatenation");
const c1 = torch.tensor([
  [
    [5, 9, 4],
    [8, 3, 3],
  ],
]);
const c2 = torch.tensor([
  [
    [1, 1, 9],
    [2, 8, 9],
  ],
]); // torch.manual_seed(1); torch.randint(0, 10, [1, 2, 3]) twice
const cat0 = torch.cat([c1, c2], 0);
const cat1 = torch.cat([c1, c2], 1);
const cat2 = torch.cat([c1, c2], 2);
console.log("cat0:", cat0, "\ncat1:", cat1, "\ncat2:", cat2);
check("cat dim 0", cat0, [
  [
    [5, 9, 4],
    [8, 3, 3],
  ],
  [
    [1, 1, 9],
    [2, 8, 9],
  ],
]);
check("cat dim 1", cat1, [
  [
    [5, 9, 4],
    [8, 3, 3],
    [1, 1, 9],
    [2, 8, 9],
  ],
]);
check("cat dim 2", cat2, [
  [
    [5, 9, 4, 1, 1, 9],
    [8, 3, 3, 2, 8, 9],
  ],
]);

// ------------------------------------------------------------------------------------------------ broadcasting
section("9. Broadcasting");
const A = torch.ones(3, 2);
const B = torch.tensor([1, 2]);
const C = A.add(B);
console.log(C, C.shape);
check("ones(3, 2) + [1, 2]", C, [
  [2, 3],
  [2, 3],
  [2, 3],
]);
check("column + row", torch.tensor([[1], [2]]).mul(torch.tensor([10, 20, 30])), [
  [10, 20, 30],
  [20, 40, 60],
]);

// ------------------------------------------------------------------------------------------------ summary
if (failures.length) {
  console.error(`\n${failures.length} check(s) failed:`);
  for (const f of failures) console.error(`  ${f}`);
}
const ms = Math.round(performance.now() - started);
console.log(JSON.stringify({ example: "tensor-basics", device: "cpu", checks, passed, ms }));
if (passed !== checks) process.exitCode = 1;
