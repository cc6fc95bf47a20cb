/**
 * `repr(tensor)` as PyTorch 1.13 prints it (torch/_tensor_str.py is the spec; names below follow it).
 *
 * Cinder deviates in one place only: its default integer dtype is int32 (WebGPU has no 64-bit integers), so
 * int32 takes the place of PyTorch's int64: no `dtype=` suffix for int32 (nor float32 and bool), while
 * float64 and uint8 print `dtype=torch.float64` / `dtype=torch.uint8`. Empty tensors, like PyTorch's, print
 * every dtype but float32 (`tensor([], dtype=torch.int32)`, where PyTorch says `torch.int64`).
 * Non-CPU tensors get `device='webgpu'` (PyTorch: `device='cuda:0'`); a tensor that cannot be read
 * synchronously prints a short placeholder instead of throwing.
 */
import { isComplex } from "./dtype";
import { isHalf, valuesOf } from "./half";
import type { Tensor } from "./tensor";

export interface PrintOptions {
  /** Digits after the decimal point (default 4). */
  precision: number;
  /** Element count above which the output is summarized with `...` (default 1000). */
  threshold: number;
  /** Items shown at each end of a summarized dimension (default 3). */
  edgeitems: number;
  /** Characters per line for wrapping (default 80). */
  linewidth: number;
  /** Force (true) or forbid (false) scientific notation; undefined chooses automatically. */
  sciMode: boolean | undefined;
}

const PROFILES = {
  default: { precision: 4, threshold: 1000, edgeitems: 3, linewidth: 80 },
  short: { precision: 2, threshold: 1000, edgeitems: 2, linewidth: 80 },
  full: { precision: 4, threshold: Number.POSITIVE_INFINITY, edgeitems: 3, linewidth: 80 },
} as const;

const PRINT_OPTS: PrintOptions = { ...PROFILES.default, sciMode: undefined };

/**
 * torch.set_printoptions. As in PyTorch, `sciMode` is always assigned: a call without it goes back to
 * automatic notation. `profile` ("default" | "short" | "full") is applied first, then the other fields.
 */
export function setPrintOptions(
  options: Partial<PrintOptions> & { profile?: keyof typeof PROFILES } = {},
): void {
  const { profile, sciMode, ...rest } = options;
  if (profile !== undefined) Object.assign(PRINT_OPTS, PROFILES[profile]);
  for (const [k, v] of Object.entries(rest))
    if (v !== undefined && k in PRINT_OPTS) (PRINT_OPTS as any)[k] = v;
  PRINT_OPTS.sciMode = sciMode;
}

/** A copy of the current print options. */
export function getPrintOptions(): PrintOptions {
  return { ...PRINT_OPTS };
}

// ---- exact decimal formatting of doubles, as Python's "{:.Nf}" / "{:.Ne}" (round half to even) ----

const view = new DataView(new ArrayBuffer(8));

/** round_half_even(|x| * 10^k) for finite x, computed exactly. */
function scaledRound(x: number, k: number): bigint {
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const biased = (hi >>> 20) & 0x7ff;
  const frac = (BigInt(hi & 0xfffff) << 32n) | BigInt(view.getUint32(4));
  const m = biased === 0 ? frac : frac | (1n << 52n);
  const e = biased === 0 ? -1074 : biased - 1075;
  const num = m * 10n ** BigInt(Math.max(k, 0)) * 2n ** BigInt(Math.max(e, 0));
  const den = 10n ** BigInt(Math.max(-k, 0)) * 2n ** BigInt(Math.max(-e, 0));
  let q = num / den;
  const r2 = (num % den) * 2n;
  if (r2 > den || (r2 === den && q % 2n === 1n)) q += 1n;
  return q;
}

function nonFinite(x: number): string | undefined {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  return undefined;
}

const sign = (x: number): string => (x < 0 || Object.is(x, -0) ? "-" : "");

/** Python's `"{:.{p}f}".format(x)`. */
export function formatFixed(x: number, p: number): string {
  const special = nonFinite(x);
  if (special !== undefined) return special;
  const digits = scaledRound(x, p)
    .toString()
    .padStart(p + 1, "0");
  const int = digits.slice(0, digits.length - p);
  return sign(x) + (p > 0 ? `${int}.${digits.slice(digits.length - p)}` : int);
}

/** Python's `"{:.{p}e}".format(x)`. */
export function formatSci(x: number, p: number): string {
  const special = nonFinite(x);
  if (special !== undefined) return special;
  let exp = 0;
  let n = 0n;
  if (x !== 0) {
    const lo = 10n ** BigInt(p);
    const hi = lo * 10n;
    exp = Math.floor(Math.log10(Math.abs(x)));
    for (let guard = 0; guard < 4; guard++) {
      n = scaledRound(x, p - exp);
      if (n >= hi) exp++;
      else if (n < lo) exp--;
      else break;
    }
  }
  const digits = n.toString().padStart(p + 1, "0");
  const mantissa = p > 0 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = String(Math.abs(exp)).padStart(2, "0");
  return `${sign(x)}${mantissa}e${exp < 0 ? "-" : "+"}${e}`;
}

// ---- _Formatter ----

interface Formatter {
  floating: boolean;
  intMode: boolean;
  sciMode: boolean;
  maxWidth: number;
  bool: boolean;
}

function makeFormatter(values: readonly number[], floating: boolean, bool: boolean): Formatter {
  const f: Formatter = { floating, intMode: true, sciMode: false, maxWidth: 1, bool };
  const p = PRINT_OPTS.precision;
  if (!floating) {
    for (const v of values) f.maxWidth = Math.max(f.maxWidth, plain(v, bool).length);
    return f;
  }
  const vals = values.filter((v) => Number.isFinite(v) && v !== 0);
  if (vals.length === 0) return f; // no valid number: PyTorch returns before applying sci_mode too
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  for (const v of vals) {
    const a = Math.abs(v);
    if (a < min) min = a;
    if (a > max) max = a;
    if (f.intMode && v !== Math.ceil(v)) f.intMode = false;
  }
  if (max / min > 1000 || max > 1e8 || (!f.intMode && min < 1e-4)) {
    f.sciMode = true;
    for (const v of vals) f.maxWidth = Math.max(f.maxWidth, formatSci(v, p).length);
  } else if (f.intMode) {
    // integers get a trailing "." to show the tensor is floating point: one more column
    for (const v of vals) f.maxWidth = Math.max(f.maxWidth, formatFixed(v, 0).length + 1);
  } else {
    for (const v of vals) f.maxWidth = Math.max(f.maxWidth, formatFixed(v, p).length);
  }
  if (PRINT_OPTS.sciMode !== undefined) f.sciMode = PRINT_OPTS.sciMode;
  return f;
}

function plain(v: number, bool: boolean): string {
  return bool ? (v ? "True" : "False") : String(v);
}

function formatValue(f: Formatter, v: number): string {
  let ret: string;
  if (!f.floating) ret = plain(v, f.bool);
  else if (f.sciMode) ret = formatSci(v, PRINT_OPTS.precision);
  else if (f.intMode) ret = formatFixed(v, 0) + (Number.isFinite(v) ? "." : "");
  else ret = formatFixed(v, PRINT_OPTS.precision);
  return ret.padStart(f.maxWidth);
}

// ---- layout ----

interface Ctx {
  data: ArrayLike<number>;
  /** Complex tensors: the imaginary parts (`data` holds the real parts) and their own formatter, as PyTorch's. */
  imag?: ArrayLike<number>;
  imagFormatter?: Formatter;
  shape: readonly number[];
  strides: number[];
  summarize: boolean;
  formatter: Formatter | null;
}

/** The indices of dimension `d` that are printed; -1 marks the `...`. */
function shownIndices(ctx: Ctx, d: number): number[] {
  const size = ctx.shape[d];
  const edge = PRINT_OPTS.edgeitems;
  if (ctx.summarize && size > 2 * edge) {
    const head = Array.from({ length: edge }, (_, i) => i);
    return [...head, -1, ...head.map((i) => size - edge + i)];
  }
  return Array.from({ length: size }, (_, i) => i);
}

/** get_summarized_data: the elements that will be printed, in order. */
function collect(ctx: Ctx, d: number, offset: number, out: number[]): void {
  if (d === ctx.shape.length) {
    out.push(ctx.data[offset]);
    return;
  }
  for (const i of shownIndices(ctx, d)) if (i >= 0) collect(ctx, d + 1, offset + i * ctx.strides[d], out);
}

/** _tensor_str_with_formatter. */
function tensorStr(ctx: Ctx, d: number, offset: number, indent: number): string {
  const f = ctx.formatter!;
  const dims = ctx.shape.length - d;
  if (dims === 0) return formatElement(ctx, offset);
  const idx = shownIndices(ctx, d);
  if (dims === 1) {
    // _vector_str: element width plus ", " (a complex element: plus the imaginary width and "j"); wrap at linewidth
    const width = f.maxWidth + 2 + (ctx.imagFormatter ? ctx.imagFormatter.maxWidth + 1 : 0);
    const perLine = Math.max(1, Math.floor((PRINT_OPTS.linewidth - indent) / width));
    const items = idx.map((i) => (i < 0 ? " ..." : formatElement(ctx, offset + i * ctx.strides[d])));
    const lines: string[] = [];
    for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(", "));
    return `[${lines.join(`,\n${" ".repeat(indent + 1)}`)}]`;
  }
  const slices = idx.map((i) =>
    i < 0 ? "..." : tensorStr(ctx, d + 1, offset + i * ctx.strides[d], indent + 1),
  );
  return `[${slices.join(`,${"\n".repeat(dims - 1)}${" ".repeat(indent + 1)}`)}]`;
}

/** One element; a complex one as PyTorch's `re+imj` (the imaginary part's padding stripped, its sign kept). */
function formatElement(ctx: Ctx, offset: number): string {
  const re = formatValue(ctx.formatter!, ctx.data[offset]);
  if (!ctx.imag || !ctx.imagFormatter) return re;
  const im = `${formatValue(ctx.imagFormatter, ctx.imag[offset])}j`.trimStart();
  return im[0] === "+" || im[0] === "-" ? re + im : `${re}+${im}`;
}

function pyTuple(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}

/** _add_suffixes: each suffix goes on the last line, or on a new line when it would pass linewidth. */
function addSuffixes(tensorString: string, suffixes: string[], indent: number): string {
  const parts = [tensorString];
  // PyTorch's arithmetic, including its `+ 1` (and `+ 2` when there is no newline, as rfind gives -1)
  let lastLineLen = tensorString.length - tensorString.lastIndexOf("\n") + 1;
  for (const suffix of suffixes) {
    if (lastLineLen + suffix.length + 2 > PRINT_OPTS.linewidth) {
      parts.push(`,\n${" ".repeat(indent)}${suffix}`);
      lastLineLen = indent + suffix.length;
    } else {
      parts.push(`, ${suffix}`);
      lastLineLen += suffix.length + 2;
    }
  }
  return `${parts.join("")})`;
}

/** Defaults that print no `dtype=` suffix: PyTorch's (float32, int64, bool, complex64); int32 prints its dtype. */
const DEFAULT_DTYPES: readonly string[] = ["float32", "int64", "bool", "complex64"];

/** `repr(tensor)` (PyTorch's _str_intern for dense tensors). */
export function formatTensor(t: Tensor): string {
  const prefix = "tensor(";
  const indent = prefix.length;
  const shape = t.shape;
  const n = t.numel();
  const suffixes: string[] = [];
  if (t.device !== "cpu") suffixes.push(`device='${t.device}'`);
  let body: string;
  if (n === 0) {
    // explicitly print the shape if it is not (0,), and the dtype unless it is the default float
    if (shape.length !== 1) suffixes.push(`size=${pyTuple(shape)}`);
    if (t.dtype !== "float32") suffixes.push(`dtype=torch.${t.dtype}`);
    body = "[]";
  } else {
    if (!DEFAULT_DTYPES.includes(t.dtype)) suffixes.push(`dtype=torch.${t.dtype}`);
    let data: ArrayLike<number> | undefined;
    let error = "";
    try {
      data = valuesOf(t.dtype, t.data());
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    const shapeStr = `[${shape.join(", ")}]`;
    if (data === undefined) {
      body =
        t.device !== "cpu"
          ? `<shape ${shapeStr} on ${t.device}: use await t.toArrayAsync() to read>`
          : `<shape ${shapeStr}: unreadable: ${error}>`;
    } else {
      const strides = new Array<number>(shape.length);
      for (let d = shape.length - 1, s = 1; d >= 0; d--) {
        strides[d] = s;
        s *= shape[d];
      }
      const ctx: Ctx = { data, shape, strides, summarize: n > PRINT_OPTS.threshold, formatter: null };
      if (isComplex(t.dtype)) {
        // interleaved (re, im) words: the parts apart, each with its own formatter (PyTorch's real/imag formatters)
        ctx.data = Array.from({ length: n }, (_, i) => data![2 * i]);
        const imag = Array.from({ length: n }, (_, i) => data![2 * i + 1]);
        const shownImag: number[] = [];
        collect({ ...ctx, data: imag }, 0, 0, shownImag);
        ctx.imag = imag;
        ctx.imagFormatter = makeFormatter(shownImag, true, false);
      }
      const shown: number[] = [];
      collect(ctx, 0, 0, shown);
      const floating =
        t.dtype === "float32" || t.dtype === "float64" || isHalf(t.dtype) || ctx.imag !== undefined;
      ctx.formatter = makeFormatter(shown, floating, t.dtype === "bool");
      body = tensorStr(ctx, 0, 0, indent);
    }
  }
  if (t.gradFn) suffixes.push(`grad_fn=<${t.gradFn.name}>`);
  else if (t.requiresGrad) suffixes.push("requires_grad=True");
  return addSuffixes(prefix + body, suffixes, indent);
}
