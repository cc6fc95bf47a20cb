// What a call throws, for the plain-JavaScript signature tests (tests/test/*.test.mjs).
import * as torch from "@cinder/tensor";
import { expect } from "vitest";

/** The error `fn` throws; fails when it throws nothing. */
export function thrown(fn) {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected an error, nothing was thrown");
}

/** The message of what `fn` throws, which must be a `type` (an ArgumentError unless told). */
export function thrownMessage(fn, type = torch.ArgumentError) {
  const e = thrown(fn);
  expect(e).toBeInstanceOf(type);
  return e.message;
}
