/**
 * The convolution kernels work in NCHW with no layout copies (conv-kernels.ts): the forward writes y from the
 * product, the input gradient reads gy through a transposed view, the weight gradient either sums per-item
 * products (no copy) or lays gy out once. Checked against a direct float64 loop over every (output, tap), with
 * the backend window kernels on and off, and by counting the backend's copies.
 */
import { cpu } from "@cinder/backend-cpu";
import { manualSeed, randn, setFusion, type Tensor } from "@cinder/tensor";
import { afterEach, describe, expect, it, vi } from "vitest";
import { conv1d, conv2d } from "../src/functional/conv";
import { type ConvGeom, weightKernel } from "../src/functional/conv-kernels";
import { grid, setWindowFastPaths } from "../src/functional/windows";
import "@cinder/autograd";
import "./helpers";

afterEach(() => {
  setWindowFastPaths(true);
  vi.restoreAllMocks();
});

interface Case {
  name: string;
  x: number[];
  w: number[];
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  groups: number;
}

const cases: Case[] = [
  // K = 27 <= L = 64: the weight gradient sums per-item products
  {
    name: "3x3 padding 1",
    x: [2, 3, 8, 8],
    w: [4, 3, 3, 3],
    stride: [1, 1],
    padding: [1, 1],
    dilation: [1, 1],
    groups: 1,
  },
  // K = 72 > L = 16: gy is laid out [C_out, N * L] once
  {
    name: "K > L",
    x: [3, 8, 4, 4],
    w: [5, 8, 3, 3],
    stride: [1, 1],
    padding: [1, 1],
    dilation: [1, 1],
    groups: 1,
  },
  {
    name: "stride 2, dilation 2",
    x: [2, 2, 9, 8],
    w: [3, 2, 3, 2],
    stride: [2, 2],
    padding: [2, 1],
    dilation: [2, 2],
    groups: 1,
  },
  {
    name: "groups 2",
    x: [2, 4, 6, 5],
    w: [6, 2, 3, 3],
    stride: [1, 1],
    padding: [1, 1],
    dilation: [1, 1],
    groups: 2,
  },
  // L * K = 147456 elements per item: the input gradient's rows are made and summed one item at a time
  {
    name: "one item per chunk",
    x: [3, 64, 16, 16],
    w: [2, 64, 3, 3],
    stride: [1, 1],
    padding: [1, 1],
    dilation: [1, 1],
    groups: 1,
  },
  // more groups than items: one product per item over the groups
  {
    name: "depthwise",
    x: [1, 4, 5, 5],
    w: [8, 1, 3, 3],
    stride: [1, 1],
    padding: [1, 1],
    dilation: [1, 1],
    groups: 4,
  },
  {
    name: "one item",
    x: [1, 3, 5, 6],
    w: [2, 3, 2, 2],
    stride: [1, 2],
    padding: [0, 1],
    dilation: [1, 1],
    groups: 1,
  },
];

const data = (t: Tensor): number[] => Array.from(t.data() as ArrayLike<number>);

/** y, dL/dx, dL/dW, dL/db of a convolution for upstream gradient gy, by direct loops (float64). */
function reference(c: Case, x: number[], w: number[], b: number[], gy: number[]) {
  const [N, C, H, W] = c.x;
  const [Co, Cg, kh, kw] = c.w;
  const G = c.groups;
  const Mg = Co / G;
  const oh = Math.floor((H + 2 * c.padding[0] - c.dilation[0] * (kh - 1) - 1) / c.stride[0]) + 1;
  const ow = Math.floor((W + 2 * c.padding[1] - c.dilation[1] * (kw - 1) - 1) / c.stride[1]) + 1;
  const y = new Array<number>(N * Co * oh * ow).fill(0);
  const gx = new Array<number>(x.length).fill(0);
  const gw = new Array<number>(w.length).fill(0);
  const gb = new Array<number>(Co).fill(0);
  for (let n = 0; n < N; n++)
    for (let co = 0; co < Co; co++)
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++) {
          const o = ((n * Co + co) * oh + oy) * ow + ox;
          let s = b[co];
          gb[co] += gy[o];
          for (let ci = 0; ci < Cg; ci++)
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const yy = oy * c.stride[0] - c.padding[0] + i * c.dilation[0];
                const xx = ox * c.stride[1] - c.padding[1] + j * c.dilation[1];
                if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
                const xi = ((n * C + Math.floor(co / Mg) * Cg + ci) * H + yy) * W + xx;
                const wi = ((co * Cg + ci) * kh + i) * kw + j;
                s += x[xi] * w[wi];
                gx[xi] += gy[o] * w[wi];
                gw[wi] += gy[o] * x[xi];
              }
          y[o] = s;
        }
  return { y, gx, gw, gb, shape: [N, Co, oh, ow] };
}

function expectNear(got: number[], want: number[], tol: number): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < got.length; i++)
    expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(tol * (1 + Math.abs(want[i])));
}

function run(c: Case, dtype: "float32" | "float64") {
  manualSeed(11);
  const x = randn(c.x, { dtype }).requiresGrad_(true);
  const w = randn(c.w, { dtype }).requiresGrad_(true);
  const b = randn([c.w[0]], { dtype }).requiresGrad_(true);
  const opts = { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups };
  const y = conv2d(x, w, b, opts);
  const gy = randn(y.shape, { dtype });
  return { x, w, b, y, gy, opts };
}

describe("conv2d in NCHW", () => {
  for (const c of cases) {
    for (const fast of [true, false]) {
      it(`${c.name}: output and gradients equal direct loops (window fast paths ${fast ? "on" : "off"})`, () => {
        setWindowFastPaths(fast);
        const { x, w, b, y, gy } = run(c, "float64");
        y.backward(gy);
        const r = reference(c, data(x), data(w), data(b), data(gy));
        expect(y.shape).toEqual(r.shape);
        expectNear(data(y), r.y, 1e-12);
        expectNear(data(x.grad!), r.gx, 1e-12);
        expectNear(data(w.grad!), r.gw, 1e-12);
        expectNear(data(b.grad!), r.gb, 1e-12);
      });
    }

    it(`${c.name}: no permuted copies, forward or backward`, () => {
      const { x, w, b, opts } = run(c, "float32");
      const copy = vi.spyOn(cpu, "copy");
      const y = conv2d(x, w, b, opts);
      expect(copy).not.toHaveBeenCalled();
      const gy = randn(y.shape);
      copy.mockClear();
      y.backward(gy);
      const Kg = (c.w[1] * c.w[2] * c.w[3]) as number;
      const L = y.shape[2] * y.shape[3];
      const layOut = Kg > L && c.x[0] > 1;
      // the only copy: gy laid out [C_out, N, L] for the weight gradient, when that is smaller than per-item products
      expect(copy).toHaveBeenCalledTimes(layOut ? 1 : 0);
      if (layOut) expect(copy.mock.calls[0][1].shape).toEqual([c.w[0], c.x[0], L]);
    });
  }

  it("the input gradient sums its rows chunk by chunk with the backend's col2im", () => {
    const { x, w, y } = run(cases.find((c) => c.name === "one item per chunk") as Case, "float32");
    const col2im = vi.spyOn(cpu, "col2im");
    y.backward(randn(y.shape));
    expect(col2im).toHaveBeenCalledTimes(3);
    expect(col2im.mock.calls.map((c) => c[2].offset - (x.grad as Tensor).offset)).toEqual([0, 16384, 32768]);
    expect(w.grad).not.toBeNull();
  });

  it("a chunk of the input gradient holds several items when their rows are small (MNIST conv2: 4)", () => {
    // 16 x 16 positions x 144 taps = 36864 elements per item: 7 items per 2^18-element chunk
    const c: Case = { ...cases[0], name: "7 items per chunk", x: [9, 16, 16, 16], w: [2, 16, 3, 3] };
    const { x, y } = run(c, "float32");
    const col2im = vi.spyOn(cpu, "col2im");
    y.backward(randn(y.shape));
    expect(col2im.mock.calls.map((call) => call[0].shape[0])).toEqual([7, 2]);
    expect(col2im.mock.calls.map((call) => call[2].offset - (x.grad as Tensor).offset)).toEqual([
      0,
      7 * 4096,
    ]);
  });

  it("the bias joins the next elementwise op's fused program (in place when ops do not fuse)", () => {
    const { x, w, b, opts } = run(cases[0], "float32");
    const binary = vi.spyOn(cpu, "binary");
    const fused = vi.spyOn(cpu, "elementwise");
    const lazy = data(conv2d(x, w, b, opts).relu());
    expect(binary).not.toHaveBeenCalled();
    expect(fused).toHaveBeenCalledTimes(1);
    const was = setFusion(false);
    try {
      const eager = data(conv2d(x, w, b, opts).relu());
      expect(binary).toHaveBeenCalledTimes(1);
      expect(lazy).toEqual(eager);
    } finally {
      setFusion(was);
    }
  });

  it("conv1d also runs without copies", () => {
    manualSeed(3);
    const x = randn([2, 3, 40]).requiresGrad_(true);
    const w = randn([4, 3, 3]).requiresGrad_(true);
    const copy = vi.spyOn(cpu, "copy");
    conv1d(x, w, null, { padding: 1, stride: 2 }).sum().backward();
    expect(copy).not.toHaveBeenCalled();
  });

  it("the forward product writes y directly: a shared (stride-0) weight times each item's rows, transposed", () => {
    const { x, w, opts } = run(cases[0], "float32");
    const matmul = vi.spyOn(cpu, "matmul");
    const y = conv2d(x.detach(), w.detach(), null, opts);
    expect(matmul).toHaveBeenCalledTimes(1);
    const [a, rows, out] = matmul.mock.calls[0];
    expect(a.strides[0]).toBe(0);
    expect(rows.strides.slice(1)).toEqual([1, 27]);
    expect(out.handle).toBe(y.storage.handle);
    expect(out.shape).toEqual([2, 4, 64]);
  });

  it("both weight-gradient strategies agree (per-item products summed, and gy laid out once)", () => {
    for (const c of cases) {
      for (const dtype of ["float32", "float64"] as const) {
        const { x, w, y, opts } = run(c, dtype);
        const gy = randn(y.shape, { dtype });
        const [N, C, H, W] = c.x;
        const geo: ConvGeom = {
          spatial: 2,
          cin: C,
          cout: c.w[0],
          groups: c.groups,
          grid: grid(C, [H, W], c.w.slice(2), opts.stride, opts.padding, opts.dilation, y.shape.slice(2)),
        };
        const byItem = weightKernel(geo, x.detach(), gy, null, true);
        const laidOut = weightKernel(geo, x.detach(), gy, null, false);
        expect(byItem.shape).toEqual(w.shape);
        expect(N).toBeGreaterThan(0);
        expectNear(data(byItem), data(laidOut), dtype === "float32" ? 1e-5 : 1e-12);
      }
    }
  });
});
