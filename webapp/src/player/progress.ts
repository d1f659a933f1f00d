// progress.ts saves where the viewer is, so the next visit resumes there:
// every ~10 s while playing, on pause, after a seek, at the end and as the
// page goes away.

/** SAVE_EVERY_MS is the save period while playing. */
export const SAVE_EVERY_MS = 10_000;

/** Sink stores a position; exit is used when the page is going away. */
export interface Sink {
  save(positionMs: number, durationMs: number): Promise<unknown>;
  exit(positionMs: number, durationMs: number): void;
}

/**
 * watchProgress follows video and saves through sink. Nothing is saved
 * before playback first starts, so a page closed while it still loads (or
 * seeks to the resume point) cannot overwrite the saved position with 0.
 * It returns the function that stops it (saving one last time).
 */
export function watchProgress(video: HTMLVideoElement, fallbackDurationMs: number, sink: Sink): () => void {
  let armed = false;
  let last = -1;
  const point = (): [number, number] | null => {
    const dur = Number.isFinite(video.duration) && video.duration > 0 ? video.duration * 1000 : fallbackDurationMs;
    const pos = video.currentTime * 1000;
    if (!armed || !(dur > 0) || !Number.isFinite(pos)) return null;
    return [Math.floor(Math.min(pos, dur)), Math.floor(dur)];
  };
  const save = () => {
    const p = point();
    if (!p || Math.abs(p[0] - last) < 500) return;
    last = p[0];
    sink.save(p[0], p[1]).catch((e) => console.warn("marquee: progress not saved", e));
  };
  const exit = () => {
    const p = point();
    if (!p || Math.abs(p[0] - last) < 500) return;
    last = p[0];
    sink.exit(p[0], p[1]);
  };
  const onPlaying = () => {
    armed = true;
  };
  const timer = setInterval(() => {
    if (!video.paused) save();
  }, SAVE_EVERY_MS);
  const events: [string, () => void][] = [["playing", onPlaying], ["pause", save], ["seeked", save], ["ended", save]];
  for (const [ev, fn] of events) video.addEventListener(ev, fn);
  window.addEventListener("pagehide", exit);
  return () => {
    clearInterval(timer);
    for (const [ev, fn] of events) video.removeEventListener(ev, fn);
    window.removeEventListener("pagehide", exit);
    exit();
  };
}
