/**
 * The training task of the webgpu memory tests: synthetic batches on the cpu (the class is the argmax of the first
 * 10 features) and a small MLP on webgpu with cross-entropy and SGD with momentum.
 */
import "@cinder/autograd";
import * as nn from "@cinder/nn";
import * as optim from "@cinder/optim";
import * as torch from "@cinder/tensor";

export const BATCH = 16;
export const FEATURES = 32;
export const HIDDEN = 64; // small: on SwiftShader a step costs ~10 ms, mostly the read of the loss

/** `count` seeded batches on the cpu, the model on webgpu, its loss and optimizer. */
export function mlpTask(count: number) {
  torch.manualSeed(0);
  // in tidy: the intermediate views are disposed now, not whenever the GC finalises them
  const batches = torch.tidy(() =>
    Array.from({ length: count }, () => {
      const x = torch.randn([BATCH, FEATURES]);
      return [x, x.at(":", "0:10").argmax({ dim: 1 })];
    }),
  );
  const model = new nn.Sequential(
    new nn.Linear(FEATURES, HIDDEN),
    new nn.ReLU(),
    new nn.Linear(HIDDEN, 10),
  ).to("webgpu");
  const criterion = new nn.CrossEntropyLoss();
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  return { batches, model, criterion, optimizer };
}
