import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { cpu } from "@cinder/backend-cpu";
import { registerBackend } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import {
  encodeIdx,
  FashionMNIST,
  IDX_IMAGES_MAGIC,
  IDX_LABELS_MAGIC,
  IdxFormatError,
  KMNIST,
  MNIST,
  parseIdx,
  readIdxFile,
} from "../src/index";
import { images, imagesIdx, labels, labelsIdx, pixel, tempDir, writeSplit } from "./fixtures";

registerBackend(cpu);

describe("parseIdx", () => {
  it("reads dimensions and data of images and labels", () => {
    const img = parseIdx(imagesIdx(3), "img", IDX_IMAGES_MAGIC);
    expect(img.dims).toEqual([3, 28, 28]);
    expect(img.data).toEqual(images(3));
    const lab = parseIdx(labelsIdx(12), "lab", IDX_LABELS_MAGIC);
    expect(lab.dims).toEqual([12]);
    expect(Array.from(lab.data)).toEqual(Array.from(labels(12)));
  });

  it("rejects a wrong magic number, naming file, offset, expected and found", () => {
    expect(() => parseIdx(labelsIdx(3), "f.idx", IDX_IMAGES_MAGIC)).toThrow(
      /f\.idx: wrong magic number at offset 0: expected 0x00000803 .* found 0x00000801 .*swapped/,
    );
    const junk = new TextEncoder().encode("<html>not found</html>");
    expect(() => parseIdx(junk, "page", IDX_LABELS_MAGIC)).toThrow(
      /page: wrong magic number at offset 0: .*not an IDX file/,
    );
    expect(() => parseIdx(junk, "page", IDX_LABELS_MAGIC)).toThrow(IdxFormatError);
  });

  it("rejects files too short for the magic number or the header", () => {
    expect(() => parseIdx(new Uint8Array([0, 0]), "tiny", IDX_LABELS_MAGIC)).toThrow(
      /tiny: truncated: the file has 2 bytes, too few for the 4-byte magic number/,
    );
    expect(() => parseIdx(imagesIdx(1).subarray(0, 10), "h", IDX_IMAGES_MAGIC)).toThrow(
      /h: truncated header: expected 3 dimension sizes at offsets 4-15 .* the file has 10 bytes/,
    );
  });

  it("rejects truncated data and trailing bytes with expected vs found lengths", () => {
    const full = imagesIdx(2);
    expect(() => parseIdx(full.subarray(0, full.length - 5), "cut", IDX_IMAGES_MAGIC)).toThrow(
      /cut: truncated: expected 1568 bytes of data after the 16-byte header \(dimensions 2 x 28 x 28\), found 1563/,
    );
    const long = new Uint8Array(full.length + 3);
    long.set(full);
    expect(() => parseIdx(long, "long", IDX_IMAGES_MAGIC)).toThrow(
      /long: 3 unexpected trailing bytes: .* file length 1584, found 1587/,
    );
  });

  it("reads gzip and raw files alike, detected by content", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "a.gz"), gzipSync(labelsIdx(5)));
    writeFileSync(join(dir, "b"), labelsIdx(5));
    writeFileSync(join(dir, "c-no-gz-suffix"), gzipSync(labelsIdx(5)));
    for (const f of ["a.gz", "b", "c-no-gz-suffix"]) {
      expect(Array.from((await readIdxFile(join(dir, f), IDX_LABELS_MAGIC)).data)).toEqual([0, 1, 2, 3, 4]);
    }
  });

  it("reports corrupt and truncated gzip data with the file name", async () => {
    const dir = tempDir();
    const gz = gzipSync(imagesIdx(4));
    writeFileSync(join(dir, "cut.gz"), gz.subarray(0, gz.length >> 1));
    await expect(readIdxFile(join(dir, "cut.gz"), IDX_IMAGES_MAGIC)).rejects.toThrow(
      /cut\.gz: corrupt or truncated gzip data \(zlib: unexpected end of file\)/,
    );
    const bad = Buffer.from(gz);
    bad[bad.length - 6] ^= 0xff; // inside the CRC32 of the trailer
    writeFileSync(join(dir, "crc.gz"), bad);
    await expect(readIdxFile(join(dir, "crc.gz"), IDX_IMAGES_MAGIC)).rejects.toThrow(
      /crc\.gz: corrupt or truncated gzip data/,
    );
  });
});

describe("loading MNIST-family files", () => {
  it("reads torchvision's layout, gzip or raw", async () => {
    for (const gzip of [true, false]) {
      const root = tempDir();
      writeSplit(root, { gzip, count: 25 });
      const ds = await MNIST.create({ root });
      expect(ds.length).toBe(25);
      const [img, label] = ds.getItem(13);
      expect(img.shape).toEqual([28, 28]);
      expect(img.dtype).toBe("uint8");
      expect(img.data()[100]).toBe(pixel(13, 100));
      expect(label).toBe(3);
      expect(ds.source).toMatch(/^MNIST train split: 25 images from .*MNIST\/raw\/train-images-idx3-ubyte/);
    }
  });

  it("reads the flat layout and the test split, and each class its own folder", async () => {
    const root = tempDir();
    writeSplit(root, { flat: true, split: "t10k", count: 7 });
    const test = await FashionMNIST.create({ root, train: false });
    expect(test.length).toBe(7);
    expect(test.train).toBe(false);
    expect(test.classes[9]).toBe("Ankle boot");
    const k = tempDir();
    writeSplit(k, { folder: "KMNIST", count: 4 });
    expect((await KMNIST.create({ root: k })).length).toBe(4);
    await expect(MNIST.create({ root: k })).rejects.toThrow(
      /MNIST: dataset not found\. Looked for:\n.*MNIST\/raw\/train-images-idx3-ubyte/,
    );
  });

  it("rejects an image/label count mismatch naming both files", async () => {
    const root = tempDir();
    writeSplit(root, { images: imagesIdx(10), labels: labelsIdx(9) });
    await expect(MNIST.create({ root })).rejects.toThrow(
      /image and label counts differ: .*train-images-idx3-ubyte\.gz has 10 images \(offset 4\) but .*train-labels-idx1-ubyte\.gz has 9 labels/,
    );
  });

  it("rejects swapped files, wrong image sizes and labels out of range", async () => {
    const swapped = tempDir();
    writeSplit(swapped, { images: labelsIdx(3), labels: imagesIdx(3) });
    await expect(MNIST.create({ root: swapped })).rejects.toThrow(
      /train-images-idx3-ubyte\.gz: wrong magic number at offset 0/,
    );
    const small = tempDir();
    writeSplit(small, { images: imagesIdx(3, 14, 14), labels: labelsIdx(3) });
    await expect(MNIST.create({ root: small })).rejects.toThrow(/expected 28 x 28, found 14 x 14/);
    const badLabel = tempDir();
    writeSplit(badLabel, { images: imagesIdx(3), labels: encodeIdx([3], new Uint8Array([1, 12, 3])) });
    await expect(MNIST.create({ root: badLabel })).rejects.toThrow(
      /label at offset 9 \(item 1\) is 12, expected a class index 0-9/,
    );
  });

  it("truncated files fail with the file named", async () => {
    const root = tempDir();
    const full = imagesIdx(5);
    writeSplit(root, { images: full.subarray(0, full.length - 100), labels: labelsIdx(5) });
    await expect(MNIST.create({ root })).rejects.toThrow(
      /train-images-idx3-ubyte\.gz: truncated: expected 3920 bytes/,
    );
  });

  it("explains what to pass when neither root nor sample is given", async () => {
    await expect(MNIST.create()).rejects.toThrow(/pass \{ root \}.*or \{ sample: true \}/);
    await expect(FashionMNIST.create({ sample: true })).rejects.toThrow(/no shipped sample of FashionMNIST/);
  });
});
