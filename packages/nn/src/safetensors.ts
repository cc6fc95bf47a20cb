/**
 * Safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N, N bytes of
 * JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}}` (padded with
 * spaces to a multiple of 8), then the tensors' raw little-endian bytes; offsets are relative to the data.
 *
 * I64 loads as int64 (exact within ±(2^53 - 1), the range Cinder stores int64 in; a value past it is an error naming
 * the tensor and the byte) and int64 saves as I64; U32/U64 data becomes int32 with a range check, U16 int32; F16 and
 * BF16 load as float16 and bfloat16 (their bits, saved back unchanged); I8 and I16 load as int8 and int16. Every structural problem is an error naming the file,
 * the tensor and its offsets, and ending with the byte of the file where it is. What the format forbids is refused:
 * a header over 100,000,000 bytes, a key given twice, tensors whose data_offsets do not cover the data section
 * exactly (a hole, bytes before the first or after the last tensor, an overlap). `node:fs` is imported lazily, so the package still loads in browsers, where the
 * in-memory `serializeSafetensors` / `deserializeSafetensors` work.
 *
 * The functions take their arguments in the order of Python's `safetensors.torch` (`save_file(tensors, filename,
 * metadata)`, `save(tensors, metadata)`, `load_file(filename, device)`); a call with the path first is a TypeError
 * that gives the order. `torch.save` / `torch.load` (save.ts) write and read this format.
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
  int8: "I8",
  int16: "I16",
  int64: "I64",
  float16: "F16",
  bfloat16: "BF16",
  // safetensors has no complex128 and PyTorch 1.13 writes no complex safetensors: refused in encode()
  complex64: "",
  complex128: "",
};

/** Stored dtype -> bytes per element and the Cinder dtype it loads as. */
const LOAD_DTYPE: Record<string, { size: number; dtype: DType }> = {
  F64: { size: 8, dtype: "float64" },
  F32: { size: 4, dtype: "float32" },
  F16: { size: 2, dtype: "float16" },
  BF16: { size: 2, dtype: "bfloat16" },
  I64: { size: 8, dtype: "int64" },
  I32: { size: 4, dtype: "int32" },
  I16: { size: 2, dtype: "int16" },
  I8: { size: 1, dtype: "int8" },
  U64: { size: 8, dtype: "int32" },
  U32: { size: 4, dtype: "int32" },
  U16: { size: 2, dtype: "int32" },
  U8: { size: 1, dtype: "uint8" },
  BOOL: { size: 1, dtype: "bool" },
};

/** The safetensors format's cap on the header length (the reference implementation's MAX_HEADER_SIZE). */
const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** An error in a safetensors file, naming the file and, where known, the tensor. */
export class SafetensorsError extends Error {
  override name = "SafetensorsError";
}

export interface Entry {
  name: string;
  data: TypedArray;
  dtype: DType;
  shape: readonly number[];
}

/** How a call to `fn` is written, with Python's counterpart: `saveSafetensors(tensors, path, metadata?)`. */
export const PYTHON_FORM: Record<string, string> = {
  saveSafetensors:
    "saveSafetensors(tensors, path, metadata?), as Python's safetensors.torch.save_file(tensors, filename, metadata)",
  serializeSafetensors:
    "serializeSafetensors(tensors, metadata?), as Python's safetensors.torch.save(tensors, metadata)",
};

/** A kind of value as messages name it ("string \"m.safetensors\"", "Map", "object"). */
export function kindOf(v: unknown): string {
  if (typeof v === "string") return `string ${JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v)}`;
  if (v === null) return "null";
  if (typeof v !== "object") return typeof v;
  if (v instanceof Map) return "Map";
  const name = (v as object).constructor?.name;
  return name && name !== "Object" ? name : "object";
}

/**
 * The (name, tensor) pairs of a tensor map, or a TypeError naming the call's argument order when `tensors` is not
 * one (a path given first, the order of `saveSafetensors` before it followed Python's).
 */
export function entriesOf(tensors: TensorMap, fn = "serializeSafetensors"): [string, Tensor][] {
  const isMap = tensors instanceof Map;
  if (
    !isMap &&
    (typeof tensors !== "object" || tensors === null || Array.isArray(tensors) || tensors instanceof Tensor)
  ) {
    const swapped = typeof tensors === "string" ? " (a path? the tensors come first, then the path)" : "";
    throw new TypeError(
      `${fn}: the first argument must be the tensors (a Map or an object of name -> Tensor), got ${kindOf(tensors)}${swapped}; the order is ${PYTHON_FORM[fn] ?? fn}`,
    );
  }
  const list = isMap ? [...tensors.entries()] : Object.entries(tensors);
  for (const [k, t] of list) {
    if (!(t instanceof Tensor))
      throw new TypeError(`safetensors: value for ${JSON.stringify(k)} is not a Tensor`);
  }
  return list;
}

function checkMetadata(metadata: Readonly<Record<string, string>> | undefined): void {
  if (metadata === undefined || metadata === null) return;
  if (typeof metadata !== "object" || Array.isArray(metadata) || metadata instanceof Map)
    throw new TypeError(`safetensors: metadata must be an object of strings, got ${kindOf(metadata)}`);
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== "string")
      throw new TypeError(
        `safetensors: metadata values must be strings, got ${typeof v} for ${JSON.stringify(k)}`,
      );
  }
}

/** Header + data from tensors already read out (row-major, so non-contiguous views are written as contiguous copies). */
export function encode(
  entries: readonly Entry[],
  metadata?: Readonly<Record<string, string>>,
): Uint8Array<ArrayBuffer> {
  checkMetadata(metadata);
  // the header's text is built entry by entry: a JS object would put integer-like names ("10", "2") first
  const fields: string[] = [];
  if (metadata && Object.keys(metadata).length) fields.push(`"__metadata__":${JSON.stringify(metadata)}`);
  let offset = 0;
  for (const e of entries) {
    if (e.name === "__metadata__")
      throw new Error('safetensors: "__metadata__" is reserved and cannot name a tensor');
    if (SAVE_DTYPE[e.dtype] === "")
      throw new TypeError(
        `safetensors: cannot save ${JSON.stringify(e.name)}: ${e.dtype} tensors are not supported`,
      );
    const bytes = e.data.byteLength;
    const entry = { dtype: SAVE_DTYPE[e.dtype], shape: [...e.shape], data_offsets: [offset, offset + bytes] };
    fields.push(`${JSON.stringify(e.name)}:${JSON.stringify(entry)}`);
    offset += bytes;
  }
  let json = new TextEncoder().encode(`{${fields.join(",")}}`);
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
    // int64 is stored as exact doubles: written as the two's-complement words of its values
    const data = e.dtype === "int64" ? BigInt64Array.from(e.data as Float64Array, (v) => BigInt(v)) : e.data;
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (LITTLE_ENDIAN || data.BYTES_PER_ELEMENT === 1) out.set(raw, at);
    else writeLE(out, at, data);
    at += e.data.byteLength;
  }
  return out;
}

function writeLE(out: Uint8Array, at: number, data: TypedArray | BigInt64Array): void {
  const dv = new DataView(out.buffer, out.byteOffset + at, data.byteLength);
  for (let i = 0; i < data.length; i++) {
    if (data instanceof BigInt64Array) dv.setBigInt64(i * 8, data[i], true);
    else if (data instanceof Float32Array) dv.setFloat32(i * 4, data[i], true);
    else if (data instanceof Float64Array) dv.setFloat64(i * 8, data[i], true);
    else if (data instanceof Int16Array) dv.setInt16(i * 2, data[i], true);
    else if (data instanceof Uint16Array)
      dv.setUint16(i * 2, data[i], true); // float16/bfloat16
    else dv.setInt32(i * 4, data[i], true);
  }
}

/**
 * The bytes of a safetensors file holding `tensors` (read synchronously: CPU tensors), as Python's
 * `safetensors.torch.save(tensors, metadata)`.
 */
export function serializeSafetensors(
  tensors: TensorMap,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array<ArrayBuffer> {
  return encode(
    entriesOf(tensors).map(([name, t]) => ({ name, data: t.data(), dtype: t.dtype, shape: t.shape })),
    metadata,
  );
}

/**
 * The keys of a header that `JSON.parse` accepted, walked over its bytes: the top-level keys in file order with
 * the byte of the file each starts at (JSON.parse loses both: it orders integer-like keys first and keeps the last
 * of a repeated key), and the number of keys in the whole header. With `findRepeat`, every object's keys are kept
 * and a key repeated in any object is an error (slower: only run once the count says there is one).
 */
function headerKeys(
  h: Uint8Array,
  base: number,
  fail: (msg: string, at: number) => never,
  findRepeat = false,
): { top: { name: string; at: number }[]; count: number } {
  const top: { name: string; at: number }[] = [];
  // one entry per open object (its keys, when looking for a repeat, and the key holding it) or array (null)
  const stack: ({ keys: Map<string, number> | null; owner: string } | null)[] = [];
  let expectKey = false;
  let lastKey = "";
  let count = 0;
  const utf8 = new TextDecoder();
  // a key without escapes: ASCII (the usual case) without a TextDecoder call
  const plain = (from: number, to: number): string => {
    let ascii = "";
    for (let j = from; j < to; j++) {
      if (h[j] >= 0x80) return utf8.decode(h.subarray(from, to));
      ascii += String.fromCharCode(h[j]);
    }
    return ascii;
  };
  for (let i = 0; i < h.length; i++) {
    const c = h[i];
    if (c === 0x22) {
      const start = i;
      let escaped = false;
      for (i++; h[i] !== 0x22; i++) {
        if (h[i] === 0x5c) {
          escaped = true;
          i++;
        }
      }
      const obj = stack[stack.length - 1];
      if (!expectKey || !obj) continue;
      expectKey = false;
      count++;
      if (stack.length > 1 && !findRepeat) continue;
      const key: string = escaped ? JSON.parse(utf8.decode(h.subarray(start, i + 1))) : plain(start + 1, i);
      if (stack.length === 1) top.push({ name: key, at: base + start });
      lastKey = key;
      if (!obj.keys) continue;
      const first = obj.keys.get(key);
      if (first !== undefined) {
        const inside = obj.owner ? ` inside ${JSON.stringify(obj.owner)}` : "";
        fail(
          `the header repeats the key ${JSON.stringify(key)}${inside} (first at byte ${base + first}); keys must be unique`,
          base + start,
        );
      }
      obj.keys.set(key, start);
    } else if (c === 0x7b) {
      const parent = stack[stack.length - 1];
      stack.push({ keys: findRepeat ? new Map() : null, owner: parent ? lastKey : "" });
      expectKey = true;
    } else if (c === 0x5b) {
      stack.push(null);
      expectKey = false;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c) expectKey = stack[stack.length - 1] != null;
  }
  return { top, count };
}

/** The number of keys of every object in a parsed JSON value (a repeated key counts once). */
function countKeys(v: unknown): number {
  if (typeof v !== "object" || v === null) return 0;
  let n = 0;
  if (Array.isArray(v)) for (const x of v) n += countKeys(x);
  else {
    for (const k in v) {
      if (!Object.hasOwn(v, k)) continue;
      n += 1 + countKeys((v as Record<string, unknown>)[k]);
    }
  }
  return n;
}

/** Whether bytes start as PyTorch's checkpoints do: a zip archive (torch.save since 1.6) or a bare pickle (older). */
function isPickle(bytes: Uint8Array): boolean {
  const zip = bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
  return zip || (bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5);
}

/** Parse safetensors bytes into tensors (in header order) and the metadata. `source` names the data in errors. */
export function deserializeSafetensorsWithMetadata(
  bytes: Uint8Array,
  source = "<bytes>",
  opts: { device?: string } = {},
): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const fail = (msg: string, at: number): never => {
    throw new SafetensorsError(`safetensors: ${source}: ${msg} (at byte ${at} of the file)`);
  };
  // a Node Buffer's slice() is a view, not a copy (and small Buffers share a pool): read it as a plain Uint8Array
  if (bytes.constructor !== Uint8Array)
    bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8) fail(`file is too short (${bytes.length} bytes) to hold the 8-byte header length`, 0);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getBigUint64(0, true);
  if (n > BigInt(Math.min(SAFETENSORS_MAX_HEADER_BYTES, bytes.length - 8)) && isPickle(bytes)) {
    fail(
      "this is a PyTorch pickle checkpoint (Python's torch.save writes a zip archive of pickles), not safetensors; " +
        "Cinder never reads pickle: in Python, save with safetensors.torch.save_file(model.state_dict(), 'model.safetensors')",
      0,
    );
  }
  if (n > BigInt(SAFETENSORS_MAX_HEADER_BYTES))
    fail(`header length ${n} exceeds the safetensors format's limit of 100,000,000 bytes (100 MB)`, 0);
  if (n > BigInt(bytes.length - 8))
    fail(`header length ${n} is beyond the end of the file (${bytes.length} bytes)`, 0);
  const hlen = Number(n);
  const headerBytes = bytes.subarray(8, 8 + hlen);
  let header: unknown;
  let text = "";
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(headerBytes);
  } catch (e) {
    fail(`the header is not valid UTF-8 (${(e as Error).message})`, 8);
  }
  try {
    header = JSON.parse(text);
  } catch (e) {
    // V8 names the position in UTF-16 code units, when it names one
    const pos = /at position (\d+)/.exec((e as Error).message);
    const at = pos ? 8 + new TextEncoder().encode(text.slice(0, Number(pos[1]))).length : 8;
    fail(`the header is not valid JSON (${(e as Error).message})`, at);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header))
    fail("the header must be a JSON object", 8);
  const { top: keys, count } = headerKeys(headerBytes, 8, fail);
  if (count !== countKeys(header)) {
    headerKeys(headerBytes, 8, fail, true);
    fail(`the header repeats a key (${count} keys, ${countKeys(header)} distinct); keys must be unique`, 8);
  }
  const dataStart = 8 + hlen;
  const data = bytes.subarray(dataStart);
  const metadata: Record<string, string> = {};
  const spans: { name: string; begin: number; end: number; dtype: string; shape: number[]; at: number }[] =
    [];
  for (const { name, at } of keys) {
    const info = (header as Record<string, unknown>)[name];
    if (name === "__metadata__") {
      if (typeof info !== "object" || info === null || Array.isArray(info))
        fail("__metadata__ must be an object of strings", at);
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== "string") fail(`__metadata__ value for ${JSON.stringify(k)} is not a string`, at);
        Object.defineProperty(metadata, k, {
          value: v,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      continue;
    }
    const what = `tensor ${JSON.stringify(name)}`;
    const e = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== "object" || e === null)
      fail(`${what}: entry must be an object with dtype, shape and data_offsets`, at);
    const kind = LOAD_DTYPE[e.dtype as string];
    if (typeof e.dtype !== "string" || !Object.hasOwn(LOAD_DTYPE, e.dtype) || !kind) {
      fail(
        `${what}: unknown dtype ${JSON.stringify(e.dtype)} (supported: ${Object.keys(LOAD_DTYPE).join(", ")})`,
        at,
      );
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      fail(`${what}: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`, at);
    }
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || offs.some((o) => !Number.isSafeInteger(o) || o < 0)) {
      fail(
        `${what}: data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(offs)}`,
        at,
      );
    }
    const [begin, end] = offs as number[];
    if (begin > end || end > data.length) {
      fail(`${what}: data_offsets [${begin}, ${end}] are out of range of the ${data.length} data bytes`, at);
    }
    const count = (shape as number[]).reduce((p, d) => p * d, 1);
    if (count * kind.size !== end - begin) {
      fail(
        `${what}: shape [${(shape as number[]).join(", ")}] of ${e.dtype} needs ${count * kind.size} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`,
        at,
      );
    }
    spans.push({ name, begin, end, dtype: e.dtype as string, shape: shape as number[], at });
  }
  // the format: the tensors' data_offsets, in order, cover the data section exactly (no hole, no overlap)
  const sorted = [...spans].sort((a, b) => a.begin - b.begin || a.end - b.end);
  const label = (x: { name: string; begin: number; end: number }) =>
    `${JSON.stringify(x.name)} (data_offsets [${x.begin}, ${x.end}])`;
  const hole = (from: number, to: number, why: string): never =>
    fail(
      `data bytes [${from}, ${to}) belong to no tensor: ${why}; the format requires the tensors to cover the data contiguously`,
      dataStart + from,
    );
  let covered = 0;
  for (let i = 0; i < sorted.length; i++) {
    const c = sorted[i];
    if (c.begin < covered) {
      fail(`tensors ${label(sorted[i - 1])} and ${label(c)} overlap`, dataStart + c.begin);
    }
    if (c.begin > covered) {
      hole(
        covered,
        c.begin,
        i === 0
          ? `the first tensor, ${label(c)}, begins at ${c.begin}`
          : `${label(sorted[i - 1])} ends at ${covered} but the next, ${label(c)}, begins at ${c.begin}`,
      );
    }
    covered = c.end;
  }
  if (covered < data.length) {
    hole(
      covered,
      data.length,
      sorted.length
        ? `the last tensor, ${label(sorted[sorted.length - 1])}, ends at ${covered} but the data section holds ${data.length} bytes`
        : `the header lists no tensors but the data section holds ${data.length} bytes`,
    );
  }
  const tensors = new Map<string, Tensor>();
  for (const { name, begin, end, dtype, shape } of spans) {
    const count = shape.reduce((p, d) => p * d, 1);
    const values = decode(data.subarray(begin, end), dtype, count, (msg, index) =>
      fail(
        `tensor ${JSON.stringify(name)} (data_offsets [${begin}, ${end}]): ${msg}`,
        dataStart + begin + index * LOAD_DTYPE[dtype].size,
      ),
    );
    tensors.set(name, tensorFromData(values, shape, LOAD_DTYPE[dtype].dtype, opts.device ?? "cpu"));
  }
  return { tensors, metadata };
}

/** Parse safetensors bytes into tensors, in header order. */
export function deserializeSafetensors(bytes: Uint8Array, source?: string): Map<string, Tensor> {
  return deserializeSafetensorsWithMetadata(bytes, source).tensors;
}

/** Raw little-endian bytes of one tensor as the TypedArray Cinder stores it in. */
function decode(
  raw: Uint8Array,
  dtype: string,
  count: number,
  fail: (msg: string, index: number) => never,
): TypedArray {
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
    case "I8":
      return new Int8Array(raw.slice().buffer, 0, count);
    case "I16": {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getInt16(i * 2, true);
      return out;
    }
    case "BOOL": {
      const out = new Uint8Array(count);
      for (let i = 0; i < count; i++) out[i] = raw[i] ? 1 : 0;
      return out;
    }
    case "F16":
    case "BF16": {
      // float16/bfloat16 storage is the bits: loaded as they are, so a save writes the same bytes back
      const out = new Uint16Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getUint16(i * 2, true);
      return out;
    }
    case "I64": {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) {
        const v = dv.getBigInt64(i * 8, true);
        if (v > 9007199254740991n || v < -9007199254740991n) {
          fail(
            `I64 value ${v} at index ${i} is outside the int64 range Cinder stores exactly (±(2^53 - 1))`,
            i,
          );
        }
        out[i] = Number(v);
      }
      return out;
    }
    default: {
      // the unsigned integer types widened or narrowed to int32, with a range check
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        let v: number | bigint;
        if (dtype === "U64") v = dv.getBigUint64(i * 8, true);
        else if (dtype === "U32") v = dv.getUint32(i * 4, true);
        else v = dv.getUint16(i * 2, true); // U16
        if (v < -2147483648 || v > 2147483647) {
          fail(
            `${dtype} value ${v} at index ${i} is out of the int32 range (Cinder loads unsigned integers as int32)`,
            i,
          );
        }
        out[i] = Number(v);
      }
      return out;
    }
  }
}
