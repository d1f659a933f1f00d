// Controls.tsx is the on-demand player's control bar: play/pause, the seek
// bar with what is buffered, time, volume, and the quality, audio and
// subtitle menus. The browser's own controls are never shown.
import { useEffect, useRef, useState } from "preact/hooks";
import type { EngineState, Track } from "./engine";
import { bufferedSegments, formatTime, levelLabel, type Segment } from "./logic";

/** ICONS are the player's glyphs (24×24 paths). */
const ICONS: Record<string, string> = {
  play: "M8 5v14l11-7z",
  pause: "M6 5h4v14H6zM14 5h4v14h-4z",
  volume: "M3 9v6h4l5 5V4L7 9H3zm13.5 3A4.5 4.5 0 0 0 14 8v8a4.5 4.5 0 0 0 2.5-4zM14 3.2v2.1a7 7 0 0 1 0 13.4v2.1a9 9 0 0 0 0-17.6z",
  muted: "M16.5 12A4.5 4.5 0 0 0 14 8v2.2l2.5 2.5V12zM19 12c0 .9-.2 1.8-.5 2.6l1.5 1.5A8.9 8.9 0 0 0 21 12a9 9 0 0 0-7-8.8v2.1a7 7 0 0 1 5 6.7zM4.3 3 3 4.3 7.7 9H3v6h4l5 5v-6.7l4.3 4.3c-.7.5-1.4.9-2.3 1.2v2.1a9 9 0 0 0 3.7-1.8l2 2 1.3-1.3L4.3 3zM12 4 9.9 6.1 12 8.2V4z",
  quality: "M19.4 13a7.5 7.5 0 0 0 0-2l2.1-1.6-2-3.5-2.5 1a7.3 7.3 0 0 0-1.7-1L15 3.3h-4l-.4 2.6a7.3 7.3 0 0 0-1.7 1l-2.5-1-2 3.5L6.6 11a7.5 7.5 0 0 0 0 2l-2.1 1.6 2 3.5 2.5-1c.5.4 1.1.7 1.7 1l.4 2.6h4l.4-2.6c.6-.3 1.2-.6 1.7-1l2.5 1 2-3.5-2.1-1.6zM13 15.5a3.5 3.5 0 1 1 0-7 3.5 3.5 0 0 1 0 7z",
  audio: "M12 3v10.6A4 4 0 1 0 14 17V7h4V3h-6z",
  subtitles: "M20 4H4a2 2 0 0 0-2 2v12c0 1.1.9 2 2 2h16a2 2 0 0 0 2-2V6a2 2 0 0 0-2-2zM4 12h4v2H4v-2zm10 6H4v-2h10v2zm6 0h-4v-2h4v2zm0-4H10v-2h10v2z",
  fullscreen: "M5 5h5V3H3v7h2V5zm9-2v2h5v5h2V3h-7zm5 16h-5v2h7v-7h-2v5zM5 14H3v7h7v-2H5v-5z",
  exitFullscreen: "M8 3v5H3v2h7V3H8zm8 0h-2v7h7V8h-5V3zM3 16h5v5h2v-7H3v2zm11 5h2v-5h5v-2h-7v7z",
};

/** Glyph draws one of ICONS; decorative, the button carries the label. */
export function Glyph({ name, size = 22 }: { name: string; size?: number }) {
  return (
    <svg class="icon" width={size} height={size} viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d={ICONS[name] ?? ""} fill="currentColor" />
    </svg>
  );
}

/** useVideoClock re-renders on the video's time, buffer and volume events. */
function useVideoClock(video: HTMLVideoElement) {
  const [, tick] = useState(0);
  useEffect(() => {
    const on = () => tick((n) => n + 1);
    const evs = ["timeupdate", "progress", "durationchange", "play", "pause", "volumechange", "seeking", "seeked", "loadedmetadata"];
    for (const e of evs) video.addEventListener(e, on);
    return () => evs.forEach((e) => video.removeEventListener(e, on));
  }, [video]);
}

/** SeekBar shows the playhead and the buffered ranges, and seeks on click or drag. */
function SeekBar({ video, onSeek }: { video: HTMLVideoElement; onSeek: (t: number) => void }) {
  const bar = useRef<HTMLDivElement>(null);
  const [drag, setDrag] = useState<number | null>(null);
  const duration = Number.isFinite(video.duration) ? video.duration : 0;
  const segs: Segment[] = bufferedSegments(video.buffered, duration);
  const frac = drag ?? (duration > 0 ? video.currentTime / duration : 0);
  const at = (e: PointerEvent) => {
    const r = bar.current!.getBoundingClientRect();
    return Math.min(1, Math.max(0, (e.clientX - r.left) / r.width));
  };
  return (
    <div
      ref={bar}
      class="seek"
      role="slider"
      tabIndex={0}
      aria-label="Seek"
      aria-valuemin={0}
      aria-valuemax={Math.round(duration)}
      aria-valuenow={Math.round(video.currentTime)}
      aria-valuetext={`${formatTime(video.currentTime)} of ${formatTime(duration)}`}
      onPointerDown={(e) => {
        if (!duration) return;
        bar.current!.setPointerCapture(e.pointerId);
        setDrag(at(e));
      }}
      onPointerMove={(e) => drag !== null && setDrag(at(e))}
      onPointerUp={(e) => {
        if (drag === null) return;
        setDrag(null);
        onSeek(at(e) * duration);
      }}
    >
      <div class="seek-track">
        {segs.map((s, i) => (
          <div key={i} class="seek-buffered" style={{ left: `${s.start * 100}%`, width: `${(s.end - s.start) * 100}%` }} />
        ))}
        <div class="seek-played" style={{ width: `${frac * 100}%` }} />
      </div>
      <div class="seek-thumb" style={{ left: `${frac * 100}%` }} />
    </div>
  );
}

/** MenuOption is one choice of a player menu. */
interface MenuOption {
  id: number;
  label: string;
}

/** Menu is a button that opens a radio list (quality, audio, subtitles). */
function Menu(props: {
  name: string;
  icon: string;
  summary: string;
  options: MenuOption[];
  selected: number;
  open: boolean;
  onOpen: (open: boolean) => void;
  onPick: (id: number) => void;
}) {
  const id = `menu-${props.name.toLowerCase()}`;
  return (
    <div class="player-menu">
      <button
        type="button"
        class="player-btn"
        aria-label={`${props.name}: ${props.summary}`}
        title={`${props.name}: ${props.summary}`}
        aria-haspopup="menu"
        aria-expanded={props.open}
        aria-controls={id}
        onClick={() => props.onOpen(!props.open)}
      >
        <Glyph name={props.icon} />
      </button>
      {props.open && (
        <div class="player-popup" role="menu" id={id} aria-label={props.name}>
          <div class="player-popup-title">{props.name}</div>
          {props.options.map((o) => (
            <button
              type="button"
              key={o.id}
              role="menuitemradio"
              aria-checked={o.id === props.selected}
              onClick={() => {
                props.onPick(o.id);
                props.onOpen(false);
              }}
            >
              {o.label}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}

/** trackLabel names an audio or subtitle track by its name, else its language. */
function trackLabel(t: Track, i: number, what: string): string {
  if (t.name) return t.name;
  if (t.lang && t.lang !== "und") {
    try {
      return new Intl.DisplayNames(["en"], { type: "language" }).of(t.lang) ?? t.lang;
    } catch {
      return t.lang;
    }
  }
  return `${what} ${i + 1}`;
}

/** Choices are the engine actions the menus call. */
export interface Choices {
  setLevel(i: number): void;
  setAudioTrack(i: number): void;
  setSubtitleTrack(i: number): void;
}

/** ControlBar is the bar along the bottom of the player. */
export function ControlBar(props: {
  video: HTMLVideoElement;
  state: EngineState;
  choices: Choices;
  fullscreen: boolean;
  menu: string;
  onMenu: (name: string) => void;
  onToggle: () => void;
  onSeek: (t: number) => void;
  onFullscreen: () => void;
}) {
  const { video, state, choices } = props;
  useVideoClock(video);
  const duration = Number.isFinite(video.duration) ? video.duration : 0;
  const playing = !video.paused;
  const muted = video.muted || video.volume === 0;
  const auto = `Auto${state.auto && state.level >= 0 ? ` (${levelLabel(state.levels[state.level])})` : ""}`;
  const quality = [{ id: -1, label: auto }, ...state.levels.map((l, i) => ({ id: i, label: levelLabel(l) })).reverse()];
  const menuProps = (name: string) => ({ open: props.menu === name, onOpen: (o: boolean) => props.onMenu(o ? name : "") });
  return (
    <div class="player-bar">
      <SeekBar video={video} onSeek={props.onSeek} />
      <div class="player-row">
        <button type="button" class="player-btn" aria-label={playing ? "Pause" : "Play"} title={playing ? "Pause (k)" : "Play (k)"} onClick={props.onToggle}>
          <Glyph name={playing ? "pause" : "play"} />
        </button>
        <button type="button" class="player-btn" aria-label={muted ? "Unmute" : "Mute"} title={muted ? "Unmute (m)" : "Mute (m)"} onClick={() => (video.muted = !muted)}>
          <Glyph name={muted ? "muted" : "volume"} />
        </button>
        <input
          type="range"
          class="player-volume"
          aria-label="Volume"
          min={0}
          max={1}
          step={0.05}
          value={video.muted ? 0 : video.volume}
          onInput={(e) => {
            video.volume = Number(e.currentTarget.value);
            video.muted = video.volume === 0;
          }}
        />
        <span class="player-time" aria-label="Time">
          {formatTime(video.currentTime)} / {formatTime(duration)}
        </span>
        <span class="player-spacer" />
        {state.subtitleTracks.length > 0 && (
          <Menu
            name="Subtitles"
            icon="subtitles"
            summary={state.subtitleTrack >= 0 ? trackLabel(state.subtitleTracks[state.subtitleTrack], state.subtitleTrack, "Subtitles") : "Off"}
            options={[{ id: -1, label: "Off" }, ...state.subtitleTracks.map((t, i) => ({ id: i, label: trackLabel(t, i, "Subtitles") }))]}
            selected={state.subtitleTrack}
            onPick={choices.setSubtitleTrack}
            {...menuProps("Subtitles")}
          />
        )}
        {state.audioTracks.length > 1 && (
          <Menu
            name="Audio"
            icon="audio"
            summary={trackLabel(state.audioTracks[state.audioTrack] ?? { name: "" }, state.audioTrack, "Track")}
            options={state.audioTracks.map((t, i) => ({ id: i, label: trackLabel(t, i, "Track") }))}
            selected={state.audioTrack}
            onPick={choices.setAudioTrack}
            {...menuProps("Audio")}
          />
        )}
        {state.levels.length > 0 && (
          <Menu
            name="Quality"
            icon="quality"
            summary={state.chosen < 0 ? auto : levelLabel(state.levels[state.chosen])}
            options={quality}
            selected={state.chosen}
            onPick={choices.setLevel}
            {...menuProps("Quality")}
          />
        )}
        <button
          type="button"
          class="player-btn"
          aria-label={props.fullscreen ? "Exit full screen" : "Full screen"}
          title={props.fullscreen ? "Exit full screen (f)" : "Full screen (f)"}
          onClick={props.onFullscreen}
        >
          <Glyph name={props.fullscreen ? "exitFullscreen" : "fullscreen"} />
        </button>
      </div>
    </div>
  );
}
