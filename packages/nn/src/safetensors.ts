/**
 * Safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N, N bytes of
 * JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}}` (padded with
 * spaces to a multiple of 8), then the tensors' raw little-endian bytes; offsets are relative to the data.
 *
 * Cinder has no int64, float16 or bfloat16: on load I64 (and U32/U64) data becomes int32 with a range check,
 * I8/I16/U16 become int32, F16/BF16 become float32. Every structural problem is an error naming the file,
 * the tensor and its offsets. `node:fs` is imported lazily, so the package still loads in browsers, where the
 * in-memory `serializeSafetensors` / `deserializeSafetensors` work.
 */
import { type DType, Tensor, type TypedArray, tensorFromData } from "@cinder/tensor";

/** A state dict or any name -> tensor mapping. */
export type TensorMap = Map<string, Tensor> | Readonly<Record<string, Tensor>>;

const SAVE_DTYPE: Record<DType, string> = {
  float32: "F32",
  float64: "F64",
  int32: "I32",
  uint8: "U8",
  bool: "BOOL",
};

/** Stored dtype -> bytes per element and the Cinder dtype it loads as. */
const LOAD_DTYPE: Record<string, { size: number; dtype: DType }> = {
  F64: { size: 8, dtype: "float64" },
  F32: { size: 4, dtype: "float32" },
  F16: { size: 2, dtype: "float32" },
  BF16: { size: 2, dtype: "float32" },
  I64: { size: 8, dtype: "int32" },
  I32: { size: 4, dtype: "int32" },
  I16: { size: 2, dtype: "int32" },
  I8: { size: 1, dtype: "int32" },
  U64: { size: 8, dtype: "int32" },
  U32: { size: 4, dtype: "int32" },
  U16: { size: 2, dtype: "int32" },
  U8: { size: 1, dtype: "uint8" },
  BOOL: { size: 1, dtype: "bool" },
};

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** An error in a safetensors file, naming the file and, where known, the tensor. */
export class SafetensorsError extends Error {
  override name = "SafetensorsError";
}

interface Entry {
  name: string;
  data: TypedArray;
  dtype: DType;
  shape: readonly number[];
}

function entriesOf(tensors: TensorMap): [string, Tensor][] {
  const list = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  for (const [k, t] of list) {
    if (!(t instanceof Tensor))
      throw new TypeError(`safetensors: value for ${JSON.stringify(k)} is not a Tensor`);
  }
  return list;
}

function checkMetadata(metadata: Readonly<Record<string, string>> | undefined): void {
  if (!metadata) return;
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== "string")
      throw new TypeError(
        `safetensors: metadata values must be strings, got ${typeof v} for ${JSON.stringify(k)}`,
      );
  }
}

/** Header + data from tensors already read out (row-major, so non-contiguous views are written as contiguous copies). */
function encode(entries: readonly Entry[], metadata?: Readonly<Record<string, string>>): Uint8Array {
  checkMetadata(metadata);
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const e of entries) {
    if (e.name === "__metadata__")
      throw new Error('safetensors: "__metadata__" is reserved and cannot name a tensor');
    const bytes = e.data.byteLength;
    header[e.name] = {
      dtype: SAVE_DTYPE[e.dtype],
      shape: [...e.shape],
      data_offsets: [offset, offset + bytes],
    };
    offset += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const e of entries) {
    const raw = new Uint8Array(e.data.buffer, e.data.byteOffset, e.data.byteLength);
    if (LITTLE_ENDIAN || e.data.BYTES_PER_ELEMENT === 1) out.set(raw, at);
    else writeLE(out, at, e.data);
    at += e.data.byteLength;
  }
  return out;
}

function writeLE(out: Uint8Array, at: number, data: TypedArray): void {
  const dv = new DataView(out.buffer, out.byteOffset + at, data.byteLength);
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float32Array) dv.setFloat32(i * 4, data[i], true);
    else if (data instanceof Float64Array) dv.setFloat64(i * 8, data[i], true);
    else dv.setInt32(i * 4, data[i], true);
  }
}

/** The bytes of a safetensors file holding `tensors` (read synchronously: CPU tensors). */
export function serializeSafetensors(
  tensors: TensorMap,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  return encode(
    entriesOf(tensors).map(([name, t]) => ({ name, data: t.data(), dtype: t.dtype, shape: t.shape })),
    metadata,
  );
}

/** Parse safetensors bytes into tensors (in header order) and the metadata. `source` names the data in errors. */
export function deserializeSafetensorsWithMetadata(
  bytes: Uint8Array,
  source = "<bytes>",
  opts: { device?: string } = {},
): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const fail = (msg: string): never => {
    throw new SafetensorsError(`safetensors: ${source}: ${msg}`);
  };
  if (bytes.length < 8) fail(`file is too short (${bytes.length} bytes) to hold the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8))
    fail(`header length ${n} is beyond the end of the file (${bytes.length} bytes)`);
  const hlen = Number(n);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + hlen)));
  } catch (e) {
    fail(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header))
    fail("the header must be a JSON object");
  const data = bytes.subarray(8 + hlen);
  const metadata: Record<string, string> = {};
  const spans: { name: string; begin: number; end: number }[] = [];
  const tensors = new Map<string, Tensor>();
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof info !== "object" || info === null) fail("__metadata__ must be an object of strings");
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== "string") fail(`__metadata__ value for ${JSON.stringify(k)} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const what = `tensor ${JSON.stringify(name)}`;
    const e = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== "object" || e === null)
      fail(`${what}: entry must be an object with dtype, shape and data_offsets`);
    const kind = LOAD_DTYPE[e.dtype as string];
    if (typeof e.dtype !== "string" || !kind) {
      fail(
        `${what}: unknown dtype ${JSON.stringify(e.dtype)} (supported: ${Object.keys(LOAD_DTYPE).join(", ")})`,
      );
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      fail(`${what}: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || offs.some((o) => !Number.isSafeInteger(o) || o < 0)) {
      fail(`${what}: data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as number[];
    if (begin > end || end > data.length) {
      fail(`${what}: data_offsets [${begin}, ${end}] are out of range of the ${data.length} data bytes`);
    }
    const count = (shape as number[]).reduce((p, d) => p * d, 1);
    if (count * kind.size !== end - begin) {
      fail(
        `${what}: shape [${(shape as number[]).join(", ")}] of ${e.dtype} needs ${count * kind.size} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`,
      );
    }
    spans.push({ name, begin, end });
    const values = decode(data.subarray(begin, end), e.dtype as string, count, (msg) =>
      fail(`${what} (data_offsets [${begin}, ${end}]): ${msg}`),
    );
    tensors.set(name, tensorFromData(values, shape as number[], kind.dtype, opts.device ?? "cpu"));
  }
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < spans.length; i++) {
    const p = spans[i - 1];
    const c = spans[i];
    if (c.begin < p.end && c.end > c.begin) {
      fail(
        `tensors ${JSON.stringify(p.name)} (data_offsets [${p.begin}, ${p.end}]) and ${JSON.stringify(c.name)} (data_offsets [${c.begin}, ${c.end}]) overlap`,
      );
    }
  }
  return { tensors, metadata };
}

/** Parse safetensors bytes into tensors, in header order. */
export function deserializeSafetensors(bytes: Uint8Array, source?: string): Map<string, Tensor> {
  return deserializeSafetensorsWithMetadata(bytes, source).tensors;
}

/** Raw little-endian bytes of one tensor as the TypedArray Cinder stores it in. */
function decode(raw: Uint8Array, dtype: string, count: number, fail: (msg: string) => never): TypedArray {
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const aligned = (
    ctor: Float32ArrayConstructor | Float64ArrayConstructor | Int32ArrayConstructor,
    size: number,
  ) => {
    if (LITTLE_ENDIAN) return new ctor(raw.slice().buffer, 0, count);
    const out = new ctor(count);
    for (let i = 0; i < count; i++) {
      out[i] =
        size === 8
          ? dv.getFloat64(i * 8, true)
          : ctor === Int32Array
            ? dv.getInt32(i * 4, true)
            : dv.getFloat32(i * 4, true);
    }
    return out;
  };
  switch (dtype) {
    case "F64":
      return aligned(Float64Array, 8);
    case "F32":
      return aligned(Float32Array, 4);
    case "I32":
      return aligned(Int32Array, 4);
    case "U8":
      return raw.slice();
    case "BOOL": {
      const out = new Uint8Array(count);
      for (let i = 0; i < count; i++) out[i] = raw[i] ? 1 : 0;
      return out;
    }
    case "F16":
    case "BF16": {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) {
        const h = dv.getUint16(i * 2, true);
        out[i] = dtype === "F16" ? halfToFloat(h) : bf16ToFloat(h);
      }
      return out;
    }
    default: {
      // integer types widened or narrowed to int32, with a range check
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        let v: number | bigint;
        if (dtype === "I64") v = dv.getBigInt64(i * 8, true);
        else if (dtype === "U64") v = dv.getBigUint64(i * 8, true);
        else if (dtype === "U32") v = dv.getUint32(i * 4, true);
        else if (dtype === "I16") v = dv.getInt16(i * 2, true);
        else if (dtype === "U16") v = dv.getUint16(i * 2, true);
        else v = dv.getInt8(i);
        if (v < -2147483648 || v > 2147483647) {
          fail(
            `${dtype} value ${v} at index ${i} is out of the int32 range (Cinder has no 64-bit integers; values must fit int32)`,
          );
        }
        out[i] = Number(v);
      }
      return out;
    }
  }
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

const bfScratch = new DataView(new ArrayBuffer(4));
function bf16ToFloat(h: number): number {
  bfScratch.setUint32(0, h << 16);
  return bfScratch.getFloat32(0);
}

/**
 * Write `tensors` (a state dict, a Map or a record) to `path` atomically: a temporary file in the same directory
 * is written, flushed to disk and renamed over `path`. Metadata is an object of strings.
 */
export async function saveSafetensors(
  path: string,
  tensors: TensorMap,
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  const entries: Entry[] = [];
  for (const [name, t] of entriesOf(tensors))
    entries.push({ name, data: await t.dataAsync(), dtype: t.dtype, shape: t.shape });
  const bytes = encode(entries, metadata);
  const fs = await import("node:fs/promises");
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  let fh: Awaited<ReturnType<typeof fs.open>> | null = null;
  try {
    fh = await fs.open(tmp, "w");
    await fh.writeFile(bytes);
    await fh.sync();
    await fh.close();
    fh = null;
    await fs.rename(tmp, path);
  } catch (e) {
    await fh?.close().catch(() => {});
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw e;
  }
}

/** Read a safetensors file into tensors (in header order). */
export async function loadSafetensors(
  path: string,
  opts: { device?: string } = {},
): Promise<Map<string, Tensor>> {
  return (await loadSafetensorsWithMetadata(path, opts)).tensors;
}

/** Read a safetensors file: its tensors and its `__metadata__`. */
export async function loadSafetensorsWithMetadata(
  path: string,
  opts: { device?: string } = {},
): Promise<{ tensors: Map<string, Tensor>; metadata: Record<string, string> }> {
  const fs = await import("node:fs/promises");
  const buf = await fs.readFile(path);
  return deserializeSafetensorsWithMetadata(
    new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength),
    path,
    opts,
  );
}
