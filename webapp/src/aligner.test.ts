import { test } from "node:test";
import assert from "node:assert/strict";
import { DelayAligner, MAX_BUFFER_MS, MAX_TARGET_MS, MIN_TARGET_MS, TARGET_DELAY_MS, roomTarget } from "./aligner";

/** simulate runs a viewer whose natural delay is `natural` ms: its shown delay is natural + buffer. */
function simulate(natural: number, seconds: number): { delay: number; buffer: number } {
  const a = new DelayAligner(400);
  let buffer = 0;
  for (let s = 0; s < seconds; s++) {
    for (let f = 0; f < 25; f++) a.observe(natural + buffer);
    buffer = a.step();
  }
  return { delay: a.delay() ?? NaN, buffer };
}

test("viewers with different natural delays converge on the target", async (t) => {
  for (const natural of [40, 130, 230, 390]) {
    await t.test(`natural ${natural} ms`, () => {
      const r = simulate(natural, 20);
      assert.ok(Math.abs(r.delay - 400) < 10, `delay ${r.delay}`);
      assert.ok(Math.abs(r.buffer - (400 - natural)) < 10, `buffer ${r.buffer}`);
    });
  }
});

test("a viewer slower than the target adds no buffer", () => {
  assert.equal(simulate(900, 10).buffer, 0);
});

test("the buffer never exceeds the browser's limit", () => {
  const a = new DelayAligner(10_000);
  a.observe(0);
  for (let i = 0; i < 100; i++) a.step();
  assert.equal(a.step(), MAX_BUFFER_MS);
});

test("a single outlier is ignored, a lasting change is followed", () => {
  const a = new DelayAligner();
  for (let i = 0; i < 50; i++) a.observe(200);
  a.observe(5000);
  assert.ok(Math.abs((a.delay() ?? 0) - 200) < 1);
  for (let i = 0; i < 60; i++) a.observe(3000);
  assert.ok((a.delay() ?? 0) > 2500);
});

test("reset starts over", () => {
  const a = new DelayAligner();
  a.observe(100);
  a.step();
  a.reset();
  assert.equal(a.delay(), null);
  assert.equal(a.step(), 0);
});

test("roomTarget follows the slowest viewer, within bounds", async (t) => {
  const cases: [string, number[], number][] = [
    ["no reports", [], TARGET_DELAY_MS],
    ["fast viewers", [20, 40], MIN_TARGET_MS],
    ["slowest decides", [120, 230, 90], 280],
    ["junk ignored", [NaN, -5, 200], 250],
    ["capped", [5000], MAX_TARGET_MS],
  ];
  for (const [name, delays, want] of cases) await t.test(name, () => assert.equal(roomTarget(delays), want));
});

test("natural delay excludes the added buffer", () => {
  const a = new DelayAligner(400);
  let buffer = 0;
  for (let s = 0; s < 20; s++) {
    for (let f = 0; f < 25; f++) a.observe(150 + buffer);
    buffer = a.step();
  }
  assert.ok(Math.abs((a.natural() ?? 0) - 150) < 10, `natural ${a.natural()}`);
});
