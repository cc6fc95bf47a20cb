import { cpu } from "@cinder/backend-cpu";
import { registerBackend } from "@cinder/tensor";
import { conformanceCases } from "@cinder/tensor/testing";
import { describe, it } from "vitest";
import { gpu, unavailable } from "./setup";

// float64 cases are left out through `dtypes`: WGSL has no 64-bit floats and the backend rejects them.
describe.skipIf(!gpu)(
  `@cinder/tensor conformance suite on webgpu (${gpu?.runtime.label ?? unavailable})`,
  () => {
    registerBackend(cpu);
    for (const c of conformanceCases({ dtypes: gpu?.dtypes })) it(c.name, () => c.run("webgpu"));
  },
);
