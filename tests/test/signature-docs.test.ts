// docs/signatures.md is generated from the declared signatures: it must match them (run `pnpm docs:signatures`).
import { readFileSync } from "node:fs";
import { signatures } from "@cinder/tensor";
import { expect, it } from "vitest";
// @ts-expect-error: a plain .mjs helper without type declarations
import { renderSignatureDocs } from "../scripts/signature-docs.mjs";
import "./support/every-package";

it("docs/signatures.md is the rendering of the declared signatures (run pnpm docs:signatures)", () => {
  const committed = readFileSync(new URL("../../docs/signatures.md", import.meta.url), "utf8");
  expect(committed).toBe(renderSignatureDocs(signatures()));
});
