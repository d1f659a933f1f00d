// ui.tsx holds the small shared pieces: icons, posters, buttons, formatting.
import type { ComponentChildren, JSX } from "preact";
import { useState } from "preact/hooks";
import { posterUrl, type Item } from "./api";
import { formatTime } from "./sync";

const paths: Record<string, string> = {
  play: "M8 5v14l11-7z",
  pause: "M6 5h4v14H6zM14 5h4v14h-4z",
  skip: "M6 18l8.5-6L6 6v12zM16 6v12h2V6h-2z",
  stop: "M6 6h12v12H6z",
  back10: "M12 5V1L7 6l5 5V7a6 6 0 1 1-6 6H4a8 8 0 1 0 8-8z",
  fwd10: "M12 5V1l5 5-5 5V7a6 6 0 1 0 6 6h2a8 8 0 1 1-8-8z",
  search: "M15.5 14h-.79l-.28-.27A6.47 6.47 0 0 0 16 9.5 6.5 6.5 0 1 0 9.5 16c1.61 0 3.09-.59 4.23-1.57l.27.28v.79l5 4.99L20.49 19l-4.99-5zm-6 0C7.01 14 5 11.99 5 9.5S7.01 5 9.5 5 14 7.01 14 9.5 11.99 14 9.5 14z",
  link: "M3.9 12a3.1 3.1 0 0 1 3.1-3.1h4V7H7a5 5 0 0 0 0 10h4v-1.9H7A3.1 3.1 0 0 1 3.9 12zM8 13h8v-2H8v2zm9-6h-4v1.9h4a3.1 3.1 0 0 1 0 6.2h-4V17h4a5 5 0 0 0 0-10z",
  close: "M19 6.4 17.6 5 12 10.6 6.4 5 5 6.4 10.6 12 5 17.6 6.4 19 12 13.4 17.6 19 19 17.6 13.4 12z",
  drag: "M9 5h2v2H9zm4 0h2v2h-2zM9 11h2v2H9zm4 0h2v2h-2zm-4 6h2v2H9zm4 0h2v2h-2z",
  up: "M7 14l5-5 5 5z",
  down: "M7 10l5 5 5-5z",
  crown: "M5 16 3 5l5.5 5L12 4l3.5 6L21 5l-2 11H5zm14 3c0 .6-.4 1-1 1H6c-.6 0-1-.4-1-1v-1h14v1z",
  volume: "M3 9v6h4l5 5V4L7 9H3zm13.5 3A4.5 4.5 0 0 0 14 8v8a4.5 4.5 0 0 0 2.5-4zM14 3.2v2.1a7 7 0 0 1 0 13.4v2.1a9 9 0 0 0 0-17.6z",
  send: "M2 21l21-9L2 3v7l15 2-15 2z",
  user: "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm0 2c-2.7 0-8 1.3-8 4v2h16v-2c0-2.7-5.3-4-8-4z",
  film: "M18 4l2 4h-3l-2-4h-2l2 4h-3l-2-4H8l2 4H7L5 4H4a2 2 0 0 0-2 2v12c0 1.1.9 2 2 2h16a2 2 0 0 0 2-2V4h-4z",
  music: "M12 3v10.6A4 4 0 1 0 14 17V7h4V3h-6z",
  refresh: "M17.7 6.3A8 8 0 1 0 19.7 14h-2.1A6 6 0 1 1 12 6c1.7 0 3.1.7 4.2 1.8L13 11h7V4l-2.3 2.3z",
};

/** Icon draws one of the app's icons; decorative, so hidden from screen readers. */
export function Icon({ name, size = 20 }: { name: keyof typeof paths | string; size?: number }) {
  return (
    <svg class="icon" width={size} height={size} viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d={paths[name] ?? ""} fill="currentColor" />
    </svg>
  );
}

/** IconButton is a round button that needs a label because it shows no text. */
export function IconButton(props: { icon: string; label: string; onClick?: () => void; disabled?: boolean; primary?: boolean; size?: number; pressed?: boolean; submit?: boolean }) {
  return (
    <button
      type={props.submit ? "submit" : "button"}
      class={`icon-btn${props.primary ? " primary" : ""}`}
      aria-label={props.label}
      title={props.label}
      aria-pressed={props.pressed}
      disabled={props.disabled}
      onClick={props.onClick}
    >
      <Icon name={props.icon} size={props.size ?? 22} />
    </button>
  );
}

/** hue picks a stable colour for a title's placeholder poster. */
function hue(s: string): number {
  let h = 0;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) % 360;
  return h;
}

/** Poster shows an item's poster, or a tinted card with its initial. */
export function Poster({ item, size = "md" }: { item: Pick<Item, "id" | "title" | "hasPoster" | "kind">; size?: "sm" | "md" | "lg" }) {
  const [failed, setFailed] = useState(false);
  const square = item.kind === "track" || item.kind === "album" || item.kind === "artist";
  const cls = `poster poster-${size}${square ? " square" : ""}`;
  if (item.hasPoster && !failed) {
    return <img class={cls} src={posterUrl(item.id)} alt="" loading="lazy" onError={() => setFailed(true)} />;
  }
  const h = hue(item.title);
  const style: JSX.CSSProperties = {
    background: `linear-gradient(160deg, hsl(${h} 45% 32%), hsl(${(h + 40) % 360} 50% 14%))`,
  };
  return (
    <div class={`${cls} placeholder`} style={style} aria-hidden="true">
      <span>{item.title.slice(0, 1).toUpperCase()}</span>
      <Icon name={square ? "music" : "film"} size={size === "sm" ? 14 : 22} />
    </div>
  );
}

/** runtime renders an item's length as "1 h 52 min" or "3:25" for tracks. */
export function runtime(item: Pick<Item, "durationMs" | "kind" | "media">): string {
  const ms = item.durationMs || item.media?.durationMs || 0;
  if (!ms) return "";
  if (item.kind === "track") return formatTime(ms);
  const min = Math.round(ms / 60000);
  if (min < 1) return `${Math.round(ms / 1000)} s`;
  return min >= 60 ? `${Math.floor(min / 60)} h ${min % 60} min` : `${min} min`;
}

/** kindLabel names an item kind for people. */
export function kindLabel(kind: string): string {
  return ({ movie: "Film", show: "Show", season: "Season", episode: "Episode", artist: "Artist", album: "Album", track: "Track" } as Record<string, string>)[kind] ?? kind;
}

/** Spinner marks a loading region. */
export function Spinner({ label = "Loading" }: { label?: string }) {
  return (
    <div class="spinner" role="status" aria-label={label}>
      <span />
    </div>
  );
}

/** ErrorNote shows a failure in words. */
export function ErrorNote({ children }: { children: ComponentChildren }) {
  return (
    <p class="error-note" role="alert">
      {children}
    </p>
  );
}
