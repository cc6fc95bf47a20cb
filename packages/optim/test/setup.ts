/** Register the CPU backend and install autograd; every test file imports this first. */
import "@cinder/autograd";
import { cpu } from "@cinder/backend-cpu";
import { registerBackend } from "@cinder/tensor";

registerBackend(cpu);
