/**
 * The page of save-browser.test.ts, bundled for the browser with esbuild: save/load through ArrayBuffer, Blob,
 * IndexedDB and fetch, in the page. `window.cinderSaveLoad.run(url)` saves and loads; after a reload of the page,
 * `window.cinderSaveLoad.again()` loads what `run` left in IndexedDB.
 */
import { cpu } from "@cinder/backend-cpu";
import { manualSeed, randn, registerBackend, type Tensor } from "@cinder/tensor";
import * as nn from "../../src";

registerBackend(cpu);

const IDB = "indexeddb://cinder-test/mnist";
const net = () =>
  new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.BatchNorm1d(8), new nn.Linear(8, 2));
const values = (sd: Map<string, Tensor>) =>
  Object.fromEntries([...sd].map(([k, t]) => [k, Array.from(t.double().data())]));
const message = async (f: () => Promise<unknown>) => {
  try {
    await f();
    return "no error";
  } catch (e) {
    return (e as Error).message;
  }
};

export interface RunResult {
  name: string;
  output: number[];
  fromArrayBuffer: number[];
  fromBlob: number[];
  fromIndexedDb: number[];
  state: Record<string, number[]>;
  bytes: number;
  python: { keys: string[]; fc1: number[]; relativeSame: boolean };
  checkpointEpoch: number;
  errors: { missing: string; pathSave: string };
}

async function run(pythonUrl: string): Promise<RunResult> {
  manualSeed(0);
  const model = net();
  model(randn(6, 4)); // moves the BatchNorm's running stats
  model.eval();
  const x = randn(3, 4);
  const sd = model.stateDict();
  const outputOf = (loaded: Map<string, Tensor>) => {
    const m = net();
    m.loadStateDict(loaded);
    m.eval();
    return Array.from(m(x).data());
  };
  // ArrayBuffer and Blob: torch.save(obj) gives the bytes
  const bytes = await nn.save(sd);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const fromArrayBuffer = outputOf(await nn.load(buffer));
  const fromBlob = outputOf(await nn.load(new Blob([bytes])));
  // IndexedDB
  await nn.save(sd, IDB);
  const fromIndexedDb = outputOf(await nn.load(IDB));
  await nn.save({ model: sd, epoch: 3 }, "indexeddb://cinder-test/checkpoint");
  const ckpt = await nn.load<{ model: Map<string, Tensor>; epoch: number }>(
    "indexeddb://cinder-test/checkpoint",
  );
  // a file written by Python, fetched by URL (absolute, then relative to the page)
  const py = await nn.load(pythonUrl);
  const relative = await nn.load(new URL(pythonUrl).pathname.slice(1));
  const fc1 = Array.from(py.get("fc1.weight")!.data());
  return {
    name: nn.save.name,
    output: Array.from(model(x).data()),
    fromArrayBuffer,
    fromBlob,
    fromIndexedDb,
    state: values(sd),
    bytes: bytes.length,
    python: {
      keys: [...py.keys()],
      fc1,
      relativeSame: JSON.stringify(Array.from(relative.get("fc1.weight")!.data())) === JSON.stringify(fc1),
    },
    checkpointEpoch: ckpt.epoch,
    errors: {
      missing: await message(() => nn.load("indexeddb://cinder-test/nothing-here")),
      pathSave: await message(() => nn.save(sd, "mnist.pth")),
    },
  };
}

/** After a reload: the state dict `run` saved to IndexedDB. */
async function again(): Promise<Record<string, number[]>> {
  return values(await nn.load(IDB));
}

(globalThis as unknown as { cinderSaveLoad: unknown }).cinderSaveLoad = { run, again };
