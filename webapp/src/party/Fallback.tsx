// Fallback.tsx plays the party over HLS when WebRTC cannot carry it to this
// viewer (UDP blocked, ICE failed, or media too weak): hls.js plays the
// party's current item, and a steering loop keeps it on the party's
// timeline (hlsfollow.ts) while the session keeps retrying WebRTC.
import Hls, { type ErrorData } from "hls.js";
import { useEffect, useRef, useState } from "preact/hooks";
import type { PartySession, SessionState } from "../session";
import { Icon } from "../ui";
import { fallBackReason, hlsErrorText, nextLead, preloadInMs, shouldReturn, steer } from "./hlsfollow";

/** DECIDE_EVERY_MS is how often the link is judged and the HLS element steered. */
const DECIDE_EVERY_MS = 250;
/** REMUX_START_MAX_BPS: a remux rendition up to this bitrate is where HLS starts. */
const REMUX_START_MAX_BPS = 8_000_000;

/**
 * useFallbackSwitch judges the WebRTC link every DECIDE_EVERY_MS and moves
 * the session to HLS when it fails, and back once WebRTC media flows again.
 * While the peer connection is late it returns when the fallback would
 * come (wall ms), so HLS loads in the background meanwhile; else null.
 */
export function useFallbackSwitch(session: PartySession): number | null {
  const [preloadDueAt, setPreloadDueAt] = useState<number | null>(null);
  useEffect(() => {
    let due: number | null = null;
    const t = window.setInterval(() => {
      const st = session.state.get();
      const h = session.linkHealth();
      const over = st.conn === "ended" || st.conn === "replaced";
      const inMs = over || st.transport === "hls" ? null : preloadInMs(h);
      if ((inMs === null) !== (due === null)) setPreloadDueAt((due = inMs === null ? null : h.nowMs + inMs));
      if (over) session.setTransport("webrtc");
      else if (st.transport === "webrtc") {
        const why = fallBackReason(h);
        if (why) session.setTransport("hls", why);
      } else if (shouldReturn(h)) session.setTransport("webrtc");
    }, DECIDE_EVERY_MS);
    return () => clearInterval(t);
  }, [session]);
  return preloadDueAt;
}

/** HLSBadge marks the stage of a viewer on the HLS fallback. */
export function HLSBadge({ st }: { st: SessionState }) {
  if (st.transport !== "hls") return null;
  return (
    <span class="hls-badge" data-testid="hls-badge" title={`${st.fallbackReason ?? "WebRTC unavailable"}: playing over HLS, retrying WebRTC`}>
      HLS
    </span>
  );
}

/**
 * hlsURL asks the API for the signed master playlist of an item (a party
 * guest may get the party's current item) and checks the playlist comes:
 * the server says in words why it cannot make HLS of an item (sound only,
 * an unsupported codec), which hls.js would reduce to "manifestLoadError".
 */
async function hlsURL(itemId: string, signal: AbortSignal): Promise<string> {
  const res = await fetch(`/api/items/${encodeURIComponent(itemId)}/hls`, { credentials: "same-origin", headers: { Accept: "application/json" }, signal });
  const body = (await res.json().catch(() => ({}))) as { url?: string; message?: string; error?: string };
  if (!res.ok || !body.url) throw new HLSFailure(res.status, body.message ?? body.error ?? res.statusText);
  const master = await fetch(body.url, { credentials: "same-origin", signal });
  if (!master.ok) {
    const e = (await master.json().catch(() => ({}))) as { message?: string };
    throw new HLSFailure(master.status, e.message ?? master.statusText);
  }
  return body.url;
}

class HLSFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * FallbackVideo renders the HLS element over the stage while the session
 * is on HLS (hidden while it preloads, before preloadDueAt), loads the
 * party's current item (a new item loads its own playlist) and steers it;
 * errors are said on the stage.
 */
export function FallbackVideo({ session, st, soundOnly, preloadDueAt }: { session: PartySession; st: SessionState; soundOnly: boolean; preloadDueAt: number | null }) {
  const video = useRef<HTMLVideoElement>(null);
  const [error, setError] = useState<string | null>(null);
  const [muted, setMuted] = useState(false);
  const on = st.transport === "hls";
  const active = on || preloadDueAt !== null;
  const itemId = st.playback?.itemId ?? "";

  useEffect(() => {
    const el = video.current;
    if (!active || !el || !itemId) return;
    setError(null);
    const abort = new AbortController();
    let hls: Hls | null = null;
    const stopFollow = follow(session, el, setMuted);
    // Preloading, start where the party will be when the fallback comes.
    const ahead = session.state.get().transport === "hls" || preloadDueAt === null ? 0 : Math.max(0, preloadDueAt - Date.now());
    hlsURL(itemId, abort.signal)
      .then((url) => {
        if (abort.signal.aborted) return;
        hls = startHLS(el, url, startSeconds(session, ahead), setError);
      })
      .catch((err: unknown) => {
        if (abort.signal.aborted) return;
        setError(err instanceof HLSFailure ? hlsErrorText(err.status, err.message) : hlsErrorText(0, String(err)));
      });
    return () => {
      abort.abort();
      stopFollow();
      hls?.destroy();
      el.removeAttribute("src");
      el.load();
    };
    // preloadDueAt is read once, as the preload starts: a later value must not reload.
  }, [active, itemId, session]);

  if (!active) return null;
  return (
    <>
      <video ref={video} class="stage-video hls-video" playsInline aria-label="Party video (HLS)" data-testid={on ? "hls-video" : "hls-preload"} hidden={soundOnly || !on} />
      {on && error && (
        <div class="conn-banner hls-error" role="alert" data-testid="hls-error">
          {error}
        </div>
      )}
      {muted && (
        <button
          type="button"
          class="unmute"
          aria-label="Tap to unmute"
          onClick={() => {
            const el = video.current;
            if (el) el.muted = false;
            setMuted(false);
          }}
        >
          <Icon name="volume" size={28} /> Tap to unmute
        </button>
      )}
    </>
  );
}

/** START_LEAD_MS is how far ahead of the party HLS starts: about the time its first frame takes. */
const START_LEAD_MS = 500;

/** startSeconds is where the HLS element should start: where the other viewers will be when it plays, aheadMs from now. */
function startSeconds(session: PartySession, aheadMs: number): number {
  const pos = session.partyPositionNow();
  if (pos === null) return -1;
  const lead = session.state.get().playback?.state === "playing" ? START_LEAD_MS + aheadMs : 0;
  return Math.max(0, pos - session.targetDelayMs() + lead) / 1000;
}

/** startHLS plays url on el with hls.js (or natively where hls.js cannot run, as in Safari on iOS). */
function startHLS(el: HTMLVideoElement, url: string, startAt: number, setError: (e: string | null) => void): Hls | null {
  if (!Hls.isSupported()) {
    el.src = url;
    if (startAt > 0) el.addEventListener("loadedmetadata", () => (el.currentTime = startAt), { once: true });
    return null;
  }
  const hls = new Hls({ startPosition: startAt, maxBufferLength: 12, backBufferLength: 10, abrEwmaDefaultEstimate: 2_000_000 });
  let networkRetries = 0;
  hls.on(Hls.Events.ERROR, (_ev, data: ErrorData) => {
    if (!data.fatal) return;
    const status = data.response?.code ?? 0;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
      hls.recoverMediaError();
      return;
    }
    setError(hlsErrorText(status, data.details));
    if (status === 422 || status === 403 || status === 404 || ++networkRetries > 5) return;
    window.setTimeout(() => hls.startLoad(), 1000 * networkRetries);
  });
  // The remux rendition (the source's own H.264 and AAC) costs the server
  // no encode, so it starts first; ABR moves down from it if it must.
  hls.on(Hls.Events.MANIFEST_PARSED, () => {
    const remux = hls.levels.findIndex((l) => l.url.some((u) => u.includes("/src/")) && l.bitrate <= REMUX_START_MAX_BPS);
    if (remux >= 0) hls.startLevel = remux;
  });
  hls.on(Hls.Events.FRAG_BUFFERED, () => {
    networkRetries = 0;
    setError(null);
  });
  hls.loadSource(url);
  hls.attachMedia(el);
  return hls;
}

/**
 * follow keeps el on the party's timeline: every frame shown is reported
 * to the session (the measured delay), and every DECIDE_EVERY_MS the
 * error to the position the other viewers show steers playbackRate, a
 * seek, play and pause. It returns a stop function.
 */
function follow(session: PartySession, el: HTMLVideoElement, setMuted: (m: boolean) => void): () => void {
  let frameHandle = 0;
  let lead = START_LEAD_MS;
  let seekedTo: number | null = 0; // the start is a seek too: it teaches the lead
  let holdUntil = 0;
  const onFrame = (_now: number, meta: VideoFrameCallbackMetadata) => {
    const at = performance.timeOrigin + (meta.expectedDisplayTime ?? performance.now());
    session.observeHLS({ positionMs: meta.mediaTime * 1000, atMs: at }, true);
    frameHandle = el.requestVideoFrameCallback(onFrame);
  };
  if ("requestVideoFrameCallback" in el) frameHandle = el.requestVideoFrameCallback(onFrame);

  const tick = () => {
    if (session.state.get().transport !== "hls") return; // preloading: wait, paused
    const pb = session.state.get().playback;
    const party = session.partyPositionNow();
    if (!pb || party === null || el.readyState < HTMLMediaElement.HAVE_METADATA) return;
    const playing = pb.state === "playing";
    const target = Math.max(0, party - session.targetDelayMs());
    const shown = el.currentTime * 1000;
    if (el.videoWidth === 0 && !el.paused) session.observeHLS({ positionMs: shown, atMs: Date.now() }, false); // sound only
    if (!playing && !el.paused) el.pause();
    if (el.seeking || el.readyState < HTMLMediaElement.HAVE_FUTURE_DATA || Date.now() < holdUntil) return;
    if (seekedTo !== null && playing && !el.paused) {
      lead = nextLead(lead, target - shown); // how late the last seek played: aim that much further next time
      seekedTo = null;
    }
    const s = steer(target - shown, playing, target, lead);
    if (s.seekToMs !== null) {
      el.currentTime = s.seekToMs / 1000;
      seekedTo = playing ? s.seekToMs : null;
    }
    if (el.playbackRate !== s.rate) el.playbackRate = s.rate;
    if (s.holdMs > 0) {
      el.pause(); // ahead: hold this picture until the party reaches it
      holdUntil = Date.now() + s.holdMs;
    } else if (playing && el.paused) play(el, setMuted);
  };
  const t = window.setInterval(tick, DECIDE_EVERY_MS);
  return () => {
    clearInterval(t);
    if (frameHandle && "cancelVideoFrameCallback" in el) el.cancelVideoFrameCallback(frameHandle);
  };
}

/** play starts el with sound, or muted (and offers a tap) where autoplay with sound is refused. */
function play(el: HTMLVideoElement, setMuted: (m: boolean) => void): void {
  el.play().catch((err: unknown) => {
    if (!(err instanceof DOMException) || err.name !== "NotAllowedError" || el.muted) return;
    el.muted = true;
    setMuted(true);
    void el.play().catch(() => undefined);
  });
}
