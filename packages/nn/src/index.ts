/** @cinder/nn: modules, layers, losses, initialisers and state dicts. */
import "@cinder/autograd";

export { buffer, type ForwardHook, type ForwardPreHook, Module, Parameter } from "./module";
