import { useEffect, useState } from "preact/hooks";
import { ApiError, api, type InviteInfo, type RoomAccess, type User } from "../api";
import { ErrorNote, Spinner } from "../ui";
import { PartyView } from "./Party";
import { Countdown } from "../party/Countdown";

const NAME_KEY = "marquee.displayName";

/** inviteProblem says, from the API's error code, why an invite cannot be used and what to do. */
export function inviteProblem(err: unknown): { title: string; text: string } {
  const code = err instanceof ApiError ? err.code : "";
  switch (code) {
    case "invite_expired":
      return { title: "This invite has expired", text: "Invites work for a limited time. Ask the host for a new link." };
    case "invite_revoked":
      return { title: "This invite was revoked", text: "The host withdrew this link. Ask them for a new one." };
    case "invite_invalid":
      return { title: "This invite is not valid", text: "The link is damaged or incomplete. Check that you copied all of it, or ask the host for a new one." };
    case "party_gone":
      return { title: "This party has ended", text: "The host ended this party. Ask them where the next one is." };
  }
  return { title: "Could not check this invite", text: `${(err as Error)?.message ?? "The server did not answer"}. Reload the page to try again.` };
}

/**
 * JoinPage is /join/<token>. It checks the invite as it opens: a bad one
 * says why at once; a good one names the party and shows its poster above
 * the display-name form, then the party opens at once.
 */
export function JoinPage({ token, user, onJoined }: { token: string; user: User | null; onJoined: (u: User) => void }) {
  const [name, setName] = useState(() => localStorage.getItem(NAME_KEY) || user?.displayName || "");
  const [access, setAccess] = useState<RoomAccess | null>(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [invite, setInvite] = useState<InviteInfo | null>(null);
  const [problem, setProblem] = useState<{ title: string; text: string } | null>(null);

  useEffect(() => {
    setInvite(null);
    setProblem(null);
    api.checkInvite(token).then(setInvite, (err) => setProblem(inviteProblem(err)));
  }, [token]);

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
      if (err instanceof ApiError && (err.status === 401 || err.status === 410)) setProblem(inviteProblem(err));
      else setError(`Could not join: ${(err as Error).message}`);
      setBusy(false);
    }
  };

  if (access) return <PartyView access={access} refresh={() => api.roomAccess(access.partyId)} />;
  const brand = (
    <div class="brand big" aria-hidden="true">
      <span class="brand-mark">▶</span> Marquee
    </div>
  );
  if (problem) {
    return (
      <main class="signin-page">
        <div class="signin-card stack" data-testid="invite-problem">
          {brand}
          <h1>{problem.title}</h1>
          <p class="muted">{problem.text}</p>
          {user && user.role !== "guest" && (
            <a class="btn" href="/">
              Back to the library
            </a>
          )}
        </div>
      </main>
    );
  }
  if (!invite) {
    return (
      <main class="center-page">
        <Spinner label="Checking the invite" />
      </main>
    );
  }
  return (
    <main class="signin-page">
      <form class="signin-card stack join-card" onSubmit={join}>
        {brand}
        {invite.posterUrl && <img class="poster join-poster" src={invite.posterUrl} alt="" />}
        <div>
          <p class="eyebrow">You're invited to a watch party</p>
          <h1 data-testid="invite-title">{invite.title || "Watch party"}</h1>
          {invite.nowPlaying && invite.nowPlaying !== invite.title && <p class="subtitle">{invite.nowPlaying}</p>}
          {invite.startsAtMs != null && <Countdown startsAtMs={invite.startsAtMs} />}
        </div>
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
