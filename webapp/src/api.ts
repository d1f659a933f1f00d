// api.ts is the typed client for the control plane's JSON API under /api
// (cmd/api; see /api/openapi.json). Every call sends the session cookie and
// turns an error body {"code","message"} into an ApiError.

/** ApiError is a refused or failed API call. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** User is the signed-in account (or a guest). */
export interface User {
  id: number;
  username: string;
  displayName: string;
  role: string;
}

/** Library is one media library. */
export interface Library {
  id: number;
  name: string;
  kind: "movies" | "shows" | "music";
  lastScanAt?: string;
}

/** Stream descriptions from the library's probe. */
export interface AudioStream {
  index: number;
  codec: string;
  channels: number;
  sampleRate: number;
  language?: string;
  title?: string;
}
export interface SubtitleStream {
  index: number;
  codec: string;
  language?: string;
  title?: string;
}
export interface VideoStream {
  index: number;
  codec: string;
  width: number;
  height: number;
  frameRate?: number;
  hdr?: string;
}

/** Item is a library item: movie, show, season, episode, artist, album or track. */
export interface Item {
  id: number;
  libraryId: number;
  parentId?: number;
  kind: string;
  title: string;
  year?: number;
  summary?: string;
  genres?: string[];
  seasonNumber?: number;
  episodeNumber?: number;
  trackNumber?: number;
  durationMs?: number;
  hasPoster: boolean;
  probeError?: string;
  media?: {
    container?: string;
    durationMs?: number;
    video?: VideoStream[];
    audio?: AudioStream[];
    subtitles?: SubtitleStream[];
    coverArt?: number;
    tags?: Record<string, string>;
  };
}

/** QueueEntry is one item waiting (or playing) in a party's queue. */
export interface QueueEntry {
  id: string;
  itemId: number;
  title: string;
  kind?: string;
  durationMs?: number;
  hasPoster?: boolean;
}

/** Party is a watch party as the control plane reports it. */
export interface Party {
  id: string;
  name?: string;
  hostId?: string;
  role?: string; // the caller's role: host, cohost, listener
  state?: string;
  current?: QueueEntry | null;
  queue: QueueEntry[];
  positionMs?: number;
}

/** Invite is a minted invite link. */
export interface Invite {
  token: string;
  url: string;
  role: string;
  expiresAt?: string;
}

/** RoomAccess is what the browser needs to join the party's room. */
export interface RoomAccess {
  partyId: string;
  url: string;
  token: string;
  identity?: string;
  role?: string;
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? { Accept: "application/json" } : { "Content-Type": "application/json", Accept: "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (!res.ok) {
    const e = (data ?? {}) as { code?: string; message?: string; error?: string };
    throw new ApiError(res.status, e.code ?? String(res.status), e.message ?? e.error ?? res.statusText ?? "request failed");
  }
  return data as T;
}

/** list unwraps either a bare array or an {items|…: []} envelope. */
function list<T>(data: unknown, key: string): T[] {
  if (Array.isArray(data)) return data as T[];
  const o = (data ?? {}) as Record<string, unknown>;
  const v = o[key] ?? o.items;
  return Array.isArray(v) ? (v as T[]) : [];
}

/** posterUrl is where an item's poster or cover art is served. */
export function posterUrl(itemId: number): string {
  return `/api/items/${itemId}/poster`;
}

/** api groups the calls the pages make. */
export const api = {
  me: () => request<User>("GET", "/api/me"),
  login: (username: string, password: string) => request<User>("POST", "/api/auth/login", { username, password }),
  logout: () => request<void>("POST", "/api/auth/logout"),

  libraries: async () => list<Library>(await request("GET", "/api/libraries"), "libraries"),
  scan: (libraryId: number) => request<unknown>("POST", `/api/libraries/${libraryId}/scan`),
  items: async (q: { search?: string; kinds?: string[]; parentId?: number; limit?: number }) => {
    const p = new URLSearchParams();
    if (q.search) p.set("q", q.search);
    if (q.kinds?.length) p.set("kind", q.kinds.join(","));
    if (q.parentId) p.set("parent", String(q.parentId));
    p.set("limit", String(q.limit ?? 200));
    return list<Item>(await request("GET", `/api/items?${p}`), "items");
  },
  item: (id: number) => request<Item>("GET", `/api/items/${id}`),

  createParty: (itemId: number) => request<Party>("POST", "/api/parties", { itemId }),
  party: (id: string) => request<Party>("GET", `/api/parties/${id}`),
  roomAccess: (id: string) => request<RoomAccess>("POST", `/api/parties/${id}/token`),
  control: (id: string, action: string, positionSeconds?: number) =>
    request<unknown>("POST", `/api/parties/${id}/control`, { action, positionSeconds }),
  enqueue: (id: string, itemId: number) => request<unknown>("POST", `/api/parties/${id}/queue`, { itemId }),
  dequeue: (id: string, entryId: string) => request<unknown>("DELETE", `/api/parties/${id}/queue/${entryId}`),
  reorder: (id: string, entryIds: string[]) => request<unknown>("PUT", `/api/parties/${id}/queue`, { order: entryIds }),
  invite: (id: string, role: string, expiresInSeconds: number) =>
    request<Invite>("POST", `/api/parties/${id}/invites`, { role, expiresInSeconds }),
  handHost: (id: string, identity: string) => request<unknown>("POST", `/api/parties/${id}/host`, { identity }),
  join: (token: string, displayName: string) => request<RoomAccess>("POST", "/api/join", { token, displayName }),
  partyEvents: (id: string) => new EventSource(`/api/parties/${id}/events`, { withCredentials: true }),
};
