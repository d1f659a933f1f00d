import { useEffect, useState } from "preact/hooks";
import { request } from "../api";
import { nodeLabel, selectable, type CdnChoice } from "../cdnnode";
import { ErrorNote } from "../ui";

/**
 * CdnNodePicker lets a viewer choose the CDN node that serves them first
 * (GET/PUT /api/me/cdn-node). It renders nothing when the server has no
 * nodes for this viewer.
 */
export function CdnNodePicker({ itemId }: { itemId?: number }) {
  const [choice, setChoice] = useState<CdnChoice | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    const q = itemId ? `?item=${itemId}` : "";
    request<CdnChoice>("GET", `/api/me/cdn-node${q}`).then(setChoice, () => setChoice(null));
  }, [itemId]);
  if (!choice || choice.nodes.length === 0) return null;
  const pick = async (nodeId: string) => {
    setError("");
    try {
      const next = await request<CdnChoice>("PUT", "/api/me/cdn-node", { nodeId });
      setChoice({ ...choice, nodeId: next.nodeId });
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <div class="cdn-node-picker">
      <label>
        Served from{" "}
        <select value={choice.nodeId} onChange={(e) => pick((e.target as HTMLSelectElement).value)}>
          <option value="">Automatic (best node, then this server)</option>
          {choice.nodes.map((n) => (
            <option key={n.id} value={n.id} disabled={!selectable(n) && n.id !== choice.nodeId}>
              {nodeLabel(n)}
            </option>
          ))}
        </select>
      </label>
      {error && <ErrorNote>{error}</ErrorNote>}
    </div>
  );
}
