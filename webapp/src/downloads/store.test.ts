import { test } from "node:test";
import assert from "node:assert/strict";
import { describeStorageError, formatBytes } from "./store";

test("quota errors say what happened and what to do, with figures", async () => {
  Object.defineProperty(globalThis, "navigator", {
    configurable: true,
    value: { storage: { estimate: async () => ({ usage: 9_800_000_000, quota: 10_000_000_000 }) } },
  });
  const msg = await describeStorageError(new DOMException("The quota has been exceeded.", "QuotaExceededError"));
  assert.match(msg, /Not enough storage/);
  assert.match(msg, /9\.8 GB used of 10\.0 GB/);
  assert.match(msg, /Remove other downloads/);
  const blocked = await describeStorageError(new DOMException("denied", "NotAllowedError"));
  assert.match(blocked, /Allow site data/);
  assert.match(await describeStorageError(new Error("disk on fire")), /disk on fire/);
});

test("formatBytes", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(999), "999 B");
  assert.equal(formatBytes(5_685_138), "5.7 MB");
  assert.equal(formatBytes(1_400_000_000), "1.4 GB");
  assert.equal(formatBytes(NaN), "0 B");
});
