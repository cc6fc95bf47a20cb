/**
 * @cinder/datasets-mnist: torchvision's MNIST, FashionMNIST and KMNIST for Cinder (IDX files, raw or gzip;
 * download with MD5 checks into a torchvision-style cache), torchvision-style transforms with batch forms, and
 * an offline sample of 10,000 real MNIST digits shipped with the package (`MNIST.create({ sample: true })`).
 */
import * as transforms from "./transforms";

export { DownloadError, type DownloadOptions, downloadFile, mirrorUrl } from "./download";
export {
  encodeIdx,
  IDX_IMAGES_MAGIC,
  IDX_LABELS_MAGIC,
  type IdxArray,
  IdxFormatError,
  isGzip,
  maybeGunzip,
  parseIdx,
  readIdxFile,
} from "./idx";
export { FashionMNIST, KMNIST, MNIST, type MNISTInit, type MNISTOptions } from "./mnist";
export type { Transform, TransformFn } from "./transforms";
/**
 * torchvision-style transforms (`ToTensor`, `Normalize`, `Compose`, `Lambda`): callable objects with optional
 * batch forms.
 */
export { transforms };
