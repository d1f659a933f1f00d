import { useState } from "preact/hooks";
import type { PartySession, SessionState } from "../session";
import { Icon, IconButton } from "../ui";
import { formatTime } from "../sync";
import { useNow } from "./hooks";

/** Control is how the page asks the control plane to change playback. */
export type Control = (action: "play" | "pause" | "resume" | "seek" | "skip" | "stop", positionSeconds?: number) => Promise<void>;

/**
 * Controls shows the party position. Controllers (host, co-host) get the
 * transport and a seek bar they can drag; listeners a read-only bar.
 * After Stop, stoppedAtMs (where the current entry stopped) turns Play into
 * "Resume at 12:34" and "Start over".
 */
export function Controls({ session, st, canControl, control, durationHintMs, stoppedAtMs = null }: {
  session: PartySession;
  st: SessionState;
  canControl: boolean;
  control: Control;
  durationHintMs: number;
  stoppedAtMs?: number | null;
}) {
  useNow(250);
  const [drag, setDrag] = useState<number | null>(null);
  const pos = session.partyPositionNow() ?? 0;
  const dur = st.playback?.durationMs || durationHintMs || 0;
  const shown = drag ?? pos;
  const playing = st.playback?.state === "playing";
  const pct = dur ? Math.min(100, (shown / dur) * 100) : 0;

  return (
    <div class="controls" data-testid="controls">
      <div class="seek-row">
        <span class="time" data-testid="position">{formatTime(shown)}</span>
        {canControl ? (
          <input
            type="range"
            class="seek"
            min={0}
            max={Math.max(1, Math.round(dur / 1000))}
            step={1}
            value={Math.round(shown / 1000)}
            style={{ "--pct": `${pct}%` }}
            aria-label="Seek"
            aria-valuetext={`${formatTime(shown)} of ${formatTime(dur)}`}
            onInput={(e) => setDrag(Number(e.currentTarget.value) * 1000)}
            onChange={(e) => {
              const s = Number(e.currentTarget.value);
              setDrag(null);
              void control("seek", s);
            }}
          />
        ) : (
          <div class="progress seek-ro" role="progressbar" aria-label="Party position" aria-valuemin={0} aria-valuemax={Math.round(dur / 1000)} aria-valuenow={Math.round(shown / 1000)}>
            <span style={{ width: `${pct}%` }} />
          </div>
        )}
        <span class="time">{formatTime(dur)}</span>
      </div>
      {canControl && (
        <div class="transport" role="group" aria-label="Playback controls">
          <IconButton icon="back10" label="Back 10 seconds" onClick={() => void control("seek", Math.max(0, pos / 1000 - 10))} />
          {playing ? (
            <IconButton icon="pause" label="Pause" primary size={28} onClick={() => void control("pause")} />
          ) : stoppedAtMs !== null ? (
            <ResumeChoice atMs={stoppedAtMs} control={control} />
          ) : (
            <IconButton icon="play" label="Play" primary size={28} onClick={() => void control("resume")} />
          )}
          <IconButton icon="fwd10" label="Forward 10 seconds" onClick={() => void control("seek", pos / 1000 + 10)} />
          <IconButton icon="skip" label="Skip to next in queue" onClick={() => void control("skip")} />
          <IconButton icon="stop" label="Stop" onClick={() => void control("stop")} />
        </div>
      )}
    </div>
  );
}

/** ResumeChoice offers, after Stop, to go on where it stopped or from the start. */
function ResumeChoice({ atMs, control }: { atMs: number; control: Control }) {
  return (
    <span class="resume-choice" data-testid="resume-choice">
      <button type="button" class="btn primary" onClick={() => void control("play", atMs / 1000)}>
        <Icon name="play" size={18} /> Resume at {formatTime(atMs)}
      </button>
      <button type="button" class="btn" onClick={() => void control("play", 0)}>
        Start over
      </button>
    </span>
  );
}
