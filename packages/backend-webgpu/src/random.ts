/**
 * Counter-based random fill, bit-compatible with the core's `randomUniform` / `randomNormal`: element i
 * (row-major) is drawn from (key, counter + i) with the same lowbias32 hash and 24-bit float conversion, so a
 * seeded program gives the same numbers on every device. Normals use Box-Muller in f32 with an accurate log
 * and cos(2*pi*u) (reduced exactly on u), within ~1e-6 of the core's float64 result.
 */
import type { RandomDist, View } from "@cinder/tensor";
import type { GpuStorage } from "./buffers";
import {
  type BindingDecl,
  collapse,
  decompose,
  entry,
  grid,
  isContiguous,
  numel,
  offsetOf,
  Params,
  WG,
} from "./codegen";
import { checkDType } from "./host";
import type { Runtime } from "./runtime";

export function random(rt: Runtime, dist: RandomDist, key: number, counter: number, out: View): void {
  checkDType(out.dtype, "random");
  if (out.dtype !== "float32") throw new TypeError(`random: expected a float32 output, got ${out.dtype}`);
  const n = numel(out.shape);
  if (n === 0) return;
  const c = collapse(out.shape, [out.strides]);
  const rank = c.shape.length;
  const k = rt.kernel(`random|${dist}|r${rank}`, () => {
    const params = new Params([
      { name: "n", type: "u32" },
      { name: "key", type: "u32" },
      { name: "counter", type: "u32" },
      { name: "o", type: "view", rank },
    ]);
    const bindings: BindingDecl[] = [{ name: "out", type: "f32", access: "write" }];
    const fn = dist === "uniform" ? "uniform_i" : "normal_i";
    const body = [
      entry(WG),
      `  ${params.declare()}`,
      "  if (gid >= n) { return; }",
      `  ${decompose("gid", "o", rank)}`,
      `  out[${offsetOf("o", rank)}] = ${fn}(key, counter + gid);`,
      "}",
    ].join("\n");
    return { params, bindings, body };
  });
  const s = out.handle as GpuStorage;
  const values = k.params.pack({
    n,
    key: key >>> 0,
    counter: counter >>> 0,
    o: { offset: out.offset, strides: c.strides[0], shape: c.shape },
  });
  const covers = out.offset === 0 && n === s.length && isContiguous(out);
  rt.dispatch(k, values, [{ s, covers }], grid(Math.ceil(n / WG)));
}
