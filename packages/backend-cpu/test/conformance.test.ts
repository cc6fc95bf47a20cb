import { registerBackend } from "@cinder/tensor";
import { conformanceCases } from "@cinder/tensor/testing";
import { describe, it } from "vitest";
import { cpu } from "../src/index";

describe("@cinder/tensor conformance suite", () => {
  registerBackend(cpu);
  for (const c of conformanceCases({ dtypes: cpu.dtypes })) it(c.name, () => c.run("cpu"));
});
