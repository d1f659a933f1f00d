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
  /** hasPassword is false for an account that can only come in by a one-time link. */
  hasPassword?: boolean;
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

/** Entry is one item in a party's queue (party.Entry). */
export interface Entry {
  id: number;
  partyId: number;
  position: number;
  mediaType: string;
  sourceId: string; // the library item id
  title: string;
  year?: number;
  runtimeSeconds?: number;
  summary?: string;
  posterUrl?: string;
  artist?: string; // music only
  album?: string; // music only
  status: "queued" | "playing" | "played" | "skipped" | "failed";
}

/** Party is a watch party with its queue and the caller's role (PartyView). */
export interface Party {
  id: number;
  title: string;
  status: string;
  role?: "host" | "cohost" | "listener";
  hostId?: number | null;
  queue: Entry[];
  current: Entry | null;
  /** startsAtMs is the scheduled start (Unix ms), null when unscheduled. */
  startsAtMs?: number | null;
  worker?: { status: string; playbackState: string; positionSeconds: number; durationSeconds: number; lastError: string };
}

/** Member is an active member of a party (party.Member). */
export interface Member {
  userId: number;
  role: "host" | "cohost" | "listener";
  displayName: string;
}

/** Account is a session of this browser, for the account switcher. */
export interface Account extends User {
  active: boolean;
}

/** Invite is a minted invite link. */
export interface Invite {
  token: string;
  url: string;
  role: string;
  expiresAtMs?: number;
}

/** RoomAccess is what the browser needs to join the party's room. */
export interface RoomAccess {
  partyId: number;
  url: string;
  token: string;
  room?: string;
  identity?: string;
  role?: "host" | "cohost" | "listener";
  user?: User;
}

/** InviteInfo is what a valid invite opens (GET /api/invites/<token>). */
export interface InviteInfo {
  partyId: number;
  title: string;
  status: string;
  role: "listener" | "cohost";
  expiresAtMs: number;
  /** startsAtMs is the party's scheduled start (Unix ms), if any. */
  startsAtMs?: number;
  nowPlaying?: string;
  posterUrl?: string;
}

/** ScanProgress is a library scan's state. */
export interface ScanProgress {
  libraryId: number;
  state: "idle" | "queued" | "running" | "done" | "failed" | "canceled";
  percent?: number;
  filesTotal?: number;
  filesDone?: number;
  added?: number;
  error?: string;
}

/** PartyEvent is one event of a party's SSE stream. */
export interface PartyEvent {
  id: number;
  type: string;
  payload?: Record<string, unknown>;
}

/** request calls the API and turns an error body into an ApiError. */
export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
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
export function posterUrl(itemId: number | string): string {
  return `/api/items/${itemId}/poster`;
}

/** entryItem presents a queue entry as the item fields the UI draws. */
export function entryItem(e: Entry): Pick<Item, "id" | "title" | "hasPoster" | "kind"> {
  return { id: Number(e.sourceId) || 0, title: e.title, hasPoster: !!e.posterUrl && Number(e.sourceId) > 0, kind: e.mediaType };
}

/**
 * TAB names this page load's connections to party rooms (the API makes the
 * identity user-<id>.<TAB>): two tabs of one person are two participants,
 * and a reconnecting tab replaces only its own earlier connection.
 */
const TAB = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, "0")).join("");

/** api groups the calls the pages make. */
export const api = {
  me: () => request<User>("GET", "/api/me"),
  login: (username: string, password: string) => request<User>("POST", "/api/auth/login", { username, password }),
  logout: (all = false) => request<void>("POST", "/api/auth/logout", { all }),
  accounts: async () => list<Account>(await request("GET", "/api/auth/accounts"), "accounts"),
  switchAccount: (userId: number) => request<User>("POST", "/api/auth/switch", { userId }),
  setPassword: (newPassword: string, currentPassword?: string) =>
    request<User>("POST", "/api/me/password", { newPassword, currentPassword }),

  libraries: async () => list<Library>(await request("GET", "/api/libraries"), "libraries"),
  scan: (libraryId: number) => request<ScanProgress>("POST", `/api/libraries/${libraryId}/scan`),
  scanProgress: (libraryId: number) => request<ScanProgress>("GET", `/api/libraries/${libraryId}/scan`),
  items: async (q: { search?: string; kinds?: string[]; parentId?: number; limit?: number }) => {
    const p = new URLSearchParams();
    if (q.search) p.set("q", q.search);
    if (q.kinds?.length) p.set("kind", q.kinds.join(","));
    if (q.parentId) p.set("parent", String(q.parentId));
    p.set("limit", String(q.limit ?? 200));
    return list<Item>(await request("GET", `/api/items?${p}`), "items");
  },
  item: (id: number) => request<Item>("GET", `/api/items/${id}`),

  parties: async () => list<Party>(await request("GET", "/api/parties"), "parties"),
  createParty: (itemId: number) => request<Party>("POST", "/api/parties", { itemId }),
  party: (id: number) => request<Party>("GET", `/api/parties/${id}`),
  /** schedule sets the party's start (Unix ms), or clears it with null; host only. */
  schedule: (id: number, startsAtMs: number | null) => request<Party>("PATCH", `/api/parties/${id}`, { startsAtMs }),
  members: async (id: number) => list<Member>(await request("GET", `/api/parties/${id}/members`), "members"),
  /** roomAccess mints room credentials for this tab: each tab is its own participant. */
  roomAccess: (id: number) => request<RoomAccess>("POST", `/api/parties/${id}/token`, { tab: TAB }),
  control: (id: number, action: string, positionSeconds?: number, entryId?: number) =>
    request<Party>("POST", `/api/parties/${id}/control`, { action, positionSeconds, entryId }),
  /** partyItems searches the party's libraries, for its host and co-hosts. */
  partyItems: async (id: number, q: { search: string; kinds?: string[]; limit?: number }) => {
    const p = new URLSearchParams({ q: q.search, limit: String(q.limit ?? 20) });
    if (q.kinds?.length) p.set("kind", q.kinds.join(","));
    return list<Item>(await request("GET", `/api/parties/${id}/items?${p}`), "items");
  },
  enqueue: (id: number, itemId: number) => request<Entry>("POST", `/api/parties/${id}/queue`, { itemId }),
  dequeue: (id: number, entryId: number) => request<void>("DELETE", `/api/parties/${id}/queue/${entryId}`),
  reorder: (id: number, entryIds: number[]) => request<unknown>("PUT", `/api/parties/${id}/queue`, { entryIds }),
  invite: (id: number, role: string, expiresInSeconds: number) =>
    request<Invite>("POST", `/api/parties/${id}/invites`, { role, expiresInSeconds }),
  handHost: (id: number, identity: string) => request<unknown>("POST", `/api/parties/${id}/host`, { identity }),
  checkInvite: (token: string) => request<InviteInfo>("GET", `/api/invites/${encodeURIComponent(token)}`),
  join: (token: string, displayName: string) => request<RoomAccess>("POST", "/api/join", { token, displayName }),
  partyEvents: (id: number) => new EventSource(`/api/parties/${id}/events`, { withCredentials: true }),
};
