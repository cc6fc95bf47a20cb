import { cpu } from "@cinder/backend-cpu";
import { registerBackend } from "@cinder/tensor";
import "../src/index";

registerBackend(cpu);
