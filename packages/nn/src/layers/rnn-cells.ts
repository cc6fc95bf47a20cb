/**
 * The recurrent step of the Elman RNN, LSTM and GRU, composed of tensor ops (one matmul for the hidden state, the
 * gates as chunks of it and fused elementwise math), and the cell modules RNNCell, LSTMCell and GRUCell built on
 * it. Gate order and formulas are PyTorch's (aten/src/ATen/native/RNN.cpp): LSTM (i, f, g, o), GRU (r, z, n).
 */
import {
  arg,
  type CallsOf,
  type DType,
  empty,
  k,
  ShapeError,
  signature,
  type Tensor,
  zeros,
} from "@cinder/tensor";
import * as init from "../init";
import { Module, Parameter } from "../module";
import { pyBool } from "../util";
import { deviceArg, dtypeArg } from "./args";
import { GruGates, LstmGates } from "./rnn-fused";

/** The recurrence: PyTorch's `mode` of RNNBase. */
export type RnnMode = "RNN_TANH" | "RNN_RELU" | "LSTM" | "GRU";
/** How many gate blocks of `hiddenSize` rows the weights stack. */
export const GATES: Record<RnnMode, number> = { RNN_TANH: 1, RNN_RELU: 1, LSTM: 4, GRU: 3 };

/** One layer and direction's weights (PyTorch's weight_ih, weight_hh, bias_ih, bias_hh, weight_hr). */
export interface CellWeights {
  wIh: Tensor;
  wHh: Tensor;
  bIh: Tensor | null;
  bHh: Tensor | null;
  /** LSTM's projection of the hidden state (projSize > 0). */
  wHr: Tensor | null;
}

/**
 * The input's share of the gates, x W_ih^T + b_ih, for every row of `x` at once (all time steps in one matmul).
 * b_hh is folded in too, except for the GRU, whose new gate multiplies the hidden share (b_hh included) by r.
 */
export function inputGates(mode: RnnMode, x: Tensor, w: CellWeights): Tensor {
  const y = x.matmul(w.wIh.t());
  if (!w.bIh) return y;
  return y.add(mode === "GRU" || !w.bHh ? w.bIh : w.bIh.add(w.bHh));
}

/**
 * One time step: `xg` the rows' input gates (from `inputGates`), `state` [h] or, for the LSTM, [h, c], `hh` the
 * hidden state's product h W_hh^T (computed here when not given); returns the new state, its first entry the step's
 * output.
 */
export function cellStep(
  mode: RnnMode,
  xg: Tensor,
  state: readonly Tensor[],
  w: CellWeights,
  hh: Tensor = state[0].matmul(w.wHh.t()),
): Tensor[] {
  const h = state[0];
  switch (mode) {
    case "RNN_TANH":
      return [xg.add(hh).tanh()];
    case "RNN_RELU":
      return [xg.add(hh).relu()];
    case "LSTM": {
      const [out, c] = LstmGates.apply(xg.add(hh), state[1]);
      return [w.wHr ? out.matmul(w.wHr.t()) : out, c];
    }
    case "GRU":
      return [GruGates.apply(xg, w.bHh ? hh.add(w.bHh) : hh, h)];
  }
}

const cellParams = [arg("inputSize", k.int), arg("hiddenSize", k.int), arg("bias", k.bool, true)] as const;
const RNN_CELL = signature("nn.RNNCell", [
  ...cellParams,
  arg("nonlinearity", k.oneOf("tanh", "relu"), "tanh"),
  deviceArg,
  dtypeArg,
]);
const LSTM_CELL = signature("nn.LSTMCell", [...cellParams, deviceArg, dtypeArg]);
const GRU_CELL = signature("nn.GRUCell", [...cellParams, deviceArg, dtypeArg]);

/** An LSTM state: the pair [h, c] (PyTorch's tuple). */
export const pairKind = k.where(k.tensors, (v) => v.length === 2, "(Tensor, Tensor)");
const RNN_CELL_FORWARD = signature("nn.RNNCell.forward", [arg("input", k.tensor), arg.opt("hx", k.tensor)]);
const LSTM_CELL_FORWARD = signature("nn.LSTMCell.forward", [arg("input", k.tensor), arg.opt("hx", pairKind)]);
const GRU_CELL_FORWARD = signature("nn.GRUCell.forward", [arg("input", k.tensor), arg.opt("hx", k.tensor)]);

/** What the three cell constructors parse. */
interface CellArgs {
  inputSize: number;
  hiddenSize: number;
  bias: boolean;
  nonlinearity?: "tanh" | "relu";
  device: string | null;
  dtype: DType | null;
}

/** The shared base of RNNCell, LSTMCell and GRUCell (PyTorch's RNNCellBase): parameters, init, checks. */
abstract class RNNCellBase extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly bias: boolean;
  /** PyTorch's [gates * hidden, input] input weights. */
  weight_ih: Parameter;
  /** PyTorch's [gates * hidden, hidden] hidden weights. */
  weight_hh: Parameter;
  bias_ih: Parameter | null;
  bias_hh: Parameter | null;
  protected abstract readonly mode: RnnMode;

  protected constructor(a: CellArgs, gates: number) {
    super();
    for (const [name, v] of [
      ["inputSize", a.inputSize],
      ["hiddenSize", a.hiddenSize],
    ] as const)
      if (v < 0) throw new RangeError(`${new.target.name}: ${name} must be >= 0, got ${v}`);
    this.inputSize = a.inputSize;
    this.hiddenSize = a.hiddenSize;
    this.bias = a.bias;
    const f = { device: a.device ?? undefined, dtype: a.dtype ?? "float32" };
    const g = gates * a.hiddenSize;
    this.weight_ih = new Parameter(empty([g, a.inputSize], f));
    this.weight_hh = new Parameter(empty([g, a.hiddenSize], f));
    this.bias_ih = a.bias ? new Parameter(empty([g], f)) : null;
    this.bias_hh = a.bias ? new Parameter(empty([g], f)) : null;
    this.resetParameters();
  }

  /** Every parameter U(-1/sqrt(hiddenSize), 1/sqrt(hiddenSize)), as PyTorch. */
  resetParameters(): void {
    const stdv = this.hiddenSize > 0 ? 1 / Math.sqrt(this.hiddenSize) : 0;
    for (const p of this.parameters()) init.uniform_(p, -stdv, stdv);
  }

  /** The input as a batch [N, inputSize] (1-D input is one sample), and whether it was batched. */
  protected batchOf(input: Tensor): [Tensor, boolean] {
    const name = this.constructor.name;
    if (input.ndim !== 1 && input.ndim !== 2)
      throw new ShapeError(`${name}: Expected input to be 1-D or 2-D but received ${input.ndim}-D tensor`);
    const x = input.ndim === 1 ? input.unsqueeze(0) : input;
    if (x.shape[1] !== this.inputSize)
      throw new ShapeError(
        `${name}: input has inconsistent input_size: got ${x.shape[1]} expected ${this.inputSize}`,
      );
    return [x, input.ndim === 2];
  }

  /** The state `hx` (or zeros) batched and checked against the input's batch. */
  protected stateOf(x: Tensor, hx: Tensor | null | undefined, batched: boolean, which: number): Tensor {
    if (hx === null || hx === undefined)
      return zeros([x.shape[0], this.hiddenSize], { dtype: x.dtype, device: x.device });
    const name = this.constructor.name;
    if (hx.ndim !== (batched ? 2 : 1))
      throw new ShapeError(
        `${name}: for ${batched ? "batched 2-D" : "unbatched 1-D"} input, hidden${which} should be ${batched ? 2 : 1}-D, got ${hx.ndim}-D`,
      );
    const h = batched ? hx : hx.unsqueeze(0);
    if (h.shape[0] !== x.shape[0])
      throw new ShapeError(
        `${name}: Input batch size ${x.shape[0]} doesn't match hidden${which} batch size ${h.shape[0]}`,
      );
    if (h.shape[1] !== this.hiddenSize)
      throw new ShapeError(
        `${name}: hidden${which} has inconsistent hidden_size: got ${h.shape[1]}, expected ${this.hiddenSize}`,
      );
    return h;
  }

  /** One step from batched input and state. */
  protected step(x: Tensor, state: Tensor[]): Tensor[] {
    const w: CellWeights = {
      wIh: this.weight_ih,
      wHh: this.weight_hh,
      bIh: this.bias_ih,
      bHh: this.bias_hh,
      wHr: null,
    };
    return cellStep(this.mode, inputGates(this.mode, x, w), state, w);
  }

  /** PyTorch's `extra_repr`: the sizes and the options that differ from their defaults. */
  override extraRepr(): string {
    return `${this.inputSize}, ${this.hiddenSize}${this.bias ? "" : `, bias=${pyBool(false)}`}`;
  }
}

/**
 * `RNNCell(input_size, hidden_size, bias=True, nonlinearity='tanh', device=None, dtype=None)`: one Elman step,
 * h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu). `cell(input, hx?)`: input [N, inputSize] or
 * [inputSize], hx of the same batching (zeros when omitted); returns h'.
 */
export class RNNCell extends RNNCellBase {
  static override readonly name: string = "RNNCell";
  static readonly signature = RNN_CELL;
  static readonly forwardSignature = RNN_CELL_FORWARD;
  readonly nonlinearity: "tanh" | "relu";
  protected readonly mode: RnnMode;
  constructor(...args: CallsOf<typeof RNN_CELL>) {
    const a = RNN_CELL.parse(args);
    super(a, 1);
    this.nonlinearity = a.nonlinearity;
    this.mode = a.nonlinearity === "tanh" ? "RNN_TANH" : "RNN_RELU";
  }
  /** `forward(input, hx=None)`: h'. */
  override forward(...args: CallsOf<typeof RNN_CELL_FORWARD>): Tensor {
    const { input, hx } = RNN_CELL_FORWARD.parse(args);
    const [x, batched] = this.batchOf(input);
    const [h] = this.step(x, [this.stateOf(x, hx, batched, 0)]);
    return batched ? h : h.squeeze(0);
  }
  /** PyTorch's `extra_repr`: the sizes and the options that differ from their defaults. */
  override extraRepr(): string {
    return super.extraRepr() + (this.nonlinearity === "tanh" ? "" : `, nonlinearity=${this.nonlinearity}`);
  }
}

/**
 * `LSTMCell(input_size, hidden_size, bias=True, device=None, dtype=None)`: one LSTM step with gates (i, f, g, o):
 * c' = f c + i g, h' = o tanh(c'). `cell(input, [h, c]?)` returns `[h', c']`.
 */
export class LSTMCell extends RNNCellBase {
  static override readonly name: string = "LSTMCell";
  static readonly signature = LSTM_CELL;
  static readonly forwardSignature = LSTM_CELL_FORWARD;
  protected readonly mode: RnnMode = "LSTM";
  constructor(...args: CallsOf<typeof LSTM_CELL>) {
    super(LSTM_CELL.parse(args), 4);
  }
  /** `forward(input, hx=None)`: `[h', c']`. */
  override forward(...args: CallsOf<typeof LSTM_CELL_FORWARD>): [Tensor, Tensor] {
    const { input, hx } = LSTM_CELL_FORWARD.parse(args);
    const [x, batched] = this.batchOf(input);
    const state = [this.stateOf(x, hx?.[0], batched, 0), this.stateOf(x, hx?.[1], batched, 1)];
    const [h, c] = this.step(x, state);
    return batched ? [h, c] : [h.squeeze(0), c.squeeze(0)];
  }
}

/**
 * `GRUCell(input_size, hidden_size, bias=True, device=None, dtype=None)`: one GRU step with gates (r, z, n):
 * n = tanh(x W_in + b_in + r (h W_hn + b_hn)), h' = (1 - z) n + z h. `cell(input, hx?)` returns h'.
 */
export class GRUCell extends RNNCellBase {
  static override readonly name: string = "GRUCell";
  static readonly signature = GRU_CELL;
  static readonly forwardSignature = GRU_CELL_FORWARD;
  protected readonly mode: RnnMode = "GRU";
  constructor(...args: CallsOf<typeof GRU_CELL>) {
    super(GRU_CELL.parse(args), 3);
  }
  /** `forward(input, hx=None)`: h'. */
  override forward(...args: CallsOf<typeof GRU_CELL_FORWARD>): Tensor {
    const { input, hx } = GRU_CELL_FORWARD.parse(args);
    const [x, batched] = this.batchOf(input);
    const [h] = this.step(x, [this.stateOf(x, hx, batched, 0)]);
    return batched ? h : h.squeeze(0);
  }
}
