/** `torch.linalg`: the functions of PyTorch's linalg module Cinder has (`linalg.cross`). */
export { linalgCross as cross } from "./linalg-extra";
