// A script for cinder-run: every rank all-reduces its rank and prints one JSON line; `--fail R` makes rank R throw.
import { cpu } from "@cinder/backend-cpu";
import * as torch from "@cinder/tensor";
import * as dist from "../../src/index";

if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);
await dist.initProcessGroup("threads");
const rank = dist.getRank();
const fail = process.argv.indexOf("--fail");
if (fail >= 0 && Number(process.argv[fail + 1]) === rank) throw new Error(`rank ${rank} was told to fail`);
const t = torch.tensor([rank + 1], { dtype: "float32" });
dist.allReduce(t);
console.log(
  JSON.stringify({
    rank,
    worldSize: dist.getWorldSize(),
    env: process.env.RANK,
    sum: t.item(),
    args: process.argv.slice(2),
  }),
);
dist.destroyProcessGroup();
