// Player.tsx is the on-demand watch page (/watch/<itemId>): it checks the
// item can be played, resumes where this user stopped, and plays it with
// hls.js under the player's own controls.
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, api, type Item } from "../api";
import { ErrorNote, Poster, Spinner } from "../ui";
import { checkPlaylist, playerApi } from "./api";
import { ControlBar } from "./Controls";
import { attach, type Engine, type EngineState } from "./engine";
import { formatTime, isAudioOnly, keyAction, nextSubtitle, resumeAt, type Action } from "./logic";
import { watchProgress } from "./progress";
import "./player.css";

/** Setup is what the page loads before the player starts. */
interface Setup {
  item: Item;
  url: string;
  startAt: number;
  art?: Item; // music: the item whose artwork shows (the track, else its album)
}

/** artFor is the item whose cover a music track shows: its own, else its album's. */
async function artFor(it: Item): Promise<Item | undefined> {
  if (!isAudioOnly(it)) return undefined;
  if (it.hasPoster || !it.parentId) return it;
  return api.item(it.parentId).then((p) => (p.hasPoster ? p : it)).catch(() => it);
}

/** whyNot turns a refused playlist into a sentence for the viewer. */
function whyNot(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.code === "unsupported_media" || e.code === "bad_source") return `This file cannot be played: ${e.message}`;
    if (e.status === 404) return "This item is not available to you, or on-demand viewing is not enabled on this server.";
    return `The video could not be opened: ${e.message}`;
  }
  return `The video could not be opened: ${(e as Error).message}`;
}

/** WatchPage loads an item, its resume point and its HLS URL, then plays it. */
export function WatchPage({ id }: { id: number }) {
  const [setup, setSetup] = useState<Setup | null>(null);
  const [item, setItem] = useState<Item | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    let live = true;
    setSetup(null);
    setError("");
    (async () => {
      const [it, saved, url] = await Promise.all([
        api.item(id),
        playerApi.progress(id).catch(() => null),
        playerApi.hlsUrl(id),
      ]);
      if (live) setItem(it);
      const [art] = await Promise.all([artFor(it), checkPlaylist(url)]);
      if (live) setSetup({ item: it, url, startAt: resumeAt(saved), art });
    })().catch((e) => live && setError(whyNot(e)));
    return () => {
      live = false;
    };
  }, [id]);
  return (
    <main class="page watch-page">
      <p class="eyebrow">
        <a href={`/items/${id}`}>‹ {item ? item.title : "Back"}</a>
      </p>
      {error ? (
        <div class="player-error-page">
          <ErrorNote>{error}</ErrorNote>
        </div>
      ) : setup ? (
        <Player setup={setup} />
      ) : (
        <div class="player player-loading">
          <Spinner label="Loading the video" />
        </div>
      )}
    </main>
  );
}

const NO_STATE: EngineState = { levels: [], level: -1, chosen: -1, auto: true, audioTracks: [], audioTrack: -1, subtitleTracks: [], subtitleTrack: -1 };

/** Player is the video, its engine, keyboard, resume note and controls. */
function Player({ setup }: { setup: Setup }) {
  const box = useRef<HTMLDivElement>(null);
  const videoRef = useRef<HTMLVideoElement>(null);
  const engine = useRef<Engine | null>(null);
  const [video, setVideo] = useState<HTMLVideoElement | null>(null);
  const [state, setState] = useState<EngineState>(NO_STATE);
  const [fatal, setFatal] = useState("");
  const [attempt, setAttempt] = useState(0);
  const [url, setUrl] = useState(setup.url);
  const [menu, setMenu] = useState("");
  const [resumed, setResumed] = useState(setup.startAt);
  const [fullscreen, setFullscreen] = useState(false);
  const [idle, setIdle] = useState(false);
  const retryAt = useRef(setup.startAt);

  useEffect(() => {
    const v = videoRef.current!;
    setVideo(v);
    let live = true;
    setFatal("");
    attach(v, url, retryAt.current, { onState: (s) => live && setState(s), onFatal: (m) => live && setFatal(m) }).then(
      (e) => {
        if (!live) return e.destroy();
        engine.current = e;
        v.play().catch(() => undefined); // autoplay may be refused; the Play button is there
      },
      (e) => live && setFatal((e as Error).message),
    );
    return () => {
      live = false;
      engine.current?.destroy();
      engine.current = null;
    };
  }, [url, attempt]);

  useEffect(() => {
    const v = videoRef.current!;
    const durationMs = setup.item.durationMs ?? setup.item.media?.durationMs ?? 0;
    return watchProgress(v, durationMs, {
      save: (pos, dur) => playerApi.saveProgress(setup.item.id, pos, dur),
      exit: (pos, dur) => playerApi.saveOnExit(setup.item.id, pos, dur),
    });
  }, [setup.item.id]);

  useEffect(() => {
    const on = () => setFullscreen(document.fullscreenElement === box.current);
    document.addEventListener("fullscreenchange", on);
    return () => document.removeEventListener("fullscreenchange", on);
  }, []);

  useEffect(() => {
    if (!resumed) return;
    const t = setTimeout(() => setResumed(0), 10_000);
    return () => clearTimeout(t);
  }, [resumed]);

  const toggle = () => {
    const v = videoRef.current!;
    if (v.paused) v.play().catch(() => undefined);
    else v.pause();
  };
  const seek = (t: number) => {
    const v = videoRef.current!;
    const d = Number.isFinite(v.duration) ? v.duration : 0;
    v.currentTime = Math.max(0, d ? Math.min(t, d - 0.1) : t);
  };
  const toggleFullscreen = () => {
    if (document.fullscreenElement) void document.exitFullscreen().catch(() => undefined);
    else void box.current?.requestFullscreen?.().catch(() => undefined);
  };
  const run = (a: Action) => {
    const v = videoRef.current!;
    switch (a.type) {
      case "toggle":
        return toggle();
      case "seekBy":
        return seek(v.currentTime + a.seconds);
      case "seekFraction":
        return Number.isFinite(v.duration) && seek(a.fraction * v.duration);
      case "volumeBy":
        v.muted = false;
        v.volume = Math.min(1, Math.max(0, Math.round((v.volume + a.delta) * 20) / 20));
        return;
      case "mute":
        v.muted = !v.muted;
        return;
      case "fullscreen":
        return toggleFullscreen();
      case "cycleSubtitles":
        return engine.current?.setSubtitleTrack(nextSubtitle(state.subtitleTrack, state.subtitleTracks.length));
    }
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (e.key === "Escape" && menu) {
        setMenu("");
        return;
      }
      if (t.closest("input:not([type=range]), textarea, select, [contenteditable]")) return;
      if (t.closest("[role=menu]") || (t.tagName === "BUTTON" && e.key === "Enter")) return;
      if (t.closest("input[type=range]") && e.key.startsWith("Arrow")) return;
      const a = keyAction(e.key, { ctrl: e.ctrlKey, alt: e.altKey, meta: e.metaKey });
      if (!a) return;
      e.preventDefault();
      run(a);
      poke();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  });

  // The controls fade while the video plays and nobody moves the mouse.
  const idleTimer = useRef<ReturnType<typeof setTimeout>>();
  const poke = () => {
    setIdle(false);
    clearTimeout(idleTimer.current);
    idleTimer.current = setTimeout(() => setIdle(true), 3000);
  };
  useEffect(() => () => clearTimeout(idleTimer.current), []);
  const hidden = idle && !!video && !video.paused && !menu;

  return (
    <div
      ref={box}
      class={`player${hidden ? " player-idle" : ""}`}
      data-level={state.level}
      data-chosen={state.chosen}
      data-audio={state.audioTrack}
      data-subtitle={state.subtitleTrack}
      onPointerMove={poke}
      onPointerDown={(e) => {
        poke();
        if (menu && !(e.target as HTMLElement).closest(".player-menu")) setMenu(""); // a click elsewhere closes the menu
      }}
    >
      <video
        ref={videoRef}
        class="player-video"
        playsInline
        onClick={toggle}
        onDblClick={toggleFullscreen}
        aria-label={`${setup.art ? "Audio" : "Video"}: ${setup.item.title}`}
      />
      {setup.art && <MusicCard item={setup.item} art={setup.art} onClick={toggle} />}
      {resumed > 0 && !fatal && (
        <div class="player-resume" role="status">
          Resumed at {formatTime(resumed)}
          <button
            type="button"
            class="btn small"
            onClick={() => {
              seek(0);
              setResumed(0);
            }}
          >
            Start over
          </button>
        </div>
      )}
      {fatal && (
        <div class="player-fatal" role="alert">
          <p>{fatal}</p>
          <button
            type="button"
            class="btn primary"
            onClick={async () => {
              retryAt.current = videoRef.current?.currentTime || retryAt.current;
              // A fresh signed URL: the old one may have expired.
              const fresh = await playerApi.hlsUrl(setup.item.id).catch(() => url);
              setUrl(fresh);
              setAttempt((n) => n + 1);
            }}
          >
            Retry
          </button>
        </div>
      )}
      {video && !fatal && (
        <ControlBar
          video={video}
          state={state}
          choices={{
            setLevel: (i) => engine.current?.setLevel(i),
            setAudioTrack: (i) => engine.current?.setAudioTrack(i),
            setSubtitleTrack: (i) => engine.current?.setSubtitleTrack(i),
          }}
          fullscreen={fullscreen}
          menu={menu}
          onMenu={setMenu}
          onToggle={toggle}
          onSeek={seek}
          onFullscreen={toggleFullscreen}
        />
      )}
    </div>
  );
}

/**
 * MusicCard is music mode: an audio-only item shows its artwork, title and
 * artist where a film shows its picture; a click plays or pauses.
 */
function MusicCard({ item, art, onClick }: { item: Item; art: Item; onClick: () => void }) {
  const tags = item.media?.tags ?? {};
  const by = [tags.artist ?? tags.album_artist, tags.album].filter(Boolean).join(" · ");
  return (
    <div class="player-music" onClick={onClick}>
      <Poster item={{ ...art, kind: "track" }} size="lg" />
      <div class="player-music-text">
        <h2>{item.title}</h2>
        {by && <p>{by}</p>}
      </div>
    </div>
  );
}
