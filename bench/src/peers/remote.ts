/**
 * A peer in a child process, driven over JSON lines on stdin/stdout: PyTorch (Python) and Cinder on WebGPU
 * (a Node worker, so that a crash or hang in Dawn costs one column, not the run). The child is started once
 * and answers requests one at a time, so its samples interleave with the in-process peers'. It times its own
 * loops; pipe latency is not counted.
 *
 *   <- {"ready": true, "notes": [...], "tasks": [...]?, ...}    first line, or {"error": "..."}
 *   -> {"cmd": "check",   "task": {...}, "inputs": {...}}   <- {"out": <base64 float32>}
 *   -> {"cmd": "prepare", "task": {...}, "inputs": {...}}   <- {"ok": true}
 *   -> {"cmd": "run", "iters": n}                            <- {"ms": mean ms per iteration}
 *   -> {"cmd": "dispose"} / {"cmd": "quit"}
 *
 * An input is {"shape": [...], "dtype": "float32" | "int32", "b64": little-endian bytes}.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { Peer, Prepared } from "../peer";
import type { Input, Inputs, Task } from "../tasks";

export interface Reply {
  error?: string;
  out?: string;
  ms?: number;
  ok?: boolean;
  ready?: boolean;
  notes?: string[];
  /** Task ids the child runs (default: every task that is not GPU-only). */
  tasks?: string[];
  [key: string]: unknown;
}

export interface WireInput {
  shape: readonly number[];
  dtype: "float32" | "int32";
  b64: string;
}

export function encodeInputs(inputs: Inputs): Record<string, WireInput> {
  const out: Record<string, WireInput> = {};
  for (const [k, v] of Object.entries(inputs)) {
    const bytes = Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength);
    out[k] = {
      shape: v.shape,
      dtype: v.data instanceof Int32Array ? "int32" : "float32",
      b64: bytes.toString("base64"),
    };
  }
  return out;
}

export function decodeInputs(wire: Record<string, WireInput>): Inputs {
  const out: Record<string, Input> = {};
  for (const [k, v] of Object.entries(wire)) {
    const buf = Buffer.from(v.b64, "base64");
    const bytes = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    out[k] = { shape: v.shape, data: v.dtype === "int32" ? new Int32Array(bytes) : new Float32Array(bytes) };
  }
  return out;
}

export const encodeFloats = (x: Float32Array): string =>
  Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString("base64");

export function decodeFloats(b64: string): Float32Array {
  const buf = Buffer.from(b64, "base64");
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

export interface RemoteOptions {
  id: string;
  label: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Longest wait for one reply before the child is killed and the peer dropped (default 10 minutes). */
  timeoutMs?: number;
  /** Pause after each timed sample (untimed), e.g. while the child's idle threads stop spinning. */
  cooldownMs?: number;
}

export class RemotePeer implements Peer {
  readonly id: string;
  readonly label: string;
  readonly notes: string[] = [];
  /** The child's first line. */
  info: Reply = {};
  private readonly waiting: ((r: Reply) => void)[] = [];
  private exited = false;
  private stderr = "";

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly o: RemoteOptions,
  ) {
    this.id = o.id;
    this.label = o.label;
    createInterface({ input: child.stdout }).on("line", (line) => {
      let r: Reply;
      try {
        r = JSON.parse(line) as Reply;
      } catch {
        r = { error: `unexpected output: ${line.slice(0, 200)}` };
      }
      this.waiting.shift()?.(r);
    });
    child.stdin.on("error", () => undefined); // EPIPE after the child died: reported by "exit" below
    child.stderr.on("data", (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-2000);
    });
    child.on("exit", (code, signal) => {
      this.exited = true;
      const why = signal ? `signal ${signal}` : `code ${code}`;
      const tail = this.stderr.trim().split("\n").slice(-3).join(" | ");
      for (const w of this.waiting.splice(0))
        w({ error: `${o.label} process exited (${why})${tail ? `: ${tail}` : ""}` });
    });
  }

  /** Starts the child and waits for its first line; a string explains why there is no such peer. */
  static async create(o: RemoteOptions): Promise<RemotePeer | string> {
    const child = spawn(o.command, o.args, { stdio: ["pipe", "pipe", "pipe"], env: o.env ?? process.env });
    const spawned = await new Promise<string | null>((resolve) => {
      child.once("spawn", () => resolve(null));
      child.once("error", (e) => resolve(e.message));
    });
    if (spawned) return spawned;
    const peer = new RemotePeer(child, o);
    const info = await peer.receive(o.timeoutMs ?? 120_000);
    if (!info.ready) {
      await peer.close();
      return info.error ?? `${o.label} did not start`;
    }
    peer.info = info;
    peer.notes.push(...(info.notes ?? []));
    return peer;
  }

  private receive(timeoutMs: number): Promise<Reply> {
    if (this.exited) return Promise.resolve({ error: `${this.label} process is not running` });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.child.kill("SIGKILL");
        resolve({
          error: `${this.label} gave no answer in ${Math.round(timeoutMs / 1000)} s; process killed`,
        });
      }, timeoutMs);
      this.waiting.push((r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
  }

  private async call(msg: Record<string, unknown>): Promise<Reply> {
    const reply = this.receive(this.o.timeoutMs ?? 600_000);
    if (!this.exited) this.child.stdin.write(`${JSON.stringify(msg)}\n`);
    const r = await reply;
    if (r.error) throw new Error(r.error);
    return r;
  }

  supports(task: Task): boolean {
    return this.info.tasks ? this.info.tasks.includes(task.id) : !task.gpuOnly;
  }

  async check(task: Task, inputs: Inputs): Promise<Float32Array> {
    const r = await this.call({ cmd: "check", task, inputs: encodeInputs(inputs) });
    return decodeFloats(r.out ?? "");
  }

  async prepare(task: Task, inputs: Inputs): Promise<Prepared> {
    await this.call({ cmd: "prepare", task, inputs: encodeInputs(inputs) });
    return {
      run: async (iters) => {
        const ms = (await this.call({ cmd: "run", iters })).ms ?? Number.NaN;
        if (this.o.cooldownMs) await new Promise((r) => setTimeout(r, this.o.cooldownMs));
        return ms;
      },
      dispose: async () => {
        if (!this.exited) await this.call({ cmd: "dispose" });
      },
    };
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise((r) => this.child.once("exit", r));
    this.child.stdin.write(`${JSON.stringify({ cmd: "quit" })}\n`);
    this.child.stdin.end();
    await Promise.race([done, new Promise((r) => setTimeout(r, 3000))]);
    if (!this.exited) this.child.kill("SIGKILL");
  }
}

/** The child side of the protocol, for a peer written in TypeScript: answers requests until "quit". */
export async function serve(peer: Peer, info: Reply): Promise<void> {
  const send = (r: Reply) => process.stdout.write(`${JSON.stringify(r)}\n`);
  const errMsg = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0];
  send({ ...info, ready: true, notes: peer.notes });
  let prepared: Prepared | undefined;
  for await (const line of createInterface({ input: process.stdin })) {
    const msg = JSON.parse(line) as {
      cmd: string;
      task?: Task;
      inputs?: Record<string, WireInput>;
      iters?: number;
    };
    if (msg.cmd === "quit") break;
    try {
      if (msg.cmd === "check" && msg.task && msg.inputs) {
        send({ out: encodeFloats(await peer.check(msg.task, decodeInputs(msg.inputs))) });
      } else if (msg.cmd === "prepare" && msg.task && msg.inputs) {
        await prepared?.dispose();
        prepared = await peer.prepare(msg.task, decodeInputs(msg.inputs));
        send({ ok: true });
      } else if (msg.cmd === "run" && prepared) {
        send({ ms: await prepared.run(msg.iters ?? 1) });
      } else if (msg.cmd === "dispose") {
        await prepared?.dispose();
        prepared = undefined;
        send({ ok: true });
      } else send({ error: `bad request: ${line.slice(0, 100)}` });
    } catch (e) {
      send({ error: errMsg(e) });
    }
  }
}
