import { useEffect, useRef, useState } from "preact/hooks";
import { audioOnly, type PartySession, type SessionState } from "../session";
import { api, entryItem, type Entry, type Item } from "../api";
import { Icon, Poster } from "../ui";
import { formatTime } from "../sync";
import { useNow } from "./hooks";
import { Emoji } from "../emoji";
import { trackCredits } from "./credits";
import { FullscreenButton } from "./Fullscreen";
import { FallbackVideo, HLSBadge, useFallbackSwitch } from "./Fallback";

/** Stage renders the party's media: the video, or cover art for music, with overlays. */
export function Stage({ session, st, current, canControl = false }: { session: PartySession; st: SessionState; current: Entry | null; canControl?: boolean }) {
  const video = useRef<HTMLVideoElement>(null);
  const audio = useRef<HTMLAudioElement>(null);
  useEffect(() => {
    session.setMediaElements(video.current, audio.current);
    return () => session.setMediaElements(null, null);
  }, [session]);
  const preloadDueAt = useFallbackSwitch(session);

  const ended = st.conn === "ended";
  const soundOnly = !ended && (audioOnly(st) || (!st.hasVideo && current?.mediaType === "track"));
  const title = st.playback?.title || current?.title || "";
  const hls = st.transport === "hls";
  return (
    <div class={`stage${soundOnly ? " audio-only" : ""}`}>
      <video ref={video} class="stage-video" autoplay playsInline muted aria-label={title ? `Video: ${title}` : "Party video"} hidden={soundOnly || ended} />
      <audio ref={audio} autoplay />
      <FallbackVideo session={session} st={st} soundOnly={soundOnly} preloadDueAt={preloadDueAt} />
      {soundOnly && <AudioOnly session={session} st={st} current={current} />}
      {!st.hasVideo && !soundOnly && !ended && !hls && st.conn === "connected" && <Waiting st={st} title={title} canControl={canControl} />}
      {ended && (
        <div class="stage-waiting ended" role="status">
          <h2>The party is over</h2>
          <p>{st.error || "This party has ended."}</p>
          <a class="btn" href="/">
            Back to Marquee
          </a>
        </div>
      )}
      <div class="stage-top" hidden={ended}>
        <span class={`live-badge${st.playback?.state === "playing" ? "" : " idle"}`}>
          <span class="dot" aria-hidden="true" /> {st.playback?.state === "paused" ? "Paused" : "Live"}
        </span>
        <HLSBadge st={st} />
        {st.delayMs !== null && (st.conn === "connected" || hls) && (
          <span class="delay-chip" title="How far the picture you see is behind the party" data-testid="own-delay">
            {Math.round(st.delayMs)} ms behind
          </span>
        )}
        <FullscreenButton />
      </div>
      <Reactions st={st} />
      {st.conn === "replaced" && <ReplacedBanner st={st} onReconnect={() => session.reconnectHere()} />}
      {st.conn !== "connected" && st.conn !== "replaced" && !ended && !hls && <ConnBanner st={st} />}
      {st.audioBlocked && st.hasAudio && (
        <button type="button" class="unmute" onClick={() => void session.startAudio()} aria-label="Tap to unmute">
          <Icon name="volume" size={28} /> Tap to unmute
        </button>
      )}
    </div>
  );
}

function Waiting({ st, title, canControl }: { st: SessionState; title: string; canControl: boolean }) {
  // "Waiting for the host" is a listener's text: a controller is the one to press Play.
  const idle = canControl ? "Nothing is playing. Press Play to start the queue." : "Waiting for the host to start";
  const stopped = st.conn === "connected" && st.playback?.state === "stopped";
  const stoppedText = canControl ? "Stopped. Resume or start over below." : "Stopped. The host can resume.";
  const text = st.conn !== "connected" ? "Connecting…" : stopped ? stoppedText : title ? `Loading ${title}…` : idle;
  return (
    <div class="stage-waiting" data-testid="stage-waiting">
      {!stopped && (
        <div class="spinner" aria-hidden="true">
          <span />
        </div>
      )}
      <p>{text}</p>
    </div>
  );
}

function AudioOnly({ session, st, current }: { session: PartySession; st: SessionState; current: Entry | null }) {
  useNow(250);
  const itemId = Number(st.playback?.itemId || current?.sourceId || 0);
  const info = useTrackInfo(itemId);
  const pos = session.partyPositionNow() ?? 0;
  const dur = st.playback?.durationMs || (current?.runtimeSeconds ?? 0) * 1000;
  const tags = info?.item.media?.tags ?? {};
  const track = info?.item.title || current?.title || st.playback?.title || "Music";
  const artist = trackCredits(current, tags, st.playback?.title ?? "", track);
  // The cover: the track's own, else its album's, else the queue entry's.
  const cover = info?.cover ?? (current ? entryItem(current) : { id: itemId, title: track, hasPoster: false, kind: "track" });
  const art = { ...cover, title: track, kind: "track" };
  return (
    <div class="audio-card">
      <div class="audio-bg" aria-hidden="true">
        <Poster item={art} size="lg" />
      </div>
      <Poster item={art} size="lg" />
      <div class="audio-meta">
        <p class="eyebrow">Now playing</p>
        <h2>{track}</h2>
        {artist && <p class="subtitle">{artist}</p>}
        <div class="progress" role="progressbar" aria-label="Track progress" aria-valuemin={0} aria-valuemax={Math.round(dur / 1000)} aria-valuenow={Math.round(pos / 1000)}>
          <span style={{ width: `${dur ? Math.min(100, (pos / dur) * 100) : 0}%` }} />
        </div>
        <p class="times">
          <span>{formatTime(pos)}</span>
          <span>{formatTime(dur)}</span>
        </p>
      </div>
    </div>
  );
}

/**
 * useTrackInfo loads a track and the item whose picture stands for it (its
 * own poster or its album's). Guests may not browse the library: for them
 * it stays null and the queue entry and playback title are used instead.
 */
function useTrackInfo(itemId: number): { item: Item; cover: Pick<Item, "id" | "title" | "hasPoster" | "kind"> } | null {
  const [info, setInfo] = useState<{ item: Item; cover: Pick<Item, "id" | "title" | "hasPoster" | "kind"> } | null>(null);
  useEffect(() => {
    setInfo(null);
    if (itemId <= 0) return;
    let live = true;
    (async () => {
      const item = await api.item(itemId);
      let cover: Item = item;
      if (!item.hasPoster && item.parentId) cover = await api.item(item.parentId).catch(() => item);
      if (live) setInfo({ item, cover });
    })().catch(() => undefined);
    return () => {
      live = false;
    };
  }, [itemId]);
  return info;
}

function Reactions({ st }: { st: SessionState }) {
  return (
    <div class="reactions" aria-live="off">
      {st.reactions.map((r) => (
        <span key={r.id} class="reaction" style={{ left: `${10 + r.lane * 13}%` }} title={r.from}>
          <Emoji e={r.emoji} size={40} />
        </span>
      ))}
    </div>
  );
}

/** ReplacedBanner: another connection with this tab's identity took over; no retry loop. */
function ReplacedBanner({ st, onReconnect }: { st: SessionState; onReconnect: () => void }) {
  return (
    <div class="conn-banner replaced" role="alert" data-testid="replaced-banner">
      <span>{st.error || "This party was opened elsewhere, so this tab stopped."}</span>
      <button type="button" class="btn" onClick={onReconnect}>
        Reconnect here
      </button>
    </div>
  );
}

function ConnBanner({ st }: { st: SessionState }) {
  const now = useNow(250);
  const wait = st.retryAtMs ? Math.max(0, Math.ceil((st.retryAtMs - now) / 1000)) : 0;
  const text =
    st.conn === "ended"
      ? st.error || "This party has ended."
      : st.conn === "connecting"
        ? "Connecting…"
        : st.retryAtMs && wait > 0
          ? `Connection lost. Retrying in ${wait} s (attempt ${st.attempt})`
          : `Reconnecting…${st.attempt > 1 ? ` (attempt ${st.attempt})` : ""}`;
  return (
    <div class={`conn-banner ${st.conn}`} role="status" data-testid="conn-banner">
      {st.conn !== "ended" && (
        <div class="spinner small" aria-hidden="true">
          <span />
        </div>
      )}
      {text}
    </div>
  );
}
