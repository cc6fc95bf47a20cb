import * as torch from "../../packages/cinder/src/index";
const t = (v: number[]) => torch.tensor(v, { dtype: "float64" });
function g(f: (...x: torch.Tensor[]) => torch.Tensor, ...xs: torch.Tensor[]) {
  const ls = xs.map((x) => x.clone().requiresGrad_(true));
  const y = f(...ls);
  y.sum().backward();
  return [y.toArray(), ls.map((l) => l.grad?.toArray())];
}
const x = t([-1, 0, 0.5, 1, 2]);
console.log("clamp", JSON.stringify(g((x) => x.clamp(0, 1), x)));
console.log("pow tt", JSON.stringify(g((a, b) => a.pow(b), t([0,0,2,-1,0]), t([0,1,0,2,-1]))));
console.log("pow t0", JSON.stringify(g((a) => a.pow(0), t([0,0,2,-1,0]))));
function trial(name: string, f: () => unknown) { try { console.log(name, "OK", JSON.stringify(f())); } catch (e) { console.log(name, "RAISES", String(e).slice(0, 100)); } }
trial("mul_ noGrad self", () => { const w = t([1,2,3]).requiresGrad_(true); const x = t([1,1,1]); x.mul_(w); x.sum().backward(); return w.grad!.toArray(); });
trial("sigmoid in", () => { const l = t([1,2,3]).requiresGrad_(true); const x = l.clone(); const y = x.sigmoid(); x.mul_(3); y.sum().backward(); return l.grad!.toArray(); });
console.log(torch.tensor([2**30, 2**30, 2**30]).sum().item());
console.log(torch.isclose(torch.tensor([Infinity, 0, Infinity]), torch.tensor([-Infinity, Infinity, Infinity])).toArray());
console.log(torch.linspace(5, 10, 1).toArray(), torch.linspace(0, 10, 4, {dtype: "int32"}).toArray());
