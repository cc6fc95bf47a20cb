/** Evaluation shared by the MNIST examples in Node and in the browser page (no Node imports here). */
import type { DataLoader } from "@cinder/data";
import * as torch from "cinder";

export type Batch = [torch.Tensor, torch.Tensor];

/** Accuracy under noGrad, predictions by argmax, as in the seed. */
export async function evaluate(
  model: torch.nn.Module,
  loader: DataLoader<any, Batch>,
  device: string,
  prepare: (data: torch.Tensor) => torch.Tensor,
): Promise<number> {
  model.eval();
  let correct = 0;
  let total = 0;
  await torch.noGrad(async () => {
    for await (const [data, target] of loader) {
      const hits = torch.tidy(() => {
        const output = model(prepare(data.to(device)));
        // output holds 10 scores per image; the largest is the prediction
        const { indices: predicted } = output.max({ dim: 1 });
        return predicted.eq(target.to(device)).sum();
      });
      correct += (await hits.itemAsync()) as number;
      hits.dispose();
      total += target.shape[0];
    }
  });
  return correct / total;
}
