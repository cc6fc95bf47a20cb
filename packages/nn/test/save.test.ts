/**
 * `save` / `load` (torch.save / torch.load) in Node: PyTorch's argument order and signatures, a state dict saved
 * by Python (scripts/fixtures/save_load_fixtures.py) loading into a Cinder model with PyTorch's values and output,
 * round trips through files, bytes, Blobs, Responses, streams, file handles and URLs, checkpoints with more than
 * tensors, `mapLocation`, and clear errors for swapped arguments, modules, pickle files and corrupt bytes.
 * The browser side (ArrayBuffer and IndexedDB in Chromium) is save-browser.test.ts.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { cpu } from "@cinder/backend-cpu";
import {
  ArgumentError,
  manualSeed,
  randn,
  registerBackend,
  type Tensor,
  tensor,
  unregisterBackend,
} from "@cinder/tensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as nn from "../src";
import { expectClose, fixtureDir, type T, t } from "./helpers";

const fx = JSON.parse(readFileSync(new URL("torch-save.json", fixtureDir), "utf8")) as {
  file: string;
  writer: string;
  repr: string;
  keys: string[];
  state: Record<string, T>;
  input: T;
  output: T;
};
const pyFile = fileURLToPath(new URL(fx.file, fixtureDir));
const tmp = mkdtempSync(join(tmpdir(), "cinder-save-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const PYTHON = "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("../../../scripts/fixtures/save_load_fixtures.py", import.meta.url));
const hasTorch = spawnSync(PYTHON, ["-c", "import torch"], { stdio: "ignore" }).status === 0;

/** The fixture's model: the seeds' SimpleNet (fc1 -> ReLU -> fc2), small, with a BatchNorm between. */
class SimpleNet extends nn.Module {
  fc1 = new nn.Linear(12, 8);
  bn = new nn.BatchNorm1d(8);
  fc2 = new nn.Linear(8, 3);
  override forward(x: Tensor): Tensor {
    return this.fc2(this.bn(this.fc1(x).relu()));
  }
}

const values = (x: Tensor) => Array.from(x.double().data());
function expectSameState(a: Map<string, Tensor>, b: Map<string, Tensor>): void {
  expect([...a.keys()]).toEqual([...b.keys()]);
  for (const [key, x] of a) {
    const y = b.get(key)!;
    expect(y.dtype, key).toBe(x.dtype);
    expect([...y.shape], key).toEqual([...x.shape]);
    expect(values(y), key).toEqual(values(x));
  }
}

describe("a state dict saved by Python loads with load()", () => {
  it(`loads ${fx.file} (written by ${fx.writer}) with PyTorch's keys, values and eval output`, async () => {
    const sd = await nn.load(pyFile);
    expect(sd).toBeInstanceOf(Map);
    expect([...sd.keys()]).toEqual(fx.keys);
    for (const [key, v] of Object.entries(fx.state)) {
      // num_batches_tracked: int64, as in Python (the fixture's names follow fixture_encoding.py: "int32")
      expect(sd.get(key)!.dtype, key).toBe(key.endsWith("num_batches_tracked") ? "int64" : v.dtype);
      expect([...sd.get(key)!.shape], key).toEqual(v.shape);
      expect(values(sd.get(key)!), key).toEqual(v.values); // bit for bit
    }
    // as the seeds: model.load_state_dict(torch.load('mnist.pth'))
    const model = new SimpleNet();
    expect(String(model)).toBe(fx.repr);
    model.loadStateDict(await nn.load(pyFile));
    model.eval();
    expectClose(model(t(fx.input)), fx.output, "eval output");
  });
  it("loads the same file from bytes, a Blob, a Response, a file: URL and over http", async () => {
    const bytes = readFileSync(pyFile);
    const want = await nn.load(pyFile);
    expectSameState(want, await nn.load(bytes));
    expectSameState(want, await nn.load(new Blob([bytes])));
    expectSameState(want, await nn.load(new Response(bytes)));
    expectSameState(want, await nn.load(pathToFileURL(pyFile)));
    expectSameState(want, await nn.load(pathToFileURL(pyFile).href));
    const server = await serve(bytes);
    try {
      expectSameState(want, await nn.load(`${server.url}mnist.safetensors`));
      await expect(nn.load(`${server.url}missing`)).rejects.toThrow(
        /load\(\): fetching http:\/\/127\.0\.0\.1:\d+\/missing failed: 404/,
      );
    } finally {
      server.close();
    }
  });
});

describe("round trips", () => {
  it("save(stateDict, path) then load(path), as the seeds; atomic, readable by a fresh model", async () => {
    manualSeed(1);
    const model = new SimpleNet();
    model(randn(5, 12)); // moves the BatchNorm's running stats
    const dir = mkdtempSync(join(tmp, "file-"));
    const path = join(dir, "mnist.pth");
    const r = await nn.save(model.stateDict(), path);
    expect(r).toBeUndefined(); // PyTorch's returns None
    expect(readdirSync(dir)).toEqual(["mnist.pth"]); // no temporary file left
    const sd = await nn.load(path);
    expectSameState(model.stateDict(), sd);
    const copy = new SimpleNet();
    copy.loadStateDict(sd);
    model.eval();
    copy.eval();
    const x = randn(3, 12);
    expect(values(copy(x))).toEqual(values(model(x)));
    // the same bytes as saveSafetensors with PyTorch's "format" metadata
    const { metadata } = await nn.loadSafetensorsWithMetadata(path);
    expect(metadata).toEqual({ format: "pt" });
  });
  it("save(obj) returns the bytes; load takes Uint8Array, ArrayBuffer, DataView, Blob, Response and streams", async () => {
    const sd = new SimpleNet().stateDict();
    const bytes = await nn.save(sd);
    expect(bytes).toBeInstanceOf(Uint8Array);
    expectSameState(sd, await nn.load(bytes));
    expectSameState(sd, await nn.load(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)));
    expectSameState(sd, await nn.load(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)));
    expectSameState(sd, await nn.load(new Blob([bytes])));
    expectSameState(sd, await nn.load(new Response(bytes)));
    expectSameState(sd, await nn.load(new Blob([bytes]).stream()));
    // null for f is the same as leaving it out
    expect(await nn.save(sd, null)).toEqual(bytes);
  });
  it("saves to a file-like object (a Node FileHandle, a WritableStream) and loads from a FileHandle", async () => {
    const sd = new SimpleNet().stateDict();
    const path = join(tmp, "handle.safetensors");
    const fh = await open(path, "w");
    try {
      await nn.save(sd, fh);
    } finally {
      await fh.close();
    }
    expectSameState(sd, await nn.load(path));
    const rh = await open(path, "r");
    try {
      expectSameState(sd, await nn.load(rh));
    } finally {
      await rh.close();
    }
    const chunks: Uint8Array[] = [];
    await nn.save(sd, new WritableStream<Uint8Array>({ write: (c) => void chunks.push(c) }));
    expectSameState(sd, await nn.load(new Blob(chunks as Uint8Array<ArrayBuffer>[])));
  });
  it("keeps a state dict's key order, integer-like keys too (a Map: PyTorch's OrderedDict)", async () => {
    const sd = new Map([
      ["b", tensor([1])],
      ["10", tensor([2])],
      ["2", tensor([3])],
    ]);
    const back = await nn.load(await nn.save(sd));
    expect([...back.keys()]).toEqual(["b", "10", "2"]);
  });
  it("saves checkpoints with more than tensors (nested objects, Maps, arrays, numbers) and a single tensor", async () => {
    const model = new SimpleNet();
    const ckpt = {
      model: model.stateDict(),
      optimizer: {
        state: { 0: { step: 3, buf: tensor([0.5, 1.5]) } },
        paramGroups: [{ lr: 0.1, params: [0, 1] }],
      },
      epoch: 4,
      best: Number.POSITIVE_INFINITY,
      nan: Number.NaN,
      note: "seed 1",
      done: false,
      nothing: null,
      ids: new Map<number, Tensor>([[7, tensor([7])]]),
    };
    const bytes = await nn.save(ckpt);
    const back = await nn.load<typeof ckpt>(bytes);
    expect(Object.keys(back)).toEqual(Object.keys(ckpt));
    expect(back.model).toBeInstanceOf(Map);
    expectSameState(ckpt.model, back.model);
    expect(values(back.optimizer.state[0].buf)).toEqual([0.5, 1.5]);
    expect(back.optimizer.state[0].step).toBe(3);
    expect(back.optimizer.paramGroups).toEqual([{ lr: 0.1, params: [0, 1] }]);
    expect([back.epoch, back.best, back.note, back.done, back.nothing]).toEqual([
      4,
      Infinity,
      "seed 1",
      false,
      null,
    ]);
    expect(back.nan).toBeNaN();
    expect([...back.ids.keys()]).toEqual([7]);
    // the tensors are stored under dotted names, as Python sees them
    const { tensors } = nn.deserializeSafetensorsWithMetadata(bytes);
    expect([...tensors.keys()]).toEqual([
      ...[...ckpt.model.keys()].map((key) => `model.${key}`),
      "optimizer.state.0.buf",
      "ids.7",
    ]);
    // a single tensor, and a plain object of tensors (which comes back as an object)
    expect(values(await nn.load<Tensor>(await nn.save(tensor([1, 2, 3]))))).toEqual([1, 2, 3]);
    const rec = await nn.load<Record<string, Tensor>>(await nn.save({ w: tensor([1]), b: tensor([2]) }));
    expect(Object.keys(rec)).toEqual(["w", "b"]);
    expect(rec).not.toBeInstanceOf(Map);
  });
  it.skipIf(!hasTorch)(
    "what save() writes reads in Python (skipped when /usr/bin/python3 cannot import torch)",
    async () => {
      const model = new SimpleNet();
      const path = join(tmp, "to-python.safetensors");
      await nn.save({ model: model.stateDict(), epoch: 2 }, path);
      const r = spawnSync(PYTHON, [SCRIPT, "--read", path], { encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      const py = JSON.parse(r.stdout) as {
        metadata: Record<string, string>;
        tensors: Record<string, { dtype: string; values: number[] }>;
      };
      expect(py.metadata.format).toBe("pt");
      expect(Object.keys(py.tensors)).toEqual([...model.stateDict().keys()].map((key) => `model.${key}`));
      for (const [key, x] of model.stateDict())
        expect(py.tensors[`model.${key}`].values, key).toEqual(values(x));
    },
  );
});

describe("mapLocation (PyTorch's map_location)", () => {
  // a second device: the CPU backend under another name
  beforeAll(() => registerBackend(Object.create(cpu, { device: { value: "other" } })));
  afterAll(() => unregisterBackend("other"));

  it("a device, positionally or as an option, for a path or bytes", async () => {
    for (const sd of [
      await nn.load(pyFile, "other"),
      await nn.load(pyFile, { mapLocation: "other" }),
      await nn.load(readFileSync(pyFile), { mapLocation: "other" }),
    ]) {
      expect([...sd.values()].map((x) => x.device)).toEqual(fx.keys.map(() => "other"));
      expect(values(sd.get("fc1.weight")!)).toEqual(fx.state["fc1.weight"].values);
    }
    expect([...(await nn.load(pyFile, "cpu")).values()].every((x) => x.device === "cpu")).toBe(true);
  });
  it("a mapping from the stored location (cpu) to a device, as an option", async () => {
    const viaObject = await nn.load(pyFile, { mapLocation: { cpu: "other" } });
    expect(viaObject.get("fc2.bias")!.device).toBe("other");
    const viaMap = await nn.load(pyFile, new Map([["cpu", "other"]]));
    expect(viaMap.get("fc2.bias")!.device).toBe("other");
    const unmapped = await nn.load(pyFile, { mapLocation: { webgpu: "other" } });
    expect(unmapped.get("fc2.bias")!.device).toBe("cpu");
  });
  it("a function (tensor, location) => tensor, null keeping the tensor", async () => {
    const locations = new Set<string>();
    const sd = await nn.load(pyFile, (x: Tensor, loc: string) => {
      locations.add(loc);
      return x.dtype === "int64" ? null : x.to("other");
    });
    expect([...locations]).toEqual(["cpu"]);
    expect(sd.get("fc1.weight")!.device).toBe("other");
    expect(sd.get("bn.num_batches_tracked")!.device).toBe("cpu");
    await expect(nn.load(pyFile, () => 3 as unknown as Tensor)).rejects.toThrow(
      /map_location returned number for "fc1\.weight"; it must return a Tensor or null/,
    );
  });
  it("an unknown device is an error naming the registered ones", async () => {
    await expect(nn.load(pyFile, "tpu")).rejects.toThrow(/unknown device "tpu": registered devices are/);
  });
});

describe("signatures: PyTorch 1.13's torch.save and torch.load", () => {
  it("declares them with PyTorch's parameters; the pickle ones only take their defaults", async () => {
    expect(String(nn.save.signature)).toBe(
      "save(obj, f=None, pickleModule=None, pickleProtocol=2, _useNewZipfileSerialization=True)",
    );
    expect(nn.save.signature.torchName).toBe("torch.save");
    expect(String(nn.load.signature)).toBe(
      "load(f, mapLocation=None, pickleModule=None, *, weightsOnly=False)",
    );
    expect(nn.load.signature.torchName).toBe("torch.load");
    const sd = new SimpleNet().stateDict();
    const path = join(tmp, "sig.safetensors");
    // the defaults, positionally and as options, are accepted
    await nn.save(sd, path, null, 2, true);
    await nn.save(sd, path, { pickleProtocol: 2, _useNewZipfileSerialization: true });
    expectSameState(sd, await nn.load(path, null, null, { weightsOnly: true }));
    expectSameState(sd, await nn.load(path, { weightsOnly: false }));
    // anything else is an ArgumentError that says why
    await expect(nn.save(sd, path, { pickleProtocol: 4 })).rejects.toThrow(ArgumentError);
    await expect(nn.save(sd, path, { pickleProtocol: 4 })).rejects.toThrow(
      /save\(\): argument "pickleProtocol" must be 2 \(Cinder writes safetensors, never pickle\)/,
    );
    await expect(nn.load(path, null, "pickle" as never)).rejects.toThrow(
      /load\(\): argument "pickleModule" must be None \(Cinder reads safetensors, never pickle\)/,
    );
    await expect(nn.load(path, { mmap: true } as never)).rejects.toThrow(/unknown option "mmap"/);
    await expect(nn.load(42 as never)).rejects.toThrow(/load\(\): argument "f" must be str/);
  });
});

describe("clear errors", () => {
  it("save with the file first gives the order (PyTorch's torch.save(obj, f))", async () => {
    const sd = new SimpleNet().stateDict();
    await expect(nn.save("mnist.pth" as never, sd as never)).rejects.toThrow(
      'save(): the object comes first, then the file: save(obj, f), as PyTorch\'s torch.save(obj, f); got the string "mnist.pth" first (write torch.save(model.stateDict(), "mnist.pth"))',
    );
  });
  it("saveSafetensors with the path first gives Python's order (tensors, path)", async () => {
    const sd = new SimpleNet().stateDict();
    const swapped = nn.saveSafetensors as unknown as (a: unknown, b: unknown) => Promise<void>;
    const message =
      /^saveSafetensors: the first argument must be the tensors \(a Map or an object of name -> Tensor\), got string "m\.safetensors" \(a path\? the tensors come first, then the path\); the order is saveSafetensors\(tensors, path, metadata\?\), as Python's safetensors\.torch\.save_file\(tensors, filename, metadata\)$/;
    await expect(swapped("m.safetensors", sd)).rejects.toThrow(message);
    await expect(swapped(sd, sd)).rejects.toThrow(
      /saveSafetensors: the second argument must be the path \(a non-empty string\), got Map; the order is saveSafetensors\(tensors, path/,
    );
    expect(() => nn.serializeSafetensors("x" as never)).toThrow(
      /serializeSafetensors: the first argument must be the tensors .* the order is serializeSafetensors\(tensors, metadata\?\), as Python's safetensors\.torch\.save\(tensors, metadata\)/,
    );
    await expect(nn.loadSafetensors(sd as never)).rejects.toThrow(
      /loadSafetensors: the first argument must be the path \(a non-empty string\), got Map; the order is loadSafetensors\(path, \{ device \}\?\)/,
    );
  });
  it("saving a module, or values that are not tensors or plain data, says what to do", async () => {
    const model = new SimpleNet();
    await expect(nn.save(model)).rejects.toThrow(
      /save\(\): obj is a module \(SimpleNet\); PyTorch would pickle the module's code, Cinder saves tensors: torch\.save\(model\.stateDict\(\), f\)/,
    );
    await expect(nn.save({ a: { fn: () => 1 } })).rejects.toThrow(
      /cannot save obj\["a"\]\["fn"\] \(function\)/,
    );
    await expect(nn.save({ when: new Date() })).rejects.toThrow(/cannot save obj\["when"\] \(Date\)/);
    const loop: Record<string, unknown> = { t: tensor([1]) };
    loop.self = loop;
    await expect(nn.save(loop)).rejects.toThrow(/obj\["self"\] contains itself/);
    await expect(nn.save({ "a.b": tensor([1]), a: { b: tensor([2]) } })).rejects.toThrow(
      /obj\["a"\]\["b"\] and obj\["a\.b"\] would both be stored as the tensor "a\.b"/,
    );
    await expect(nn.save(model.stateDict(), "https://example.com/m.safetensors")).rejects.toThrow(
      /cannot write to https:\/\/example\.com\/m\.safetensors/,
    );
  });
  it("truncated bytes and a wrong header name the byte offset", async () => {
    const bytes = readFileSync(pyFile);
    await expect(nn.load(bytes.subarray(0, bytes.length - 10))).rejects.toThrow(
      /^safetensors: <bytes>: tensor "fc2\.bias": data_offsets \[\d+, \d+\] are out of range of the \d+ data bytes \(at byte \d+ of the file\)$/,
    );
    await expect(nn.load(bytes.subarray(0, 5))).rejects.toThrow(
      /file is too short \(5 bytes\).* \(at byte 0 of the file\)/,
    );
    await expect(nn.load(bytes.subarray(0, 40))).rejects.toThrow(
      /header length \d+ is beyond the end of the file \(40 bytes\) \(at byte 0 of the file\)/,
    );
    const wrong = new Uint8Array(bytes);
    wrong[8] = 0x5b; // "[" where the header's "{" is
    await expect(nn.load(wrong)).rejects.toThrow(nn.SafetensorsError);
    await expect(nn.load(wrong)).rejects.toThrow(
      /<bytes>: the header is not valid JSON .*\(at byte \d+ of the file\)/,
    );
    // a file keeps its path in the message
    const path = join(tmp, "truncated.pth");
    writeFileSync(path, bytes.subarray(0, bytes.length - 10));
    await expect(nn.load(path)).rejects.toThrow(/truncated\.pth: tensor "fc2\.bias": data_offsets/);
  });
  it("a PyTorch pickle checkpoint (Python's torch.save) is named as such", async () => {
    const zip = new Uint8Array(64);
    zip.set([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0x08, 0x00]);
    await expect(nn.load(zip)).rejects.toThrow(
      /this is a PyTorch pickle checkpoint .*not safetensors; Cinder never reads pickle: in Python, save with safetensors\.torch\.save_file\(model\.state_dict\(\), 'model\.safetensors'\) \(at byte 0 of the file\)/,
    );
    const legacy = new Uint8Array([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20]);
    await expect(nn.load(legacy)).rejects.toThrow(/PyTorch pickle checkpoint/);
  });
  it("a layout that names a tensor the file lacks is a SafetensorsError", async () => {
    const bytes = nn.serializeSafetensors({ a: tensor([1]) }, { "cinder.layout": '{"tensor":"b"}' });
    await expect(nn.load(bytes)).rejects.toThrow(
      /load\(\): <bytes>: the "cinder\.layout" metadata is not valid: it names the tensor "b", which the file does not hold/,
    );
  });
  it("indexeddb:// needs IndexedDB (Node has none) and missing files name their path", async () => {
    const sd = new SimpleNet().stateDict();
    await expect(nn.save(sd, "indexeddb://m")).rejects.toThrow(
      /save\(\): "indexeddb:\/\/" needs IndexedDB, which this environment does not have \(Node: use a file path\)/,
    );
    await expect(nn.load("indexeddb://m")).rejects.toThrow(/load\(\): "indexeddb:\/\/" needs IndexedDB/);
    await expect(nn.load(join(tmp, "nope.pth"))).rejects.toThrow(/ENOENT.*nope\.pth/);
  });
});

/** An HTTP server on 127.0.0.1 answering every path but /missing with `body`. */
async function serve(body: Uint8Array): Promise<{ url: string; close: () => void }> {
  const server: Server = createServer((req, res) => {
    if (req.url === "/missing") {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream" }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => server.close() };
}
