import { useState } from "preact/hooks";
import { ApiError, api, type RoomAccess, type User } from "../api";
import { ErrorNote } from "../ui";
import { PartyView } from "./Party";

const NAME_KEY = "marquee.displayName";

/** JoinPage is /join/<token>: a display name, then the party at once. */
export function JoinPage({ token, user, onJoined }: { token: string; user: User | null; onJoined: (u: User) => void }) {
  const [name, setName] = useState(() => localStorage.getItem(NAME_KEY) || user?.displayName || "");
  const [access, setAccess] = useState<RoomAccess | null>(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  const join = async (e: Event) => {
    e.preventDefault();
    const displayName = name.trim();
    if (!displayName) return;
    setBusy(true);
    setError("");
    try {
      const a = await api.join(token, displayName);
      localStorage.setItem(NAME_KEY, displayName);
      history.replaceState(null, "", `/party/${encodeURIComponent(a.partyId)}`);
      setAccess(a);
      if (a.user) onJoined(a.user);
    } catch (err) {
      const status = err instanceof ApiError ? err.status : 0;
      setError(
        status === 404 || status === 410
          ? "This invite has expired or was revoked. Ask the host for a new link."
          : status === 403 || status === 401
            ? "This invite is not valid."
            : `Could not join: ${(err as Error).message}`,
      );
      setBusy(false);
    }
  };

  if (access) return <PartyView access={access} refresh={() => api.roomAccess(access.partyId)} />;
  return (
    <main class="signin-page">
      <form class="signin-card stack" onSubmit={join}>
        <div class="brand big" aria-hidden="true">
          <span class="brand-mark">▶</span> Marquee
        </div>
        <h1>You're invited to a watch party</h1>
        <p class="muted">Pick the name others will see. No account needed.</p>
        <label>
          Your name
          <input name="displayName" value={name} maxLength={40} autocomplete="nickname" autofocus required onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        {error && <ErrorNote>{error}</ErrorNote>}
        <button type="submit" class="btn primary wide big" disabled={busy || !name.trim()}>
          {busy ? "Joining…" : "Join the party"}
        </button>
      </form>
    </main>
  );
}
