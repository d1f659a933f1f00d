import { useCallback, useEffect, useMemo, useState } from "preact/hooks";
import { ApiError, api, type Member, type Party, type PartyEvent, type RoomAccess, type User } from "../api";
import { navigate } from "../router";
import { PartyGone, PartySession, userIdOf, type Credentials, type Viewer } from "../session";
import { useObservable } from "../store";
import { ErrorNote, Spinner } from "../ui";
import { Stage } from "../party/Stage";
import { Controls, type Control } from "../party/Controls";
import { Viewers, type Listed } from "../party/Viewers";
import { Queue } from "../party/Queue";
import { Chat, ReactionBar } from "../party/Chat";
import { Invite } from "../party/Invite";
import { Countdown, ScheduleEditor } from "../party/Countdown";

declare global {
  interface Window {
    /** __marquee lets the browser tests read the live session. */
    __marquee?: { session: PartySession; role: string; partyId: number };
  }
}

/** PartyPage is /party/<id> for a signed-in member (or a returning guest). */
export function PartyPage({ partyId: idParam, user }: { partyId: string; user: User | null }) {
  const partyId = Number(idParam);
  const [access, setAccess] = useState<RoomAccess | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    api.roomAccess(partyId).then(setAccess, (e) => {
      if (e instanceof ApiError && e.status === 401 && !user) navigate(`/signin?next=/party/${encodeURIComponent(partyId)}`, true);
      else setError(e instanceof ApiError && e.status === 404 ? "This party has ended or does not exist." : `Could not join the party: ${e.message}`);
    });
  }, [partyId, user]);
  if (error) return <main class="page"><ErrorNote>{error}</ErrorNote><a href="/">Back to the library</a></main>;
  if (!access) return <main class="center-page"><Spinner label="Joining the party" /></main>;
  return <PartyView access={access} refresh={() => api.roomAccess(partyId)} />;
}

/**
 * PartyView is the party itself. refresh mints fresh room credentials for
 * reconnections; until it fails the first access is reused.
 */
export function PartyView({ access, refresh }: { access: RoomAccess; refresh: () => Promise<RoomAccess> }) {
  const partyId = access.partyId;
  const [party, setParty] = useState<Party | null>(null);
  const [members, setMembers] = useState<Member[]>([]);
  const [note, setNote] = useState("");
  const [tab, setTab] = useState<"viewers" | "queue" | "chat">("chat");

  const session = useMemo(() => {
    let first: Credentials | null = { url: access.url, token: access.token };
    return new PartySession({
      credentials: async () => {
        if (first) {
          const c = first;
          first = null;
          return c;
        }
        try {
          const a = await refresh();
          return { url: a.url, token: a.token };
        } catch (e) {
          // Gone or no longer a member: stop retrying. Otherwise (the API is
          // restarting, say) the token in hand may still be good.
          if (e instanceof ApiError && (e.status === 403 || e.status === 404 || e.status === 410)) {
            throw new PartyGone("This party has ended, or you are no longer in it.");
          }
          return { url: access.url, token: access.token };
        }
      },
    });
  }, [access]);
  const st = useObservable(session.state);

  const reload = useCallback(() => {
    api.party(partyId).then(setParty, () => undefined);
    api.members(partyId).then(setMembers, () => undefined);
  }, [partyId]);

  useEffect(() => {
    session.start();
    return () => session.close();
  }, [session]);

  useEffect(() => {
    reload();
    let es: EventSource | null = null;
    let poll = 0;
    try {
      es = api.partyEvents(partyId);
      es.onmessage = (m: MessageEvent<string>) => {
        try {
          const ev = JSON.parse(m.data) as PartyEvent;
          if (ev.type === "worker.heartbeat") return; // position only; the room's playback data is fresher
        } catch {
          /* reload anyway */
        }
        reload();
      };
      es.onerror = () => {
        if (!poll) poll = window.setInterval(reload, 5000);
      };
    } catch {
      poll = window.setInterval(reload, 5000);
    }
    return () => {
      es?.close();
      clearInterval(poll);
    };
  }, [partyId, reload]);

  const role = party?.role || access.role || "listener";
  const canControl = role === "host" || role === "cohost";
  const isHost = role === "host";
  window.__marquee = { session, role, partyId };

  const control: Control = useCallback(
    async (action, positionSeconds) => {
      // "resume" continues a paused item; with nothing loaded, start the queue.
      const state = session.state.get().playback?.state;
      const idle = action === "resume" && state !== "paused" && state !== "loading";
      try {
        const p = await api.control(partyId, idle ? "play" : action, positionSeconds);
        if (p && typeof p === "object" && "queue" in p) setParty(p);
        setNote("");
      } catch (e) {
        // The API's message says what happened and what to do; the details are in the party log.
        setNote(`Could not ${idle ? "start playback" : action}. ${(e as Error).message}`);
        reload();
      }
    },
    [partyId, session, reload],
  );

  useEffect(() => {
    if (!canControl) return;
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (t.closest("input, textarea, select, button, [contenteditable]") || e.altKey || e.ctrlKey || e.metaKey) return;
      const pos = (session.partyPositionNow() ?? 0) / 1000;
      if (e.key === " ") {
        e.preventDefault();
        void control(session.state.get().playback?.state === "playing" ? "pause" : "resume");
      } else if (e.key === "ArrowLeft") {
        e.preventDefault();
        void control("seek", Math.max(0, pos - 10));
      } else if (e.key === "ArrowRight") {
        e.preventDefault();
        void control("seek", pos + 10);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [canControl, control, session]);

  const handHost = async (v: Listed) => {
    if (!confirm(`Make ${v.name} the host? You become a co-host.`)) return;
    try {
      await api.handHost(partyId, v.identity);
      reload();
    } catch (e) {
      setNote(`Could not hand over the host role: ${(e as Error).message}`);
    }
  };

  const current = party?.current ?? null;
  const listed = useMemo(() => withAway(st.viewers, members), [st.viewers, members]);
  // A controller is told at once, at the top, why nothing plays.
  const workerProblem = canControl && party?.status === "error" ? party.worker?.lastError || "Playback could not start." : "";
  const problem = note || workerProblem;
  const title = st.playback?.title || current?.title || party?.title || "Watch party";

  return (
    <main class={`party-page${canControl ? " controller" : " listener"}`} data-role={role}>
      <div class="party-main">
        {problem && st.conn !== "ended" && (
          <div class="party-problem error-note" role="alert" data-testid="party-problem">
            <span>{problem}</span>
            {canControl && workerProblem && (
              <button type="button" class="btn" onClick={() => void control("resume")}>
                Try again
              </button>
            )}
          </div>
        )}
        {party?.startsAtMs != null && st.conn !== "ended" && <Countdown startsAtMs={party.startsAtMs} />}
        <Stage session={session} st={st} current={current} canControl={canControl} />
        <div class="party-bar">
          <div class="party-title">
            <h1>{title}</h1>
            <p class="muted small">
              {st.conn === "ended"
                ? "Ended"
                : `${st.viewers.length} watching · ${canControl ? (isHost ? "You are the host" : "You are a co-host") : "Listening"}`}
            </p>
          </div>
          {isHost && party && st.conn !== "ended" && <ScheduleEditor party={party} onSaved={setParty} />}
          {canControl && st.conn !== "ended" && <Invite partyId={partyId} canInviteCohost={isHost} />}
        </div>
        {st.conn !== "ended" && (
          <>
            <Controls session={session} st={st} canControl={canControl} control={control} durationHintMs={(current?.runtimeSeconds ?? 0) * 1000} stoppedAtMs={stoppedAt(party)} />
            <ReactionBar session={session} />
          </>
        )}
      </div>
      <aside class="party-side">
        <div class="tabs" role="tablist" aria-label="Party panels">
          {(["chat", "viewers", "queue"] as const).map((t) => (
            <button type="button" role="tab" key={t} aria-selected={tab === t} class={tab === t ? "active" : ""} onClick={() => setTab(t)}>
              {t === "chat" ? "Chat" : t === "viewers" ? `Viewers (${st.viewers.length})` : "Queue"}
            </button>
          ))}
        </div>
        <div class={`tab-panel${tab === "chat" ? " active" : ""}`}>
          <Chat session={session} st={st} />
        </div>
        <div class={`tab-panel${tab === "viewers" ? " active" : ""}`}>
          <Viewers viewers={listed} ownDelayMs={st.delayMs} isHost={isHost} onHandHost={handHost} />
        </div>
        <div class={`tab-panel${tab === "queue" ? " active" : ""}`}>
          <Queue partyId={partyId} current={current} queue={party?.queue ?? []} canControl={canControl} onChanged={reload} onError={setNote} />
        </div>
      </aside>
    </main>
  );
}

/** stoppedAt is where a stopped party's current entry stopped, in ms; null when there is nothing to resume. */
function stoppedAt(p: Party | null): number | null {
  const w = p?.worker;
  if (!p || p.status !== "stopped" || !w || w.status !== "stopped" || p.current?.status !== "queued") return null;
  return w.positionSeconds >= 1 ? w.positionSeconds * 1000 : null;
}

/**
 * withAway adds the host and co-hosts who are members but not in the room
 * (their page closed) to the people list, as away: the party still has
 * them, and the others should know nobody is at the controls there.
 */
function withAway(viewers: Viewer[], members: Member[]): Listed[] {
  if (viewers.length === 0) return viewers; // not connected: nothing to compare with
  const present = new Set(viewers.map((v) => userIdOf(v.identity)));
  const away: Listed[] = members
    .filter((m) => (m.role === "host" || m.role === "cohost") && !present.has(m.userId))
    .map((m) => ({ identity: `user-${m.userId}`, name: m.displayName || "Host", role: m.role, isLocal: false, state: "away", delayMs: null }));
  return [...viewers, ...away];
}
