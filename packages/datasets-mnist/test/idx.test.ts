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
  maybeGunzip,
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

describe("gzip bombs: inflating stops at the size the IDX header allows", () => {
  /** gzip of a valid 10-image IDX file (7,856 bytes) followed by `mb` MiB of zeros, as further gzip members. */
  function bomb(mb: number, head = imagesIdx(10)): Buffer {
    const zeros = gzipSync(Buffer.alloc(1 << 20)); // ~1 KB that inflates to 1 MiB
    return Buffer.concat([gzipSync(head), ...Array.from({ length: mb }, () => zeros)]);
  }
  /** The inflated byte offset at which the error says inflating stopped. */
  const stoppedAt = (message: string) => Number(/reached byte offset (\d+)/.exec(message)?.[1]);

  it("a 1 MB bomb of 1 GiB whose header says 10 images stops within one chunk of 7,856 bytes", async () => {
    const dir = tempDir();
    const file = join(dir, "train-images-idx3-ubyte.gz");
    const gz = bomb(1024);
    expect(gz.length).toBeLessThan(1.2e6);
    writeFileSync(file, gz);
    const rss = process.memoryUsage().rss;
    const err = await readIdxFile(file, IDX_IMAGES_MAGIC).catch((e) => e);
    expect(err).toBeInstanceOf(IdxFormatError);
    expect(err.message).toMatch(
      /train-images-idx3-ubyte\.gz: the gzip data inflates to more data than the header allows: the header \(magic 0x00000803, dimensions 10 x 28 x 28\) allows 7856 bytes \(16-byte header \+ 7840 bytes of data\), but inflating reached byte offset \d+ \(stopped there, after reading \d+ of \d+ bytes compressed\)/,
    );
    // stopped after at most one 64 KiB output chunk past the allowed size, not after 1 GiB
    expect(stoppedAt(err.message)).toBeGreaterThan(7856);
    expect(stoppedAt(err.message)).toBeLessThanOrEqual(7856 + 64 * 1024);
    // and memory did not grow by anything like the inflated size (it grew by ~2 GB before)
    expect(process.memoryUsage().rss - rss).toBeLessThan(256 * 2 ** 20);
  });

  it("a single gzip member: 10-image header followed by 50 MB of zeros", async () => {
    const raw = new Uint8Array(7856 + 50e6);
    raw.set(imagesIdx(10));
    const gz = gzipSync(raw);
    const err = await maybeGunzip(gz, "one-member.gz", { magic: IDX_IMAGES_MAGIC }).catch((e) => e);
    expect(err).toBeInstanceOf(IdxFormatError);
    expect(err.message).toMatch(
      /^one-member\.gz: the gzip data inflates to more data than the header allows/,
    );
    expect(err.message).toContain(`of ${gz.length} bytes compressed`);
    expect(stoppedAt(err.message)).toBeLessThanOrEqual(7856 + 64 * 1024);
  });

  it("labels: a header of 10 labels allows 18 bytes", async () => {
    const err = await maybeGunzip(bomb(8, labelsIdx(10)), "lab.gz").catch((e) => e);
    expect(err.message).toMatch(
      /lab\.gz: .*more data than the header allows: the header \(magic 0x00000801, dimensions 10\) allows 18 bytes \(8-byte header \+ 10 bytes of data\)/,
    );
    expect(stoppedAt(err.message)).toBeLessThanOrEqual(18 + 64 * 1024);
  });

  it("the file's own size is still exact: a valid gzip file inflates whole, with or without magic", async () => {
    const full = imagesIdx(200); // 156,816 bytes: several output chunks
    const same = (a: Uint8Array, b: Uint8Array) => a.constructor === Uint8Array && Buffer.from(a).equals(b);
    expect(same(await maybeGunzip(gzipSync(full), "ok.gz", { magic: IDX_IMAGES_MAGIC }), full)).toBe(true);
    expect(same(await maybeGunzip(gzipSync(full), "ok.gz"), full)).toBe(true);
    expect(same(await maybeGunzip(gzipSync(labelsIdx(3)), "l.gz"), labelsIdx(3))).toBe(true);
    // several gzip members, the header split between them
    const raw = new Uint8Array(7856);
    raw.set(imagesIdx(10));
    const parts = Buffer.concat([
      gzipSync(raw.subarray(0, 6)),
      gzipSync(raw.subarray(6, 13)),
      gzipSync(raw.subarray(13)),
    ]);
    expect(same(await maybeGunzip(parts, "split.gz", { magic: IDX_IMAGES_MAGIC }), raw)).toBe(true);
  });

  it("a wrong magic number stops inflating at once, with parseIdx's message", async () => {
    const err = await maybeGunzip(bomb(64, labelsIdx(10)), "swapped.gz", { magic: IDX_IMAGES_MAGIC }).catch(
      (e) => e,
    );
    expect(err.message).toMatch(/swapped\.gz: wrong magic number at offset 0: .*swapped\?/);
    const html = gzipSync(Buffer.concat([Buffer.from("<html>"), Buffer.alloc(8e6)]));
    await expect(maybeGunzip(html, "page.gz")).rejects.toThrow(
      /page\.gz: the gzip data does not inflate to an IDX file: found 0x3c68746d at offset 0 \(stopped after inflating \d+ bytes of \d+ bytes compressed\)/,
    );
  });

  it("maxBytes caps inflating whatever the header says", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "big.gz"), gzipSync(imagesIdx(200)));
    await expect(readIdxFile(join(dir, "big.gz"), IDX_IMAGES_MAGIC, { maxBytes: 1000 })).rejects.toThrow(
      /big\.gz: the gzip data inflates to more than the limit of 1000 bytes \(maxBytes\): stopped at byte offset 65536/,
    );
  });

  it("MNIST.create rejects a bomb in place of the training images", async () => {
    const root = tempDir();
    const dir = writeSplit(root, { count: 10 });
    writeFileSync(join(dir, "train-images-idx3-ubyte.gz"), bomb(256));
    await expect(MNIST.create({ root })).rejects.toThrow(
      /train-images-idx3-ubyte\.gz: the gzip data inflates to more data than the header allows/,
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
