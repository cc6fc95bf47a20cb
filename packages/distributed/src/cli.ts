#!/usr/bin/env node
/**
 * `cinder-run`: the launcher of the "threads" backend, in the spirit of `torchrun`.
 *
 *   cinder-run --nproc 2 train.js --epochs 3        (or --nproc-per-node / --nproc_per_node; "auto" = usable cores)
 *   cinder-run --nproc 2 --timeout 60000 train.ts   (a .ts script needs tsx installed)
 *
 * Starts N ranks, each a worker thread of this process running the script with `RANK`, `LOCAL_RANK`,
 * `WORLD_SIZE`, `LOCAL_WORLD_SIZE`, `MASTER_ADDR` and `MASTER_PORT` set, so that `initProcessGroup("threads")` needs
 * no other argument. Exits 0 when every rank finished, 1 (printing the first failure) when one failed: a rank that
 * throws aborts the group, so the others' collectives fail naming it instead of waiting.
 */
import { runCli } from "./launch";

await runCli(process.argv.slice(2));
