/**
 * The IDX file format of MNIST and its relatives: a 4-byte magic number (two zero bytes, a type code, the
 * number of dimensions), one big-endian uint32 per dimension, then the elements in row-major order. Files may
 * be gzip-compressed; that is detected from the content (bytes 1f 8b), not the file name.
 */

/** 0x00000803: unsigned bytes, 3 dimensions (images). */
export const IDX_IMAGES_MAGIC = 0x00000803;
/** 0x00000801: unsigned bytes, 1 dimension (labels). */
export const IDX_LABELS_MAGIC = 0x00000801;

export class IdxFormatError extends Error {
  override name = "IdxFormatError";
}

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

/** Gunzip when the bytes are gzip data; node:zlib is imported only then. */
export async function maybeGunzip(bytes: Uint8Array, file: string): Promise<Uint8Array> {
  if (!isGzip(bytes)) return bytes;
  const { gunzip } = await import("node:zlib");
  try {
    const out = await new Promise<Buffer>((resolve, reject) =>
      gunzip(bytes, (err, res) => (err ? reject(err) : resolve(res))),
    );
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    throw new IdxFormatError(
      `${file}: corrupt or truncated gzip data (zlib: ${(e as Error).message}), ${bytes.length} bytes compressed`,
    );
  }
}

/** Read an IDX file (raw or gzip) from disk and parse it. */
export async function readIdxFile(path: string, magic: number): Promise<IdxArray> {
  const { readFile } = await import("node:fs/promises");
  const raw = await readFile(path);
  const bytes = await maybeGunzip(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength), path);
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
