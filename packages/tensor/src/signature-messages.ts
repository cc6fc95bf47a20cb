/**
 * The text of signatures (`signature.ts`): how error messages describe values and suggest names, how defaults and
 * names print in PyTorch's spelling.
 */

/** A `{...}` literal (or `Object.create(null)`): what a trailing options object is. */
export const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** A value as error messages name it: `Tensor of shape [2] and dtype float32`, `int 3`, `list [1, 2]`. */
export function describeValue(v: unknown, isTensor: (v: unknown) => boolean): string {
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  if (isTensor(v))
    return `Tensor of shape [${(v as { shape: readonly number[] }).shape.join(", ")}] and dtype ${(v as { dtype: string }).dtype}`;
  switch (typeof v) {
    case "number":
      return `${Number.isInteger(v) ? "int" : "float"} ${v}`;
    case "boolean":
      return `bool ${v}`;
    case "string":
      return `str ${JSON.stringify(v)}`;
    case "function":
      return `function ${(v as { name?: string }).name || "(anonymous)"}`;
    case "bigint":
      return `bigint ${v}`;
    case "symbol":
      return "symbol";
  }
  if (Array.isArray(v)) {
    const items = v.slice(0, 6).map((x) => (isTensor(x) ? "Tensor" : describeShort(x)));
    return `list [${items.join(", ")}${v.length > 6 ? ", ..." : ""}]`;
  }
  if (isPlainObject(v)) return `object {${Object.keys(v).slice(0, 6).join(", ")}}`;
  return `${(v as object).constructor?.name ?? "object"}`;
}
function describeShort(x: unknown): string {
  if (typeof x === "string") return JSON.stringify(x);
  if (x !== null && typeof x === "object") return Array.isArray(x) ? "[...]" : "{...}";
  return String(x);
}

/** Closest name by edit distance, for "did you mean". */
export function closest(name: string, names: readonly string[]): string | undefined {
  const camel = camelCase(name);
  if (camel !== name && names.includes(camel)) return camel;
  const lower = name.toLowerCase();
  const same = names.find((n) => n.toLowerCase() === lower);
  if (same) return same;
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const n of names) {
    const d = editDistance(lower, n.toLowerCase());
    if (d < bestD) [best, bestD] = [n, d];
  }
  return best;
}
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** `logSoftmax` -> `log_softmax`, `maxPool2d` -> `max_pool2d`, `nn.functional.crossEntropy` -> `nn.functional.cross_entropy`. */
export function snakeCase(name: string): string {
  return name.replace(
    /[A-Z]/g,
    (c, i: number) => (i > 0 && name[i - 1] !== "." ? "_" : "") + c.toLowerCase(),
  );
}

/** A default as PyTorch's docs write it (`None`, `True`, `"mean"`, `[1, 2]`). */
export function formatDefault(v: unknown): string {
  if (v === undefined) return "<required parameter>";
  if (v === null) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(formatDefault).join(", ")}]`;
  return String(v);
}
