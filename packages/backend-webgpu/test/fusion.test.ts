/**
 * Lazy fusion on WebGPU (protocol version 2): a chain of elementwise ops is one rendered WGSL program, one dispatch,
 * with its reduction in the same pass; the results have the bits of the ops run one by one (`setFusion(false)`);
 * constants are parameters, so pipelines are cached per program structure; and buffers a pending program captured
 * stay alive until it runs or is dropped, then go back to the pool (WebGPU frees explicitly, not by the collector).
 */
import { cpu } from "@cinder/backend-cpu";
import {
  type Expr,
  fusionStats,
  randn,
  registerBackend,
  registeredDevices,
  setFusion,
  type Tensor,
  tensor,
  zeros,
} from "@cinder/tensor";
import { afterEach, describe, expect, it } from "vitest";
import { runProgram } from "../src/elementwise";
import { webgpuMemory } from "../src/index";
import { withinBindings } from "../src/split";
import { liveAfterGC } from "./helpers";
import { gpu } from "./setup";

if (!registeredDevices().includes("cpu")) registerBackend(cpu);

/** Dispatches, programs (`elementwise` calls) and fused programs run while `fn` runs, and its result's data. */
async function counted(fn: () => Tensor): Promise<{ dispatches: number; programs: number; data: number[] }> {
  await gpu!.sync();
  const m0 = webgpuMemory();
  const y = fn();
  const data = Array.from(await y.dataAsync());
  const m1 = webgpuMemory();
  y.dispose();
  return { dispatches: m1.dispatches - m0.dispatches, programs: m1.programs - m0.programs, data };
}

/** `fn` fused, then unfused: counts of both, and the fused data equal (Object.is per element) to the unfused. */
async function fusedAndNot(fn: () => Tensor) {
  const fused = await counted(fn);
  const was = setFusion(false);
  try {
    const plain = await counted(fn);
    expect(fused.data.length).toBe(plain.data.length);
    fused.data.forEach((v, i) => {
      if (!Object.is(v, plain.data[i])) expect({ i, fused: v }).toEqual({ i, fused: plain.data[i] });
    });
    return { fused, plain };
  } finally {
    setFusion(was);
  }
}

/** Live buffers: deferred frees submitted, and pending programs earlier tests left to the collector dropped. */
const live = async () => {
  await gpu!.sync();
  return liveAfterGC();
};

describe.skipIf(!gpu)("fusion on webgpu", () => {
  afterEach(() => setFusion(true));

  it("x.mul(2).add(1).relu().sum() is one dispatch, with the unfused bits", async () => {
    const x = randn([64, 64], { device: "webgpu" });
    const runs = fusionStats().run;
    const { fused, plain } = await fusedAndNot(() => x.mul(2).add(1).relu().sum());
    expect(fused).toMatchObject({ dispatches: 1, programs: 1 });
    expect(fusionStats().run).toBe(runs + 1);
    // unfused: two constant fills, three ops and the reduction
    expect(plain).toMatchObject({ dispatches: 6, programs: 0 });
    x.dispose();
  });

  it("a chain stored, a reduction over a dim, and a split reduction (its partials: one more dispatch)", async () => {
    const x = randn([96, 80], { device: "webgpu" });
    const y = randn([80], { device: "webgpu" });
    const stored = await fusedAndNot(() => x.sub(y).mul(x).abs().add(0.5));
    expect(stored.fused).toMatchObject({ dispatches: 1, programs: 1 });
    // a transcendental result is computed into its buffer before it is reduced (fusion.ts: COSTLY), so later
    // readers do not evaluate it again: a program and the reduction reading it
    const costly = await fusedAndNot(() => x.mul(y).sigmoid().sum(1));
    expect(costly.fused).toMatchObject({ dispatches: 2, programs: 2 });
    const rows = await fusedAndNot(() => x.mul(y).relu().sum(1));
    expect(rows.fused).toMatchObject({ dispatches: 1, programs: 1 });
    const cols = await fusedAndNot(() => x.sub(y).square().amax(0));
    expect(cols.fused).toMatchObject({ dispatches: 1, programs: 1 });
    const big = randn([1 << 17], { device: "webgpu" });
    const split = await fusedAndNot(() => big.mul(2).add(1).relu().sum());
    expect(split.fused).toMatchObject({ dispatches: 2, programs: 1 });
    for (const t of [x, y, big]) t.dispose();
  });

  it("a program of eight inputs (the core's most) is one dispatch", async () => {
    const xs = Array.from({ length: 8 }, () => randn([40, 30], { device: "webgpu" }));
    const chain = () =>
      xs
        .slice(1)
        .reduce((acc, x, i) => (i % 2 ? acc.mul(x) : acc.sub(x)), xs[0])
        .tanh();
    const { fused } = await fusedAndNot(chain);
    expect(fused).toMatchObject({ dispatches: 1, programs: 1 });
    for (const t of xs) t.dispose();
  });

  it("caches pipelines per program structure, not per constant", async () => {
    const x = randn([256], { device: "webgpu" });
    (await counted(() => x.mul(2).add(1).relu())).data;
    const pipelines = webgpuMemory().pipelines;
    const r = await counted(() => x.mul(-3.5).add(7).relu());
    expect(webgpuMemory().pipelines).toBe(pipelines);
    const xs = await x.dataAsync();
    r.data.forEach((v, i) => {
      expect(v).toBe(Math.fround(Math.max(Math.fround(Math.fround(xs[i] * -3.5) + 7), 0)));
    });
    x.dispose();
  });

  it("runs a version 1 call as the one-node program it is (one pipeline for both)", async () => {
    const a = randn([500], { device: "webgpu" });
    const b = randn([500], { device: "webgpu" });
    const was = setFusion(false);
    const v1 = a.atan2(b); // backend.binary("atan2", ...)
    setFusion(was);
    const pipelines = webgpuMemory().pipelines;
    const out = zeros([500], { device: "webgpu" });
    const leaf = (index: number): Expr => ({ op: "input", index, dtype: "float32" });
    const e: Expr = { op: "binary", fn: "atan2", a: leaf(0), b: leaf(1), dtype: "float32" };
    gpu!.elementwise(e, [a.view_, b.view_], out.view_);
    expect(webgpuMemory().pipelines).toBe(pipelines);
    expect(Array.from(await out.dataAsync())).toEqual(Array.from(await v1.dataAsync()));
    for (const t of [a, b, v1, out]) t.dispose();
  });

  it("keeps a captured buffer until the program runs, then frees it", async () => {
    const before = await live();
    const a = tensor(new Float32Array(1000).fill(1), { device: "webgpu" });
    const y = a.mul(2); // pending: reads a's buffer
    a.dispose();
    expect(await live()).toBe(before + 1); // a's buffer, still read by y's program
    expect((await y.dataAsync())[999]).toBe(2);
    expect(await live()).toBe(before + 1); // y's buffer; a's went back to the pool
    y.dispose();
    expect(await live()).toBe(before);
  });

  it("frees a captured buffer when the pending program is dropped unrun", async () => {
    const before = await live();
    const a = tensor(new Float32Array(1000).fill(1), { device: "webgpu" });
    const y = a.mul(2).add(1);
    a.dispose();
    y.dispose();
    expect(await live()).toBe(before);
  });

  it("copy-on-write: a pending program reads the old values; the old buffer is freed after its last reader", async () => {
    const before = await live();
    const a = tensor(new Float32Array(1000).fill(1), { device: "webgpu" });
    const y = a.mul(2);
    a.add_(1); // a moves to a copy: y still reads the buffer of ones
    const z = y.add(1); // inlines y: one more reader of the old buffer
    expect(await live()).toBe(before + 2); // a's old and new buffers
    expect((await z.dataAsync())[0]).toBe(3);
    expect(await live()).toBe(before + 3); // + z's; y still reads the old one
    y.dispose(); // dropped unrun: the old buffer's last reader
    expect(await live()).toBe(before + 2);
    expect((await a.dataAsync())[0]).toBe(2);
    a.dispose();
    z.dispose();
    expect(await live()).toBe(before);
  });

  it("a program reading more buffers than a dispatch binds runs subtrees first, with the same bits", async () => {
    const xs = Array.from({ length: 6 }, () => randn([300], { device: "webgpu" }));
    const leaf = (i: number): Expr => ({ op: "input", index: i, dtype: "float32" });
    let e = leaf(0);
    for (let i = 1; i < 6; i++)
      e = { op: "binary", fn: i % 2 ? "mul" : "sub", a: e, b: leaf(i), dtype: "float32" };
    e = { op: "unary", fn: "exp", x: e, dtype: "float32" };
    const inputs = xs.map((t) => t.view_);
    const whole = zeros([300], { device: "webgpu" });
    gpu!.elementwise(e, inputs, whole.view_); // SwiftShader binds 12 buffers: one program
    const split = zeros([300], { device: "webgpu" });
    const rt = gpu!.runtime;
    const w = withinBindings(rt, e, inputs, [300], split.view_.handle, 3);
    expect(w.temps.length).toBeGreaterThan(0);
    expect(new Set(w.inputs.map((v) => v.handle)).size).toBeLessThanOrEqual(3);
    runProgram(rt, w.expr, w.inputs, split.view_);
    for (const t of w.temps) rt.free(t);
    const a = await whole.dataAsync();
    const b = await split.dataAsync();
    expect(Array.from(b)).toEqual(Array.from(a));
    for (const t of [...xs, whole, split]) t.dispose();
  });
});
