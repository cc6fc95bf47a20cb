/**
 * Point to point, subgroups and the flat-tensor collectives, run on every rank of a threads world (and by the MPI
 * package's program on its backend): each rank checks its own results against values it computes itself and
 * returns the failures. Also the failure programs of the error tests.
 */
import "@cinder/autograd";
import { cpu } from "@cinder/backend-cpu";
import * as nn from "@cinder/nn";
import type { DType, Tensor } from "@cinder/tensor";
import * as torch from "@cinder/tensor";
import * as dist from "../src/index";

if (!torch.registeredDevices().includes("cpu")) torch.registerBackend(cpu);

/** Rank r's message of `n` elements (distinct per rank, seed and element; exact in every dtype). */
function message(dtype: DType, n: number, r: number, seed: number): Tensor {
  const v = torch
    .arange(n, { dtype: "int32" })
    .mul(3 + seed)
    .add(r * 7 + seed)
    .remainder(dtype === "bool" ? 2 : 100);
  return v.to(dtype);
}

function same(failures: string[], what: string, got: Tensor, want: Tensor): void {
  const a = Array.from(got.to("float64").data());
  const b = Array.from(want.to("float64").data());
  const bad = a.findIndex((x, i) => x !== b[i]);
  if (a.length !== b.length || bad >= 0)
    failures.push(`rank ${dist.getRank()}: ${what}: element ${bad} is ${a[bad]}, expected ${b[bad]}`);
}

/** Sends, receives (blocking, any source, started, batched), every dtype, sizes past a channel's chunk. */
export function pointToPoint(failures: string[], sizes: readonly number[]): void {
  const rank = dist.getRank();
  const w = dist.getWorldSize();
  const next = (rank + 1) % w;
  const prev = (rank + w - 1) % w;
  let seed = 0;
  for (const dtype of ["float32", "float64", "int32", "uint8", "bool", "int16"] as DType[])
    for (const n of sizes) {
      seed++;
      // a ring: even ranks send first, odd ranks receive first (blocking calls)
      const out = message(dtype, n, rank, seed);
      const into = torch.zeros([n], { dtype });
      if (rank % 2 === 0) {
        dist.send(out, next);
        dist.recv(into, prev);
      } else {
        dist.recv(into, prev);
        dist.send(out, next);
      }
      same(failures, `send/recv ${dtype}[${n}]`, into, message(dtype, n, prev, seed));
      // both directions at once: started, then waited
      seed++;
      const a = torch.zeros([n], { dtype });
      const b = torch.zeros([n], { dtype });
      const works = dist.batchIsendIrecv([
        new dist.P2POp(dist.isend, message(dtype, n, rank, seed), next),
        new dist.P2POp(dist.isend, message(dtype, n, rank, seed + 100), prev, null, 1),
        new dist.P2POp(dist.irecv, a, prev),
        new dist.P2POp(dist.irecv, b, next, { tag: 1 }),
      ]) as dist.Work[];
      for (const work of works) work.wait();
      same(failures, `batchIsendIrecv ${dtype}[${n}] from prev`, a, message(dtype, n, prev, seed));
      same(failures, `batchIsendIrecv ${dtype}[${n}] from next`, b, message(dtype, n, next, seed + 100));
    }
  // tags match out of order: the next rank's tag-5 message waits (taken out of the channel) for its receive
  const first = torch.zeros([3], { dtype: "int32" });
  const second = torch.zeros([2000], { dtype: "float32" });
  const r5 = dist.irecv(first, prev, null, 5) as dist.Work;
  dist.send(message("float32", 2000, rank, 51), next, null, 3);
  dist.send(message("int32", 3, rank, 50), next, null, 5);
  dist.recv(second, prev, null, 3);
  r5.wait();
  same(failures, "recv of tag 3 before tag 5", second, message("float32", 2000, prev, 51));
  same(failures, "irecv of tag 5", first, message("int32", 3, prev, 50));
  const late = torch.zeros([3], { dtype: "int32" });
  dist.send(message("int32", 3, rank, 60), next, null, 8);
  dist.send(message("int32", 3, rank, 61), next, null, 9);
  dist.recv(late, prev, null, 9); // the tag-8 message is taken out of the way, then received below
  same(failures, "recv of tag 9 past tag 8", late, message("int32", 3, prev, 61));
  dist.recv(late, prev, null, 8);
  same(failures, "recv of tag 8 from the unexpected messages", late, message("int32", 3, prev, 60));
  // a strided (transposed) tensor is sent and received through a copy
  const t = torch.arange(12, { dtype: "float32" }).reshape(3, 4).add(rank).t();
  const into = torch.zeros([4, 3]).t();
  const work = dist.irecv(into, prev) as dist.Work;
  (dist.isend(t, next) as dist.Work).wait();
  work.wait();
  same(
    failures,
    "strided isend/irecv",
    into,
    torch.arange(12, { dtype: "float32" }).reshape(3, 4).add(prev).t(),
  );
  // from any rank: rank 0 receives one message from every other rank and learns who sent it
  if (rank === 0) {
    const seen: number[] = [];
    for (let i = 1; i < w; i++) {
      const got = torch.zeros([5], { dtype: "int32" });
      const src = dist.recv(got, null, null, 7) as number;
      seen.push(src);
      same(failures, `recv from any rank (got rank ${src})`, got, message("int32", 5, src, 99));
    }
    if (seen.sort().join() !== Array.from({ length: w - 1 }, (_, i) => i + 1).join())
      failures.push(`rank 0: recv from any rank saw senders ${seen}`);
  } else dist.send(message("int32", 5, rank, 99), 0, null, 7);
}

/** A subgroup of every other rank: group ranks, collectives, roots as global ranks, p2p in it, non-members. */
export function subgroups(failures: string[]): void {
  const rank = dist.getRank();
  const w = dist.getWorldSize();
  const evens = Array.from({ length: Math.ceil(w / 2) }, (_, i) => 2 * i);
  const g = dist.newGroup(evens.slice().reverse()); // any order: sorted, as PyTorch
  const all = dist.newGroup();
  const expect = (what: string, got: unknown, want: unknown) => {
    if (JSON.stringify(got) !== JSON.stringify(want))
      failures.push(`rank ${rank}: ${what}: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
  };
  expect("getProcessGroupRanks", dist.getProcessGroupRanks(g), evens);
  expect("getWorldSize(all)", dist.getWorldSize(all), w);
  const member = rank % 2 === 0;
  expect("getRank(group)", dist.getRank(g), member ? rank / 2 : -1);
  expect("getWorldSize(group)", dist.getWorldSize(g), member ? evens.length : -1);
  expect("getGlobalRank", dist.getGlobalRank(g, evens.length - 1), evens[evens.length - 1]);
  if (w >= 3) expect("getGroupRank", dist.getGroupRank(g, 2), 1);
  const t = torch.full([6], rank + 1);
  const r = dist.allReduce(t, "sum", g);
  expect("allReduce in a group returns", r, undefined);
  const sum = evens.reduce((s, q) => s + q + 1, 0);
  same(failures, "allReduce(group)", t, torch.full([6], member ? sum : rank + 1));
  const last = evens[evens.length - 1];
  const b = torch.full([3], rank);
  dist.broadcast(b, last, g); // src is a global rank
  same(failures, "broadcast(group, src = last member)", b, torch.full([3], member ? last : rank));
  // int64 over the world: exact past 2^31; a sum whose partial results could pass 2^53 - 1 fails on every rank alike
  const l = torch.tensor([2 ** 40 + rank, -rank]);
  dist.allReduce(l, "sum", all);
  same(
    failures,
    "int64 allReduce sum",
    l,
    torch.tensor([w * 2 ** 40 + (w * (w - 1)) / 2, -(w * (w - 1)) / 2]),
  );
  let refused = "";
  try {
    dist.allReduce(torch.tensor([rank === 0 ? 2 ** 52 : 1]), "sum", all);
  } catch (e) {
    refused = (e as Error).message;
  }
  if (!/int64 sum over \d+ ranks of values up to 4503599627370496 could pass 2\^53 - 1/.test(refused))
    failures.push(
      `rank ${rank}: int64 sum past 2^53 - 1: expected the refusal, got ${JSON.stringify(refused)}`,
    );
  // the world and a group of every rank still agree after the subgroup ran alone
  const x = torch.ones([4]);
  dist.allReduce(x, "sum", all);
  dist.allReduce(x);
  same(failures, "allReduce(world) after a subgroup", x, torch.full([4], w * w));
  // flat collectives in the group: gather into one tensor, then reduce-scatter it back
  if (member) {
    const n = evens.length;
    const out = torch.zeros([n, 2]);
    dist.allGatherIntoTensor(out, torch.tensor([rank, rank + 0.5]), g);
    same(failures, "allGatherIntoTensor(group)", out, torch.tensor(evens.map((q) => [q, q + 0.5])));
    const mine = torch.zeros([2]);
    dist.reduceScatterTensor(mine, out, "max", g);
    same(failures, "reduceScatterTensor(group, max)", mine, out.select(0, rank / 2));
    if (n > 1) {
      // point to point inside the group: peers are global ranks
      const peer = evens[(rank / 2 + 1) % n];
      const from = evens[(rank / 2 + n - 1) % n];
      const got = torch.zeros([3]);
      const work = dist.irecv(got, null, g, 4) as dist.Work;
      dist.send(torch.full([3], rank, { dtype: "float32" }), peer, g, 4);
      work.wait();
      same(failures, "send/irecv in a group", got, torch.full([3], from));
    }
  }
  // DistributedDataParallel over the subgroup: its first rank's weights, gradients averaged over its members only
  if (member) {
    const lin = new nn.Linear(2, 1);
    torch.noGrad(() => {
      lin.weight.fill_(rank);
      lin.bias?.fill_(rank);
    });
    const ddp = new dist.DistributedDataParallel(lin, { processGroup: g });
    same(failures, "DDP(processGroup) starts from the group's first rank", lin.weight, torch.zeros([1, 2]));
    ddp
      .forward(torch.full([1, 2], rank + 1, { dtype: "float32" }))
      .sum()
      .backward();
    const meanInput = evens.reduce((s, q) => s + q + 1, 0) / evens.length;
    same(
      failures,
      "DDP(processGroup) averages over the group",
      lin.weight.grad as Tensor,
      torch.full([1, 2], meanInput),
    );
  }
  // in place: the input is this rank's block of the output (PyTorch's FSDP pattern)
  const flat = torch.zeros([w * 2], { dtype: "int32" });
  flat.narrow(0, rank * 2, 2).fill_(rank + 10);
  dist.allGatherIntoTensor(flat, flat.narrow(0, rank * 2, 2));
  const blocks = Array.from({ length: w * 2 }, (_, i) => Math.floor(i / 2) + 10);
  same(failures, "allGatherIntoTensor in place", flat, torch.tensor(blocks, { dtype: "int32" }));
  const rs = torch.zeros([2], { dtype: "int32" });
  dist.reduceScatterTensor(rs, torch.arange(w * 2, { dtype: "int32" }));
  same(
    failures,
    "reduceScatterTensor(world)",
    rs,
    torch
      .arange(rank * 2, rank * 2 + 2)
      .mul(w)
      .to("int32"),
  );
  dist.destroyProcessGroup(g);
  dist.barrier();
}

/** The threads job: every check above on a world of `worldSize` ranks. */
export async function p2p(data: { sizes: number[] }): Promise<string[]> {
  await dist.initProcessGroup("threads", { timeout: 60_000 });
  const failures: string[] = [];
  pointToPoint(failures, data.sizes);
  subgroups(failures);
  dist.destroyProcessGroup();
  return failures;
}

/** Rank 1 never sends: rank 0's recv (300 ms timeout) fails naming it, while rank 1 is still running. */
export async function neverSends(): Promise<void> {
  await dist.initProcessGroup("threads", { timeout: 300 });
  if (dist.getRank() === 1) await new Promise((r) => setTimeout(r, 1500));
  else dist.recv(torch.zeros([4]), 1);
}

/** Rank 1 returns without sending: rank 0's recv fails at once naming it. */
export async function returnsWithoutSending(): Promise<void> {
  await dist.initProcessGroup("threads", { timeout: 20_000 });
  if (dist.getRank() === 0) dist.recv(torch.zeros([4]), 1);
}

/** The sizes disagree: the receiver fails naming the sender and both sizes. */
export async function wrongSize(): Promise<void> {
  await dist.initProcessGroup("threads", { timeout: 20_000 });
  if (dist.getRank() === 0) dist.recv(torch.zeros([4]), 1);
  else dist.send(torch.zeros([6]), 0);
}

/** A receive for a tag that never comes times out naming the message that did come. */
export async function wrongTag(): Promise<void> {
  await dist.initProcessGroup("threads", { timeout: 20_000 });
  if (dist.getRank() === 0) {
    dist.barrier(); // rank 1 has sent its tag-5 message
    (dist.irecv(torch.zeros([4]), 1, null, 3) as dist.Work).wait(300);
  } else {
    dist.send(torch.zeros([4]), 0, null, 5);
    dist.barrier();
    await new Promise((r) => setTimeout(r, 1500));
  }
}
