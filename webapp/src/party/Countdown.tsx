import { useEffect, useState } from "preact/hooks";
import { api, type Party } from "../api";

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

/** localInput formats Unix ms for an <input type="datetime-local"> in the browser's time zone. */
export function localInput(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** ScheduleEditor lets the host set, change or clear the party's start time. */
export function ScheduleEditor({ party, onSaved }: { party: Party; onSaved: (p: Party) => void }) {
  const [open, setOpen] = useState(false);
  const [value, setValue] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const save = async (startsAtMs: number | null) => {
    setBusy(true);
    setError("");
    try {
      onSaved(await api.schedule(party.id, startsAtMs));
      setOpen(false);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  if (!open) {
    return (
      <button
        type="button"
        class="btn"
        data-testid="schedule-open"
        onClick={() => {
          setValue(localInput(party.startsAtMs ?? Date.now() + 3600_000));
          setOpen(true);
        }}
      >
        {party.startsAtMs != null ? "Reschedule" : "Schedule"}
      </button>
    );
  }
  return (
    <form
      class="schedule-editor"
      onSubmit={(e) => {
        e.preventDefault();
        const ms = new Date(value).getTime();
        if (!Number.isFinite(ms)) setError("Pick a date and time.");
        else void save(ms);
      }}
    >
      <label>
        Starts at
        <input type="datetime-local" name="startsAt" value={value} required onInput={(e) => setValue(e.currentTarget.value)} />
      </label>
      <button type="submit" class="btn primary" disabled={busy}>
        Save
      </button>
      {party.startsAtMs != null && (
        <button type="button" class="btn" disabled={busy} onClick={() => void save(null)}>
          Clear
        </button>
      )}
      <button type="button" class="btn" onClick={() => setOpen(false)}>
        Cancel
      </button>
      {error && <p class="error-note" role="alert">{error}</p>}
    </form>
  );
}
