/** Signature pieces shared by the datasets and the transforms. */
import { type Kind, k } from "@cinder/tensor";

/**
 * A parameter kind that never claims a trailing plain object, so that a call with every argument in the options
 * object (`MNIST.create({ root, train })`) parses as options.
 */
export function kindOf<T>(name: string, test: (v: unknown) => boolean): Kind<T> {
  return { ...(k.where(k.any, test, name) as Kind<T>), takesObjects: false };
}
