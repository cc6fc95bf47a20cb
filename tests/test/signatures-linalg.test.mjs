// torch.linalg's norms and decompositions (issue 14) called as in PyTorch, in plain JavaScript: every call form
// against PyTorch 1.13 (tests/fixtures/sigcases-linalg.json, from scripts/fixtures/sigcases_linalg.py).
import { cpu } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import { signatureCases } from "./support/signature-cases.mjs";

if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);
// "linalg.det" is torch.linalg.det
signatureCases("linalg", (name) => name.split(".").reduce((o, p) => o?.[p], torch));
