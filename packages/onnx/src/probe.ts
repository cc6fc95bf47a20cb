/**
 * Which dims follow the dynamic axes: before the trace, the model runs once more on inputs one larger along each
 * dynamic axis, and the output shapes of each outermost op call are kept in call order. Comparing them with the
 * traced run's shapes tells which dims of each value vary with the dynamic axes (a batch kept, merged into another
 * dim or moved behind the sequence dim), so a reshape leaves exactly those open.
 */
import type * as nn from "@cinder/nn";
import { cat, noGrad, type OpTracer, setOpTracer, Tensor } from "@cinder/tensor";

const tensorsIn = (v: unknown): Tensor[] =>
  v instanceof Tensor ? [v] : Array.isArray(v) ? v.flatMap(tensorsIn) : [];

class ShapeProbe implements OpTracer {
  depth = 0;
  readonly shapes: (readonly number[])[][] = [];
  constructor(private readonly transparent: (name: string) => boolean) {}
  call(name: string, _args: Readonly<Record<string, unknown>>, run: () => unknown): unknown {
    if (this.depth > 0 || this.transparent(name)) return run();
    this.depth++;
    let out: unknown;
    try {
      out = run();
    } finally {
      this.depth--;
    }
    this.shapes.push(tensorsIn(out).map((t) => [...t.shape]));
    return out;
  }
  read(): void {}
}

/** The shapes of the outermost calls' outputs (in call order), on `inputs` one larger along their dynamic axes. */
export function probeShapes(
  model: nn.Module,
  inputs: readonly Tensor[],
  dynamic: readonly (readonly number[])[],
  transparent: (name: string) => boolean,
): { inputs: (readonly number[])[]; calls: (readonly number[])[][] } | null {
  if (dynamic.every((axes) => axes.length === 0)) return null;
  const grown = noGrad(() =>
    inputs.map((x, i) => dynamic[i].reduce((t, a) => cat([t, t.narrow(a, 0, 1)], a), x)),
  );
  const probe = new ShapeProbe(transparent);
  const prev = setOpTracer(probe);
  try {
    noGrad(() => model(...grown));
  } catch {
    return null; // the probe is a refinement: without it, reshapes use the traced shapes' heuristic
  } finally {
    setOpTracer(prev);
  }
  return { inputs: grown.map((t) => [...t.shape]), calls: probe.shapes };
}
