/**
 * MNIST, Fashion-MNIST and KMNIST: 28x28 grayscale images with labels 0-9, in IDX files. Loaded with
 * `await MNIST.create({ root, train, download, transform, targetTransform })` (loading reads files, so it is
 * asynchronous; the constructor takes already-loaded arrays).
 */
import { type BatchOf, checkIntIndex, Dataset, defaultCollate } from "@cinder/data";
import { arg, type Calls, fromTypedArray, k, signature, type Tensor, tensor } from "@cinder/tensor";
import { DEFAULT_DOWNLOAD_TIMEOUT_MS, DownloadError, downloadFile } from "./download";
import { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, IdxFormatError, readIdxFile } from "./idx";
import { nodeImport } from "./node-import";
import type { TransformFn } from "./transforms";

/**
 * Options of `MNIST.create()` (and `FashionMNIST`/`KMNIST`), torchvision's keyword arguments in camelCase.
 */
export interface MNISTOptions<I = Tensor, L = number> {
  /**
   * Where the files are: torchvision's layout `<root>/<Name>/raw/train-images-idx3-ubyte[.gz]` (e.g. root "data"
   * holds data/MNIST/raw/...), or a folder holding the four files directly, such as Debian's
   * `/usr/share/datasets/fashion-mnist`. Downloads go to `<root>/<Name>/raw/`.
   */
  root?: string;
  /** The training split (default) or the test split (`t10k-*` files). */
  train?: boolean;
  /** Download the split's files from the mirrors when they are not found (default false). */
  download?: boolean;
  /** Applied to each image (uint8 [28, 28]); with a batch form (`forwardBatch`) it is applied per batch. */
  transform?: TransformFn<Tensor, I>;
  /** Applied to each label (a number 0-9); with a batch form it gets the int64 [B] labels of a batch. */
  targetTransform?: TransformFn<number, L>;
  /** Base URLs to download from instead of the class's `mirrors`. */
  mirrors?: readonly string[];
  /** MNIST only: the real digits shipped with this package (8,000 train / 2,000 test), no files or network. */
  sample?: boolean;
  /** Download progress lines (default stderr); `false` for silence. */
  log?: ((message: string) => void) | false;
}

/** Already-loaded data for the constructor. */
export interface MNISTInit<I = Tensor, L = number> {
  /** count x rows x cols bytes, row-major. */
  images: Uint8Array;
  /** count bytes. */
  labels: Uint8Array;
  rows?: number;
  cols?: number;
  train?: boolean;
  transform?: TransformFn<Tensor, I>;
  targetTransform?: TransformFn<number, L>;
  /** One line saying which data this is. */
  source?: string;
  root?: string;
}

const transformKind = <X, Y>() =>
  k.test<TransformFn<X, Y>>("a callable (a transform or a function)", (v) => typeof v === "function");

/**
 * torchvision 0.14's positional parameters, `MNIST(root, train=True, transform=None, target_transform=None,
 * download=False)`, typed by the item types. `root` may be left out only with `{ sample: true }`.
 */
function positional<I, L>() {
  return [
    arg.opt("root", k.str),
    arg("train", k.bool, true),
    arg.opt("transform", transformKind<Tensor, I>()),
    arg.opt("targetTransform", transformKind<number, L>()),
    arg("download", k.bool, false),
  ] as const;
}
/** Cinder's own options, keyword-only. */
const keywordOnly = [
  /** MNIST only: the real digits shipped with this package (8,000 train / 2,000 test), no files or network. */
  arg("sample", k.bool, false),
  /** Base URLs to download from instead of the class's `mirrors`. */
  arg.opt(
    "mirrors",
    k.test<readonly string[]>(
      "a list of str",
      (v) => Array.isArray(v) && v.every((x) => typeof x === "string"),
    ),
  ),
  /** Download progress lines (default stderr); `false` for silence. */
  arg.opt(
    "log",
    k.test<((message: string) => void) | false>(
      "a function or false",
      (v) => v === false || typeof v === "function",
    ),
  ),
] as const;

/** Every way to call `MNIST.create(...)`: torchvision's positional order, an options object, or a mix. */
export type MNISTCreateCalls<I = Tensor, L = number> = Calls<
  ReturnType<typeof positional<I, L>>,
  typeof keywordOnly
>;

/** The `create` signature of `datasets.<name>`, torchvision's `torchvision.datasets.<name>`. */
const createSignature = (name: string) =>
  signature(`datasets.${name}`, positional<unknown, unknown>(), keywordOnly, {
    torch: `torchvision.datasets.${name}`,
    forms: ["function"],
  });
const MNIST_SIG = createSignature("MNIST");
const FASHION_MNIST_SIG = createSignature("FashionMNIST");
const KMNIST_SIG = createSignature("KMNIST");
type CreateSignature = typeof MNIST_SIG;

/** The parsed arguments of `create` as the loader's options. */
function optionsOf(sig: CreateSignature, args: readonly unknown[]): MNISTOptions<any, any> {
  const a = sig.parse(args);
  return {
    root: a.root ?? undefined,
    train: a.train,
    download: a.download,
    transform: a.transform ?? undefined,
    targetTransform: a.targetTransform ?? undefined,
    sample: a.sample,
    mirrors: a.mirrors ?? undefined,
    log: a.log ?? undefined,
  };
}

const SAMPLE_DESCRIPTION =
  "MNIST sample: 8,000 train / 2,000 test real digits shipped with @cinder/datasets-mnist";

/** [file name, MD5 of the file as served, size of the file as served in bytes (optional)]. */
export type Resource = readonly [file: string, md5: string, size?: number];

/** The static description a dataset class carries (overridable in subclasses, like torchvision's class attributes). */
interface FamilyClass {
  readonly folder: string;
  readonly mirrors: readonly string[];
  readonly resources: readonly Resource[];
  readonly classes: readonly string[];
  readonly hasSample: boolean;
  readonly offlineHint: string;
  readonly downloadTimeoutMs: number;
  readonly signature: CreateSignature;
  new (init: MNISTInit<any, any>): MNIST<any, any>;
}

function fmtCount(n: number): string {
  return n.toLocaleString("en-US");
}

/**
 * The MNIST handwritten digits. Items are `[image, label]`: by default `image` is a uint8 tensor [28, 28]
 * (torchvision gives a PIL image there, which JavaScript does not have) and `label` a number; with
 * `transforms.ToTensor()` the image is float32 [1, 28, 28] in [0, 1]. `getBatch(indices)` makes a whole batch at
 * once ([B, 1, 28, 28] float32 after ToTensor + Normalize, labels int64 [B] as PyTorch's; `.to("webgpu")` makes
 * them int32, WebGPU's integer type); DataLoader uses it.
 */
export class MNIST<I = Tensor, L = number> extends Dataset<[I, L]> {
  /** Folder under `root` (torchvision uses the class name). */
  static readonly folder: string = "MNIST";
  static readonly mirrors: readonly string[] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
  ];
  /**
   * Each entry is `[file name, MD5 of the file as served, its size in bytes]`: a download is checked against
   * the MD5 and cut off when its body grows past the size (optional in subclasses; without it only the time limit
   * bounds a download).
   */
  static readonly resources: readonly Resource[] = [
    ["train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873", 9912422],
    ["train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432", 28881],
    ["t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3", 1648877],
    ["t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c", 4542],
  ];
  static readonly classes: readonly string[] = [
    "0 - zero",
    "1 - one",
    "2 - two",
    "3 - three",
    "4 - four",
    "5 - five",
    "6 - six",
    "7 - seven",
    "8 - eight",
    "9 - nine",
  ];
  static readonly hasSample: boolean = true;
  static readonly offlineHint: string =
    "Without network access, use MNIST.create({ sample: true }) for the 10,000 real digits shipped with @cinder/datasets-mnist.";
  /**
   * Time limit of each file's download from each mirror, in ms (default 10 minutes); a subclass may set a smaller
   * one, like `mirrors` and `resources`.
   */
  static readonly downloadTimeoutMs: number = DEFAULT_DOWNLOAD_TIMEOUT_MS;

  /** torchvision's `MNIST(root, train=True, transform=None, target_transform=None, download=False)`, for `create`. */
  static readonly signature: CreateSignature = MNIST_SIG;

  /**
   * Load a split, with torchvision's parameters: `await MNIST.create("data", true, transform)`,
   * `await MNIST.create({ root: "data", train: true, download: true, transform })` or a mix; Cinder's own
   * keyword-only options are `sample`, `mirrors` and `log`. A call that does not fit throws at once.
   */
  static create<I = Tensor, L = number>(...args: MNISTCreateCalls<I, L>): Promise<MNIST<I, L>> {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class create() was called on (a subclass too)
    const cls = this as unknown as FamilyClass;
    return loadFamily(cls, optionsOf(cls.signature, args)) as Promise<MNIST<I, L>>;
  }

  readonly length: number;
  readonly rows: number;
  readonly cols: number;
  readonly train: boolean;
  /** One line saying which data this dataset holds and where it came from. */
  readonly source: string;
  readonly root: string | undefined;
  transform: TransformFn<Tensor, I> | undefined;
  targetTransform: TransformFn<number, L> | undefined;
  private readonly images: Uint8Array;
  private readonly labels: Uint8Array;
  private cached: { data?: Tensor; targets?: Tensor } = {};

  constructor(init: MNISTInit<I, L>) {
    super();
    this.rows = init.rows ?? 28;
    this.cols = init.cols ?? 28;
    this.length = init.labels.length;
    const px = this.rows * this.cols;
    if (init.images.length !== this.length * px) {
      throw new RangeError(
        `${this.constructor.name}: ${this.length} labels need ${this.length * px} image bytes (${this.rows} x ${this.cols} each), got ${init.images.length}`,
      );
    }
    this.images = init.images;
    this.labels = init.labels;
    this.train = init.train ?? true;
    this.transform = init.transform;
    this.targetTransform = init.targetTransform;
    this.root = init.root;
    this.source =
      init.source ??
      `${this.constructor.name} ${this.train ? "train" : "test"} split: ${fmtCount(this.length)} images`;
  }

  /** The class names, e.g. "0 - zero" or "T-shirt/top". */
  get classes(): readonly string[] {
    return (this.constructor as unknown as FamilyClass).classes;
  }
  /** Class name to label index, as torchvision's `class_to_idx`. */
  get classToIdx(): Record<string, number> {
    return Object.fromEntries(this.classes.map((c, i) => [c, i]));
  }
  /** All images as one uint8 tensor [N, 28, 28] (sharing the dataset's memory; do not modify it). */
  get data(): Tensor {
    this.cached.data ??= fromTypedArray(this.images, [this.length, this.rows, this.cols]);
    return this.cached.data;
  }
  /** All labels as an int64 tensor [N] (PyTorch's MNIST targets are int64). */
  get targets(): Tensor {
    this.cached.targets ??= tensor(Float64Array.from(this.labels), { dtype: "int64" });
    return this.cached.targets;
  }

  private index(i: number): number {
    checkIntIndex(this.constructor.name, i); // an ArgumentError for anything but an int
    if (i < -this.length || i >= this.length) {
      throw new RangeError(
        `${this.constructor.name}: index ${i} is out of range for a dataset of ${this.length} images`,
      );
    }
    return i < 0 ? i + this.length : i;
  }

  /** `[image, label]`: a fresh uint8 [28, 28] image (or what `transform` makes of it) and the label. */
  getItem(index: number): [I, L] {
    const i = this.index(index);
    const px = this.rows * this.cols;
    const img = fromTypedArray(this.images.slice(i * px, (i + 1) * px), [this.rows, this.cols]);
    const label = this.labels[i];
    return [
      (this.transform ? this.transform(img) : img) as I,
      (this.targetTransform ? this.targetTransform(label) : label) as L,
    ];
  }

  /**
   * The collated batch for `indices` in one go: images gathered into one uint8 [B, 28, 28] tensor, then the
   * transform's batch form (per-image transforms and a stack when it has none); labels int64 [B].
   */
  override getBatch(indices: readonly number[]): BatchOf<[I, L]> {
    const b = indices.length;
    const px = this.rows * this.cols;
    const buf = new Uint8Array(b * px);
    const lab = new Float64Array(b); // int64 storage: exact integers in doubles
    for (let k = 0; k < b; k++) {
      const i = this.index(indices[k]);
      buf.set(this.images.subarray(i * px, (i + 1) * px), k * px);
      lab[k] = this.labels[i];
    }
    const raw = fromTypedArray(buf, [b, this.rows, this.cols]);
    const t = this.transform;
    let images: unknown;
    if (!t) images = raw;
    else if (t.forwardBatch) images = t.forwardBatch(raw);
    else images = defaultCollate(Array.from({ length: b }, (_, k) => t(raw.select(0, k).contiguous())));
    const tt = this.targetTransform;
    const labelsT = tensor(lab, { dtype: "int64" });
    let labels: unknown;
    if (!tt) labels = labelsT;
    else if (tt.forwardBatch) labels = tt.forwardBatch(labelsT);
    else labels = defaultCollate(Array.from(lab, (v) => tt(v)));
    return [images, labels] as BatchOf<[I, L]>;
  }

  override toString(): string {
    const lines = [
      `Dataset ${this.constructor.name}`,
      `    Number of datapoints: ${this.length}`,
      ...(this.root !== undefined ? [`    Root location: ${this.root}`] : []),
      `    Split: ${this.train ? "Train" : "Test"}`,
      `    Source: ${this.source}`,
    ];
    if (this.transform) lines.push(`    Transform: ${String(this.transform).replace(/\n/g, "\n    ")}`);
    if (this.targetTransform)
      lines.push(`    Target transform: ${String(this.targetTransform).replace(/\n/g, "\n    ")}`);
    return lines.join("\n");
  }
}

/** Zalando's Fashion-MNIST: 28x28 grayscale images of 10 kinds of clothing, the same format as MNIST. */
export class FashionMNIST<I = Tensor, L = number> extends MNIST<I, L> {
  static override readonly folder: string = "FashionMNIST";
  static override readonly mirrors: readonly string[] = [
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
  ];
  static override readonly resources: readonly Resource[] = [
    ["train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d", 26421880],
    ["train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe", 29515],
    ["t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79", 4422102],
    ["t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310", 5148],
  ];
  static override readonly classes: readonly string[] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
  ];
  static override readonly hasSample: boolean = false;
  static override readonly offlineHint: string =
    'On Debian or Ubuntu, `apt-get install dataset-fashion-mnist` installs the files: then pass { root: "/usr/share/datasets/fashion-mnist" }.';

  static override readonly signature: CreateSignature = FASHION_MNIST_SIG;
  static override create<I = Tensor, L = number>(
    ...args: MNISTCreateCalls<I, L>
  ): Promise<FashionMNIST<I, L>> {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class create() was called on (a subclass too)
    const cls = this as unknown as FamilyClass;
    return loadFamily(cls, optionsOf(cls.signature, args)) as Promise<FashionMNIST<I, L>>;
  }
}

/** Kuzushiji-MNIST: 28x28 images of 10 cursive Japanese (hiragana) characters, the same format as MNIST. */
export class KMNIST<I = Tensor, L = number> extends MNIST<I, L> {
  static override readonly folder: string = "KMNIST";
  static override readonly mirrors: readonly string[] = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"];
  static override readonly resources: readonly Resource[] = [
    ["train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7", 18165135],
    ["train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344", 29497],
    ["t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7", 3041136],
    ["t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134", 5120],
  ];
  static override readonly classes: readonly string[] = [
    "o",
    "ki",
    "su",
    "tsu",
    "na",
    "ha",
    "ma",
    "ya",
    "re",
    "wo",
  ];
  static override readonly hasSample: boolean = false;
  static override readonly offlineHint: string = "";

  static override readonly signature: CreateSignature = KMNIST_SIG;
  static override create<I = Tensor, L = number>(...args: MNISTCreateCalls<I, L>): Promise<KMNIST<I, L>> {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class create() was called on (a subclass too)
    const cls = this as unknown as FamilyClass;
    return loadFamily(cls, optionsOf(cls.signature, args)) as Promise<KMNIST<I, L>>;
  }
}

/** The folder holding the shipped sample (flat layout). */
async function sampleDir(): Promise<string> {
  const { fileURLToPath } = await nodeImport("node:url");
  // through a variable: bundlers take `new URL("literal", import.meta.url)` for an asset to copy (a folder here)
  const folder = "../data/";
  return fileURLToPath(new URL(folder, import.meta.url));
}

async function exists(path: string): Promise<boolean> {
  const { stat } = await nodeImport("node:fs/promises");
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** The first existing file among torchvision's layout and the flat one, uncompressed before gzip. */
async function findFile(
  root: string,
  folder: string,
  name: string,
): Promise<{ path?: string; tried: string[] }> {
  const { join } = await nodeImport("node:path");
  const tried = [
    join(root, folder, "raw", name),
    join(root, folder, "raw", `${name}.gz`),
    join(root, name),
    join(root, `${name}.gz`),
  ];
  for (const p of tried) if (await exists(p)) return { path: p, tried };
  return { tried };
}

async function loadFamily(cls: FamilyClass, options: MNISTOptions<any, any>): Promise<MNIST<any, any>> {
  const name = cls.name;
  const train = options.train ?? true;
  const split = train ? "train" : "t10k";
  const imagesName = `${split}-images-idx3-ubyte`;
  const labelsName = `${split}-labels-idx1-ubyte`;
  let root: string;
  if (options.sample) {
    if (!cls.hasSample)
      throw new TypeError(
        `${name}: there is no shipped sample of ${name}; only MNIST has one ({ sample: true })`,
      );
    root = await sampleDir();
  } else {
    if (options.root === undefined) {
      throw new TypeError(
        `${name}: pass { root } (a folder holding ${cls.folder}/raw/${imagesName}.gz and the others, or where to download them)${cls.hasSample ? ", or { sample: true } for the digits shipped with @cinder/datasets-mnist" : ""}`,
      );
    }
    root = options.root;
  }
  let images = await findFile(root, cls.folder, imagesName);
  let labels = await findFile(root, cls.folder, labelsName);
  if ((!images.path || !labels.path) && options.download && !options.sample) {
    const { join } = await nodeImport("node:path");
    const dir = join(root, cls.folder, "raw");
    const mirrors = options.mirrors ?? cls.mirrors;
    for (const [file, md5, size] of cls.resources.filter(([f]) => f.startsWith(`${split}-`))) {
      const base = file.replace(/\.gz$/, "");
      if ((base === imagesName && images.path) || (base === labelsName && labels.path)) continue;
      try {
        await downloadFile({
          mirrors,
          filename: file,
          md5,
          size,
          dir,
          log: options.log,
          timeoutMs: cls.downloadTimeoutMs,
        });
      } catch (e) {
        if (!(e instanceof DownloadError)) throw e;
        const files = cls.resources.map(([f]) => f).join(", ");
        const how = `${name}: to use it offline, put ${files} (any copy: gzip or not) into ${dir}, or pass { root } pointing at a folder holding them.${cls.offlineHint ? ` ${cls.offlineHint}` : ""}`;
        throw new DownloadError(`${name}: ${e.message}\n${how}`, e.attempts);
      }
    }
    images = await findFile(root, cls.folder, imagesName);
    labels = await findFile(root, cls.folder, labelsName);
  }
  if (!images.path || !labels.path) {
    const missing = [!images.path ? images : undefined, !labels.path ? labels : undefined].filter(
      (m) => m !== undefined,
    );
    throw new Error(
      `${name}: dataset not found. Looked for:\n${missing.flatMap((m) => m.tried.map((t) => `  ${t}`)).join("\n")}\n` +
        `Pass { download: true } to download it${cls.offlineHint ? `, or: ${cls.offlineHint}` : "."}`,
    );
  }
  // both read at once; when both fail, the images' error is the one reported (whichever finished first)
  const [imgRead, labRead] = await Promise.allSettled([
    readIdxFile(images.path, IDX_IMAGES_MAGIC),
    readIdxFile(labels.path, IDX_LABELS_MAGIC),
  ]);
  if (imgRead.status === "rejected") throw imgRead.reason;
  if (labRead.status === "rejected") throw labRead.reason;
  const [img, lab] = [imgRead.value, labRead.value];
  const [count, rows, cols] = img.dims;
  if (rows !== 28 || cols !== 28) {
    throw new IdxFormatError(
      `${images.path}: image dimensions at offsets 8-15: expected 28 x 28, found ${rows} x ${cols}`,
    );
  }
  if (lab.dims[0] !== count) {
    throw new IdxFormatError(
      `${name}: image and label counts differ: ${images.path} has ${count} images (offset 4) but ${labels.path} has ${lab.dims[0]} labels (offset 4)`,
    );
  }
  const nClasses = cls.classes.length;
  for (let i = 0; i < lab.data.length; i++) {
    if (lab.data[i] >= nClasses) {
      throw new IdxFormatError(
        `${labels.path}: label at offset ${8 + i} (item ${i}) is ${lab.data[i]}, expected a class index 0-${nClasses - 1}`,
      );
    }
  }
  const source = options.sample
    ? `${SAMPLE_DESCRIPTION}; this is the ${train ? "train" : "test"} split (${fmtCount(count)} images)`
    : `${name} ${train ? "train" : "test"} split: ${fmtCount(count)} images from ${images.path}`;
  return new cls({
    images: img.data,
    labels: lab.data,
    rows,
    cols,
    train,
    transform: options.transform,
    targetTransform: options.targetTransform,
    source,
    root: options.sample ? undefined : root,
  });
}
