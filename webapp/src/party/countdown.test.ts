import { test } from "node:test";
import assert from "node:assert/strict";
import { countdown, localInput } from "./Countdown";

test("countdown", async (t) => {
  const start = Date.UTC(2026, 11, 7, 20, 0, 0);
  const cases: [string, number, boolean, string][] = [
    ["days ahead", start - (2 * 86400 + 3 * 3600 + 5) * 1000, false, "Starts in 2 d 3 h"],
    ["hours ahead", start - (3600 + 5 * 60 + 9) * 1000, false, "Starts in 1:05:09"],
    ["minutes ahead", start - (4 * 60 + 7) * 1000, false, "Starts in 4:07"],
    ["part of a second rounds up", start - 500, false, "Starts in 0:01"],
    ["at the start", start, true, "Starting now"],
    ["after the start", start + 60_000, true, "Starting now"],
  ];
  for (const [name, now, started, label] of cases) {
    await t.test(name, () => assert.deepEqual(countdown(start, now), { started, label }));
  }
});

test("localInput", () => {
  const ms = new Date(2026, 11, 7, 9, 5).getTime(); // local time
  assert.equal(localInput(ms), "2026-12-07T09:05");
  assert.equal(new Date(localInput(ms)).getTime(), ms);
});
