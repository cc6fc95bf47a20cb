/** Test doubles for the MNIST loop: a recording stream and a tiny learnable classification task. */
import { DataLoader, TensorDataset } from "@cinder/data";
import * as torch from "cinder";
import type { ProgressStream } from "../lib/progress";

/** Characters below space other than newline, and DEL: what a CI log must not receive. */
export const controlChars = (s: string) => [...s].filter((c) => (c < " " && c !== "\n") || c === "\x7f");

/** A stream that records what is written (not a terminal unless `isTTY`). */
export function capture(isTTY = false): ProgressStream & { text: string } {
  return {
    text: "",
    isTTY,
    columns: isTTY ? 100 : undefined,
    write(chunk: string) {
      this.text += chunk;
      return true;
    },
  };
}

/** 96 points of 3 features, labelled by their largest feature: a tiny problem a Linear(3, 3) learns. */
export function tinyTask(seed = 0) {
  torch.manualSeed(seed);
  const x = torch.randn(96, 3);
  const y = x.max({ dim: 1 }).indices;
  const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 8, shuffle: true });
  const model = new torch.nn.Linear(3, 3);
  const optimizer = new torch.optim.SGD(model.parameters(), { lr: 0.1 });
  return { loader, model, optimizer, criterion: new torch.nn.CrossEntropyLoss() };
}
