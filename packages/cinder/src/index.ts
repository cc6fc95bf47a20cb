/**
 * cinder: PyTorch's programming model in TypeScript, batteries included.
 *
 *   import * as torch from "cinder";
 *   const x = torch.randn(3, 4);
 *   const model = new torch.nn.Linear(4, 1);
 *   const opt = new torch.optim.SGD(model.parameters(), { lr: 0.01 });
 *
 * Importing this module registers the CPU backend and installs autograd (its side effects); the layered
 * packages (@cinder/tensor, @cinder/backend-cpu, ...) can be used alone without either.
 */
import { cpu } from "@cinder/backend-cpu";
import { registerBackend, registeredDevices } from "@cinder/tensor";

if (!registeredDevices().includes("cpu")) registerBackend(cpu);

export * as autograd from "@cinder/autograd";
export * as nn from "@cinder/nn";
export * as optim from "@cinder/optim";
export * from "@cinder/tensor";
