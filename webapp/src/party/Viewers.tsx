import type { Viewer, ViewerState } from "../session";
import { IconButton } from "../ui";

const STATE_LABEL = { connected: "Connected", buffering: "Buffering", reconnecting: "Reconnecting", away: "Away" };

/** Listed is a person the list shows: in the room, or a host or co-host who is away (page closed). */
export type Listed = Omit<Viewer, "state"> & { state: ViewerState | "away" };

/** Viewers lists the people in the room with state and measured delay. */
export function Viewers({ viewers, ownDelayMs, isHost, onHandHost }: {
  viewers: Listed[];
  ownDelayMs: number | null;
  isHost: boolean;
  onHandHost: (v: Listed) => void;
}) {
  return (
    <section class="panel" aria-labelledby="viewers-h">
      <h2 id="viewers-h">
        Viewers <span class="count" data-testid="viewer-count">{viewers.filter((v) => v.state !== "away").length}</span>
      </h2>
      <ul class="viewers">
        {viewers.map((v) => ({ ...v, delayMs: v.isLocal ? ownDelayMs : v.delayMs })).map((v) => (
          <li key={v.identity} data-identity={v.identity}>
            <span class="avatar" aria-hidden="true">
              {v.name.slice(0, 1).toUpperCase()}
            </span>
            <span class="viewer-main">
              <span class="viewer-name">
                {v.name}
                {v.isLocal && <span class="muted"> (you)</span>}
                {(v.role === "host" || v.role === "cohost") && (
                  <span class={`role-badge ${v.role}`}>{v.role === "host" ? "Host" : "Co-host"}</span>
                )}
              </span>
              <span class={`viewer-state ${v.state}`}>
                <span class="dot" aria-hidden="true" /> {STATE_LABEL[v.state]}
                {v.transport === "hls" && (
                  <span class="via-hls" data-testid="viewer-hls" title="Watching over HLS: WebRTC cannot reach this viewer">
                    {" "}
                    · HLS
                  </span>
                )}
                {v.delayMs !== null && <span class="delay" data-testid="viewer-delay"> · {Math.round(v.delayMs)} ms behind</span>}
              </span>
            </span>
            {isHost && !v.isLocal && v.role !== "host" && v.state !== "away" && (
              <IconButton icon="crown" size={18} label={`Make ${v.name} the host`} onClick={() => onHandHost(v)} />
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
