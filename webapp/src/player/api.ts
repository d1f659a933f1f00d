// api.ts (player) is the on-demand player's part of the API client: the
// signed HLS URL, resume points and the Continue watching row.
import { ApiError, request, type Item } from "../api";

/** WatchProgress is where the signed-in user stopped in an item (library.WatchProgress). */
export interface WatchProgress {
  itemId: number;
  positionMs: number;
  durationMs: number;
  finished: boolean;
  updatedAt?: string;
}

/** InProgress is one card of Continue watching. */
export interface InProgress {
  item: Item;
  progress: WatchProgress;
}

/** progressPath is where an item's resume point is read and saved. */
const progressPath = (id: number) => `/api/items/${id}/progress`;

export const playerApi = {
  /** hlsUrl is the signed master playlist of an item. */
  hlsUrl: async (id: number) => (await request<{ url: string }>("GET", `/api/items/${id}/hls`)).url,
  progress: (id: number) => request<WatchProgress>("GET", progressPath(id)),
  saveProgress: (id: number, positionMs: number, durationMs: number) =>
    request<WatchProgress>("PUT", progressPath(id), { positionMs, durationMs }),
  /**
   * saveOnExit saves a position as the page goes away: a keepalive fetch
   * outlives the page (sendBeacon can only POST).
   */
  saveOnExit: (id: number, positionMs: number, durationMs: number) => {
    void fetch(progressPath(id), {
      method: "PUT",
      keepalive: true,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ positionMs, durationMs }),
    }).catch(() => undefined);
  },
  continueWatching: async () => (await request<{ items: InProgress[] }>("GET", "/api/me/continue")).items ?? [],
};

/**
 * checkPlaylist fetches the master playlist before a player gets it, so a
 * file the server cannot play (415 unsupported_media, 422 bad_source)
 * shows the server's reason instead of a black box.
 */
export async function checkPlaylist(url: string): Promise<void> {
  const res = await fetch(url, { credentials: "same-origin" });
  if (res.ok) return;
  let body: { code?: string; message?: string } = {};
  try {
    body = await res.json();
  } catch {
    // not JSON: keep the status line
  }
  throw new ApiError(res.status, body.code ?? String(res.status), body.message ?? res.statusText);
}
