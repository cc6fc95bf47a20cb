#!/usr/bin/env node
// node scripts/soak.mjs [--cpu-steps N] [--webgpu-steps N] [--every N] [--budget BYTES] [--no-webgpu]
//
// The full soak of the seeds' verbatim five-step loop (no tidy, no dispose): 10,000 steps on the cpu and 2,000 on
// webgpu (SwiftShader when there is no GPU), an MLP 784-128-10 at batch 64 on the cpu and 32-64-10 at batch 16
// on webgpu, SGD with momentum, the loss read every step. The tests run short versions of it
// (tests/test/memory-soak.test.ts, packages/backend-webgpu/test/memory-soak.test.ts); the loop itself is
// tests/test/support/verbatim-soak.ts.
//
// Every --every steps (default 1,000) it prints what memory() reports mid-run, what it reports after a garbage
// collection ("settled") beside the ArrayBuffers the process really holds, the RSS and heap, and on webgpu the
// largest live GPU buffers and bytes since the previous line and the reclaims the memory budget made. It exits
// non-zero if memory() settles to more than one cohort (64 tensors) away from its first settled value, if its
// bytes are not those the ArrayBuffers hold (less the CPU buffer pool's, within 1 MB), or if the GPU's live bytes
// pass the budget by more than a step.
//
// Runs in a child process (Node with the tsx loader, the "@cinder/source" export condition and --expose-gc), so
// that the SwiftShader environment is set before anything loads Dawn, as scripts/bench.mjs does.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { root } from "./lib/workspace.mjs";
import { applySwiftShaderEnv } from "./webgpu/swiftshader-env.mjs";

const { values: opts } = parseArgs({
  options: {
    "cpu-steps": { type: "string", default: "10000" },
    "webgpu-steps": { type: "string", default: "2000" },
    every: { type: "string", default: "1000" },
    budget: { type: "string", default: String(256 * 1024) },
    "no-webgpu": { type: "boolean", default: false },
    child: { type: "boolean", default: false },
  },
});

if (!opts.child) {
  const env = { ...process.env };
  applySwiftShaderEnv(env);
  const flags = ["--conditions=@cinder/source", "--import", import.meta.resolve("tsx"), "--expose-gc"];
  const child = spawn(process.execPath, [...flags, ...process.argv.slice(1), "--child"], {
    stdio: "inherit",
    env,
  });
  child.on("exit", (code) => process.exit(code ?? 1));
} else {
  await soakAll();
}

/** Import a workspace package as tests/ sees it (the scripts directory has no dependencies of its own). */
function fromTests(name) {
  return import(pathToFileURL(createRequire(join(root, "tests", "package.json")).resolve(name)).href);
}

async function soakAll() {
  const torch = await fromTests("@cinder/tensor");
  const { cpu, heapStats } = await fromTests("@cinder/backend-cpu");
  const { verbatimSoak } = await import(
    pathToFileURL(join(root, "tests/test/support/verbatim-soak.ts")).href
  );
  torch.registerBackend(cpu);
  const every = Number(opts.every);
  const mb = (b) => (b / 1e6).toFixed(2);
  let failed = false;
  const check = (ok, what) => {
    if (!ok) {
      failed = true;
      console.log(`  FAIL: ${what}`);
    }
  };
  const report = (device, samples, extra = () => "") => {
    const first = samples[0];
    for (const s of samples) {
      console.log(
        `${device} step ${String(s.step).padStart(5)}: memory() live ${s.live.liveTensors} tensors ${mb(s.live.bytesInUse)} MB ` +
          `(ArrayBuffers ${mb(s.liveUsage.arrayBuffers)} MB, rss ${mb(s.liveUsage.rss)} MB, heap ${mb(s.liveUsage.heapUsed)} MB) | ` +
          `settled ${s.settled.liveTensors} tensors ${mb(s.settled.bytesInUse)} MB, ArrayBuffers ${mb(s.arrayBuffers)} MB ` +
          `(buffer pool ${mb(s.pooled)} MB) | ` +
          `rss ${mb(s.rss)} MB heap ${mb(s.heapUsed)} MB | loss ${s.loss.toFixed(4)}${extra(s)}`,
      );
      check(Math.abs(s.settled.liveTensors - first.settled.liveTensors) <= 64, "settled tensors drift");
      check(Math.abs(s.settled.bytesInUse - first.settled.bytesInUse) <= 64 * 4096, "settled bytes drift");
      if (device === "cpu") {
        // the buffer pool's ArrayBuffers belong to no storage (bufferPoolStats); float storage of 4 KiB or more is in
        // the WebAssembly heap's live blocks (heapStats), not in the ArrayBuffers
        const held = s.arrayBuffers + s.heap.storageBytes;
        check(
          s.settled.bytesInUse + s.pooled <= held,
          "memory() reports more bytes than the ArrayBuffers and the WASM heap hold",
        );
        check(held - s.pooled - s.settled.bytesInUse < 1e6, "memory() reports far fewer bytes than are held");
      }
    }
  };

  if (Number(opts["cpu-steps"]) > 0) {
    const t0 = performance.now();
    const cpuSamples = await verbatimSoak({
      device: "cpu",
      steps: Number(opts["cpu-steps"]),
      every,
      heap: heapStats,
    });
    console.log(`cpu: ${opts["cpu-steps"]} steps in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    report("cpu", cpuSamples);
  }

  if (!opts["no-webgpu"]) {
    const { initWebGPU, webgpuMemory, destroyWebGPU } = await fromTests("@cinder/backend-webgpu");
    const gpu = await initWebGPU();
    const counts = () => {
      const m = webgpuMemory();
      return { buffersLive: m.buffersLive, bytesLive: m.bytesLive, reclaims: m.reclaims };
    };
    const task = { device: "webgpu", batch: 16, features: 32, hidden: 64, gpu: counts };
    // what the loop holds (model, gradients, momentum) after a few steps, plus the budget's slack
    const held = (await verbatimSoak({ ...task, steps: 5, every: 5 }))[0].gpu.bytesLive;
    gpu.runtime.budget.budgetBytes = held + Number(opts.budget);
    const t1 = performance.now();
    const samples = await verbatimSoak({ ...task, steps: Number(opts["webgpu-steps"]), every });
    console.log(
      `webgpu: ${opts["webgpu-steps"]} steps in ${((performance.now() - t1) / 1000).toFixed(1)} s, budget ${gpu.runtime.budget.budgetBytes} bytes`,
    );
    report(
      "webgpu",
      samples,
      (s) => ` | GPU max ${s.gpu.buffersLive} buffers ${s.gpu.bytesLive} bytes, reclaims ${s.gpu.reclaims}`,
    );
    for (const s of samples)
      check(
        s.gpu.bytesLive <= gpu.runtime.budget.budgetBytes + 8 * 1024,
        "GPU bytes passed the budget by more than a step",
      );
    destroyWebGPU();
  }
  if (failed) process.exit(1);
  console.log("soak: ok");
}
