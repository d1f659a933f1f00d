// sync.ts turns the ingest's playback anchors into positions: where the
// party is now, which media position the frame on screen shows, and how far
// this viewer is behind. Pure functions, so they are unit-tested in node.

/** An RTP timestamp tied to the media position it carries (from `marquee.playback`). */
export interface RtpAnchor {
  ts: number;
  positionMs: number;
}

/** The states the ingest reports for the current item. */
export type PlaybackState = "playing" | "paused" | "stopped" | "loading";

/** The `marquee.playback` message (brief: cross-service contracts). */
export interface Playback {
  type: "playback";
  itemId: string;
  title: string;
  state: PlaybackState;
  positionMs: number;
  durationMs: number;
  sentAtMs: number;
  videoRtp?: RtpAnchor;
  audioRtp?: RtpAnchor;
}

/** RTP clock rates: RFC 7741 §4.1 (VP8, 90 kHz) and RFC 7587 §4.1 (Opus, 48 kHz). */
export const VIDEO_CLOCK = 90000;
export const AUDIO_CLOCK = 48000;

const TWO_32 = 0x1_0000_0000;

/**
 * rtpDiff returns a − b for two 32-bit RTP timestamps, as a signed number in
 * [−2^31, 2^31): timestamps wrap modulo 2^32 (RFC 3550 §5.1), so a frame just
 * after the wrap is ahead of an anchor just before it.
 */
export function rtpDiff(a: number, b: number): number {
  let d = ((a >>> 0) - (b >>> 0)) % TWO_32;
  if (d < 0) d += TWO_32;
  return d >= TWO_32 / 2 ? d - TWO_32 : d;
}

/** mediaPositionMs maps an RTP timestamp to the media position it shows. */
export function mediaPositionMs(rtpTs: number, anchor: RtpAnchor, clockRate: number): number {
  return anchor.positionMs + (rtpDiff(rtpTs, anchor.ts) * 1000) / clockRate;
}

/**
 * ClockSkew estimates how far this browser's wall clock is from the ingest's,
 * from the least (receivedAt − sentAtMs) seen: that is the one-way delay plus
 * the clock offset. Under a second, the clocks are taken as synchronised (NTP)
 * and sentAtMs is trusted as is; beyond, the offset is taken to be all of it.
 */
export class ClockSkew {
  private minDelta = Number.POSITIVE_INFINITY;

  /** observe records one message's send time and local receive time. */
  observe(sentAtMs: number, receivedAtMs: number): void {
    if (!Number.isFinite(sentAtMs) || sentAtMs <= 0) return;
    this.minDelta = Math.min(this.minDelta, receivedAtMs - sentAtMs);
  }

  /** offsetMs is what to add to an ingest time to get a local time. */
  offsetMs(): number {
    if (!Number.isFinite(this.minDelta) || Math.abs(this.minDelta) < 1000) return 0;
    return this.minDelta;
  }
}

/**
 * partyPositionMs is where the party is at local wall time atMs: the last
 * report's position, advanced by the time since it was sent while playing,
 * and never past the item's end.
 */
export function partyPositionMs(pb: Playback, atMs: number, skew: ClockSkew): number {
  if (pb.state !== "playing") return pb.positionMs;
  const elapsed = Math.max(0, atMs - (pb.sentAtMs + skew.offsetMs()));
  const pos = pb.positionMs + elapsed;
  return pb.durationMs > 0 ? Math.min(pos, pb.durationMs) : pos;
}

/** A position shown to this viewer, stamped with the local wall time it was shown. */
export interface Displayed {
  positionMs: number;
  atMs: number;
}

/**
 * delayMs is how far the displayed media lags the party: the party position
 * at the moment the frame was shown minus the position the frame carries.
 * Positive means behind. While paused both stand still, so it reads ~0.
 */
export function delayMs(pb: Playback, shown: Displayed, skew: ClockSkew): number {
  return partyPositionMs(pb, shown.atMs, skew) - shown.positionMs;
}

/** formatTime renders milliseconds as h:mm:ss or m:ss. */
export function formatTime(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) ms = 0;
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** parsePlayback validates an untrusted `marquee.playback` payload. */
export function parsePlayback(raw: unknown): Playback | null {
  if (typeof raw !== "object" || raw === null) return null;
  const o = raw as Record<string, unknown>;
  if (o.type !== "playback") return null;
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
  const anchor = (v: unknown): RtpAnchor | undefined => {
    if (typeof v !== "object" || v === null) return undefined;
    const a = v as Record<string, unknown>;
    if (typeof a.ts !== "number" || typeof a.positionMs !== "number") return undefined;
    return { ts: a.ts >>> 0, positionMs: a.positionMs };
  };
  const states: PlaybackState[] = ["playing", "paused", "stopped", "loading"];
  return {
    type: "playback",
    itemId: String(o.itemId ?? ""),
    title: String(o.title ?? ""),
    state: states.includes(o.state as PlaybackState) ? (o.state as PlaybackState) : "loading",
    positionMs: num(o.positionMs),
    durationMs: num(o.durationMs),
    sentAtMs: num(o.sentAtMs),
    videoRtp: anchor(o.videoRtp),
    audioRtp: anchor(o.audioRtp),
  };
}

/** INGEST_IDENTITY_PREFIX mirrors internal/roomconv.IngestIdentityPrefix. */
export const INGEST_IDENTITY_PREFIX = "ingest-";

/**
 * isIngest tells the ingest's participant from people by what the SFU
 * vouches for: the identity in the ingest's token (the API mints `user-`
 * identities for people, never `ingest-`) and its grant to publish, which no
 * person's token has. Attributes are what a participant says about itself
 * and count for nothing here (issue #13.1).
 */
export function isIngest(p: { identity: string; permissions?: { canPublish?: boolean } }): boolean {
  return p.identity.startsWith(INGEST_IDENTITY_PREFIX) && p.permissions?.canPublish === true;
}

/** MAX_AHEAD_MS: a report stamped further ahead of this device's clock is not believed. */
const MAX_AHEAD_MS = 24 * 3600_000;

/**
 * acceptPlayback decides whether report next replaces prev. Data messages
 * come from the ingest in order on one reliable channel, so each replaces
 * the last; only the attribute copy (delivered by signalling, possibly
 * after a newer message) must not be older than what we have. A report
 * dated absurdly far ahead is dropped, so it can never lock out later ones.
 */
export function acceptPlayback(prev: Playback | null, next: Playback, fromAttribute: boolean, nowMs: number): boolean {
  if (next.sentAtMs > nowMs + MAX_AHEAD_MS) return false;
  return !(fromAttribute && prev && next.sentAtMs < prev.sentAtMs);
}

/**
 * audioOnly tells whether the current item is sound only: no video track
 * (unless the playback report anchors video: a film or an episode whose new
 * track is still on its way after a music item), or a playback report that
 * anchors audio but not video (a music item while a video track is still
 * published).
 */
export function audioOnly(st: { hasVideo: boolean; hasAudio: boolean; playback: Playback | null }): boolean {
  if (!st.hasVideo) return st.hasAudio && !st.playback?.videoRtp;
  return !!st.playback?.audioRtp && !st.playback.videoRtp;
}
