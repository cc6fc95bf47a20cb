/**
 * Fan-out in lazy fusion (issue 11): pending results read by several programs, as in GELU's forward and backward and
 * an LSTM cell's gates forward and backward (gradients written out in tensor ops, as autograd would record them).
 * Each case runs with fusion on and off (`setFusion`), and with a baseline build of `@cinder/tensor` when given
 * (the sources of another commit, e.g. `git archive <commit> packages/tensor/src | tar -x -C /tmp/base`), interleaved
 * in one process; it prints each variant's median time and the fused nodes it ran per call.
 *
 *   node --conditions=@cinder/source --import tsx --expose-gc bench/src/fanout.ts [rounds] [baseline index.ts]
 */
import { cpu } from "@cinder/backend-cpu";
import type { Tensor } from "@cinder/tensor";
import * as current from "@cinder/tensor";

type Lib = typeof current;

/** GELU (tanh approximation) on x and its gradient for an upstream gradient gy: returns [y, gx]. */
function gelu(x: Tensor, gy: Tensor): Tensor[] {
  const k = Math.sqrt(2 / Math.PI);
  const t = x.mul(x).mul(x).mul(0.044715).add(x).mul(k).tanh();
  const y = x.mul(0.5).mul(t.add(1));
  const dt = t
    .mul(t)
    .neg()
    .add(1)
    .mul(
      x
        .mul(x)
        .mul(3 * 0.044715)
        .add(1)
        .mul(k),
    );
  const gx = gy.mul(t.add(1).mul(0.5).add(x.mul(0.5).mul(dt)));
  return [y, gx];
}

/** One LSTM cell's gate math from gates [B, 4H] and c [B, H], forward and backward for upstream gh, gc. */
function lstm(gates: Tensor, c: Tensor, gh: Tensor, gc: Tensor, lib?: Lib): Tensor[] {
  const [i, f, g, o] = gates.chunk(4, 1);
  const acts = [i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()];
  // with `lib`, as nn's LstmGates does: the activations and tanh(c') computed into one buffer each first
  const [si, sf, tg, so] = lib ? lib.cat(acts, 1).chunk(4, 1) : acts;
  const c1 = sf.mul(c).add(si.mul(tg));
  const [c2, tc] = lib ? lib.cat([c1, c1.tanh()], 1).chunk(2, 1) : [c1, c1.tanh()];
  const h = so.mul(tc);
  const dc = gh.mul(so).mul(tc.mul(tc).neg().add(1)).add(gc);
  const di = dc.mul(tg).mul(si.mul(si.neg().add(1)));
  const df = dc.mul(c).mul(sf.mul(sf.neg().add(1)));
  const dg = dc.mul(si).mul(tg.mul(tg).neg().add(1));
  const dout = gh.mul(tc).mul(so.mul(so.neg().add(1)));
  return [h, c2, di, df, dg, dout, dc.mul(sf)];
}

interface Variant {
  readonly name: string;
  readonly lib: Lib;
  readonly fusion: boolean;
}

const cases: Record<string, (lib: Lib) => () => Tensor[]> = {
  "gelu fwd+bwd, 1M": (lib) => {
    const x = lib.randn([1 << 20]);
    const gy = lib.randn([1 << 20]);
    return () => gelu(x, gy);
  },
  "gelu forward, 1M": (lib) => {
    const x = lib.randn([1 << 20]);
    const k = Math.sqrt(2 / Math.PI);
    return () => [x.mul(0.5).mul(x.mul(x).mul(x).mul(0.044715).add(x).mul(k).tanh().add(1))];
  },
  "lstm cell fwd+bwd, 64x512": (lib) => {
    const [gates, c, gh, gc] = [
      lib.randn([64, 2048]),
      lib.randn([64, 512]),
      lib.randn([64, 512]),
      lib.randn([64, 512]),
    ];
    return () => lstm(gates, c, gh, gc);
  },
  "lstm cell as nn's LstmGates": (lib) => {
    const [gates, c, gh, gc] = [
      lib.randn([64, 2048]),
      lib.randn([64, 512]),
      lib.randn([64, 512]),
      lib.randn([64, 512]),
    ];
    return () => lstm(gates, c, gh, gc, lib);
  },
};

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 15);
  const variants: Variant[] = [
    { name: "fused", lib: current, fusion: true },
    { name: "unfused", lib: current, fusion: false },
  ];
  if (process.argv[3])
    variants.push({ name: "baseline", lib: (await import(process.argv[3])) as Lib, fusion: true });
  for (const v of variants) v.lib.registerBackend(cpu);
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  const loadavg = (await import("node:os")).loadavg().map((l) => l.toFixed(2));
  console.log(`rounds ${rounds}, load average ${loadavg.join(" ")}`);
  for (const [name, make] of Object.entries(cases)) {
    const runs = variants.map((v) => ({ v, step: make(v.lib), ms: [] as number[], nodes: 0 }));
    for (let r = 0; r <= rounds; r++) {
      for (const run of runs) {
        gc();
        const was = run.v.lib.setFusion(run.v.fusion);
        const before = run.v.lib.fusionStats().nodes;
        const t0 = performance.now();
        for (const t of run.step()) t.data(); // every output is read, as the next layer or optimizer would
        const ms = performance.now() - t0;
        run.nodes = run.v.lib.fusionStats().nodes - before;
        run.v.lib.setFusion(was);
        if (r > 0) run.ms.push(ms); // round 0 warms up (kernel compilation)
      }
    }
    for (const run of runs) {
      console.log(
        `${name.padEnd(28)} ${run.v.name.padEnd(9)} ${median(run.ms).toFixed(2).padStart(8)} ms  ${run.nodes} nodes`,
      );
    }
  }
}

await main();
