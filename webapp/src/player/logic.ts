// logic.ts holds the on-demand player's pure rules: time labels, the seek
// bar's buffered segments, the keyboard map, the resume decision and the
// quality labels. Nothing here touches the DOM, so node --test covers it.

/** formatTime renders seconds as m:ss, or h:mm:ss from an hour up. */
export function formatTime(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) seconds = 0;
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** Segment is a span of the seek bar, as fractions of its width. */
export interface Segment {
  start: number;
  end: number;
}

/** Ranges is the part of TimeRanges the seek bar reads. */
export interface Ranges {
  length: number;
  start(i: number): number;
  end(i: number): number;
}

/**
 * bufferedSegments turns a video's buffered TimeRanges into sorted,
 * merged, clamped bar segments; gaps under `join` of the width are closed,
 * as a hairline gap between fMP4 segments means nothing to a viewer.
 */
export function bufferedSegments(ranges: Ranges, duration: number, join = 0.002): Segment[] {
  if (!Number.isFinite(duration) || duration <= 0) return [];
  const raw: Segment[] = [];
  for (let i = 0; i < ranges.length; i++) {
    const start = Math.min(1, Math.max(0, ranges.start(i) / duration));
    const end = Math.min(1, Math.max(0, ranges.end(i) / duration));
    if (end > start) raw.push({ start, end });
  }
  raw.sort((a, b) => a.start - b.start);
  const out: Segment[] = [];
  for (const s of raw) {
    const last = out[out.length - 1];
    if (last && s.start - last.end <= join) last.end = Math.max(last.end, s.end);
    else out.push({ ...s });
  }
  return out;
}

/** Action is what a key press asks of the player. */
export type Action =
  | { type: "toggle" }
  | { type: "seekBy"; seconds: number }
  | { type: "seekFraction"; fraction: number }
  | { type: "volumeBy"; delta: number }
  | { type: "mute" }
  | { type: "fullscreen" }
  | { type: "cycleSubtitles" };

/**
 * keyAction maps a key (KeyboardEvent.key) to a player action, like
 * YouTube's: space/k play-pause, ←/→ 5 s, j/l 10 s, ↑/↓ volume, m mute,
 * f full screen, c subtitles, 0-9 jump to 0-90 %. Modified keys are the
 * browser's.
 */
export function keyAction(key: string, mods: { ctrl?: boolean; alt?: boolean; meta?: boolean } = {}): Action | null {
  if (mods.ctrl || mods.alt || mods.meta) return null;
  switch (key) {
    case " ":
    case "k":
    case "K":
      return { type: "toggle" };
    case "ArrowLeft":
      return { type: "seekBy", seconds: -5 };
    case "ArrowRight":
      return { type: "seekBy", seconds: 5 };
    case "j":
    case "J":
      return { type: "seekBy", seconds: -10 };
    case "l":
    case "L":
      return { type: "seekBy", seconds: 10 };
    case "ArrowUp":
      return { type: "volumeBy", delta: 0.1 };
    case "ArrowDown":
      return { type: "volumeBy", delta: -0.1 };
    case "m":
    case "M":
      return { type: "mute" };
    case "f":
    case "F":
      return { type: "fullscreen" };
    case "c":
    case "C":
      return { type: "cycleSubtitles" };
  }
  if (key.length === 1 && key >= "0" && key <= "9") return { type: "seekFraction", fraction: Number(key) / 10 };
  return null;
}

/** nextSubtitle is the track after `current` (-1 = off), wrapping to off. */
export function nextSubtitle(current: number, count: number): number {
  if (count <= 0) return -1;
  return current + 1 >= count ? -1 : current + 1;
}

/** Saved is a saved resume point (GET /api/items/{id}/progress). */
export interface Saved {
  positionMs: number;
  durationMs: number;
  finished?: boolean;
}

/** FINISHED matches library.FinishedFraction: past it an item is watched. */
export const FINISHED = 0.95;

/**
 * resumeAt decides where the player starts, in seconds: at the saved
 * position, unless there is none, it is in the first 5 s (nothing to skip)
 * or the item was finished (past 95 %, or within the last 10 s).
 */
export function resumeAt(saved: Saved | null | undefined): number {
  if (!saved || saved.finished || !(saved.durationMs > 0) || !(saved.positionMs >= 5000)) return 0;
  if (saved.positionMs / saved.durationMs >= FINISHED || saved.durationMs - saved.positionMs < 10000) return 0;
  return saved.positionMs / 1000;
}

/** Level is the part of an hls.js level the quality menu shows. */
export interface Level {
  height?: number;
  bitrate?: number;
  name?: string;
}

/** levelLabel names a rendition: "720p", or its bitrate when it has no height. */
export function levelLabel(l: Level | undefined): string {
  if (!l) return "";
  if (l.height) return `${l.height}p`;
  if (l.bitrate) return `${Math.round(l.bitrate / 1000)} kb/s`;
  return l.name ?? "";
}

/** progressFraction is how much of an item a saved point covers, in [0, 1]. */
export function progressFraction(saved: Saved): number {
  if (!(saved.durationMs > 0)) return 0;
  return Math.min(1, Math.max(0, saved.positionMs / saved.durationMs));
}

/** Playable is what isAudioOnly reads of a library item. */
export interface Playable {
  kind: string;
  media?: { video?: unknown[]; audio?: unknown[] };
}

/**
 * isAudioOnly says whether an item has sound but no picture (a music
 * track: cover art is not a video stream), so the player shows its
 * artwork and title instead of an empty video box.
 */
export function isAudioOnly(item: Playable): boolean {
  if (item.kind === "track") return true;
  const m = item.media;
  return !!m && (m.video?.length ?? 0) === 0 && (m.audio?.length ?? 0) > 0;
}
