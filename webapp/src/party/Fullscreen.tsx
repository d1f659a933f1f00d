// Fullscreen.tsx is the stage's full-screen toggle.
import { useEffect, useRef, useState } from "preact/hooks";

const ENTER = "M5 5h5V3H3v7h2V5zm9-2v2h5v5h2V3h-7zm5 16h-5v2h7v-7h-2v5zM5 14H3v7h7v-2H5v-5z";
const EXIT = "M8 3v5H3v2h7V3H8zm8 0h-2v7h7V8h-5V3zM3 16h5v5h2v-7H3v2zm11 5h2v-5h5v-2h-7v7z";

type WebkitVideo = HTMLVideoElement & { webkitEnterFullscreen?: () => void };

/**
 * FullscreenButton puts the whole stage (video, overlays, banners) in full
 * screen, and takes it out again. Where the page cannot go full screen
 * (iPhone Safari), it hands the video element to the system player.
 */
export function FullscreenButton() {
  const btn = useRef<HTMLButtonElement>(null);
  const [on, setOn] = useState(false);
  useEffect(() => {
    const sync = () => setOn(!!document.fullscreenElement);
    document.addEventListener("fullscreenchange", sync);
    return () => document.removeEventListener("fullscreenchange", sync);
  }, []);
  const toggle = () => {
    if (document.fullscreenElement) {
      void document.exitFullscreen().catch(() => undefined);
      return;
    }
    const stage = btn.current?.closest<HTMLElement>(".stage");
    if (!stage) return;
    if (stage.requestFullscreen) {
      void stage.requestFullscreen().catch(() => undefined);
      return;
    }
    (stage.querySelector("video") as WebkitVideo | null)?.webkitEnterFullscreen?.();
  };
  const label = on ? "Exit full screen" : "Full screen";
  return (
    <button ref={btn} type="button" class="stage-btn" aria-label={label} title={label} aria-pressed={on} onClick={toggle}>
      <svg class="icon" width={20} height={20} viewBox="0 0 24 24" aria-hidden="true" focusable="false">
        <path d={on ? EXIT : ENTER} fill="currentColor" />
      </svg>
    </button>
  );
}
