import { test } from "node:test";
import assert from "node:assert/strict";
import { bytes, eta, merge, percent, type VODJob } from "./vodjobs";

const job = (id: number, seq: number, done = 0): VODJob => ({
  id, seq, done, state: "running", renditions: ["720p"], created: "", items: [], total: 10, encoded: 0, failed: 0, bytes: 0,
});

test("percent counts made and failed segments", () => {
  assert.equal(percent({ total: 10, done: 3, failed: 1, encoded: 0, bytes: 0 }, "running"), 40);
  assert.equal(percent({ total: 3, done: 3, failed: 0, encoded: 3, bytes: 0 }, "done"), 100);
  assert.equal(percent({ total: 0, done: 0, failed: 0, encoded: 0, bytes: 0 }, "done"), 100);
  assert.equal(percent({ total: 0, done: 0, failed: 0, encoded: 0, bytes: 0 }, "queued"), 0);
});

test("formatting", () => {
  assert.equal(bytes(2_500_000), "2.5 MB");
  assert.equal(eta(undefined), "");
  assert.equal(eta(30), "less than a minute left");
  assert.equal(eta(600), "about 10 min left");
});

test("merge keeps newest first and drops stale events", () => {
  let l = merge([], job(1, 1));
  l = merge(l, job(2, 1));
  assert.deepEqual(l.map((j) => j.id), [2, 1]);
  l = merge(l, job(1, 5, 4));
  assert.equal(l[1].done, 4);
  l = merge(l, job(1, 3, 2));
  assert.equal(l[1].done, 4);
});
