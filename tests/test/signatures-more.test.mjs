// The rest of issue 14 called as in PyTorch, in plain JavaScript: random sampling, the aliases and torch.linalg's
// remaining functions in every call form against PyTorch 1.13 (tests/fixtures/sigcases-more.json, from
// scripts/fixtures/sigcases_more.py; random results by shape and dtype).
import { cpu } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import { signatureCases } from "./support/signature-cases.mjs";

if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);
// "linalg.matrixExp" is torch.linalg.matrixExp
signatureCases("more", (name) => name.split(".").reduce((o, p) => o?.[p], torch));
