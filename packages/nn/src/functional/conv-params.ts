/** Parameter declarations shared by the convolutions' signatures (conv1d/2d/3d, their transposes, unfold/fold). */
import { arg, k } from "@cinder/tensor";
import { inputArg } from "../util";

export const weightArg = arg("weight", k.tensor);
export const biasArg = arg.opt("bias", k.tensor);
export const strideArg = arg("stride", k.intOrInts, 1);
export const paddingArg = arg("padding", k.intOrInts, 0);
export const convPaddingArg = arg("padding", k.or(k.intOrInts, k.oneOf("valid", "same")), 0);
export const dilationArg = arg("dilation", k.intOrInts, 1);
export const groupsArg = arg("groups", k.int, 1);
export const convParams = [
  inputArg,
  weightArg,
  biasArg,
  strideArg,
  convPaddingArg,
  dilationArg,
  groupsArg,
] as const;
export const convTransposeParams = [
  inputArg,
  weightArg,
  biasArg,
  strideArg,
  paddingArg,
  arg("outputPadding", k.intOrInts, 0),
  groupsArg,
  dilationArg,
] as const;
