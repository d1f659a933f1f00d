import { useEffect, useState } from "preact/hooks";

/** CountdownState is what the countdown shows at one moment. */
export interface CountdownState {
  /** started is true once the scheduled start has passed. */
  started: boolean;
  /** label reads "Starts in 2 d 3 h", "Starts in 1:05:09", "Starts in 4:07" or "Starting now". */
  label: string;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** countdown describes the time left from nowMs until startsAtMs (Unix ms). */
export function countdown(startsAtMs: number, nowMs: number): CountdownState {
  const left = Math.ceil((startsAtMs - nowMs) / 1000);
  if (!Number.isFinite(left) || left <= 0) return { started: true, label: "Starting now" };
  const d = Math.floor(left / 86400);
  const h = Math.floor((left % 86400) / 3600);
  const m = Math.floor((left % 3600) / 60);
  const s = left % 60;
  if (d > 0) return { started: false, label: `Starts in ${d} d ${h} h` };
  if (h > 0) return { started: false, label: `Starts in ${h}:${pad(m)}:${pad(s)}` };
  return { started: false, label: `Starts in ${m}:${pad(s)}` };
}

/** Countdown shows the time left until a scheduled party starts, ticking every second; it hides once the start has passed. */
export function Countdown({ startsAtMs, now = Date.now }: { startsAtMs: number; now?: () => number }) {
  const [st, setSt] = useState(() => countdown(startsAtMs, now()));
  useEffect(() => {
    setSt(countdown(startsAtMs, now()));
    const t = window.setInterval(() => {
      const next = countdown(startsAtMs, now());
      setSt(next);
      if (next.started) window.clearInterval(t);
    }, 1000);
    return () => window.clearInterval(t);
  }, [startsAtMs, now]);
  if (st.started) return null;
  const at = new Date(startsAtMs);
  return (
    <div class="countdown" role="timer" aria-live="off" data-testid="countdown">
      <strong>{st.label}</strong>
      <span class="muted small"> · {at.toLocaleString(undefined, { weekday: "short", hour: "2-digit", minute: "2-digit", month: "short", day: "numeric" })}</span>
    </div>
  );
}
