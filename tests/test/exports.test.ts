/**
 * Every declared signature is reachable where a user looks for it: tensor ops as `torch.f` (from @cinder/tensor and
 * from cinder) and as `x.f`, `nn.functional.f`, `nn.X`, `optim.X`, `optim.lrScheduler.X`, the data classes. A name
 * forgotten in an index file would otherwise silently drop the export.
 */
import * as autograd from "@cinder/autograd";
import * as data from "@cinder/data";
import * as mnist from "@cinder/datasets-mnist";
import * as nn from "@cinder/nn";
import * as optim from "@cinder/optim";
import * as tensor from "@cinder/tensor";
import * as cinder from "cinder";
import { describe, expect, it } from "vitest";

const MEMBER = /^(nn\.Module|optim\.Optimizer|Generator)\.(\w+)$/;

function lookup(name: string): unknown {
  const parts = name.split(".");
  const roots: Record<string, unknown> = { autograd, nn, optim, utils: { data }, tensor, torchvision: mnist };
  if (parts.length === 1) return (tensor as Record<string, unknown>)[name];
  let v: unknown = roots[parts[0]] ?? (mnist as Record<string, unknown>)[parts[0]];
  for (const p of parts.slice(1)) v = (v as Record<string, unknown> | undefined)?.[p];
  return v;
}

describe("every declared callable is exported", () => {
  for (const s of tensor.signatures()) {
    const member = MEMBER.exec(s.name);
    if (member) {
      const cls = { "nn.Module": nn.Module, "optim.Optimizer": optim.Optimizer, Generator: tensor.Generator }[
        member[1]
      ] as { prototype: object };
      it(`${s.name} is a method of ${member[1]}`, () => {
        expect(typeof (cls.prototype as unknown as Record<string, unknown>)[member[2]]).toBe("function");
      });
      continue;
    }
    if (s.torchName.startsWith("torchvision.")) continue; // checked by the datasets-mnist tests
    for (const form of s.forms) {
      if (form === "method") {
        it(`Tensor.prototype.${s.name}`, () => {
          expect(typeof (tensor.Tensor.prototype as unknown as Record<string, unknown>)[s.name]).toBe(
            "function",
          );
        });
      } else {
        it(`${s.name} (and from cinder)`, () => {
          expect(typeof lookup(s.name), s.name).toBe("function");
          if (!s.name.includes(".")) {
            expect(typeof (cinder as Record<string, unknown>)[s.name], `cinder.${s.name}`).toBe("function");
          } else if (/^(nn|optim|autograd)\./.test(s.name)) {
            const [ns, ...rest] = s.name.split(".");
            let v: unknown = (cinder as Record<string, unknown>)[ns];
            for (const p of rest) v = (v as Record<string, unknown> | undefined)?.[p];
            expect(typeof v, `cinder.${s.name}`).toBe("function");
          }
        });
      }
    }
  }
});
