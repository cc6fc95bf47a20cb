/** Small IDX fixtures written to a temporary folder. */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { encodeIdx } from "../src/idx";

/** Pixel p of image i; label i % 10. */
export const pixel = (i: number, p: number) => (i * 7 + p) % 256;

export function images(count: number, rows = 28, cols = 28): Uint8Array {
  const px = rows * cols;
  const out = new Uint8Array(count * px);
  for (let i = 0; i < count; i++) for (let p = 0; p < px; p++) out[i * px + p] = pixel(i, p);
  return out;
}

export function labels(count: number): Uint8Array {
  return Uint8Array.from({ length: count }, (_, i) => i % 10);
}

export function imagesIdx(count: number, rows = 28, cols = 28): Uint8Array {
  return encodeIdx([count, rows, cols], images(count, rows, cols));
}
export function labelsIdx(count: number): Uint8Array {
  return encodeIdx([count], labels(count));
}

export function tempDir(prefix = "cinder-mnist-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface SplitFiles {
  images?: Uint8Array;
  labels?: Uint8Array;
}

/**
 * Write a split's two files: torchvision layout (<root>/<folder>/raw/) or flat (<root>/), gzipped or raw.
 * Returns the folder written to.
 */
export function writeSplit(
  root: string,
  opts: {
    split?: "train" | "t10k";
    folder?: string;
    flat?: boolean;
    gzip?: boolean;
    count?: number;
  } & SplitFiles = {},
): string {
  const { split = "train", folder = "MNIST", flat = false, gzip = true, count = 30 } = opts;
  const dir = flat ? root : join(root, folder, "raw");
  mkdirSync(dir, { recursive: true });
  const ext = gzip ? ".gz" : "";
  const enc = (b: Uint8Array) => (gzip ? gzipSync(b) : b);
  writeFileSync(join(dir, `${split}-images-idx3-ubyte${ext}`), enc(opts.images ?? imagesIdx(count)));
  writeFileSync(join(dir, `${split}-labels-idx1-ubyte${ext}`), enc(opts.labels ?? labelsIdx(count)));
  return dir;
}
