// cdnnodes.ts is the admin's view of the CDN nodes (issue #16): the API
// calls and the formatting the CDN nodes page shows.
import { request } from "./api";
import { bytes } from "./vodjobs";

/** CdnNode is one node as GET /api/admin/cdn/nodes lists it (cdnwire.NodeInfo). */
export interface CdnNode {
  id: string;
  name: string;
  mode: "shared" | "local";
  owner?: string;
  public_url: string;
  dns_name?: string;
  state: "up" | "down" | "revoked";
  last_seen: string;
  capacity: { used_bytes?: number; max_bytes?: number; free_bytes?: number };
  health: { load1?: number; egress_bps?: number; errors?: number; hit_ratio?: number; version?: string; uptime_seconds?: number };
}

export const cdnNodes = {
  list: async () => (await request<{ nodes: CdnNode[] }>("GET", "/api/admin/cdn/nodes")).nodes ?? [],
  rename: (id: string, name: string) => request<void>("PATCH", `/api/admin/cdn/nodes/${encodeURIComponent(id)}`, { name }),
  revoke: (id: string) => request<void>("POST", `/api/admin/cdn/nodes/${encodeURIComponent(id)}/revoke`),
};

/** validName mirrors the API's rule: a DNS label. */
export function validName(s: string): boolean {
  return /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(s);
}

/** ago says how long before now t was, coarsely ("never" for the zero time). */
export function ago(t: string, now = Date.now()): string {
  const ms = now - Date.parse(t);
  if (!Number.isFinite(ms) || Date.parse(t) <= 0) return "never";
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** capacity is "used of max" or "—" before the first heartbeat. */
export function capacity(c: CdnNode["capacity"]): string {
  if (!c.max_bytes) return "—";
  const pct = Math.round(((c.used_bytes ?? 0) / c.max_bytes) * 100);
  return `${bytes(c.used_bytes ?? 0)} of ${bytes(c.max_bytes)} (${pct}%)`;
}

/** health summarises load, hit ratio and errors, or "—" before the first heartbeat. */
export function health(h: CdnNode["health"]): string {
  const parts: string[] = [];
  if (h.load1 !== undefined && h.version) parts.push(`load ${h.load1.toFixed(2)}`);
  if (h.hit_ratio) parts.push(`${Math.round(h.hit_ratio * 100)}% hits`);
  if (h.errors) parts.push(`${h.errors} errors`);
  if (h.version) parts.push(`v${h.version}`);
  return parts.length ? parts.join(" · ") : "—";
}
