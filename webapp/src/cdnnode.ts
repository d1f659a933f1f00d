// cdnnode.ts is the viewer's CDN node picker's logic (issue #16): which
// node serves them first; the origin always stays the last fallback.

/** CdnNode is a node as GET /api/me/cdn-node lists it (cdnwire.NodeInfo). */
export interface CdnNode {
  id: string;
  name: string;
  mode: "shared" | "local";
  owner?: string;
  state: "up" | "down" | "revoked";
  health?: { load1?: number; hit_ratio?: number };
  has_item?: number;
}

/** CdnChoice is the body of GET and PUT /api/me/cdn-node. */
export interface CdnChoice {
  nodeId: string;
  nodes: CdnNode[];
}

/** nodeLabel describes a node in the picker: name, mode, health, has-item. */
export function nodeLabel(n: CdnNode): string {
  const parts = [n.mode === "local" ? "your own node" : "shared"];
  if (n.state !== "up") parts.push(n.state);
  else if (n.health?.load1 !== undefined) parts.push(`load ${n.health.load1.toFixed(1)}`);
  if (n.has_item !== undefined) parts.push(n.has_item >= 1 ? "has this item" : n.has_item > 0 ? `has ${Math.round(n.has_item * 100)}%` : "does not have this item");
  return `${n.name} (${parts.join(", ")})`;
}

/** selectable tells whether a node may be picked now (down nodes are listed but not offered). */
export function selectable(n: CdnNode): boolean {
  return n.state === "up";
}
