// engine.ts attaches an HLS source to a <video>: hls.js (loaded on demand,
// so the main bundle stays small) where Media Source Extensions exist, or
// the browser's own HLS (Safari on iOS) where they do not. It reports the
// renditions, audio and subtitle tracks for the player's menus.
import type Hls from "hls.js";
import type { ErrorData } from "hls.js";
import type { Level } from "./logic";

/** Track is an audio or subtitle rendition as the menus show it. */
export interface Track {
  name: string;
  lang?: string;
}

/**
 * EngineState is what the menus draw: level is the rendition playing now,
 * chosen the one picked in the menu (-1 = auto).
 */
export interface EngineState {
  levels: Level[];
  level: number;
  chosen: number;
  auto: boolean;
  audioTracks: Track[];
  audioTrack: number;
  subtitleTracks: Track[];
  subtitleTrack: number;
}

/** Engine is an attached source; destroy detaches it. */
export interface Engine {
  /** hls is the hls.js instance, or null for native HLS. */
  readonly hls: Hls | null;
  setLevel(i: number): void;
  setAudioTrack(i: number): void;
  setSubtitleTrack(i: number): void;
  destroy(): void;
}

/** Callbacks report state changes and errors playback cannot survive. */
export interface Callbacks {
  onState(s: EngineState): void;
  onFatal(message: string): void;
}

const EMPTY: EngineState = { levels: [], level: -1, chosen: -1, auto: true, audioTracks: [], audioTrack: -1, subtitleTracks: [], subtitleTrack: -1 };

/** attach starts playback of url on video at startAt seconds. */
export async function attach(video: HTMLVideoElement, url: string, startAt: number, cb: Callbacks): Promise<Engine> {
  const { default: HlsJS } = await import("hls.js");
  if (HlsJS.isSupported()) return attachHlsJS(HlsJS, video, url, startAt, cb);
  if (video.canPlayType("application/vnd.apple.mpegurl")) return attachNative(video, url, startAt, cb);
  throw new Error("this browser plays neither HLS nor Media Source Extensions; try a current Chrome, Firefox or Safari");
}

function attachHlsJS(HlsJS: typeof Hls, video: HTMLVideoElement, url: string, startAt: number, cb: Callbacks): Engine {
  // No worker: the app's Content-Security-Policy allows no blob: scripts,
  // and fMP4 needs no transmuxing anyway.
  const hls = new HlsJS({ enableWorker: false, startPosition: startAt > 0 ? startAt : -1 });
  const E = HlsJS.Events;
  let playing = -1;
  const state = (): EngineState => ({
    levels: hls.levels.map((l) => ({ height: l.height, bitrate: l.bitrate, name: l.name })),
    level: playing,
    chosen: hls.autoLevelEnabled ? -1 : hls.manualLevel,
    auto: hls.autoLevelEnabled,
    audioTracks: hls.audioTracks.map((t) => ({ name: t.name, lang: t.lang })),
    audioTrack: hls.audioTrack,
    subtitleTracks: hls.subtitleTracks.map((t) => ({ name: t.name, lang: t.lang })),
    subtitleTrack: hls.subtitleDisplay ? hls.subtitleTrack : -1,
  });
  const push = () => cb.onState(state());
  hls.on(E.LEVEL_SWITCHED, (_e, d) => {
    playing = d.level;
    push();
  });
  for (const ev of [E.MANIFEST_PARSED, E.AUDIO_TRACKS_UPDATED, E.AUDIO_TRACK_SWITCHED, E.SUBTITLE_TRACKS_UPDATED, E.SUBTITLE_TRACK_SWITCH, E.LEVELS_UPDATED]) {
    hls.on(ev, push);
  }
  let recovered = false;
  hls.on(E.ERROR, (_e, d: ErrorData) => {
    if (!d.fatal) return;
    if (d.type === HlsJS.ErrorTypes.MEDIA_ERROR && !recovered) {
      recovered = true; // one decode hiccup is worth one recovery attempt
      hls.recoverMediaError();
      return;
    }
    cb.onFatal(fatalMessage(d));
  });
  hls.loadSource(url);
  hls.attachMedia(video);
  return {
    hls,
    setLevel: (i) => {
      hls.currentLevel = i; // -1 = auto
      push();
    },
    setAudioTrack: (i) => {
      hls.audioTrack = i;
      push();
    },
    setSubtitleTrack: (i) => {
      hls.subtitleDisplay = i >= 0;
      hls.subtitleTrack = i;
      push();
    },
    destroy: () => hls.destroy(),
  };
}

/** fatalMessage says what stopped playback and what to do about it. */
function fatalMessage(d: ErrorData): string {
  const code = d.response?.code;
  if (d.type === "networkError") {
    if (code === 403) return "The video link expired. Retry to get a fresh one.";
    if (code === 410) return "The file changed on the server since playback started. Retry to load it again.";
    if (code === 422 || code === 415) return "This part of the file cannot be played (it may be damaged). Retry, or skip ahead.";
    return `The video stopped loading (${code ? `HTTP ${code}` : "no connection"}). Check your connection, then Retry.`;
  }
  if (d.type === "mediaError") return "The browser could not decode the video. Retry; if it happens again, the file may need re-encoding.";
  return `Playback stopped (${d.details}). Retry.`;
}

function attachNative(video: HTMLVideoElement, url: string, startAt: number, cb: Callbacks): Engine {
  const onMeta = () => {
    if (startAt > 0) video.currentTime = startAt;
    push();
  };
  const onError = () => cb.onFatal(`The browser stopped the video (${video.error?.message || `code ${video.error?.code ?? "?"}`}). Retry.`);
  const tracks = () => Array.from(video.textTracks).filter((t) => t.kind === "subtitles" || t.kind === "captions");
  const push = () => {
    const subs = tracks();
    cb.onState({
      ...EMPTY,
      subtitleTracks: subs.map((t) => ({ name: t.label, lang: t.language })),
      subtitleTrack: subs.findIndex((t) => t.mode === "showing"),
    });
  };
  video.addEventListener("loadedmetadata", onMeta, { once: true });
  video.addEventListener("error", onError);
  video.textTracks.addEventListener("addtrack", push);
  video.src = url;
  return {
    hls: null,
    setLevel: () => undefined,
    setAudioTrack: () => undefined,
    setSubtitleTrack: (i) => {
      tracks().forEach((t, j) => (t.mode = j === i ? "showing" : "disabled"));
      push();
    },
    destroy: () => {
      video.removeEventListener("loadedmetadata", onMeta);
      video.removeEventListener("error", onError);
      video.textTracks.removeEventListener("addtrack", push);
      video.removeAttribute("src");
      video.load();
    },
  };
}
