/** Entry point of the child process that runs the Cinder-on-WebGPU column (see peers/webgpu.ts). */
import { cpu } from "@cinder/backend-cpu";
import { registerBackend } from "@cinder/tensor";
import { serve } from "./peers/remote";
import { setupWebGPU } from "./peers/webgpu";

registerBackend(cpu);
const w = await setupWebGPU();
if (!w.peer) process.stdout.write(`${JSON.stringify({ error: w.note })}\n`);
else await serve(w.peer, { tasks: w.tasks, adapter: w.adapter, software: w.software });
process.exit(0);
