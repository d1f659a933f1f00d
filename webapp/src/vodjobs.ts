// vodjobs.ts is the client of the admin pre-encoding jobs ("optimized
// versions": /api/admin/vod/jobs, see /api/openapi.json) and the pure
// helpers the Optimize page shows them with.
import { request } from "./api";

/** JobState is a job's or an item's state. */
export type JobState = "queued" | "running" | "done" | "failed" | "cancelled";

/** Progress counts segments, init segments included. */
export interface Progress {
  total: number;
  done: number;
  encoded: number;
  failed: number;
  bytes: number;
}

/** JobItem is one item of a job. */
export interface JobItem extends Progress {
  itemId: number;
  title: string;
  state: JobState;
  renditions: string[];
  skipped?: string[];
  error?: string;
}

/** VODJob is a pre-encoding job's status (vodjobs.Job). */
export interface VODJob extends Progress {
  id: number;
  state: JobState;
  renditions: string[];
  createdBy?: string;
  created: string;
  started?: string;
  finished?: string;
  error?: string;
  etaSeconds?: number;
  seq: number;
  items: JobItem[];
}

/** RENDITIONS are the renditions a job may ask for, highest first; "src" is the remux of a browser-safe source. */
export const RENDITIONS: { name: string; label: string; title?: string }[] = [
  { name: "1080p", label: "1080p" },
  { name: "720p", label: "720p" },
  { name: "480p", label: "480p" },
  { name: "240p", label: "240p" },
  { name: "src", label: "Original (remux)", title: "The file as it is, repackaged: only for H.264 files; costs no encode" },
  { name: "audio", label: "Audio tracks", title: "Every audio language, shared by every quality (video renditions carry no sound)" },
];

/** JobTarget is what a job encodes: some items or a whole library. */
export type JobTarget = { itemIds: number[] } | { libraryId: number };

export const vodJobs = {
  start: (target: JobTarget, renditions: string[]) => request<VODJob>("POST", "/api/admin/vod/jobs", { ...target, renditions }),
  list: async () => (await request<{ jobs: VODJob[] }>("GET", "/api/admin/vod/jobs")).jobs ?? [],
  cancel: (id: number) => request<VODJob>("DELETE", `/api/admin/vod/jobs/${id}`),
  eventsUrl: (id: number) => `/api/admin/vod/jobs/${id}/events`,
};

/** isFinal reports an end state. */
export function isFinal(s: JobState): boolean {
  return s === "done" || s === "failed" || s === "cancelled";
}

/** percent is how much of p is accounted for (made or failed), 0–100, whole. */
export function percent(p: Progress, state: JobState): number {
  if (p.total <= 0) return state === "done" ? 100 : 0;
  return Math.min(100, Math.floor((100 * (p.done + p.failed)) / p.total));
}

/** bytes renders a size as "12.3 MB". */
export function bytes(n: number): string {
  if (n < 1e6) return `${Math.round(n / 1e3)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

/** eta renders the time left as "about 3 min", or "" when unknown. */
export function eta(seconds?: number): string {
  if (seconds === undefined || !isFinite(seconds)) return "";
  if (seconds < 60) return "less than a minute left";
  const min = Math.round(seconds / 60);
  return min < 90 ? `about ${min} min left` : `about ${Math.round(min / 60)} h left`;
}

/** merge puts a newer status of a job into a list (newest first), ignoring stale ones. */
export function merge(jobs: VODJob[], j: VODJob): VODJob[] {
  const i = jobs.findIndex((x) => x.id === j.id);
  if (i < 0) return [j, ...jobs].sort((a, b) => b.id - a.id);
  if (jobs[i].seq > j.seq) return jobs;
  const out = jobs.slice();
  out[i] = j;
  return out;
}
