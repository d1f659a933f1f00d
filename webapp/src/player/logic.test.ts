import { test } from "node:test";
import assert from "node:assert/strict";
import { bufferedSegments, formatTime, isAudioOnly, keyAction, levelLabel, nextSubtitle, progressFraction, resumeAt, type Ranges } from "./logic";

function ranges(...r: [number, number][]): Ranges {
  return { length: r.length, start: (i) => r[i][0], end: (i) => r[i][1] };
}

test("formatTime", async (t) => {
  const cases: [number, string][] = [
    [0, "0:00"],
    [5.9, "0:05"],
    [70, "1:10"],
    [754, "12:34"],
    [3600, "1:00:00"],
    [3723, "1:02:03"],
    [NaN, "0:00"],
    [-4, "0:00"],
    [Infinity, "0:00"],
  ];
  for (const [s, want] of cases) await t.test(String(s), () => assert.equal(formatTime(s), want));
});

test("bufferedSegments", async (t) => {
  await t.test("no duration", () => assert.deepEqual(bufferedSegments(ranges([0, 4]), NaN), []));
  await t.test("one range", () => assert.deepEqual(bufferedSegments(ranges([0, 25]), 100), [{ start: 0, end: 0.25 }]));
  await t.test("unsorted, overlapping and hairline gaps merge", () =>
    assert.deepEqual(bufferedSegments(ranges([70, 80], [0, 10], [9, 20], [20.1, 30]), 100), [
      { start: 0, end: 0.3 },
      { start: 0.7, end: 0.8 },
    ]));
  await t.test("clamped to the bar", () => assert.deepEqual(bufferedSegments(ranges([-5, 5], [95, 120]), 100), [
    { start: 0, end: 0.05 },
    { start: 0.95, end: 1 },
  ]));
  await t.test("empty ranges dropped", () => assert.deepEqual(bufferedSegments(ranges([10, 10]), 100), []));
});

test("keyAction", async (t) => {
  const cases: [string, ReturnType<typeof keyAction>][] = [
    [" ", { type: "toggle" }],
    ["k", { type: "toggle" }],
    ["ArrowLeft", { type: "seekBy", seconds: -5 }],
    ["ArrowRight", { type: "seekBy", seconds: 5 }],
    ["j", { type: "seekBy", seconds: -10 }],
    ["l", { type: "seekBy", seconds: 10 }],
    ["ArrowUp", { type: "volumeBy", delta: 0.1 }],
    ["ArrowDown", { type: "volumeBy", delta: -0.1 }],
    ["m", { type: "mute" }],
    ["f", { type: "fullscreen" }],
    ["c", { type: "cycleSubtitles" }],
    ["0", { type: "seekFraction", fraction: 0 }],
    ["7", { type: "seekFraction", fraction: 0.7 }],
    ["x", null],
    ["Enter", null],
  ];
  for (const [key, want] of cases) await t.test(JSON.stringify(key), () => assert.deepEqual(keyAction(key), want));
  await t.test("ctrl+f is the browser's", () => assert.equal(keyAction("f", { ctrl: true }), null));
});

test("nextSubtitle cycles off → 0 → 1 → off", () => {
  assert.equal(nextSubtitle(-1, 2), 0);
  assert.equal(nextSubtitle(0, 2), 1);
  assert.equal(nextSubtitle(1, 2), -1);
  assert.equal(nextSubtitle(-1, 0), -1);
});

test("resumeAt", async (t) => {
  const cases: [string, Parameters<typeof resumeAt>[0], number][] = [
    ["nothing saved", null, 0],
    ["in the first seconds", { positionMs: 3000, durationMs: 90000 }, 0],
    ["mid-film", { positionMs: 754000, durationMs: 5400000 }, 754],
    ["finished flag", { positionMs: 30000, durationMs: 90000, finished: true }, 0],
    ["past 95 %", { positionMs: 86000, durationMs: 90000 }, 0],
    ["in the last 10 s of a short clip", { positionMs: 52000, durationMs: 60000 }, 0],
    ["no duration", { positionMs: 30000, durationMs: 0 }, 0],
    ["NaN", { positionMs: NaN, durationMs: 90000 }, 0],
  ];
  for (const [name, saved, want] of cases) await t.test(name, () => assert.equal(resumeAt(saved), want));
});

test("levelLabel and progressFraction", () => {
  assert.equal(levelLabel({ height: 720, bitrate: 2_500_000 }), "720p");
  assert.equal(levelLabel({ bitrate: 128_000 }), "128 kb/s");
  assert.equal(levelLabel(undefined), "");
  assert.equal(progressFraction({ positionMs: 45000, durationMs: 90000 }), 0.5);
  assert.equal(progressFraction({ positionMs: 1, durationMs: 0 }), 0);
});

test("isAudioOnly: tracks and files with sound but no picture", () => {
  assert.equal(isAudioOnly({ kind: "track" }), true);
  assert.equal(isAudioOnly({ kind: "movie", media: { audio: [{}] } }), true);
  assert.equal(isAudioOnly({ kind: "movie", media: { video: [], audio: [{}] } }), true);
  assert.equal(isAudioOnly({ kind: "movie", media: { video: [{}], audio: [{}] } }), false);
  assert.equal(isAudioOnly({ kind: "episode" }), false);
  assert.equal(isAudioOnly({ kind: "movie", media: { video: [], audio: [] } }), false);
});
