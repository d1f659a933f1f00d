import { test } from "node:test";
import assert from "node:assert/strict";
import { ClockSkew, acceptPlayback, audioOnly, isIngest, delayMs, formatTime, mediaPositionMs, parsePlayback, partyPositionMs, rtpDiff, type Playback } from "./sync";

test("rtpDiff", async (t) => {
  const cases: [string, number, number, number][] = [
    ["equal", 1000, 1000, 0],
    ["ahead", 91000, 1000, 90000],
    ["behind", 1000, 91000, -90000],
    ["across the wrap", 10, 0xffff_fff0, 26],
    ["behind across the wrap", 0xffff_fff0, 10, -26],
    ["half range is negative", 0x8000_0000, 0, -0x8000_0000],
  ];
  for (const [name, a, b, want] of cases) {
    await t.test(name, () => assert.equal(rtpDiff(a, b), want));
  }
});

test("mediaPositionMs maps 90 kHz video and 48 kHz audio", () => {
  assert.equal(mediaPositionMs(90000 * 3, { ts: 0, positionMs: 1000 }, 90000), 4000);
  assert.equal(mediaPositionMs(4000, { ts: 0xffff_ffff - 799, positionMs: 5000 }, 48000), 5100);
});

const pb = (over: Partial<Playback>): Playback => ({
  type: "playback", itemId: "1", title: "t", state: "playing", positionMs: 10_000, durationMs: 60_000, sentAtMs: 1_000_000, ...over,
});

test("partyPositionMs", async (t) => {
  const synced = new ClockSkew();
  synced.observe(1_000_000, 1_000_020);
  await t.test("advances while playing", () => assert.equal(partyPositionMs(pb({}), 1_000_500, synced), 10_500));
  await t.test("stands still while paused", () => assert.equal(partyPositionMs(pb({ state: "paused" }), 1_005_000, synced), 10_000));
  await t.test("clamps at the end", () => assert.equal(partyPositionMs(pb({}), 2_000_000, synced), 60_000));
  await t.test("corrects a browser clock 1 h ahead", () => {
    const skewed = new ClockSkew();
    skewed.observe(1_000_000, 4_600_030);
    assert.equal(partyPositionMs(pb({}), 4_600_530, skewed), 10_500);
  });
});

test("delayMs is positive when the frame lags", () => {
  const skew = new ClockSkew();
  assert.equal(delayMs(pb({}), { positionMs: 10_300, atMs: 1_000_500 }, skew), 200);
  assert.equal(delayMs(pb({ state: "paused" }), { positionMs: 10_000, atMs: 1_009_000 }, skew), 0);
});

test("parsePlayback rejects junk and keeps anchors unsigned", () => {
  assert.equal(parsePlayback(null), null);
  assert.equal(parsePlayback({ type: "chat" }), null);
  const p = parsePlayback({ type: "playback", state: "bogus", videoRtp: { ts: -1, positionMs: 5 }, audioRtp: { ts: "x" } });
  assert.equal(p?.state, "loading");
  assert.equal(p?.videoRtp?.ts, 0xffff_ffff);
  assert.equal(p?.audioRtp, undefined);
});

test("formatTime", () => {
  assert.equal(formatTime(0), "0:00");
  assert.equal(formatTime(65_400), "1:05");
  assert.equal(formatTime(3_725_000), "1:02:05");
});

test("audioOnly", async (t) => {
  const both = pb({ videoRtp: { ts: 1, positionMs: 0 }, audioRtp: { ts: 1, positionMs: 0 } });
  const music = pb({ audioRtp: { ts: 1, positionMs: 0 } });
  const cases: [string, boolean, boolean, Playback | null, boolean][] = [
    ["film", true, true, both, false],
    ["film before any report", true, true, null, false],
    ["music, no video track", false, true, music, true],
    ["music while a video track lingers", true, true, music, true],
    ["a film's new video track on its way after music", false, true, both, false],
    ["nothing subscribed", false, false, null, false],
  ];
  for (const [name, hasVideo, hasAudio, playback, want] of cases) {
    await t.test(name, () => assert.equal(audioOnly({ hasVideo, hasAudio, playback }), want));
  }
});

test("isIngest believes the identity and the publish grant, never a claimed role", async (t) => {
  const cases: [string, { identity: string; attributes?: Record<string, string>; permissions?: { canPublish?: boolean } }, boolean][] = [
    ["the ingest", { identity: "ingest-s1", permissions: { canPublish: true } }, true],
    ["a listener claiming the role", { identity: "user-2", attributes: { "marquee.role": "ingest" }, permissions: { canPublish: false } }, false],
    ["a publisher that is not the ingest", { identity: "user-2", permissions: { canPublish: true } }, false],
    ["an ingest identity without the grant", { identity: "ingest-s1", permissions: { canPublish: false } }, false],
    ["permissions not known yet", { identity: "ingest-s1" }, false],
  ];
  for (const [name, p, want] of cases) await t.test(name, () => assert.equal(isIngest(p), want));
});

test("acceptPlayback: a far-future report cannot lock out later ones", () => {
  const now = 1_000_000;
  const forged = pb({ state: "paused", sentAtMs: 9e15 });
  assert.equal(acceptPlayback(null, forged, false, now), false, "a report dated years ahead is dropped");
  assert.equal(acceptPlayback(forged, pb({ sentAtMs: now }), false, now), true, "a data message follows whatever came before");
  assert.equal(acceptPlayback(pb({ sentAtMs: now }), pb({ sentAtMs: now - 500 }), true, now), false, "an older attribute after a newer message");
  assert.equal(acceptPlayback(pb({ sentAtMs: now - 500 }), pb({ sentAtMs: now }), true, now), true);
});
