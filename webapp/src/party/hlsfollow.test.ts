import { test } from "node:test";
import assert from "node:assert/strict";
import {
  FREEZE_MS,
  HARD_SEEK_MS,
  HOLD_MS,
  MAX_LEAD_MS,
  MAX_RATE_DELTA,
  PC_AFTER_SIGNAL_MS,
  PC_WAIT_MS,
  PRELOAD_AFTER_MS,
  RETURN_AFTER_MS,
  fallBackReason,
  hlsErrorText,
  nextLead,
  preloadInMs,
  shouldReturn,
  steer,
  type LinkHealth,
} from "./hlsfollow";

const base: LinkHealth = {
  nowMs: 100_000,
  hasItem: true,
  partyPlaying: true,
  connectAtMs: 89_000,
  signalAtMs: 90_000,
  pcConnected: true,
  lastMediaAtMs: 99_900,
  firstMediaAtMs: 91_000,
  playingSinceMs: 50_000,
  hasTracks: true,
};

test("fallBackReason", async (t) => {
  const cases: [string, Partial<LinkHealth>, string | null][] = [
    ["healthy WebRTC stays", {}, null],
    ["nothing to play: stay", { hasItem: false, pcConnected: false }, null],
    ["no signalling: nothing to judge", { signalAtMs: null, pcConnected: false }, null],
    ["peer connection still coming up", { pcConnected: false, connectAtMs: 100_000 - PC_WAIT_MS + 1, signalAtMs: 99_000 }, null],
    ["peer connection never came up (UDP blocked)", { pcConnected: false, connectAtMs: 100_000 - PC_WAIT_MS, signalAtMs: 99_000, lastMediaAtMs: 0 }, "WebRTC could not connect"],
    ["slow signalling: the peer connection gets its time after it", { pcConnected: false, connectAtMs: 90_000, signalAtMs: 100_000 - PC_AFTER_SIGNAL_MS + 1 }, null],
    ["slow signalling, then no peer connection", { pcConnected: false, connectAtMs: 90_000, signalAtMs: 100_000 - PC_AFTER_SIGNAL_MS }, "WebRTC could not connect"],
    ["paused: no frames is normal", { partyPlaying: false, lastMediaAtMs: 10_000 }, null],
    ["frozen while playing", { lastMediaAtMs: 100_000 - FREEZE_MS - 1, signalAtMs: 10_000 }, "WebRTC media stalled"],
    ["just resumed: frames not due yet", { lastMediaAtMs: 10_000, playingSinceMs: 99_000 }, null],
    ["just joined: frames not due yet", { lastMediaAtMs: 0, firstMediaAtMs: null, signalAtMs: 99_000 }, null],
    ["joined long ago, never any media", { lastMediaAtMs: 0, firstMediaAtMs: null, signalAtMs: 100_000 - FREEZE_MS - 1 }, "WebRTC media stalled"],
  ];
  for (const [name, over, want] of cases) {
    await t.test(name, () => assert.equal(fallBackReason({ ...base, ...over }), want));
  }
});

test("shouldReturn", async (t) => {
  const cases: [string, Partial<LinkHealth>, boolean][] = [
    ["media flowing for long enough", {}, true],
    ["peer connection down", { pcConnected: false }, false],
    ["signalling down", { signalAtMs: null }, false],
    ["media only just started", { firstMediaAtMs: 100_000 - RETURN_AFTER_MS + 1 }, false],
    ["media stopped again", { lastMediaAtMs: 98_000 }, false],
    ["no media since the join", { firstMediaAtMs: null }, false],
    ["paused with tracks on a connected peer", { partyPlaying: false, firstMediaAtMs: null }, true],
    ["paused without tracks", { partyPlaying: false, hasTracks: false }, false],
  ];
  for (const [name, over, want] of cases) {
    await t.test(name, () => assert.equal(shouldReturn({ ...base, ...over }), want));
  }
});

test("steer: proportional rate within bounds", () => {
  assert.deepEqual(steer(0, true, 5000, 0), { rate: 1, seekToMs: null, holdMs: 0 });
  assert.deepEqual(steer(15, true, 5000, 0), { rate: 1, seekToMs: null, holdMs: 0 }, "inside the dead band");
  assert.deepEqual(steer(125, true, 5000, 0), { rate: 1.05, seekToMs: null, holdMs: 0 }, "behind: faster");
  assert.deepEqual(steer(-100, true, 5000, 0), { rate: 0.96, seekToMs: null, holdMs: 0 }, "ahead: slower");
  for (const e of [600, 999, -HOLD_MS]) {
    const s = steer(e, true, 5000, 0);
    assert.equal(s.seekToMs, null);
    assert.equal(s.holdMs, 0);
    assert.ok(Math.abs(s.rate - 1) <= MAX_RATE_DELTA + 1e-9, `rate ${s.rate} for ${e} ms`);
    assert.equal(Math.sign(s.rate - 1), Math.sign(e));
  }
});

test("steer: hard seek when far off, ahead by the lead", () => {
  assert.deepEqual(steer(HARD_SEEK_MS + 1, true, 20_000, 300), { rate: 1, seekToMs: 20_300, holdMs: 0 });
  assert.deepEqual(steer(-5000, true, 20_000, 300), { rate: 1, seekToMs: 20_000, holdMs: 0 }, "far ahead: seek back, no lead");
  assert.deepEqual(steer(5000, true, 20_000, 99_999), { rate: 1, seekToMs: 20_000 + MAX_LEAD_MS, holdMs: 0 }, "the lead is bounded");
  assert.deepEqual(steer(5000, true, -50, 0), { rate: 1, seekToMs: 0, holdMs: 0 }, "never before the start");
});

test("steer: ahead holds the picture until the party catches up", () => {
  assert.deepEqual(steer(-HOLD_MS - 1, true, 9000, 0), { rate: 1, seekToMs: null, holdMs: HOLD_MS + 1 });
  assert.deepEqual(steer(-HARD_SEEK_MS, true, 9000, 0), { rate: 1, seekToMs: null, holdMs: HARD_SEEK_MS });
});

test("steer: paused holds the party's frame", () => {
  assert.deepEqual(steer(10, false, 7000, 500), { rate: 1, seekToMs: null, holdMs: 0 });
  assert.deepEqual(steer(300, false, 7000, 500), { rate: 1, seekToMs: 7000, holdMs: 0 }, "no lead while paused");
  assert.deepEqual(steer(NaN, true, 7000, 0), { rate: 1, seekToMs: null, holdMs: 0 });
});

test("preloadInMs: HLS loads in the background while the peer connection is late", () => {
  const late = { ...base, pcConnected: false, lastMediaAtMs: 0, firstMediaAtMs: null };
  assert.equal(preloadInMs({ ...late, connectAtMs: 100_000 - PRELOAD_AFTER_MS, signalAtMs: 99_900 }), null, "not late yet");
  assert.equal(preloadInMs({ ...late, connectAtMs: 100_000 - 1000, signalAtMs: 99_500 }), PC_WAIT_MS - 1000);
  assert.equal(preloadInMs({ ...late, connectAtMs: 97_000, signalAtMs: 99_900 }), PC_AFTER_SIGNAL_MS - 100, "slow signalling");
  assert.equal(preloadInMs({ ...late, connectAtMs: 100_000 - PC_WAIT_MS - 500, signalAtMs: 98_000 }), 0, "due already");
  assert.equal(preloadInMs({ ...late, signalAtMs: null }), null, "no anchors before signalling");
  assert.equal(preloadInMs(base), null, "connected");
  assert.equal(preloadInMs({ ...late, hasItem: false, signalAtMs: 0 }), null, "nothing to play");
});

test("nextLead learns the seek time, within bounds", () => {
  assert.equal(nextLead(0, 400), 400);
  assert.equal(nextLead(400, -150), 250);
  assert.equal(nextLead(100, -500), 0);
  assert.equal(nextLead(2900, 900), MAX_LEAD_MS);
  assert.equal(nextLead(200, NaN), 200);
});

test("hlsErrorText says what happened", () => {
  assert.match(hlsErrorText(422, "image subtitles only"), /cannot play over HLS: image subtitles only/);
  assert.match(hlsErrorText(415, "vod: unsupported: no video stream"), /cannot play over HLS: vod: unsupported: no video stream\. Waiting for WebRTC/);
  assert.match(hlsErrorText(404, ""), /not available/);
  assert.match(hlsErrorText(0, "manifestLoadError"), /manifestLoadError.*Retrying/);
  assert.match(hlsErrorText(500, "boom"), /\(500: boom\)/);
});
