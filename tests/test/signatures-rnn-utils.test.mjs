// torch.nn.utils (clip_grad_norm_, parameters_to_vector) and torch.nn.utils.rnn (padded and packed sequences)
// called as in PyTorch, in plain JavaScript: every call form against PyTorch 1.13
// (tests/fixtures/sigcases-rnn-utils.json, from scripts/fixtures/sigcases_rnn_utils.py). clipGradValue_ and
// vectorToParameters return nothing, so they are checked by hand in packages/nn/test/rnn-utils.test.ts.
import { cpu } from "@cinder/backend-cpu";
import * as nn from "@cinder/nn";
import * as torch from "@cinder/tensor";
import { signatureCases } from "./support/signature-cases.mjs";

torch.registerBackend(cpu);

const makers = {
  // a PackedSequence, packed from the same padded batch as in PyTorch
  packed: ([x, lengths, batchFirst, enforceSorted]) =>
    nn.utils.rnn.packPaddedSequence(x, lengths, batchFirst, enforceSorted),
  // parameters carrying gradients: [value, grad or null] pairs
  withGrads: (pairs) =>
    pairs.map(([v, g]) => {
      const p = v.clone().requiresGrad_(true);
      p.grad = g === null ? null : g.clone();
      return p;
    }),
};

signatureCases("rnn-utils", (name) => name.split(".").reduce((o, key) => o?.[key], { nn }), {
  params: () => [],
  makers,
});
