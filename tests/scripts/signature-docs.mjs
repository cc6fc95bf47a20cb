import { formatDefault } from "@cinder/tensor";

// Renders docs/signatures.md from the declared signatures (`signatures()` of @cinder/tensor after every package
// is imported): one section per namespace, each callable with PyTorch's name and its parameters. The committed
// file is checked against this rendering by tests/test/signature-docs.test.ts, so the docs cannot drift.

const SECTIONS = [
  ["Tensor functions (`torch.f(input, ...)`)", (s, f) => f === "function" && !s.name.includes(".")],
  ["Tensor methods (`x.f(...)`)", (_s, f) => f === "method"],
  ["`linalg`", (s) => s.name.startsWith("linalg.")],
  ["`nn.functional`", (s) => s.name.startsWith("nn.functional.")],
  [
    "`nn` modules and `nn.Module` methods",
    (s) => s.name.startsWith("nn.") && !s.name.startsWith("nn.functional."),
  ],
  ["`optim` and `optim.lrScheduler`", (s) => s.name.startsWith("optim.")],
  ["`utils.data`", (s) => s.name.startsWith("utils.")],
  ["`autograd`", (s) => s.name.startsWith("autograd.")],
  ["`distributed`", (s) => s.name.startsWith("distributed.")],
  ["`jit` and `onnx`", (s) => s.name.startsWith("jit.") || s.name.startsWith("onnx.")],
  ["Datasets and transforms (torchvision's)", (s) => s.torchName.startsWith("torchvision.")],
];

function params(list) {
  return list.map(
    (p) =>
      `\`${p.varargs ? "..." : ""}${p.name}\`: ${p.kind.name}${p.optional ? ` = ${formatDefault(p.default)}` : ""}`,
  );
}

/** The markdown for a list of signatures. */
export function renderSignatureDocs(sigs) {
  const out = [
    "# Call signatures",
    "",
    "Generated from the signatures declared next to each op (`pnpm docs:signatures`); do not edit by hand.",
    "",
    "Write a call as in PyTorch: positional arguments in PyTorch's order, keyword arguments as a final options",
    "object in camelCase (`x.sum(1, true)`, `x.sum({ dim: 1, keepdim: true })` and `x.sum(1, { keepdim: true })`",
    "are the same call). Parameters after `*` are keyword-only (options only). An extra argument, an unknown option",
    "or a value of the wrong kind throws an `ArgumentError` naming the parameter, what was expected and what was given.",
    "",
  ];
  const seen = new Set();
  for (const [title, test] of SECTIONS) {
    const rows = [];
    for (const s of sigs) {
      for (const form of s.forms) {
        if (!test(s, form)) continue;
        const key = `${form}:${String(s)}:${s.name}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const pos = form === "method" ? s.positional.slice(1) : s.positional;
        const shown =
          form === "method"
            ? `x.${String(s).replace(/\(input(, )?/, "(")}`
            : String(s).replace(/^[^(]*/, s.name);
        const kw = s.keyword.length ? `; keyword-only: ${params(s.keyword).join(", ")}` : "";
        rows.push([
          s.name,
          `| \`${shown}\` | \`${s.torchName}\` | ${params(pos).join(", ") || "none"}${kw} |`,
        ]);
      }
    }
    if (rows.length === 0) continue;
    rows.sort((a, b) => a[0].localeCompare(b[0]));
    out.push(
      `## ${title}`,
      "",
      "| Cinder | PyTorch | parameters |",
      "| --- | --- | --- |",
      ...rows.map((r) => r[1]),
      "",
    );
  }
  return out.join("\n");
}
