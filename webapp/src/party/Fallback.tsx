// Fallback.tsx plays the party over HLS when WebRTC cannot carry it to this
// viewer (UDP blocked, ICE failed, or media too weak): hls.js plays the
// party's current item, and a steering loop keeps it on the party's
// timeline (hlsfollow.ts) while the session keeps retrying WebRTC.
import Hls, { type ErrorData } from "hls.js";
import { useEffect, useRef, useState } from "preact/hooks";
import type { PartySession, SessionState } from "../session";
import { Icon } from "../ui";
import { fallBackReason, hlsErrorText, nextLead, shouldReturn, steer } from "./hlsfollow";

/** DECIDE_EVERY_MS is how often the link is judged and the HLS element steered. */
const DECIDE_EVERY_MS = 250;

/**
 * useFallbackSwitch judges the WebRTC link every DECIDE_EVERY_MS and moves
 * the session to HLS when it fails, and back once WebRTC media flows again.
 */
export function useFallbackSwitch(session: PartySession): void {
  useEffect(() => {
    const t = window.setInterval(() => {
      const st = session.state.get();
      if (st.conn === "ended" || st.conn === "replaced") {
        session.setTransport("webrtc");
        return;
      }
      const h = session.linkHealth();
      if (st.transport === "webrtc") {
        const why = fallBackReason(h);
        if (why) session.setTransport("hls", why);
      } else if (shouldReturn(h)) {
        session.setTransport("webrtc");
      }
    }, DECIDE_EVERY_MS);
    return () => clearInterval(t);
  }, [session]);
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

/** hlsURL asks the API for the signed master playlist of an item (a party guest may get the party's current item). */
async function hlsURL(itemId: string, signal: AbortSignal): Promise<string> {
  const res = await fetch(`/api/items/${encodeURIComponent(itemId)}/hls`, { credentials: "same-origin", headers: { Accept: "application/json" }, signal });
  const body = (await res.json().catch(() => ({}))) as { url?: string; message?: string; error?: string };
  if (!res.ok || !body.url) throw new HLSFailure(res.status, body.message ?? body.error ?? res.statusText);
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
 * is on HLS, loads the party's current item (a new item loads its own
 * playlist) and steers it; errors are said on the stage.
 */
export function FallbackVideo({ session, st, soundOnly }: { session: PartySession; st: SessionState; soundOnly: boolean }) {
  const video = useRef<HTMLVideoElement>(null);
  const [error, setError] = useState<string | null>(null);
  const [muted, setMuted] = useState(false);
  const on = st.transport === "hls";
  const itemId = st.playback?.itemId ?? "";

  useEffect(() => {
    const el = video.current;
    if (!on || !el || !itemId) return;
    setError(null);
    const abort = new AbortController();
    let hls: Hls | null = null;
    const stopFollow = follow(session, el, setMuted);
    hlsURL(itemId, abort.signal)
      .then((url) => {
        if (abort.signal.aborted) return;
        hls = startHLS(el, url, startSeconds(session), setError);
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
  }, [on, itemId, session]);

  if (!on) return null;
  return (
    <>
      <video ref={video} class="stage-video hls-video" playsInline aria-label="Party video (HLS)" data-testid="hls-video" hidden={soundOnly} />
      {error && (
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

/** startSeconds is where the HLS element should start: where the other viewers are. */
function startSeconds(session: PartySession): number {
  const pos = session.partyPositionNow();
  return pos === null ? -1 : Math.max(0, pos - session.targetDelayMs()) / 1000;
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
  let lead = 0;
  let seekedTo: number | null = null;
  const onFrame = (_now: number, meta: VideoFrameCallbackMetadata) => {
    const at = performance.timeOrigin + (meta.expectedDisplayTime ?? performance.now());
    session.observeHLS({ positionMs: meta.mediaTime * 1000, atMs: at }, true);
    frameHandle = el.requestVideoFrameCallback(onFrame);
  };
  if ("requestVideoFrameCallback" in el) frameHandle = el.requestVideoFrameCallback(onFrame);

  const tick = () => {
    const pb = session.state.get().playback;
    const party = session.partyPositionNow();
    if (!pb || party === null || el.readyState < HTMLMediaElement.HAVE_METADATA) return;
    const playing = pb.state === "playing";
    const target = Math.max(0, party - session.targetDelayMs());
    const shown = el.currentTime * 1000;
    if (el.videoWidth === 0 && !el.paused) session.observeHLS({ positionMs: shown, atMs: Date.now() }, false); // sound only
    if (el.seeking || el.readyState < HTMLMediaElement.HAVE_FUTURE_DATA) return;
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
    if (playing && el.paused) play(el, setMuted);
    if (!playing && !el.paused) el.pause();
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
