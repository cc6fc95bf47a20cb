/**
 * Fused optimizer updates (`Backend.adamStep` / `Backend.sgdStep`): one dispatch updating the parameter and its
 * state in place, instead of the eight to ten elementwise dispatches of the composed update. float32 only, all
 * views contiguous and in distinct buffers (each is bound once, read-write or read-only); otherwise the kernel
 * declines and the optimizer composes the update.
 */
import type { AdamStepOptions, SgdStepOptions, View } from "@cinder/tensor";
import type { GpuStorage } from "./buffers";
import { type BindingDecl, entry, grid, isContiguous, numel, type ParamSpec, Params, WG } from "./codegen";
import type { Runtime } from "./runtime";

function fusable(p: View, rest: readonly (View | null)[]): boolean {
  if (p.dtype !== "float32" || !isContiguous(p)) return false;
  const n = numel(p.shape);
  const seen = new Set<unknown>([p.handle]);
  for (const v of rest) {
    if (v === null) continue;
    if (v.dtype !== "float32" || !isContiguous(v) || numel(v.shape) !== n || seen.has(v.handle)) return false;
    seen.add(v.handle);
  }
  return true;
}

const f32 = (name: string): ParamSpec => ({ name, type: "f32" });
const u32 = (name: string): ParamSpec => ({ name, type: "u32" });

/** Dispatch one thread per element over `views` (the first `writes` bound read-write, the rest read-only). */
function launch(
  rt: Runtime,
  key: string,
  views: readonly View[],
  names: readonly string[],
  writes: readonly boolean[],
  scalars: readonly [string, number][],
  body: string,
): void {
  const n = numel(views[0].shape);
  if (n === 0) return;
  const k = rt.kernel(key, () => {
    const params = new Params([
      u32("n"),
      ...names.map((nm) => u32(`${nm}_o`)),
      ...scalars.map(([s]) => f32(s)),
    ]);
    const bindings: BindingDecl[] = names.map((nm, i) => ({
      name: nm,
      type: "f32",
      access: writes[i] ? "write" : "read",
    }));
    const code = [
      entry(WG),
      `  ${params.declare()}`,
      "  if (gid >= n) { return; }",
      ...names.map((nm) => `  let i_${nm} = ${nm}_o + gid;`),
      body,
      "}",
    ].join("\n");
    return { params, bindings, body: code };
  });
  const values: Record<string, number> = { n };
  names.forEach((nm, i) => {
    values[`${nm}_o`] = views[i].offset;
  });
  for (const [s, v] of scalars) values[s] = v;
  rt.dispatch(
    k,
    k.params.pack(values),
    // every written buffer (parameter, optimizer state) is also read: none covers, so stale pooled contents (a
    // fresh zero state) are cleared first
    views.map((v) => ({ s: v.handle as GpuStorage })),
    grid(Math.ceil(n / WG)),
  );
}

const ADAM_BODY = (ams: boolean) => `
  let x0 = pw[i_pw];
  var d = select(gr[i_gr], -gr[i_gr], maximizeF != 0.0);
  var x = x0;
  if (wd != 0.0) {
    if (decoupledF != 0.0) { x = x0 * decay; } else { d = d + wd * x0; }
  }
  let m = ma[i_ma] * beta1 + c1 * d;
  ma[i_ma] = m;
  var v = va[i_va] * beta2 + (d * d) * c2;
  va[i_va] = v;${
    ams
      ? `
  let w = vm[i_vm];
  if (isnan_f(w) || isnan_f(v)) { v = w + v; } else { v = max(w, v); }
  vm[i_vm] = v;`
      : ""
  }
  let denom = sqrt_f(v) / bc2 + eps;
  pw[i_pw] = x + (m / denom) * nstep;`;

export function adamStep(
  rt: Runtime,
  p: View,
  grad: View,
  expAvg: View,
  expAvgSq: View,
  maxExpAvgSq: View | null,
  o: AdamStepOptions,
): boolean {
  if (!fusable(p, [grad, expAvg, expAvgSq, maxExpAvgSq])) return false;
  const ams = maxExpAvgSq !== null;
  const views = [p, expAvg, expAvgSq, ...(maxExpAvgSq ? [maxExpAvgSq] : []), grad];
  const names = ["pw", "ma", "va", ...(ams ? ["vm"] : []), "gr"];
  const writes = names.map((nm) => nm !== "gr");
  launch(
    rt,
    `adamStep|${ams}`,
    views,
    names,
    writes,
    [
      ["beta1", o.beta1],
      ["beta2", o.beta2],
      ["eps", o.eps],
      ["wd", o.weightDecay],
      ["decay", 1 - o.lr * o.weightDecay],
      ["c1", 1 - o.beta1],
      ["c2", 1 - o.beta2],
      ["bc2", Math.sqrt(1 - o.beta2 ** o.step)],
      ["nstep", -(o.lr / (1 - o.beta1 ** o.step))],
      ["maximizeF", o.maximize ? 1 : 0],
      ["decoupledF", o.decoupled ? 1 : 0],
    ],
    ADAM_BODY(ams),
  );
  return true;
}

export function sgdStep(
  rt: Runtime,
  p: View,
  grad: View,
  momentumBuffer: View | null,
  o: SgdStepOptions,
): boolean {
  if (!fusable(p, [grad, momentumBuffer])) return false;
  const mom = momentumBuffer !== null;
  const views = [p, ...(momentumBuffer ? [momentumBuffer] : []), grad];
  const names = ["pw", ...(mom ? ["bf"] : []), "gr"];
  const writes = names.map((nm) => nm !== "gr");
  const body = `
  let x = pw[i_pw];
  var d = select(gr[i_gr], -gr[i_gr], maximizeF != 0.0);
  if (wd != 0.0) { d = d + wd * x; }
  ${
    mom
      ? `var b = d;
  if (firstF == 0.0) { b = bf[i_bf] * momentum + damp * d; }
  bf[i_bf] = b;
  if (nesterovF != 0.0) { d = d + momentum * b; } else { d = b; }`
      : ""
  }
  pw[i_pw] = x + nlr * d;`;
  launch(
    rt,
    `sgdStep|${mom}`,
    views,
    names,
    writes,
    [
      ["nlr", -o.lr],
      ["momentum", o.momentum],
      ["damp", 1 - o.dampening],
      ["wd", o.weightDecay],
      ["maximizeF", o.maximize ? 1 : 0],
      ["nesterovF", o.nesterov ? 1 : 0],
      ["firstF", o.first ? 1 : 0],
    ],
    body,
  );
  return true;
}
