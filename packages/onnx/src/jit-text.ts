/**
 * The readable forms of a trace, in the spirit of TorchScript's: `graph` (`%1 : Float(2, 128) =
 * aten::linear(%input, %fc1.weight, %fc1.bias)`) and `code` (Python-like `def forward(self, input: Tensor)`), one
 * line per traced op call with its parsed arguments.
 */
import { snakeCase, Tensor } from "@cinder/tensor";
import type { Trace } from "./trace";

const TYPE_NAMES: Record<string, string> = {
  float32: "Float",
  float64: "Double",
  int32: "Int",
  uint8: "Byte",
  bool: "Bool",
};

const typeOf = (t: Tensor): string => `${TYPE_NAMES[t.dtype] ?? t.dtype}(${t.shape.join(", ")})`;

/** The op's last name segment in snake_case (`nn.functional.leakyRelu` -> `leaky_relu`). */
const atenName = (name: string): string =>
  name === "at" ? "index" : snakeCase(name.split(".").at(-1) as string);

/** The Python name of an op (`torch.nn.functional.linear`, `torch.sum`). */
const torchName = (name: string): string =>
  `torch.${name
    .split(".")
    .map((s) => snakeCase(s))
    .join(".")}`;

const tensorsOf = (v: unknown): Tensor[] =>
  v instanceof Tensor ? [v] : Array.isArray(v) ? v.flatMap(tensorsOf) : [];

function literal(v: unknown, name: (t: Tensor) => string): string {
  if (v instanceof Tensor) return name(v);
  if (v === null || v === undefined) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => literal(x, name)).join(", ")}]`;
  if (typeof v === "object") {
    const s = v as { start?: number | null; stop?: number | null; step?: number | null };
    return `slice(${[s.start, s.stop, s.step].map((x) => literal(x, name)).join(", ")})`;
  }
  return String(v);
}

/** `graph` and `code` of a trace whose inputs are named `inputNames`. */
export function traceText(trace: Trace, inputNames: readonly string[]): { graph: string; code: string } {
  const graphNames = new Map<Tensor, string>();
  const codeNames = new Map<Tensor, string>();
  const header: string[] = [];
  trace.inputs.forEach((t, i) => {
    graphNames.set(t, `%${inputNames[i]}`);
    codeNames.set(t, inputNames[i]);
    header.push(`%${inputNames[i]} : ${typeOf(t)}`);
  });
  let next = 1;
  let constants = 0;
  const known = (t: Tensor) => {
    if (graphNames.has(t)) return;
    const state = trace.stateNames.get(t);
    const name = state ?? `const_${constants++}`;
    graphNames.set(t, `%${name}`);
    codeNames.set(t, state ? `self.${state}` : `CONSTANTS.c${constants - 1}`);
    header.push(`%${name} : ${typeOf(t)}`);
  };
  const graphLines: string[] = [];
  const codeLines: string[] = [];
  for (const r of trace.records) {
    const args = Object.entries(r.args).filter(([k, v]) => !(k === "out" && v == null));
    for (const [, v] of args) for (const t of tensorsOf(v)) known(t);
    const outs = tensorsOf(r.out);
    const fresh = outs.map(() => next++);
    const gArgs = args.map(([, v]) => literal(v, (t) => graphNames.get(t) as string)).join(", ");
    const cArgs = args.map(([, v]) => literal(v, (t) => codeNames.get(t) as string)).join(", ");
    outs.forEach((t, i) => {
      graphNames.set(t, `%${fresh[i]}`);
      codeNames.set(t, `_${fresh[i]}`);
    });
    const gOut = outs.map((t) => `${graphNames.get(t)} : ${typeOf(t)}`).join(", ");
    graphLines.push(`  ${gOut} = aten::${atenName(r.name)}(${gArgs})`);
    codeLines.push(`  ${outs.map((t) => codeNames.get(t)).join(", ")} = ${torchName(r.name)}(${cArgs})`);
  }
  for (const t of trace.outputs) known(t);
  const ret = trace.outputs.map((t) => graphNames.get(t)).join(", ");
  const graph = `graph(${header.join(",\n      ")}):\n${graphLines.join("\n")}${graphLines.length ? "\n" : ""}  return (${ret})\n`;
  const params = inputNames.map((n) => `    ${n}: Tensor`).join(",\n");
  const codeRet = trace.outputs.map((t) => codeNames.get(t)).join(", ");
  const code = `def forward(self,\n${params}) -> Tensor:\n${codeLines.join("\n")}${codeLines.length ? "\n" : ""}  return ${trace.outputs.length > 1 ? `(${codeRet})` : codeRet}\n`;
  return { graph, code };
}
