// downloads/api.ts is the TypeScript mirror of the downloads wire contract
// (Go package downloads, file downloads/wire.go; issue #15): profiles,
// devices, jobs and their items, and the calls the web app makes.
import { ApiError } from "../api";

/** ProfileName names a download profile, largest first. */
export type ProfileName = "original" | "1080p" | "720p" | "480p" | "audio";

/** Profile is one entry of GET /api/downloads/profiles. */
export interface Profile {
  name: ProfileName;
  label: string;
  max_height: number;
  video_kbps: number;
  audio_kbps: number;
  allowed: boolean;
  /** reason says which rule refuses the profile, when not allowed. */
  reason?: string;
}

/** Device is a registered download client (this browser, once). */
export interface Device {
  id: string;
  name: string;
  created_at: string;
  last_seen: string;
  expires_at: string;
  /** revoked is set when the user or an admin revoked the device. */
  revoked?: boolean;
}

/** TargetKind is what a job downloads. */
export type TargetKind = "item" | "season" | "show" | "album" | "playlist";

/** Target names a job's content. */
export interface Target {
  kind: TargetKind;
  id: number;
  season?: number;
}

/** JobState is a job's overall state. */
export type JobState = "preparing" | "ready" | "downloaded" | "failed" | "cancelled";

/** ItemState is one file's state on the server. */
export type ItemState = "queued" | "preparing" | "ready" | "downloaded" | "failed";

/** Subtitle is a WebVTT sidecar of a job item. */
export interface Subtitle {
  language: string;
  url: string;
}

/** JobItem is one file of a job. */
export interface JobItem {
  item_id: number;
  title: string;
  kind: string;
  filename: string;
  state: ItemState;
  /** progress is the preparing progress, 0..1. */
  progress: number;
  /** size is the file's length in bytes, once ready. */
  size?: number;
  /** url is the signed, expiring file URL, once ready. */
  url?: string;
  expires_at?: string;
  error?: string;
  duration_ms?: number;
  subtitles?: Subtitle[];
}

/** Job is a download request: one file per playable item. */
export interface Job {
  id: string | number;
  device_id: string;
  profile: ProfileName;
  fallback_reason?: string;
  state: JobState;
  progress: number;
  created_at: string;
  items: JobItem[];
}

/** DownloadError is a refusal body {error, message, rule}. */
export interface Refusal {
  error?: string;
  code?: string;
  message?: string;
  rule?: string;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? { Accept: "application/json" } : { "Content-Type": "application/json", Accept: "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    const r = (data ?? {}) as Refusal;
    const code = r.error ?? r.code ?? String(res.status);
    const rule = r.rule ? ` (rule: ${r.rule})` : "";
    throw new ApiError(res.status, code, (r.message ?? res.statusText ?? "request failed") + rule);
  }
  return data as T;
}

function arr<T>(data: unknown, key: string): T[] {
  if (Array.isArray(data)) return data as T[];
  const v = ((data ?? {}) as Record<string, unknown>)[key];
  return Array.isArray(v) ? (v as T[]) : [];
}

/** dl groups the downloads calls. */
export const dl = {
  profiles: async () => arr<Profile>(await call("GET", "/api/downloads/profiles"), "profiles"),
  registerDevice: (name: string) => call<Device>("POST", "/api/downloads/devices", { name }),
  devices: async () => arr<Device>(await call("GET", "/api/downloads/devices"), "devices"),
  checkin: (id: string) => call<Device>("POST", `/api/downloads/devices/${encodeURIComponent(id)}/checkin`),
  createJob: (deviceId: string, profile: ProfileName, target: Target) =>
    call<Job>("POST", "/api/downloads/jobs", { device_id: deviceId, profile, target }),
  jobs: async () => arr<Job>(await call("GET", "/api/downloads/jobs"), "jobs"),
  job: (id: Job["id"]) => call<Job>("GET", `/api/downloads/jobs/${id}`),
  removeJob: (id: Job["id"]) => call<void>("DELETE", `/api/downloads/jobs/${id}`),
  retry: (id: Job["id"], itemId: number) => call<Job>("POST", `/api/downloads/jobs/${id}/items/${itemId}/retry`),
  downloaded: (id: Job["id"], itemId: number) => call<unknown>("POST", `/api/downloads/jobs/${id}/items/${itemId}/downloaded`),
  /** progress sends a playback position to history (PUT /api/items/{id}/progress). The body
   * carries both spellings: the brief's snake_case and the player's camelCase (wt-player's
   * api/routes_progress.go reads positionMs/durationMs); the server ignores the other pair. */
  progress: (itemId: number, positionMs: number, durationMs: number) => {
    const position = Math.round(Math.min(positionMs, durationMs));
    const duration = Math.round(durationMs);
    return call<unknown>("PUT", `/api/items/${itemId}/progress`, { position_ms: position, duration_ms: duration, positionMs: position, durationMs: duration });
  },
  events: () => new EventSource("/api/downloads/events", { withCredentials: true }),
};
