/**
 * The IDX file format of MNIST and its relatives: a 4-byte magic number (two zero bytes, a type code, the
 * number of dimensions), one big-endian uint32 per dimension, then the elements in row-major order. Files may
 * be gzip-compressed; that is detected from the content (bytes 1f 8b), not the file name.
 */

import { nodeImport } from "./node-import";

/** 0x00000803: unsigned bytes, 3 dimensions (images). */
export const IDX_IMAGES_MAGIC = 0x00000803;
/** 0x00000801: unsigned bytes, 1 dimension (labels). */
export const IDX_LABELS_MAGIC = 0x00000801;

/**
 * A malformed IDX file: the message names the file, the offset or field, what was expected and what was
 * found.
 */
export class IdxFormatError extends Error {
  override name = "IdxFormatError";
}

/** A parsed IDX file: its dimensions and its unsigned bytes. */
export interface IdxArray {
  /** The dimensions from the header, e.g. [60000, 28, 28]. */
  readonly dims: number[];
  /** The elements (a view into the file's bytes). */
  readonly data: Uint8Array;
}

function hex(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, "0")}`;
}

const what = (magic: number) =>
  magic === IDX_IMAGES_MAGIC
    ? "IDX uint8 images, 3 dimensions"
    : magic === IDX_LABELS_MAGIC
      ? "IDX uint8 labels, 1 dimension"
      : "IDX";

/**
 * Parse an uncompressed IDX file of unsigned bytes whose magic number must be `magic`. Every inconsistency is an
 * `IdxFormatError` naming `file`, the byte offset or field, what was expected and what was found.
 */
export function parseIdx(bytes: Uint8Array, file: string, magic: number): IdxArray {
  const ndim = magic & 0xff;
  if (bytes.length < 4) {
    throw new IdxFormatError(
      `${file}: truncated: the file has ${bytes.length} bytes, too few for the 4-byte magic number at offset 0 (expected ${hex(magic)}, ${what(magic)})`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found = view.getUint32(0, false);
  if (found !== magic) {
    const hint =
      found === IDX_IMAGES_MAGIC || found === IDX_LABELS_MAGIC
        ? ` (that is the magic number of ${what(found)}: are the image and label files swapped?)`
        : (found & 0xffff0000) !== 0
          ? " (not an IDX file; if it is compressed, only gzip is understood)"
          : "";
    throw new IdxFormatError(
      `${file}: wrong magic number at offset 0: expected ${hex(magic)} (${what(magic)}), found ${hex(found)}${hint}`,
    );
  }
  const header = 4 + 4 * ndim;
  if (bytes.length < header) {
    throw new IdxFormatError(
      `${file}: truncated header: expected ${ndim} dimension sizes at offsets 4-${header - 1} (${header} header bytes), but the file has ${bytes.length} bytes`,
    );
  }
  const dims: number[] = [];
  for (let d = 0; d < ndim; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = header + count;
  if (bytes.length !== expected) {
    const body = `${count} bytes of data after the ${header}-byte header (dimensions ${dims.join(" x ")})`;
    throw new IdxFormatError(
      bytes.length < expected
        ? `${file}: truncated: expected ${body}, found ${bytes.length - header} (file length ${bytes.length}, expected ${expected})`
        : `${file}: ${bytes.length - expected} unexpected trailing bytes: expected ${body}, file length ${expected}, found ${bytes.length}`,
    );
  }
  return { dims, data: bytes.subarray(header) };
}

/** Is this gzip data (magic bytes 1f 8b)? */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Bytes per element of each IDX type code (byte 2 of the magic number). */
const ELEMENT_BYTES: Readonly<Record<number, number>> = {
  8: 1, // unsigned byte
  9: 1, // signed byte
  11: 2, // short
  12: 4, // int
  13: 4, // float
  14: 8, // double
};

/** What the IDX header at the start of `head` allows, once `head` holds the whole header. */
interface HeaderLimit {
  magic: number;
  dims: number[];
  headerBytes: number;
  /** Header plus data: the whole file's length. */
  totalBytes: number;
}

/**
 * The file length the IDX header at the start of `head` allows; `undefined` while `head` is too short to tell,
 * `null` when it does not start with an IDX magic number.
 */
function headerLimit(head: Uint8Array): HeaderLimit | null | undefined {
  if (head.length < 4) return undefined;
  const size = ELEMENT_BYTES[head[2]];
  if (head[0] !== 0 || head[1] !== 0 || size === undefined) return null;
  const ndim = head[3];
  const headerBytes = 4 + 4 * ndim;
  if (head.length < headerBytes) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const dims: number[] = [];
  for (let d = 0; d < ndim; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const totalBytes = headerBytes + dims.reduce((a, b) => a * b, 1) * size;
  return { magic: view.getUint32(0, false), dims, headerBytes, totalBytes };
}

export interface GunzipOptions {
  /**
   * The magic number the data must have: inflating stops as soon as the first 4 inflated bytes show another one
   * (and `parseIdx`'s wrong-magic error is thrown).
   */
  magic?: number;
  /**
   * Stop with an error once more than this many bytes are inflated, whatever the header says (default: no limit
   * beyond the header's).
   */
  maxBytes?: number;
}

/** Output chunk of the inflater: how far past the allowed size inflating can go before it stops. */
const INFLATE_CHUNK = 64 * 1024;

/**
 * Gunzip when the bytes are gzip data; node:zlib is imported only then. The data is inflated as a stream and the
 * IDX header is read from its first bytes: inflating stops as soon as the output exceeds the length that header
 * allows (magic number, dimensions), so a gzip bomb is rejected after at most one chunk (64 KiB) beyond that
 * length instead of being inflated whole. Data that does not start with an IDX header stops after its first 4
 * bytes.
 */
export async function maybeGunzip(
  bytes: Uint8Array,
  file: string,
  options: GunzipOptions = {},
): Promise<Uint8Array> {
  if (!isGzip(bytes)) return bytes;
  const { createGunzip } = await nodeImport("node:zlib");
  const gunzip = createGunzip({ chunkSize: INFLATE_CHUNK });
  const chunks: Uint8Array[] = [];
  let inflated = 0;
  let limit: HeaderLimit | null | undefined;
  /** The magic number the inflated data starts with, once its first 4 bytes are there. */
  let found: number | undefined;
  const compressed = `${bytes.length} bytes compressed`;
  const stop = (message: string): never => {
    throw new IdxFormatError(`${file}: ${message}`);
  };
  gunzip.end(bytes);
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      inflated += chunk.length;
      if (found === undefined && inflated >= 4) {
        const first = concat(chunks, 4);
        found = new DataView(first.buffer, first.byteOffset, 4).getUint32(0, false);
        // a wrong magic number stops here, with parseIdx's message (and its hint for swapped files)
        if (options.magic !== undefined && found !== options.magic) parseIdx(first, file, options.magic);
      }
      if (limit === undefined) {
        limit = headerLimit(concat(chunks, Math.min(inflated, 4 + 4 * 255)));
        if (limit === null) {
          stop(
            `the gzip data does not inflate to an IDX file: found ${hex(found as number)} at offset 0 (stopped after inflating ${inflated} bytes of ${compressed})`,
          );
        }
      }
      if (limit && inflated > limit.totalBytes) {
        const data = limit.totalBytes - limit.headerBytes;
        stop(
          `the gzip data inflates to more data than the header allows: the header (magic ${hex(limit.magic)}, dimensions ${limit.dims.join(" x ")}) allows ${limit.totalBytes} bytes (${limit.headerBytes}-byte header + ${data} bytes of data), but inflating reached byte offset ${inflated} (stopped there, after reading ${gunzip.bytesWritten} of ${compressed})`,
        );
      }
      if (options.maxBytes !== undefined && inflated > options.maxBytes) {
        stop(
          `the gzip data inflates to more than the limit of ${options.maxBytes} bytes (maxBytes): stopped at byte offset ${inflated}, after reading ${gunzip.bytesWritten} of ${compressed}`,
        );
      }
    }
  } catch (e) {
    if (e instanceof IdxFormatError) throw e;
    throw new IdxFormatError(
      `${file}: corrupt or truncated gzip data (zlib: ${(e as Error).message}), ${compressed}${inflated ? ` (${inflated} bytes inflated)` : ""}`,
    );
  } finally {
    gunzip.destroy();
  }
  return concat(chunks, inflated);
}

/** The first `n` bytes of `chunks`, joined (the one chunk itself when it is long enough). */
function concat(chunks: readonly Uint8Array[], n: number): Uint8Array {
  if (chunks.length > 0 && chunks[0].length >= n)
    return new Uint8Array(chunks[0].buffer, chunks[0].byteOffset, n);
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    if (at >= n) break;
    const take = Math.min(c.length, n - at);
    out.set(c.subarray(0, take), at);
    at += take;
  }
  return out;
}

/** Read an IDX file (raw or gzip) from disk and parse it; gzip data is inflated no further than its header allows. */
export async function readIdxFile(
  path: string,
  magic: number,
  options: Omit<GunzipOptions, "magic"> = {},
): Promise<IdxArray> {
  const { readFile } = await nodeImport("node:fs/promises");
  const raw = await readFile(path);
  const bytes = await maybeGunzip(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength), path, {
    ...options,
    magic,
  });
  return parseIdx(bytes, path, magic);
}

/** Encode an IDX file of unsigned bytes (for tests, fixtures and the shipped sample). */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== data.length)
    throw new RangeError(`encodeIdx: dimensions ${dims.join(" x ")} need ${count} bytes, got ${data.length}`);
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x00000800 | dims.length, false);
  dims.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d, false);
  });
  out.set(data, 4 + 4 * dims.length);
  return out;
}
