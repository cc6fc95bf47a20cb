/** `torch.linalg`: the functions of PyTorch's linalg module Cinder has. */

export { linalgDiagonal as diagonal, linalgMatmul as matmul } from "./aliases";
export { cholesky, det, inv, luFactor, slogdet, solve } from "./linalg-decomp";
export { linalgCross as cross } from "./linalg-extra";
export { LinAlgError } from "./linalg-host";
export { matrixNorm, norm, vectorNorm } from "./linalg-norms";
export { eigh, eigvalsh, lstsq, pinv, qr, svd, svdvals } from "./linalg-spectral";
