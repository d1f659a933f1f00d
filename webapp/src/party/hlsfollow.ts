// hlsfollow.ts holds the rules of a party viewer's fallback from WebRTC to
// HLS: when to fall back, when to return, and how an HLS <video> follows
// the party's timeline (sync.ts computes the party's position from the
// `marquee.playback` anchors; this only steers towards it). Pure functions,
// unit-tested in node.

/**
 * PC_WAIT_MS: a peer connection not up this long after the join began
 * cannot connect (UDP blocked), once signalling has been up for
 * PC_AFTER_SIGNAL_MS (the offer and answer ride on the join, so a
 * reachable peer connects soon after).
 */
export const PC_WAIT_MS = 2500;
export const PC_AFTER_SIGNAL_MS = 1000;
/** FREEZE_MS: no picture or sound this long while the party plays means WebRTC is too weak. */
export const FREEZE_MS = 5000;
/** RETURN_AFTER_MS: WebRTC media must have flowed this long before HLS stops. */
export const RETURN_AFTER_MS = 1000;
/** FRESH_MEDIA_MS: media shown within this is still flowing. */
export const FRESH_MEDIA_MS = 1000;
/** PRELOAD_AFTER_MS: a peer connection not up this long after the join began has HLS load in the background. */
export const PRELOAD_AFTER_MS = 700;

/** LinkHealth is what the session knows of its WebRTC link, at nowMs. */
export interface LinkHealth {
  nowMs: number;
  /** hasItem: the party has an item (playing or paused) to fall back to. */
  hasItem: boolean;
  partyPlaying: boolean;
  /** connectAtMs is when the latest join began (null: none under way). */
  connectAtMs: number | null;
  /** signalAtMs is when the latest signalling connection joined, or null while none is up. */
  signalAtMs: number | null;
  /** pcConnected: the latest join's peer connection is up. */
  pcConnected: boolean;
  /** lastMediaAtMs is when WebRTC last showed a frame or played sound (0: never). */
  lastMediaAtMs: number;
  /** firstMediaAtMs is when WebRTC media first showed since the latest join, or null. */
  firstMediaAtMs: number | null;
  /** playingSinceMs is when the party last started playing. */
  playingSinceMs: number;
  /** hasTracks: the latest join subscribed to the ingest's tracks. */
  hasTracks: boolean;
}

/**
 * fallBackReason tells why this viewer should switch to HLS now, or null:
 * signalling joined but the peer connection did not come up (UDP blocked,
 * ICE failed), or it is up and the party plays but no media showed for
 * FREEZE_MS (too weak for the lowest simulcast layer, or nothing arrives).
 */
export function fallBackReason(h: LinkHealth): string | null {
  if (!h.hasItem || h.signalAtMs === null) return null;
  if (!h.pcConnected) return h.nowMs >= pcDueAt(h) ? "WebRTC could not connect" : null;
  if (!h.partyPlaying) return null;
  const since = Math.max(h.lastMediaAtMs, h.playingSinceMs, h.signalAtMs);
  return h.nowMs - since > FREEZE_MS ? "WebRTC media stalled" : null;
}

/**
 * preloadInMs tells whether HLS should load in the background, in case
 * the fallback comes: the peer connection is late. It returns how long
 * until fallBackReason would fire (0 or more), or null for no preload.
 */
export function preloadInMs(h: LinkHealth): number | null {
  if (!h.hasItem || h.signalAtMs === null || h.pcConnected) return null;
  if (h.nowMs - (h.connectAtMs ?? h.signalAtMs) <= PRELOAD_AFTER_MS) return null;
  return Math.max(0, pcDueAt(h) - h.nowMs);
}

/** pcDueAt is when a peer connection not up yet is given up on (signalAtMs set). */
function pcDueAt(h: LinkHealth): number {
  const signal = h.signalAtMs ?? h.nowMs;
  return Math.max((h.connectAtMs ?? signal) + PC_WAIT_MS, signal + PC_AFTER_SIGNAL_MS);
}

/**
 * shouldReturn tells whether an HLS viewer may go back to WebRTC: its
 * peer connection is up and media has flowed for RETURN_AFTER_MS and still
 * does; while the party is paused (no frames flow), subscribed tracks on a
 * connected peer connection are enough.
 */
export function shouldReturn(h: LinkHealth): boolean {
  if (h.signalAtMs === null || !h.pcConnected) return false;
  if (!h.partyPlaying) return h.hasTracks;
  if (h.firstMediaAtMs === null) return false;
  return h.nowMs - h.firstMediaAtMs >= RETURN_AFTER_MS && h.nowMs - h.lastMediaAtMs < FRESH_MEDIA_MS;
}

/** MAX_RATE_DELTA bounds playbackRate to 1 ± this: a change people do not notice. */
export const MAX_RATE_DELTA = 0.1;
/** FULL_RATE_AT_MS is the error at which the rate correction reaches its bound. */
export const FULL_RATE_AT_MS = 250;
/** DEADBAND_MS: an error this small is left alone (playbackRate 1). */
export const DEADBAND_MS = 20;
/** HARD_SEEK_MS: further off than this, seek instead of changing speed. */
export const HARD_SEEK_MS = 1000;
/** PAUSED_SEEK_MS: while paused, a frame further off than this is replaced by a seek. */
export const PAUSED_SEEK_MS = 40;
/** HOLD_MS: further ahead than this, hold the picture (pause) until the party catches up. */
export const HOLD_MS = 300;
/** MAX_LEAD_MS bounds the lead a seek aims ahead by (the time a seek takes to play). */
export const MAX_LEAD_MS = 3000;

/** Steer is what to do to the HLS element now. */
export interface Steer {
  /** rate is the playbackRate to set. */
  rate: number;
  /** seekToMs, when set, is the media position to seek to. */
  seekToMs: number | null;
  /** holdMs, when above 0, is how long to hold the picture (paused) before playing on. */
  holdMs: number;
}

/**
 * steer is the control law. errorMs is the position the viewer should show
 * minus the one it shows (positive: behind). Playing, a small error is
 * corrected by speed, proportionally (±MAX_RATE_DELTA at FULL_RATE_AT_MS),
 * so the picture never jumps. Ahead by more than HOLD_MS (up to
 * HARD_SEEK_MS) it holds the picture that long, as a WebRTC viewer's
 * jitter buffer would; further off it seeks, behind by leadMs ahead of the
 * target, the time a seek takes before frames play again. Paused, the rate
 * is 1 and an off frame is replaced by the right one.
 */
export function steer(errorMs: number, playing: boolean, targetMs: number, leadMs: number): Steer {
  const none = { rate: 1, seekToMs: null, holdMs: 0 };
  if (!Number.isFinite(errorMs)) return none;
  if (!playing) return { ...none, seekToMs: Math.abs(errorMs) > PAUSED_SEEK_MS ? Math.max(0, targetMs) : null };
  if (Math.abs(errorMs) > HARD_SEEK_MS) {
    const lead = errorMs > 0 ? Math.min(MAX_LEAD_MS, Math.max(0, leadMs)) : 0;
    return { ...none, seekToMs: Math.max(0, targetMs + lead) };
  }
  if (errorMs < -HOLD_MS) return { ...none, holdMs: -errorMs };
  if (Math.abs(errorMs) <= DEADBAND_MS) return none;
  const delta = Math.max(-MAX_RATE_DELTA, Math.min(MAX_RATE_DELTA, (errorMs / FULL_RATE_AT_MS) * MAX_RATE_DELTA));
  return { ...none, rate: Math.round((1 + delta) * 1000) / 1000 };
}

/**
 * nextLead learns how far ahead to seek: after a seek, the viewer found
 * itself errorMs behind (positive) or ahead (negative) once frames played,
 * so the next seek aims that much further (or less far) ahead.
 */
export function nextLead(leadMs: number, errorAfterSeekMs: number): number {
  if (!Number.isFinite(errorAfterSeekMs)) return leadMs;
  return Math.min(MAX_LEAD_MS, Math.max(0, leadMs + errorAfterSeekMs));
}

/** hlsErrorText turns a failed HLS request (415/422: the server cannot make HLS of this item) or hls.js fatal error into words for the stage. */
export function hlsErrorText(status: number, apiMessage: string): string {
  if (status === 415 || status === 422) return `This item cannot play over HLS: ${apiMessage || "its format is not supported"}. Waiting for WebRTC to come back.`;
  if (status === 403 || status === 404) return `HLS is not available for this item (${apiMessage || status}). Waiting for WebRTC to come back.`;
  if (status === 0) return `HLS playback failed: ${apiMessage || "network error"}. Retrying…`;
  return `HLS playback failed (${status}${apiMessage ? `: ${apiMessage}` : ""}). Retrying…`;
}
