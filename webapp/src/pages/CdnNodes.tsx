// CdnNodes.tsx is the admin page of CDN nodes (issue #16): every node with
// its state, last heartbeat, capacity and health, and Rename and Revoke.
import { useEffect, useState } from "preact/hooks";
import { ErrorNote, Spinner } from "../ui";
import { ago, capacity, cdnNodes, health, validName, type CdnNode } from "../cdnnodes";
import "../optimize.css";

function NodeRow({ n, onChanged, onError }: { n: CdnNode; onChanged: () => void; onError: (m: string) => void }) {
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(n.name);
  const rename = async (e: Event) => {
    e.preventDefault();
    if (!validName(name)) return onError("A node name is a DNS label: lower-case letters, digits and -, not starting or ending with -.");
    try {
      await cdnNodes.rename(n.id, name);
      setEditing(false);
      onChanged();
    } catch (err) {
      onError(`Could not rename ${n.name}: ${(err as Error).message}`);
    }
  };
  const revoke = async () => {
    if (!confirm(`Revoke ${n.name}? It is refused at once and must register again with a new identity.`)) return;
    try {
      await cdnNodes.revoke(n.id);
      onChanged();
    } catch (err) {
      onError(`Could not revoke ${n.name}: ${(err as Error).message}`);
    }
  };
  return (
    <tr data-testid={`node-${n.id}`}>
      <td>
        {editing ? (
          <form onSubmit={rename}>
            <input aria-label={`New name for ${n.name}`} value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
            <button class="btn small" type="submit">Save</button>
          </form>
        ) : (
          <strong>{n.name}</strong>
        )}
        <div class="muted small">{n.dns_name || n.public_url}</div>
      </td>
      <td>
        <span class={`badge state-${n.state}`}>{n.state}</span>
      </td>
      <td>{n.mode === "local" ? `local (${n.owner ?? "?"})` : "shared"}</td>
      <td>{ago(n.last_seen)}</td>
      <td>{capacity(n.capacity)}</td>
      <td>{health(n.health)}</td>
      <td>
        {n.state !== "revoked" && (
          <>
            <button type="button" class="btn ghost small" onClick={() => setEditing(!editing)}>
              {editing ? "Cancel" : "Rename"}
            </button>{" "}
            <button type="button" class="btn ghost small" onClick={() => void revoke()}>
              Revoke
            </button>
          </>
        )}
      </td>
    </tr>
  );
}

/** CdnNodesPage lists the CDN nodes for an admin. */
export function CdnNodesPage() {
  const [nodes, setNodes] = useState<CdnNode[] | null>(null);
  const [error, setError] = useState("");
  const load = () => cdnNodes.list().then(setNodes, (e) => setError(`Could not load the CDN nodes: ${e.message}`));
  useEffect(() => {
    void load();
  }, []);
  return (
    <main class="page">
      <h1>CDN nodes</h1>
      <p class="muted">
        Nodes register themselves with the pre-shared key (<code>cdn.psk</code> on the node, <code>cdn.node_psk</code> here). Revoking a node refuses
        it at once.
      </p>
      {error && <ErrorNote>{error}</ErrorNote>}
      {nodes === null && !error && <Spinner />}
      {nodes?.length === 0 && <p>No node has registered yet.</p>}
      {nodes && nodes.length > 0 && (
        <table class="nodes">
          <thead>
            <tr>
              <th>Name</th>
              <th>State</th>
              <th>Mode</th>
              <th>Last seen</th>
              <th>Capacity</th>
              <th>Health</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {nodes.map((n) => (
              <NodeRow key={n.id} n={n} onChanged={() => void load()} onError={setError} />
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
