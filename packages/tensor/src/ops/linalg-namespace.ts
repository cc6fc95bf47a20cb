/** `torch.linalg`: the functions of PyTorch's linalg module Cinder has. */

export { linalgDiagonal as diagonal, linalgMatmul as matmul } from "./aliases";
export { cholesky, det, inv, luFactor, slogdet, solve } from "./linalg-decomp";
export { eig, eigvals } from "./linalg-eig";
export { choleskyEx, invEx, solveEx } from "./linalg-ex";
export { linalgCross as cross } from "./linalg-extra";
export { LinAlgError } from "./linalg-host";
export { lu, luFactorEx, luSolve } from "./linalg-lu";
export {
  cond,
  householderProduct,
  matrixExp,
  matrixPower,
  matrixRank,
  multiDot,
  solveTriangular,
  tensorinv,
  tensorsolve,
  vander,
  vecdot,
} from "./linalg-more";
export { matrixNorm, norm, vectorNorm } from "./linalg-norms";
export { eigh, eigvalsh, lstsq, pinv, qr, svd, svdvals } from "./linalg-spectral";
