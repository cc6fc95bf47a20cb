/**
 * A `DataParallel` replica (a worker thread started by `ReplicaPool`): it keeps the traces it was sent, reads the
 * module's parameters and buffers from shared memory at each forward, replays the trace on its chunk with
 * autograd, and on backward computes the parameter gradients from its outputs' gradients (`autograd.grad`) and
 * writes them into its shared gradient buffers. Every request that expects an answer gets one in the mailbox, an
 * error included (the calling thread waits there).
 */
import { grad } from "@cinder/autograd";
import {
  graphOwned,
  manualSeed,
  registerBackend,
  registeredDevices,
  type Tensor,
  tidy,
} from "@cinder/tensor";
import { nodeModule } from "./node";
import { fromData, type ReplicaTrace, replay, tensorLeaves } from "./replica";
import { answer, type ReplicaInit, type ReplicaRequest, type SharedSlot, slotView } from "./replica-pool";

/** The last forward's graph, kept for its backward. */
interface Pending {
  outputs: Tensor[];
  params: Tensor[];
  /** The state index of each of `params`. */
  index: number[];
  /** The inputs that require grad, with their gradient slots and flag positions. */
  inputs: { t: Tensor; slot: SharedSlot; flag: number }[];
  /** Every tensor the forward made here (inputs, state copies, outputs), disposed once the graph is done with. */
  made: Tensor[];
}

/**
 * Dispose tensors nobody else sees: without it, a replica's per-step copies of the state would wait for the garbage
 * collector, which then runs for milliseconds each step (a tensor disposes once, views independently).
 */
const release = (ts: readonly (Tensor | null | undefined)[]) => {
  for (const t of ts) t?.dispose();
};

/** Serves one replica's requests until the worker is ended (the entry the bootstrap calls). */
export async function serveReplica(init: ReplicaInit): Promise<void> {
  if (!registeredDevices().includes("cpu")) {
    let backend: { cpu: Parameters<typeof registerBackend>[0] };
    try {
      backend = (await import("@cinder/backend-cpu")) as never;
    } catch (e) {
      throw new Error(
        `DataParallel's replicas run on @cinder/backend-cpu, which cannot be imported here: ${e}`,
      );
    }
    registerBackend(backend.cpu);
  }
  manualSeed(init.seed);
  let state: SharedSlot[] = [];
  let grads: (SharedSlot | null)[] = [];
  let hasGrad: Int32Array<ArrayBufferLike> = new Int32Array(0);
  const traces = new Map<number, { trace: ReplicaTrace; outputs: SharedSlot[] }>();
  let pending: Pending | null = null;

  const handle = (m: ReplicaRequest): void => {
    switch (m.kind) {
      case "state":
        state = m.state;
        grads = m.grads;
        hasGrad = new Int32Array(m.hasGrad);
        return;
      case "trace":
        traces.set(m.id, { trace: m.trace, outputs: m.outputs });
        return;
      case "forward": {
        if (pending !== null) release(pending.made);
        pending = null;
        const t = traces.get(m.trace);
        if (t === undefined) throw new Error(`internal: trace ${m.trace} was not sent`);
        const index: number[] = [];
        const params: Tensor[] = [];
        const values = state.map((s, i) => {
          const v = fromData({ dtype: s.dtype, shape: s.shape, data: slotView(s) });
          if (m.grad && grads[i] !== null) {
            v.requiresGrad_(true);
            index.push(i);
            params.push(v);
          }
          return v;
        });
        const inputs = m.inputs.map(fromData);
        const needInputs = m.inputGrads.flatMap((slot, i) =>
          slot === null ? [] : [{ t: inputs[i].requiresGrad_(true), slot, flag: state.length + i }],
        );
        const write = (outputs: Tensor[]) => {
          for (const [i, o] of outputs.entries()) slotView(t.outputs[i]).set(o.data() as ArrayLike<number>);
        };
        if (!m.grad) {
          // nothing outlives the request: every tensor the replay makes goes at the end of the scope
          tidy(() => write(tensorLeaves(replay(t.trace, inputs, values))));
          release([...inputs, ...values]);
          return;
        }
        // the intermediates are the graph's (as a module call's are): the backward that frees it disposes them
        const outputs = tensorLeaves(graphOwned(() => replay(t.trace, inputs, values)));
        write(outputs);
        pending = { outputs, params, index, inputs: needInputs, made: [...inputs, ...values, ...outputs] };
        return;
      }
      case "backward": {
        const p = pending;
        pending = null;
        if (p === null)
          throw new Error(
            "no graph to run backward through: a second backward through a DataParallel output (retainGraph) is not supported, nor one after a later forward",
          );
        const live = p.outputs.flatMap((o, i) => (o.requiresGrad && m.grads[i] ? [i] : []));
        hasGrad.fill(0);
        const wrt = [...p.params, ...p.inputs.map((x) => x.t)];
        if (live.length === 0 || wrt.length === 0) {
          release(p.made);
          return;
        }
        const seeds = live.map((i) => fromData(m.grads[i] as never));
        const g = grad(
          live.map((i) => p.outputs[i]),
          wrt,
          seeds,
          { allowUnused: true },
        );
        const slots = [...p.index.map((i) => grads[i] as SharedSlot), ...p.inputs.map((x) => x.slot)];
        const flags = [...p.index, ...p.inputs.map((x) => x.flag)];
        for (const [j, gj] of g.entries()) {
          if (gj === null || gj === undefined) continue;
          slotView(slots[j]).set(gj.data() as ArrayLike<number>);
          hasGrad[flags[j]] = 1;
        }
        release([...p.made, ...seeds, ...g]);
        return;
      }
    }
  };

  const { parentPort } = nodeModule("node:worker_threads");
  // a failure of a request without an answer (state, trace) is the answer of the next request that has one
  let failed: unknown = null;
  parentPort?.on("message", (m: ReplicaRequest) => {
    const answers = m.kind === "forward" || m.kind === "backward";
    try {
      if (failed === null) handle(m);
    } catch (e) {
      failed = e;
    }
    if (answers) {
      answer(init.mailbox, failed);
      failed = null;
    }
  });
  answer(init.mailbox, null); // started
}
