/**
 * Every declared signature against PyTorch 1.13's own (tests/fixtures/pytorch-signatures.json, written by
 * scripts/fixtures/signatures.py from PyTorch's .pyi stubs and inspect.signature): the positional parameters are
 * PyTorch's, by name and order, for one of its overloads; keyword-only ones exist in PyTorch; defaults agree.
 */
import { readFileSync } from "node:fs";
import { type AnyParam, type SignatureInfo, signatures, snakeCase } from "@cinder/tensor";
import { describe, expect, it } from "vitest";
import "./support/every-package";

interface PyParam {
  name: string;
  kwOnly: boolean;
  default?: string;
  varargs?: boolean;
}
const fixture = JSON.parse(
  readFileSync(new URL("../fixtures/pytorch-signatures.json", import.meta.url), "utf8"),
) as {
  signatures: Record<string, PyParam[][]>;
};
const torchSigs = fixture.signatures;

/** Defaults that differ from PyTorch on purpose, with the reason. */
const DEFAULT_DIFFERENCES: Record<string, string> = {};

/** PyTorch's few capitalised parameter names (CosineAnnealingLR's `T_max`) compare in lower case: camelCase cannot keep a leading capital. */
for (const overloads of Object.values(torchSigs))
  for (const o of overloads) for (const p of o) p.name = p.name.toLowerCase();

/** Callables PyTorch's fixture cannot hold, with the reason; their signatures were checked by hand. */
const TORCHVISION = "torchvision is not installed: signatures from its docs";
const NOT_IN_FIXTURE: Record<string, string> = {
  "torchvision.datasets.MNIST": TORCHVISION,
  "torchvision.datasets.FashionMNIST": TORCHVISION,
  "torchvision.datasets.KMNIST": TORCHVISION,
  "torchvision.transforms.ToTensor": TORCHVISION,
  "torchvision.transforms.Normalize": TORCHVISION,
  "torchvision.transforms.Compose": TORCHVISION,
  "torchvision.transforms.Lambda": TORCHVISION,
  "torch.best_device":
    "Cinder's own (PyTorch writes `'cuda' if torch.cuda.is_available() else 'cpu'`): no arguments",
  "onnx.load": "the onnx package's onnx.load(f), not torch's: f is a path or the bytes",
  "torch.cpu.device_count": "PyTorch 2.1's (not in 1.13): no arguments",
  "torch.nn.functional.scaled_dot_product_attention":
    "PyTorch 2.0's (1.13 has none): (query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False), checked by hand",
};

const GENERATOR = "the generator to draw from (PyTorch 2 adds this parameter)";
/** Cinder's own keyword-only options (`<torch name>.<option>`), with what they do. */
const CINDER_KEYWORDS: Record<string, string> = {
  "torch.utils.data.DataLoader.prefetch": "batches async iteration prepares ahead (there are no workers)",
  "torch.nn.init.uniform_.generator": GENERATOR,
  "torch.nn.init.normal_.generator": GENERATOR,
  "torch.nn.init.xavier_uniform_.generator": GENERATOR,
  "torch.nn.init.xavier_normal_.generator": GENERATOR,
  "torch.nn.init.kaiming_uniform_.generator": GENERATOR,
  "torch.nn.init.kaiming_normal_.generator": GENERATOR,
  "torch.nn.init.trunc_normal_.generator": GENERATOR,
};

/** PyTorch's default (a Python repr) as the JS value Cinder declares, or undefined when it cannot be compared. */
function pyDefault(repr: string): unknown {
  if (repr === "None") return null;
  if (repr === "True") return true;
  if (repr === "False") return false;
  if (repr === "..." || repr.startsWith("<") || repr.includes("torch.")) return undefined;
  if (/^'.*'$/.test(repr) || /^".*"$/.test(repr)) return repr.slice(1, -1);
  if (repr === "()" || repr === "[]") return [];
  if (/^[([].*[)\]]$/.test(repr)) {
    const inner = repr
      .slice(1, -1)
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const vals = inner.map(pyDefault);
    return vals.some((v) => v === undefined) ? undefined : vals;
  }
  if (repr === "inf" || repr === "math.inf") return Number.POSITIVE_INFINITY;
  const n = Number(repr);
  return Number.isNaN(n) ? undefined : n;
}

function keyOf(s: SignatureInfo, form: "function" | "method"): string {
  if (form === "method") return `torch.Tensor.${snakeCase(s.name)}`;
  return s.torchName;
}

function compare(s: SignatureInfo, form: "function" | "method"): string[] {
  const key = keyOf(s, form);
  const overloads = torchSigs[key];
  if (!overloads) return NOT_IN_FIXTURE[key] ? [] : [`${key}: PyTorch 1.13 has no such callable`];
  const ours = form === "method" ? s.positional.slice(1) : s.positional;
  const ourPos = ours.map((p) => snakeCase(p.name));
  const match = overloads.find((o) => {
    const theirs = o.filter((p) => !p.kwOnly).map((p) => p.name);
    return theirs.length === ourPos.length && theirs.every((n, i) => n === ourPos[i]);
  });
  if (!match) {
    return [
      `${key}: positional (${ourPos.join(", ")}) is none of PyTorch's: ${overloads
        .map(
          (o) =>
            `(${o
              .filter((p) => !p.kwOnly)
              .map((p) => p.name)
              .join(", ")})`,
        )
        .join(" ")}`,
    ];
  }
  const problems: string[] = [];
  const allTheirs = new Map<string, PyParam>();
  for (const o of overloads) for (const p of o) if (!allTheirs.has(p.name)) allTheirs.set(p.name, p);
  for (const p of s.keyword) {
    const n = snakeCase(p.name);
    if (!allTheirs.has(n) && !CINDER_KEYWORDS[`${key}.${p.name}`])
      problems.push(`${key}: keyword "${p.name}" is not PyTorch's`);
  }
  const check = (p: AnyParam, theirs: PyParam | undefined) => {
    if (!theirs) return;
    const n = snakeCase(p.name);
    if (!p.optional && theirs.default !== undefined && !p.varargs) {
      problems.push(`${key}: "${p.name}" is required, PyTorch's defaults to ${theirs.default}`);
    }
    if (!p.optional || theirs.default === undefined) return;
    const want = pyDefault(theirs.default);
    if (want === undefined) return;
    if (DEFAULT_DIFFERENCES[`${key}.${n}`]) return;
    if (JSON.stringify(p.default) !== JSON.stringify(want)) {
      problems.push(
        `${key}: default of "${p.name}" is ${JSON.stringify(p.default)}, PyTorch's is ${theirs.default}`,
      );
    }
  };
  for (const p of ours)
    check(
      p,
      match.find((q) => q.name === snakeCase(p.name)),
    );
  for (const p of s.keyword)
    check(p, match.find((q) => q.name === snakeCase(p.name)) ?? allTheirs.get(snakeCase(p.name)));
  return problems;
}

describe("declared signatures are PyTorch 1.13's", () => {
  const all = signatures();
  it("many are declared", () => {
    expect(all.length).toBeGreaterThan(20);
  });
  for (const s of all) {
    for (const form of s.forms) {
      it(`${form === "method" ? "Tensor." : ""}${s.name}: ${String(s)}`, () => {
        expect(compare(s, form).join("\n")).toBe("");
      });
    }
  }
});
