/**
 * The multi-layer recurrent modules RNN, LSTM and GRU (PyTorch's RNNBase): PyTorch 1.13's constructor, parameter
 * names (`weight_ih_l0`, `bias_hh_l1_reverse`, `weight_hr_l0`), initialisation, shape checks and results, on padded
 * or packed input. A layer and direction runs its input projection for every time step as one matmul, then one
 * hidden-state matmul and the fused gate math per step (`rnn-cells.ts`); padded input is run as a packed batch
 * whose sequences all have the full length, so both share one loop.
 */
import {
  arg,
  type CallsOf,
  cat,
  type DType,
  empty,
  k,
  ShapeError,
  signature,
  stack,
  type Tensor,
  zeros,
} from "@cinder/tensor";
import { dropout as dropoutFn } from "../functional/linear";
import * as init from "../init";
import { Module, Parameter } from "../module";
import { pyBool, pyFloat } from "../util";
import { PackedSequence, withData } from "../utils/packed";
import { deviceArg, dtypeArg } from "./args";
import { type CellWeights, cellStep, GATES, inputGates, pairKind, type RnnMode } from "./rnn-cells";
import { type Gathered, GatherWeightGrad, HiddenProduct, StepRows } from "./rnn-fused";

const common = [
  arg("inputSize", k.int),
  arg("hiddenSize", k.int),
  arg("numLayers", k.int, 1),
  arg("bias", k.bool, true),
  arg("batchFirst", k.bool, false),
  arg("dropout", k.float, 0),
  arg("bidirectional", k.bool, false),
] as const;
/** RNN and GRU keep LSTM's `proj_size` position (PyTorch passes it on to RNNBase) but take only 0. */
const noProjection = arg.unsupported("projSize", 0, "only LSTM has projections");
const RNN_SIG = signature(
  "nn.RNN",
  [...common, noProjection, deviceArg, dtypeArg],
  [arg("nonlinearity", k.oneOf("tanh", "relu"), "tanh")],
);
const LSTM_SIG = signature("nn.LSTM", [...common, arg("projSize", k.int, 0), deviceArg, dtypeArg]);
const GRU_SIG = signature("nn.GRU", [...common, noProjection, deviceArg, dtypeArg]);

const sequenceKind = k.or(k.tensor, k.instance(PackedSequence, "PackedSequence"));
const RNN_FORWARD = signature("nn.RNN.forward", [arg("input", sequenceKind), arg.opt("hx", k.tensor)]);
const LSTM_FORWARD = signature("nn.LSTM.forward", [arg("input", sequenceKind), arg.opt("hx", pairKind)]);
const GRU_FORWARD = signature("nn.GRU.forward", [arg("input", sequenceKind), arg.opt("hx", k.tensor)]);

/** What the three constructors parse. */
interface RnnArgs {
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bias: boolean;
  batchFirst: boolean;
  dropout: number;
  bidirectional: boolean;
  projSize: number;
  device: string | null;
  dtype: DType | null;
}

/** A padded or packed batch as packed rows [N, features] with the batch size of each time step. */
interface Rows {
  x: Tensor;
  sizes: number[];
}

/**
 * One layer and direction over packed rows: returns the outputs of every row (in row order) and the final state of
 * each sequence (in batch order). Sequences end at different steps: a shrinking batch sets its last rows aside
 * going forward; going backward, the rows of sequences that start later join from the initial state.
 */
function runDirection(
  mode: RnnMode,
  xg: Tensor,
  sizes: readonly number[],
  given: readonly Tensor[],
  w: CellWeights,
  reverse: boolean,
): { out: Tensor; last: Tensor[] } {
  const outs: Tensor[] = [];
  const steps = sizes.length;
  const rows = StepRows.apply(xg, sizes);
  const acc: Gathered = { grads: [], inputs: [] };
  const initial = [GatherWeightGrad.apply(given[0], w.wHh, acc), ...given.slice(1)];
  const step = (x: Tensor, s: Tensor[]) => cellStep(mode, x, s, w, HiddenProduct.apply(s[0], w.wHh, acc));
  if (!reverse) {
    const done: Tensor[][] = [];
    let state = [...initial];
    let prev = sizes[0];
    for (const [t, b] of sizes.entries()) {
      if (b < prev) {
        done.push(state.map((s) => s.narrow(0, b, prev - b)));
        state = state.map((s) => s.narrow(0, 0, b));
      }
      state = step(rows[t], state);
      outs.push(state[0]);
      prev = b;
    }
    done.push(state);
    done.reverse();
    const last = state.map((_, j) => (done.length === 1 ? done[0][j] : cat(done.map((d) => d[j]))));
    return { out: outs.length === 1 ? outs[0] : cat(outs), last };
  }
  let prev = sizes[steps - 1];
  let state = initial.map((s) => (s.shape[0] === prev ? s : s.narrow(0, 0, prev)));
  for (let t = steps - 1; t >= 0; t--) {
    const b = sizes[t];
    if (b > prev) state = state.map((s, j) => cat([s, initial[j].narrow(0, prev, b - prev)]));
    state = step(rows[t], state);
    outs.push(state[0]);
    prev = b;
  }
  outs.reverse();
  return { out: outs.length === 1 ? outs[0] : cat(outs), last: state };
}

/** The shared base of RNN, LSTM and GRU (PyTorch's RNNBase). */
abstract class RNNBase extends Module {
  readonly mode: RnnMode;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  readonly projSize: number;
  /** Layer 0's input weights [gates * hiddenSize, inputSize] (every layer's are `weight_ih_l{k}`, `..._reverse`). */
  declare weight_ih_l0: Parameter;
  /** Layer 0's hidden weights [gates * hiddenSize, projSize or hiddenSize]. */
  declare weight_hh_l0: Parameter;
  /** Layer 0's input bias (undefined without bias). */
  declare bias_ih_l0?: Parameter;
  /** Layer 0's hidden bias (undefined without bias). */
  declare bias_hh_l0?: Parameter;

  protected constructor(mode: RnnMode, a: RnnArgs) {
    super();
    const name = new.target.name;
    if (!(a.dropout >= 0 && a.dropout <= 1))
      throw new RangeError(
        `${name}: dropout should be a number in range [0, 1] representing the probability of an element being zeroed, got ${a.dropout}`,
      );
    if (a.dropout > 0 && a.numLayers === 1)
      console.warn(
        `${name}: dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects num_layers greater than 1, but got dropout=${a.dropout} and num_layers=1`,
      );
    if (a.inputSize < 0) throw new RangeError(`${name}: inputSize must be >= 0, got ${a.inputSize}`);
    if (a.numLayers < 1) throw new RangeError(`${name}: numLayers must be at least 1, got ${a.numLayers}`);
    if (a.projSize < 0)
      throw new RangeError(`${name}: proj_size should be a positive integer or zero to disable projections`);
    if (a.hiddenSize < 1) throw new RangeError(`${name}: hiddenSize must be positive, got ${a.hiddenSize}`);
    if (a.projSize >= a.hiddenSize)
      throw new RangeError(
        `${name}: proj_size has to be smaller than hidden_size, got proj_size=${a.projSize} and hidden_size=${a.hiddenSize}`,
      );
    this.mode = mode;
    this.inputSize = a.inputSize;
    this.hiddenSize = a.hiddenSize;
    this.numLayers = a.numLayers;
    this.bias = a.bias;
    this.batchFirst = a.batchFirst;
    this.dropout = a.dropout;
    this.bidirectional = a.bidirectional;
    this.projSize = a.projSize;
    const f = { device: a.device ?? undefined, dtype: a.dtype ?? "float32" };
    const gates = GATES[mode] * a.hiddenSize;
    const real = a.projSize > 0 ? a.projSize : a.hiddenSize;
    const fields = this as unknown as Record<string, Parameter>;
    for (let l = 0; l < a.numLayers; l++) {
      for (let d = 0; d < this.directions; d++) {
        const s = `l${l}${d === 1 ? "_reverse" : ""}`;
        const inputs = l === 0 ? a.inputSize : real * this.directions;
        fields[`weight_ih_${s}`] = new Parameter(empty([gates, inputs], f));
        fields[`weight_hh_${s}`] = new Parameter(empty([gates, real], f));
        if (a.bias) {
          fields[`bias_ih_${s}`] = new Parameter(empty([gates], f));
          fields[`bias_hh_${s}`] = new Parameter(empty([gates], f));
        }
        if (a.projSize > 0) fields[`weight_hr_${s}`] = new Parameter(empty([a.projSize, a.hiddenSize], f));
      }
    }
    this.resetParameters();
  }

  /** 2 when bidirectional, else 1. */
  get directions(): number {
    return this.bidirectional ? 2 : 1;
  }

  /** Every parameter U(-1/sqrt(hiddenSize), 1/sqrt(hiddenSize)), as PyTorch. */
  resetParameters(): void {
    const stdv = 1 / Math.sqrt(this.hiddenSize);
    for (const p of this.parameters()) init.uniform_(p, -stdv, stdv);
  }

  /** PyTorch's `flatten_parameters()`: a cuDNN memory layout; nothing to do here, kept so ported code runs. */
  flattenParameters(): void {}

  /** The weights of layer `l` and direction `d` (read at each call: `to()` replaces the parameters). */
  protected weights(l: number, d: number): CellWeights {
    const s = `l${l}${d === 1 ? "_reverse" : ""}`;
    const p = this as unknown as Record<string, Parameter | undefined>;
    return {
      wIh: p[`weight_ih_${s}`]!,
      wHh: p[`weight_hh_${s}`]!,
      bIh: p[`bias_ih_${s}`] ?? null,
      bHh: p[`bias_hh_${s}`] ?? null,
      wHr: p[`weight_hr_${s}`] ?? null,
    };
  }

  /** PyTorch's `all_weights`: per layer and direction, its parameters in PyTorch's order. */
  get allWeights(): Parameter[][] {
    const out: Parameter[][] = [];
    for (let l = 0; l < this.numLayers; l++) {
      for (let d = 0; d < this.directions; d++) {
        const w = this.weights(l, d);
        out.push([w.wIh, w.wHh, w.bIh, w.bHh, w.wHr].filter((x): x is Parameter => x !== null));
      }
    }
    return out;
  }

  /** The hidden states' shapes: [h] or, for the LSTM, [h, c]. */
  private stateShapes(batch: number): number[][] {
    const n = this.numLayers * this.directions;
    const h = [n, batch, this.projSize > 0 ? this.projSize : this.hiddenSize];
    return this.mode === "LSTM" ? [h, [n, batch, this.hiddenSize]] : [h];
  }

  /** Input checks as PyTorch's `check_input`. */
  private checkInput(x: Tensor, dims: number): void {
    const name = this.constructor.name;
    if (x.ndim !== dims) throw new ShapeError(`${name}: input must have ${dims} dimensions, got ${x.ndim}`);
    if (x.shape[dims - 1] !== this.inputSize)
      throw new ShapeError(
        `${name}: input.size(-1) must be equal to input_size. Expected ${this.inputSize}, got ${x.shape[dims - 1]}`,
      );
    const w = this.weights(0, 0).wIh;
    if (x.dtype !== w.dtype)
      throw new TypeError(`${name}: input must have the parameters' dtype ${w.dtype}, got ${x.dtype}`);
    if (dims === 3 && x.shape[0] * x.shape[1] === 0)
      throw new ShapeError(
        `${name}: expected at least one time step and one sequence, got input of shape [${x.shape.join(", ")}]`,
      );
  }

  /** The forward pass of all three: PyTorch's `forward` with its checks, returning [output, states]. */
  protected run(
    input: Tensor | PackedSequence,
    hx: Tensor | readonly Tensor[] | null,
  ): [Tensor | PackedSequence, Tensor[]] {
    const name = this.constructor.name;
    const lstm = this.mode === "LSTM";
    let states: Tensor[] | null = hx === null ? null : Array.isArray(hx) ? [...hx] : [hx as Tensor];
    let rows: Rows;
    let batched = true;
    const batchDim = this.batchFirst ? 0 : 1;
    if (input instanceof PackedSequence) {
      this.checkInput(input.data, 2);
      rows = { x: input.data, sizes: input.batchSizeList() };
      const sorted = input.sortedIndices;
      if (states && sorted) states = states.map((s) => s.indexSelect(1, sorted));
    } else {
      batched = input.ndim === 3;
      const dims = batched ? 3 : 2;
      if (states?.some((s) => s.ndim !== dims)) {
        const got = states.map((s) => `${s.ndim}-D`).join(", ");
        throw new ShapeError(
          lstm
            ? `${name}: For ${batched ? "batched 3-D" : "unbatched 2-D"} input, hx and cx should also be ${dims}-D but got (${got}) tensors`
            : `${name}: For ${batched ? "batched 3-D" : "unbatched 2-D"} input, hx should also be ${dims}-D but got ${got} tensor`,
        );
      }
      if (!batched) states = states?.map((s) => s.unsqueeze(1)) ?? null;
      const x3 = batched ? input : input.unsqueeze(batchDim);
      this.checkInput(x3, 3);
      const x = this.batchFirst ? x3.transpose(0, 1) : x3;
      const [steps, batch] = x.shape;
      rows = { x: x.reshape([steps * batch, this.inputSize]), sizes: new Array<number>(steps).fill(batch) };
    }
    const batch = rows.sizes[0];
    const shapes = this.stateShapes(batch);
    if (states) {
      states.forEach((s, j) => {
        if (s.ndim !== 3 || s.shape.some((d, i) => d !== shapes[j][i]))
          throw new ShapeError(
            `${name}: Expected hidden${lstm ? `[${j}]` : ""} size (${shapes[j].join(", ")}), got [${s.shape.join(", ")}]`,
          );
      });
    }
    const initial =
      states ?? shapes.map((shape) => zeros(shape, { dtype: rows.x.dtype, device: rows.x.device }));
    const { out, last } = this.layers(rows, initial);
    if (input instanceof PackedSequence) {
      const unsorted = input.unsortedIndices;
      return [withData(input, out), unsorted ? last.map((s) => s.indexSelect(1, unsorted)) : last];
    }
    let output = out.reshape([rows.sizes.length, batch, out.shape[1]]);
    if (this.batchFirst) output = output.transpose(0, 1);
    if (!batched) return [output.squeeze(batchDim), last.map((s) => s.squeeze(1))];
    return [output, last];
  }

  /** Every layer and direction over the rows; dropout between layers in training mode. */
  private layers(rows: Rows, initial: readonly Tensor[]): { out: Tensor; last: Tensor[] } {
    const finals: Tensor[][] = initial.map(() => []);
    let x = rows.x;
    for (let l = 0; l < this.numLayers; l++) {
      const outs: Tensor[] = [];
      for (let d = 0; d < this.directions; d++) {
        const w = this.weights(l, d);
        const at = l * this.directions + d;
        const xg = inputGates(this.mode, x, w);
        const r = runDirection(
          this.mode,
          xg,
          rows.sizes,
          initial.map((s) => s.select(0, at)),
          w,
          d === 1,
        );
        outs.push(r.out);
        r.last.forEach((s, j) => {
          finals[j].push(s);
        });
      }
      x = outs.length === 1 ? outs[0] : cat(outs, 1);
      if (this.dropout > 0 && this.training && l < this.numLayers - 1) x = dropoutFn(x, this.dropout, true);
    }
    return { out: x, last: finals.map((f) => stack(f, 0)) };
  }

  /** PyTorch's `extra_repr`: the sizes and the options that differ from their defaults. */
  override extraRepr(): string {
    let s = `${this.inputSize}, ${this.hiddenSize}`;
    if (this.projSize !== 0) s += `, proj_size=${this.projSize}`;
    if (this.numLayers !== 1) s += `, num_layers=${this.numLayers}`;
    if (!this.bias) s += `, bias=${pyBool(false)}`;
    if (this.batchFirst) s += `, batch_first=${pyBool(true)}`;
    if (this.dropout !== 0) s += `, dropout=${pyFloat(this.dropout)}`;
    if (this.bidirectional) s += `, bidirectional=${pyBool(true)}`;
    return s;
  }
}

export interface RNN {
  /** `rnn(input, h_0?)`: `[output, h_n]`, the output padded or packed as the input. */
  (input: Tensor, hx?: Tensor | null): [Tensor, Tensor];
  /** `rnn(packed, h_0?)`. */
  (input: PackedSequence, hx?: Tensor | null): [PackedSequence, Tensor];
  /** `rnn(input, { hx })`. */
  (input: Tensor, options: { hx?: Tensor | null }): [Tensor, Tensor];
  /** Every call form of `forward(input, hx=None)` (`rnn({ input, hx })`, ...). */
  (...args: CallsOf<typeof RNN_FORWARD>): [Tensor | PackedSequence, Tensor];
}
/**
 * `RNN(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False,
 * device=None, dtype=None, *, nonlinearity='tanh')`: a multi-layer Elman RNN, h_t = tanh(x_t W_ih^T + b_ih +
 * h_{t-1} W_hh^T + b_hh) (or relu). `rnn(input, h_0?)`: input [T, N, inputSize] ([N, T, ...] with `batchFirst`,
 * [T, inputSize] unbatched, or a `PackedSequence`), h_0 [numLayers * directions, N, hiddenSize] (zeros when
 * omitted); returns `[output, h_n]`, output [T, N, directions * hiddenSize] (packed for packed input).
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the typed call signatures of the callable module
export class RNN extends RNNBase {
  static override readonly name: string = "RNN";
  static readonly signature = RNN_SIG;
  static readonly forwardSignature = RNN_FORWARD;
  readonly nonlinearity: "tanh" | "relu";
  constructor(...args: CallsOf<typeof RNN_SIG>) {
    const a = RNN_SIG.parse(args);
    super(a.nonlinearity === "tanh" ? "RNN_TANH" : "RNN_RELU", a);
    this.nonlinearity = a.nonlinearity;
  }
  /** `forward(input, hx=None)`: `[output, h_n]`. */
  override forward(...args: CallsOf<typeof RNN_FORWARD>): [Tensor | PackedSequence, Tensor] {
    const { input, hx } = RNN_FORWARD.parse(args);
    const [out, [h]] = this.run(input, hx);
    return [out, h];
  }
}

export interface LSTM {
  /** `lstm(input, [h_0, c_0]?)`: `[output, [h_n, c_n]]`, the output padded or packed as the input. */
  (input: Tensor, hx?: readonly [Tensor, Tensor] | null): [Tensor, [Tensor, Tensor]];
  /** `lstm(packed, [h_0, c_0]?)`. */
  (input: PackedSequence, hx?: readonly [Tensor, Tensor] | null): [PackedSequence, [Tensor, Tensor]];
  /** `lstm(input, { hx: [h_0, c_0] })`. */
  (input: Tensor, options: { hx?: readonly [Tensor, Tensor] | null }): [Tensor, [Tensor, Tensor]];
  /** Every call form of `forward(input, hx=None)` (`lstm({ input, hx })`, ...). */
  (...args: CallsOf<typeof LSTM_FORWARD>): [Tensor | PackedSequence, [Tensor, Tensor]];
}
/**
 * `LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False,
 * proj_size=0, device=None, dtype=None)`: a multi-layer LSTM with PyTorch's gates (i, f, g, o): c_t = f c_{t-1} +
 * i g, h_t = o tanh(c_t), projected by `weight_hr` to `projSize` when it is > 0. `lstm(input, [h_0, c_0]?)`
 * returns `[output, [h_n, c_n]]`; input and output as RNN's, h [numLayers * directions, N, projSize or hiddenSize],
 * c [numLayers * directions, N, hiddenSize].
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the typed call signatures of the callable module
export class LSTM extends RNNBase {
  static override readonly name: string = "LSTM";
  static readonly signature = LSTM_SIG;
  static readonly forwardSignature = LSTM_FORWARD;
  constructor(...args: CallsOf<typeof LSTM_SIG>) {
    super("LSTM", LSTM_SIG.parse(args));
  }
  /** `forward(input, hx=None)`: `[output, [h_n, c_n]]`. */
  override forward(...args: CallsOf<typeof LSTM_FORWARD>): [Tensor | PackedSequence, [Tensor, Tensor]] {
    const { input, hx } = LSTM_FORWARD.parse(args);
    const [out, [h, c]] = this.run(input, hx);
    return [out, [h, c]];
  }
}

export interface GRU {
  /** `gru(input, h_0?)`: `[output, h_n]`, the output padded or packed as the input. */
  (input: Tensor, hx?: Tensor | null): [Tensor, Tensor];
  /** `gru(packed, h_0?)`. */
  (input: PackedSequence, hx?: Tensor | null): [PackedSequence, Tensor];
  /** `gru(input, { hx })`. */
  (input: Tensor, options: { hx?: Tensor | null }): [Tensor, Tensor];
  /** Every call form of `forward(input, hx=None)` (`gru({ input, hx })`, ...). */
  (...args: CallsOf<typeof GRU_FORWARD>): [Tensor | PackedSequence, Tensor];
}
/**
 * `GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False,
 * device=None, dtype=None)`: a multi-layer GRU with PyTorch's gates (r, z, n): n = tanh(x W_in + b_in + r (h W_hn +
 * b_hn)), h' = (1 - z) n + z h. `gru(input, h_0?)` returns `[output, h_n]`, shapes as RNN's.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the typed call signatures of the callable module
export class GRU extends RNNBase {
  static override readonly name: string = "GRU";
  static readonly signature = GRU_SIG;
  static readonly forwardSignature = GRU_FORWARD;
  constructor(...args: CallsOf<typeof GRU_SIG>) {
    super("GRU", GRU_SIG.parse(args));
  }
  /** `forward(input, hx=None)`: `[output, h_n]`. */
  override forward(...args: CallsOf<typeof GRU_FORWARD>): [Tensor | PackedSequence, Tensor] {
    const { input, hx } = GRU_FORWARD.parse(args);
    const [out, [h]] = this.run(input, hx);
    return [out, h];
  }
}
