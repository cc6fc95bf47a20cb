/**
 * Safetensors: files written by PyTorch (scripts/fixtures/nn_fixtures.py, with a hand-written writer) load into
 * Cinder models and reproduce PyTorch's outputs; files Cinder writes read back in Python; every kind of
 * corrupt or truncated file fails with an error naming the file, the tensor and the offsets.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { arange, randn, type Tensor, tensor } from "@cinder/tensor";
import { afterAll, describe, expect, it } from "vitest";
import * as nn from "../src";
import { expectClose, fixture, fixtureDir, type T, t } from "./helpers";

const st = fixture.safetensors;
const file = (name: string) => fileURLToPath(new URL(name, fixtureDir));
const tmp = mkdtempSync(join(tmpdir(), "cinder-st-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const PYTHON = "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("../../../scripts/fixtures/nn_fixtures.py", import.meta.url));
const hasTorch = spawnSync(PYTHON, ["-c", "import torch"], { stdio: "ignore" }).status === 0;

function mlp(): nn.Sequential {
  return new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.BatchNorm1d(8), new nn.Linear(8, 3));
}

describe("loading PyTorch's safetensors", () => {
  it("loads a PyTorch model's state dict and reproduces its eval output", async () => {
    const sd = await nn.loadSafetensors(file(st.model_file));
    expect([...sd.keys()]).toEqual(st.model_keys);
    // num_batches_tracked was I64 in the file: int64, as PyTorch's
    expect(sd.get("2.num_batches_tracked")!.dtype).toBe("int64");
    for (const [k, v] of Object.entries(st.model_state as Record<string, T>)) expectClose(sd.get(k), v, k);
    const model = mlp();
    expect(String(model)).toBe(st.model_repr);
    model.loadStateDict(sd);
    model.eval();
    expectClose(model(t(st.model_input)), st.model_output, "model output");
  });
  it("converts every stored dtype (F16/BF16 as float16/bfloat16, I64 as int64) and reads the metadata", async () => {
    const { tensors, metadata } = await nn.loadSafetensorsWithMetadata(file(st.dtypes_file));
    expect(metadata).toEqual(st.dtypes_metadata);
    for (const [name, spec] of Object.entries(st.dtypes as Record<string, { stored: string; loaded: T }>)) {
      const x = tensors.get(name)!;
      // (the fixture's dtype names follow fixture_encoding.py, where PyTorch's int64 is "int32")
      expect(x.dtype, name).toBe(spec.stored === "I64" ? "int64" : spec.loaded.dtype);
      expectClose(x, spec.loaded, `${name} (${spec.stored})`, 0);
    }
  });
  it("F16/BF16 load as their bits and save back byte for byte", async () => {
    const bytes = readFileSync(file(st.dtypes_file));
    const { tensors, metadata } = nn.deserializeSafetensorsWithMetadata(bytes, "dtypes");
    const again = nn.serializeSafetensors(tensors, metadata);
    const back = nn.deserializeSafetensors(again, "again");
    for (const name of ["f16", "bf16"]) {
      expect(back.get(name)!.data(), name).toEqual(tensors.get(name)!.data());
      expect(back.get(name)!.data(), name).toBeInstanceOf(Uint16Array);
    }
  });
  it("loads I64 values past int32 exactly as int64; past 2^53 - 1 is an error naming the tensor, value and offsets", async () => {
    const f = file(st.overflow_file);
    expect((await nn.loadSafetensors(f)).get("steps")!.toArray()).toContain(1099511627776);
    const header = new TextEncoder().encode('{"big":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}   ');
    const bytes = new Uint8Array(8 + header.length + 16);
    const dv = new DataView(bytes.buffer);
    dv.setBigUint64(0, BigInt(header.length), true);
    bytes.set(header, 8);
    dv.setBigInt64(8 + header.length, -5n, true);
    dv.setBigInt64(16 + header.length, 2n ** 53n, true);
    expect(() => nn.deserializeSafetensors(bytes, "big.safetensors")).toThrow(
      /big\.safetensors: tensor "big" \(data_offsets \[0, 16\]\): I64 value 9007199254740992 at index 1 is outside the int64 range Cinder stores exactly/,
    );
  });
});

describe("writing safetensors", () => {
  it("round-trips every Cinder dtype in memory, writing non-contiguous tensors as contiguous copies", () => {
    const base = randn(3, 4);
    const map = new Map<string, Tensor>([
      ["f32_transposed", base.t()],
      ["f64", randn(2, 2, { dtype: "float64" })],
      ["i32", tensor([-7, 0, 2147483647])],
      ["u8", tensor([0, 255], { dtype: "uint8" })],
      ["bool", tensor([true, false, true])],
      ["scalar", tensor(1.5)],
      ["empty", randn(0, 3)],
      ["sliced", arange(10).at("1::3")],
      ["f16", tensor([0.1, -65504, Number.NaN], { dtype: "float16" })],
      ["bf16_transposed", randn(2, 3).bfloat16().t()],
    ]);
    const bytes = nn.serializeSafetensors(map, { framework: "cinder" });
    // header length is a multiple of 8
    expect(Number(new DataView(bytes.buffer).getBigUint64(0, true)) % 8).toBe(0);
    const back = nn.deserializeSafetensorsWithMetadata(bytes, "mem");
    expect(back.metadata).toEqual({ framework: "cinder" });
    expect([...back.tensors.keys()]).toEqual([...map.keys()]);
    for (const [k, v] of map) {
      const r = back.tensors.get(k)!;
      expect(r.dtype, k).toBe(v.dtype);
      expect([...r.shape], k).toEqual([...v.shape]);
      expect(r.toArray(), k).toEqual(v.toArray());
    }
  });
  it("saves atomically: the target is replaced, no temporary file is left, a failed write leaves nothing", async () => {
    const path = join(tmp, "atomic.safetensors");
    writeFileSync(path, "old contents");
    await nn.saveSafetensors({ a: tensor([1, 2, 3]) }, path);
    expect(readdirSync(tmp)).toEqual(["atomic.safetensors"]);
    expect((await nn.loadSafetensors(path)).get("a")!.toArray()).toEqual([1, 2, 3]);
    await expect(
      nn.saveSafetensors({ a: tensor([1]) }, join(tmp, "no-such-dir", "x.safetensors")),
    ).rejects.toThrow(/ENOENT/);
    expect(readdirSync(tmp)).toEqual(["atomic.safetensors"]);
  });
  it("removes the stale temporary files of the same target that a killed save left, and only those", async () => {
    const dir = mkdtempSync(join(tmp, "stale-"));
    const path = join(dir, "model.safetensors");
    // a process that has exited: its temporary files are stale
    const dead = spawnSync(process.execPath, ["-e", ""]).pid!;
    const stale = [`model.safetensors.tmp-${dead}-k3j2h1`, `model.safetensors.tmp-${process.pid}-zz9`];
    const kept = [
      // the save of a live process (this test's parent) may still be under way
      `model.safetensors.tmp-${process.ppid}-live1`,
      // other targets, or names that only look alike
      `other.safetensors.tmp-${dead}-k3j2h1`,
      `xmodel.safetensors.tmp-${dead}-abc`,
      `model.safetensors.tmp-notes.txt`,
      "model.safetensors.bak",
    ];
    for (const name of [...stale, ...kept]) writeFileSync(join(dir, name), "partial");
    await nn.saveSafetensors({ a: tensor([1, 2]) }, path);
    expect(readdirSync(dir).sort()).toEqual(["model.safetensors", ...kept].sort());
    expect((await nn.loadSafetensors(path)).get("a")!.toArray()).toEqual([1, 2]);
  });
  it("concurrent saves to one target each succeed (one does not remove the other's temporary file)", async () => {
    const dir = mkdtempSync(join(tmp, "concurrent-"));
    const path = join(dir, "m.safetensors");
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => nn.saveSafetensors({ a: randn(1000), i: tensor([i]) }, path)),
    );
    expect(readdirSync(dir)).toEqual(["m.safetensors"]);
    expect((await nn.loadSafetensors(path)).get("a")!.shape).toEqual([1000]);
  });
  it("validates what it is asked to write", () => {
    expect(() => nn.serializeSafetensors({ __metadata__: tensor([1]) })).toThrow(/reserved/);
    expect(() => nn.serializeSafetensors({ a: tensor([1]) }, { n: 1 as unknown as string })).toThrow(
      /metadata values must be strings/,
    );
    expect(() => nn.serializeSafetensors({ a: [1] as unknown as Tensor })).toThrow(/not a Tensor/);
  });
  it.skipIf(!hasTorch)(
    "a file Cinder writes reads back equal in Python (skipped when /usr/bin/python3 cannot import torch)",
    async () => {
      const model = mlp();
      model(randn(6, 4));
      class Odd extends nn.Module {
        // a parameter that is a non-contiguous view
        w = new nn.Parameter(randn(3, 2).t());
      }
      const path = join(tmp, "from-cinder.safetensors");
      const sd = new Map([...model.stateDict(), ...new Odd().stateDict()]);
      sd.set("flags", tensor([true, false]));
      await nn.saveSafetensors(sd, path, { producer: "cinder" });
      const r = spawnSync(PYTHON, [SCRIPT, "--read", path], { encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      const py = JSON.parse(r.stdout) as {
        metadata: Record<string, string>;
        tensors: Record<string, { dtype: string; shape: number[]; values: number[] }>;
      };
      expect(py.metadata).toEqual({ producer: "cinder" });
      expect(Object.keys(py.tensors)).toEqual([...sd.keys()]);
      const names: Record<string, string> = {
        float32: "F32",
        float64: "F64",
        int32: "I32",
        int64: "I64",
        uint8: "U8",
        bool: "BOOL",
      };
      for (const [k, v] of sd) {
        expect(py.tensors[k].dtype, k).toBe(names[v.dtype]);
        expect(py.tensors[k].shape, k).toEqual([...v.shape]);
        expect(py.tensors[k].values, k).toEqual(Array.from(v.double().data()));
      }
    },
  );
});

/** A safetensors file from a header object (or raw header text) and data bytes. */
function build(header: unknown, data: Uint8Array | number = 0, headerLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const body = typeof data === "number" ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + body.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(body, 8 + json.length);
  return out;
}

describe("corrupt and truncated files give clear errors", () => {
  const f32 = (shape: number[], begin: number, end: number) => ({
    dtype: "F32",
    shape,
    data_offsets: [begin, end],
  });
  const cases: [string, Uint8Array, RegExp][] = [
    ["shorter than 8 bytes", new Uint8Array(5), /bad\.st: file is too short \(5 bytes\)/],
    [
      "header length beyond the file",
      build({}, 0, 1000n),
      /bad\.st: header length 1000 is beyond the end of the file \(10 bytes\)/,
    ],
    [
      "header not JSON",
      build("{not json"),
      /bad\.st: the header is not valid JSON .*\(at byte 9 of the file\)/,
    ],
    ["header not an object", build("[1, 2]"), /bad\.st: the header must be a JSON object/],
    [
      "unknown dtype",
      build({ w: { dtype: "C64", shape: [1], data_offsets: [0, 8] } }, 8),
      /bad\.st: tensor "w": unknown dtype "C64"/,
    ],
    [
      "bad shape",
      build({ w: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, 4),
      /tensor "w": shape must be a list of non-negative integers/,
    ],
    [
      "bad offsets",
      build({ w: { dtype: "F32", shape: [1], data_offsets: [0] } }, 4),
      /tensor "w": data_offsets must be \[begin, end\]/,
    ],
    [
      "offsets out of range",
      build({ w: f32([4], 0, 16) }, 8),
      /bad\.st: tensor "w": data_offsets \[0, 16\] are out of range of the 8 data bytes/,
    ],
    [
      "begin after end",
      build({ w: f32([0], 8, 4) }, 8),
      /tensor "w": data_offsets \[8, 4\] are out of range/,
    ],
    [
      "shape and byte length disagree",
      build({ w: f32([3], 0, 8) }, 8),
      /bad\.st: tensor "w": shape \[3\] of F32 needs 12 bytes but data_offsets \[0, 8\] hold 8/,
    ],
    [
      "overlapping tensors",
      build({ a: f32([2], 0, 8), b: f32([2], 4, 12) }, 12),
      /bad\.st: tensors "a" \(data_offsets \[0, 8\]\) and "b" \(data_offsets \[4, 12\]\) overlap/,
    ],
    ["metadata not strings", build({ __metadata__: { a: 1 } }), /__metadata__ value for "a" is not a string/],
    // what the format forbids beyond that: the tensors must cover the data section exactly, keys are unique, and
    // the header is at most 100,000,000 bytes
    [
      "a hole between tensors (100 unindexed bytes)",
      build({ a: f32([1], 0, 4), b: f32([1], 104, 108) }, 108),
      /bad\.st: data bytes \[4, 104\) belong to no tensor: "a" \(data_offsets \[0, 4\]\) ends at 4 but the next, "b" \(data_offsets \[104, 108\]\), begins at 104; the format requires the tensors to cover the data contiguously \(at byte 123 of the file\)/,
    ],
    [
      "data starting at offset 4",
      build({ a: f32([1], 4, 8) }, 8),
      /bad\.st: data bytes \[0, 4\) belong to no tensor: the first tensor, "a" \(data_offsets \[4, 8\]\), begins at 4.* \(at byte 62 of the file\)/,
    ],
    [
      "bytes after the last tensor",
      build({ a: f32([1], 0, 4) }, 8),
      /bad\.st: data bytes \[4, 8\) belong to no tensor: the last tensor, "a" \(data_offsets \[0, 4\]\), ends at 4 but the data section holds 8 bytes.* \(at byte 66 of the file\)/,
    ],
    [
      "data but no tensors",
      build({}, 8),
      /bad\.st: data bytes \[0, 8\) belong to no tensor: the header lists no tensors but the data section holds 8 bytes; .* \(at byte 10 of the file\)/,
    ],
    [
      "a zero-size tensor inside another",
      build({ a: f32([2], 0, 8), b: f32([0], 4, 4) }, 8),
      /tensors "a" \(data_offsets \[0, 8\]\) and "b" \(data_offsets \[4, 4\]\) overlap/,
    ],
    [
      "a duplicate tensor name",
      build(
        '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
        8,
      ),
      /bad\.st: the header repeats the key "a" \(first at byte 9\); keys must be unique \(at byte 62 of the file\)/,
    ],
    [
      "a duplicate name spelled with an escape",
      build(
        '{"ab":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a\\u0062":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
        8,
      ),
      /the header repeats the key "ab" \(first at byte 9\); keys must be unique \(at byte 63 of the file\)/,
    ],
    [
      "a duplicate field inside an entry",
      build('{"w":{"dtype":"F32","shape":[1],"dtype":"F64","data_offsets":[0,4]}}', 4),
      /bad\.st: the header repeats the key "dtype" inside "w" \(first at byte 14\); keys must be unique \(at byte 40 of the file\)/,
    ],
    [
      "a duplicate metadata key",
      build('{"__metadata__":{"k":"1","k":"2"}}'),
      /the header repeats the key "k" inside "__metadata__" \(first at byte 25\)/,
    ],
    [
      "a header length over the format's 100 MB limit",
      build({}, 0, 100_000_001n),
      /bad\.st: header length 100000001 exceeds the safetensors format's limit of 100,000,000 bytes \(100 MB\) \(at byte 0 of the file\)/,
    ],
    [
      "a header of exactly 100 MB is not refused for its size",
      build({}, 0, 100_000_000n),
      /header length 100000000 is beyond the end of the file/,
    ],
  ];
  for (const [what, bytes, msg] of cases) {
    it(what, () => {
      expect(() => nn.deserializeSafetensors(bytes, "bad.st")).toThrow(msg);
      expect(() => nn.deserializeSafetensors(bytes, "bad.st")).toThrow(nn.SafetensorsError);
      // every message says where in the file the problem is
      expect(() => nn.deserializeSafetensors(bytes, "bad.st")).toThrow(/\(at byte \d+ of the file\)$/);
    });
  }
  it("refuses a header over 100 MB at once, without reading it", () => {
    const bytes = new Uint8Array(8 + 100_000_008);
    new DataView(bytes.buffer).setBigUint64(0, 100_000_008n, true);
    bytes[8] = 0x7b;
    const t0 = performance.now();
    expect(() => nn.deserializeSafetensors(bytes, "big.st")).toThrow(/limit of 100,000,000 bytes/);
    expect(performance.now() - t0).toBeLessThan(500);
  });
  it("a truncated file names the file, the tensor and its offsets", async () => {
    const full = readFileSync(file(st.model_file));
    const path = join(tmp, "truncated.safetensors");
    writeFileSync(path, full.subarray(0, full.length - 10));
    await expect(nn.loadSafetensors(path)).rejects.toThrow(
      /truncated\.safetensors: tensor "3\.bias": data_offsets \[\d+, \d+\] are out of range of the \d+ data bytes/,
    );
    writeFileSync(path, full.subarray(0, 20));
    await expect(nn.loadSafetensors(path)).rejects.toThrow(
      /truncated\.safetensors: header length \d+ is beyond the end of the file \(20 bytes\)/,
    );
  });
  it("tensors come in file order, integer-like names too", () => {
    // a raw header: a JS object literal would put "10" and "2" first itself
    const entry = (begin: number) => JSON.stringify(f32([1], begin, begin + 4));
    const bytes = build(`{"b":${entry(0)},"10":${entry(4)},"2":${entry(8)}}`, 12);
    expect([...nn.deserializeSafetensors(bytes).keys()]).toEqual(["b", "10", "2"]);
  });
  it("zero-size tensors may share an offset", () => {
    const bytes = build({ a: f32([0], 4, 4), b: f32([1], 0, 4) }, 4);
    expect([...nn.deserializeSafetensors(bytes).keys()]).toEqual(["a", "b"]);
  });
});
