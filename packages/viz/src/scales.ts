/** Axis scales and ticks: d3-scale does the arithmetic, this file picks matplotlib-like limits and labels. */

import { scaleLinear, scaleLog } from "d3-scale";

export type ScaleKind = "linear" | "log";

/** A tick label. A power of ten on a log axis is `{ text: "10^-2", base: "10", exp: "−2" }` (drawn as 10⁻²). */
export interface TickLabel {
  text: string;
  base?: string;
  exp?: string;
}

export interface Tick {
  value: number;
  label: TickLabel;
}

export interface AxisScale {
  readonly kind: ScaleKind;
  readonly domain: readonly [number, number];
  /** Data value to pixel; NaN for values the scale cannot show (non-positive on a log axis). */
  map(v: number): number;
  ticks(): Tick[];
  minorTicks(): number[];
}

const MINUS = "\u2212";

function signed(n: number): string {
  return n < 0 ? `${MINUS}${-n}` : String(n);
}

/** Linear scale over `domain` onto pixels `range`, with about `count` nicely spaced ticks. */
export function linearScale(domain: [number, number], range: [number, number], count: number): AxisScale {
  const s = scaleLinear().domain(domain).range(range);
  return {
    kind: "linear",
    domain,
    map: (v) => s(v),
    ticks() {
      const values = s.ticks(count);
      const step = values.length > 1 ? Math.abs(values[1] - values[0]) : 1;
      const big = Math.max(Math.abs(domain[0]), Math.abs(domain[1]));
      const fmt =
        // exponent labels get as many digits as the tick step needs (a fixed ".1e" printed "1e+308" five times)
        big >= 1e6 || (step < 1e-4 && big < 1e-3) ? s.tickFormat(count, "~e") : s.tickFormat(count, "f");
      return values.map((value) => ({ value, label: { text: fmt(value) } }));
    },
    minorTicks: () => [],
  };
}

/**
 * Base-10 log scale. Major ticks sit on powers of ten labelled 10^k (thinned when there are many
 * decades); with fewer than two decades in view, d3's 1-2-5 ticks are labelled as plain numbers instead.
 */
export function logScale(domain: [number, number], range: [number, number], count: number): AxisScale {
  const s = scaleLog().base(10).domain(domain).range(range);
  const lo = Math.min(domain[0], domain[1]);
  const hi = Math.max(domain[0], domain[1]);
  const k0 = Math.ceil(Math.log10(lo) - 1e-9);
  const k1 = Math.floor(Math.log10(hi) + 1e-9);
  const decades = k1 - k0 + 1;
  const stride = Math.max(1, Math.ceil(decades / Math.max(2, count)));
  return {
    kind: "log",
    domain,
    map: (v) => (v > 0 ? s(v) : Number.NaN),
    ticks() {
      if (decades < 2) {
        const fmt = s.tickFormat(count, "~g");
        return s
          .ticks(count)
          .map((value) => ({ value, label: { text: fmt(value) } }))
          .filter((t) => t.label.text !== "");
      }
      const out: Tick[] = [];
      for (let k = k0; k <= k1; k++) {
        if ((k - k0) % stride !== 0) continue;
        out.push({ value: 10 ** k, label: { text: `10^${k}`, base: "10", exp: signed(k) } });
      }
      return out;
    },
    minorTicks() {
      if (decades > 8) return [];
      const out: number[] = [];
      for (let k = k0 - 1; k <= k1; k++) {
        for (let m = 2; m <= 9; m++) {
          const v = m * 10 ** k;
          if (v >= lo && v <= hi) out.push(v);
        }
      }
      return out;
    },
  };
}

export interface Extent {
  min: number;
  max: number;
  /** Values the limits stop at instead of adding margins past them (bars start at 0 exactly). */
  sticky: number[];
}

export function emptyExtent(): Extent {
  return { min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY, sticky: [] };
}

/** Grow `e` to cover the finite values of `values` (the positive ones only on a log axis). */
export function extend(e: Extent, values: ArrayLike<number>, kind: ScaleKind): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v) || (kind === "log" && v <= 0)) continue;
    if (v < e.min) e.min = v;
    if (v > e.max) e.max = v;
  }
}

/** The smallest half-range given to constant data: keeps the limits apart for subnormal values. */
const TINY = 1e-300;

/**
 * Axis limits from a data extent like matplotlib's autoscale: 5% margins on each side (in log space on a log
 * axis), stopping at sticky edges, with a small range made up for constant or empty data: a constant value v
 * gets v ± max(5% of |v|, tiny) (±0.05 around 0), so it is drawn at its value with ticks around it.
 */
export function autoLimits(e: Extent, kind: ScaleKind, margin = 0.05): [number, number] {
  let lo = e.min;
  let hi = e.max;
  if (!(lo <= hi)) return kind === "log" ? [1, 10] : [0, 1];
  if (kind === "log") {
    let a = Math.log10(lo);
    let b = Math.log10(hi);
    if (b - a < 1e-12) {
      a -= 1;
      b += 1;
    }
    const d = (b - a) * margin;
    return stick([10 ** (a - d), 10 ** (b + d)], e);
  }
  if (hi - lo < 1e-12 * Math.max(1, Math.abs(lo))) {
    const d = lo === 0 ? 0.05 : Math.max(0.05 * Math.abs(lo), TINY);
    lo -= d;
    hi += d;
  }
  const d = (hi - lo) * margin;
  return stick([lo - d, hi + d], e);
}

function stick([lo, hi]: [number, number], e: Extent): [number, number] {
  for (const s of e.sticky) {
    if (lo < s && s <= e.min) lo = s;
    if (hi > s && s >= e.max) hi = s;
  }
  return [lo, hi];
}
