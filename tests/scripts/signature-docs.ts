// pnpm docs:signatures: writes docs/signatures.md from the declared signatures of every package.
import { writeFileSync } from "node:fs";
import "@cinder/autograd";
import "@cinder/data";
import "@cinder/datasets-mnist";
import "@cinder/nn";
import "@cinder/optim";
import { signatures } from "@cinder/tensor";
import { renderSignatureDocs } from "./signature-docs.mjs";

const file = new URL("../../docs/signatures.md", import.meta.url);
writeFileSync(file, renderSignatureDocs(signatures()));
console.log(`wrote ${signatures().length} signatures to docs/signatures.md`);
