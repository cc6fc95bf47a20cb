// pnpm docs:signatures: writes docs/signatures.md from the declared signatures of every package.
import { writeFileSync } from "node:fs";
import { signatures } from "@cinder/tensor";
import { renderSignatureDocs } from "./signature-docs.mjs";
import "../test/support/every-package";

const file = new URL("../../docs/signatures.md", import.meta.url);
writeFileSync(file, renderSignatureDocs(signatures()));
console.log(`wrote ${signatures().length} signatures to docs/signatures.md`);
