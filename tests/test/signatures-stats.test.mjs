// Statistics, order statistics, cummax/cummin/logcumsumexp and scatter_reduce called as in PyTorch, in plain
// JavaScript: every call form against PyTorch 1.13.
import { cpu } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import { signatureCases } from "./support/signature-cases.mjs";

torch.registerBackend(cpu);
signatureCases("stats", (name) => torch[name]);
