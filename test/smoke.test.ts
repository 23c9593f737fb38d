import { expect, test } from "bun:test";
import { initSize } from "../src/ffi.ts";

test("the Zig library loads and embeds the init", () => {
  expect(initSize()).toBeGreaterThan(1000);
});
