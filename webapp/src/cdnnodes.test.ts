import { test } from "node:test";
import assert from "node:assert/strict";
import { ago, capacity, health, validName } from "./cdnnodes";

test("validName follows the API's DNS label rule", () => {
  assert.equal(validName("edge-1"), true);
  assert.equal(validName("Edge_1"), false);
  assert.equal(validName("-x"), false);
  assert.equal(validName(""), false);
});

test("ago, capacity and health read well before and after heartbeats", () => {
  const now = Date.parse("2026-12-07T17:00:00Z");
  assert.equal(ago("2026-12-07T16:59:30Z", now), "30 s ago");
  assert.equal(ago("2026-12-07T15:00:00Z", now), "2 h ago");
  assert.equal(ago("0001-01-01T00:00:00Z", now), "never");
  assert.equal(capacity({}), "—");
  assert.match(capacity({ used_bytes: 5e9, max_bytes: 1e10 }), /\(50%\)$/);
  assert.equal(health({}), "—");
  assert.equal(health({ load1: 0.5, hit_ratio: 0.9, errors: 2, version: "1.0" }), "load 0.50 · 90% hits · 2 errors · v1.0");
});
