import { test } from "node:test";
import assert from "node:assert/strict";
import { watchProgress } from "./progress";

/** fakeVideo is the part of a <video> watchProgress reads, as an EventTarget. */
function fakeVideo() {
  const v = new EventTarget() as EventTarget & { currentTime: number; duration: number; paused: boolean };
  v.currentTime = 0;
  v.duration = 90;
  v.paused = true;
  return v;
}

function setup() {
  (globalThis as { window?: EventTarget }).window ??= new EventTarget();
  const saves: [number, number][] = [];
  const exits: [number, number][] = [];
  const v = fakeVideo();
  const stop = watchProgress(v as unknown as HTMLVideoElement, 0, {
    save: async (p, d) => void saves.push([p, d]),
    exit: (p, d) => void exits.push([p, d]),
  });
  return { v, saves, exits, stop };
}

test("nothing is saved before playback starts (the resume seek must not save 0)", () => {
  const { v, saves, exits, stop } = setup();
  v.currentTime = 62;
  v.dispatchEvent(new Event("seeked"));
  v.dispatchEvent(new Event("pause"));
  stop();
  assert.deepEqual(saves, []);
  assert.deepEqual(exits, []);
});

test("pause, seek end and page close save the position once each", () => {
  const { v, saves, exits, stop } = setup();
  v.dispatchEvent(new Event("playing"));
  v.currentTime = 70.25;
  v.dispatchEvent(new Event("pause"));
  v.dispatchEvent(new Event("pause")); // same position: not saved again
  v.currentTime = 60.25;
  v.dispatchEvent(new Event("seeked"));
  v.currentTime = 61;
  window.dispatchEvent(new Event("pagehide"));
  stop(); // unmount right after: already saved
  assert.deepEqual(saves, [
    [70250, 90000],
    [60250, 90000],
  ]);
  assert.deepEqual(exits, [[61000, 90000]]);
});

test("the item's duration stands in until the video knows its own", () => {
  (globalThis as { window?: EventTarget }).window ??= new EventTarget();
  const saves: [number, number][] = [];
  const v = fakeVideo();
  v.duration = NaN;
  const stop = watchProgress(v as unknown as HTMLVideoElement, 120000, { save: async (p, d) => void saves.push([p, d]), exit: () => undefined });
  v.dispatchEvent(new Event("playing"));
  v.currentTime = 5;
  v.dispatchEvent(new Event("pause"));
  stop();
  assert.deepEqual(saves, [[5000, 120000]]);
});
