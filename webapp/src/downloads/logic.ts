// downloads/logic.ts holds the pure rules of offline downloads, kept apart
// from the browser APIs so node --test can check them: how a cut download
// resumes with Range (RFC 9110 §14), when an offline copy has expired,
// how per-item progress adds up, and the offline index (copies and the
// progress waiting to reach history).
import type { JobItem, ProfileName } from "./api";

// ---- Range resume (RFC 9110 §14.2 Range, §13.1.5 If-Range, §14.4 Content-Range) ----

/** resumeHeaders are the request headers that continue a file from stored bytes. */
export function resumeHeaders(stored: number, etag?: string): Record<string, string> {
  if (stored <= 0) return {};
  const h: Record<string, string> = { Range: `bytes=${stored}-` };
  // If-Range needs a strong validator (§13.1.5); with a weak or no ETag the
  // server could splice two versions, so then it gets Range alone and the
  // 206's Content-Range and length are checked instead.
  if (etag && !etag.startsWith("W/")) h["If-Range"] = etag;
  return h;
}

/** ContentRange is a parsed Content-Range: bytes first-last/complete. */
export interface ContentRange {
  first?: number;
  last?: number;
  complete?: number;
}

/** parseContentRange reads "bytes 10-99/100", or "bytes *" + "/100" for an unsatisfiable range (§14.4). */
export function parseContentRange(v: string | null | undefined): ContentRange | null {
  if (!v) return null;
  const m = /^bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)$/i.exec(v.trim());
  if (!m) return null;
  const cr: ContentRange = {};
  if (m[1] !== undefined) {
    cr.first = Number(m[1]);
    cr.last = Number(m[2]);
    if (cr.last < cr.first) return null;
  }
  if (m[3] !== "*") cr.complete = Number(m[3]);
  return cr;
}

/** ResumePlan says what to do with a response to a (possibly ranged) GET. */
export type ResumePlan =
  | { action: "append"; offset: number; total?: number } // keep stored bytes, write from offset
  | { action: "restart"; total?: number } // the server sent the whole file: truncate, write from 0
  | { action: "complete"; total: number } // nothing left to fetch
  | { action: "error"; message: string };

/** ResponseFacts are the parts of a response planResume needs. */
export interface ResponseFacts {
  status: number;
  contentRange?: string | null;
  contentLength?: string | null;
}

/** planResume decides how a response continues a download of which `stored` bytes are kept. */
export function planResume(stored: number, r: ResponseFacts): ResumePlan {
  const len = r.contentLength != null && r.contentLength !== "" ? Number(r.contentLength) : undefined;
  switch (r.status) {
    case 200:
      // A full answer: no Range sent, or If-Range did not match (the file changed).
      return { action: "restart", total: len };
    case 206: {
      const cr = parseContentRange(r.contentRange);
      if (!cr || cr.first === undefined) return { action: "error", message: "the server's partial answer has no usable Content-Range" };
      if (cr.first !== stored) return { action: "error", message: `the server resumed at byte ${cr.first}, not at ${stored}` };
      return { action: "append", offset: stored, total: cr.complete };
    }
    case 416: {
      const cr = parseContentRange(r.contentRange);
      if (cr?.complete !== undefined && cr.complete === stored) return { action: "complete", total: stored };
      return { action: "restart" };
    }
    case 401:
      return { action: "error", message: "the download link expired or this device was revoked: retry the item on the Downloads page" };
    case 403:
      return { action: "error", message: "you may not download this item any more (ask the server's admin)" };
    case 404:
      return { action: "error", message: "the file is gone from the server: retry the item on the Downloads page" };
    default:
      return { action: "error", message: `the server answered ${r.status}` };
  }
}

// ---- progress ----

/** Phase is one item's progress through preparing (server) then download (this browser). */
export interface Phase {
  label: "queued" | "preparing" | "downloading" | "stored" | "failed";
  preparing: number; // 0..1
  download: number; // 0..1
}

/** phaseOf combines the server's item state with the local copy's bytes. */
export function phaseOf(item: Pick<JobItem, "state" | "progress" | "size">, local?: Pick<OfflineCopy, "bytes" | "size" | "state">): Phase {
  const size = local?.size || item.size || 0;
  const got = local ? (local.state === "complete" ? 1 : size > 0 ? Math.min(1, local.bytes / size) : 0) : 0;
  if (local?.state === "complete") return { label: "stored", preparing: 1, download: 1 };
  if (item.state === "failed") return { label: "failed", preparing: clamp(item.progress), download: got };
  if (item.state === "queued") return { label: "queued", preparing: 0, download: 0 };
  if (item.state === "preparing") return { label: "preparing", preparing: clamp(item.progress), download: 0 };
  // ready or downloaded on the server, not complete here
  return { label: "downloading", preparing: 1, download: got };
}

/** Totals is a job's progress summed over its items. */
export interface Totals {
  items: number;
  stored: number;
  failed: number;
  preparing: number; // mean 0..1
  download: number; // bytes-weighted where sizes are known, else mean; 0..1
  bytes: number; // stored bytes
  size: number; // known total size
}

/** aggregate adds up the phases of a job's items. */
export function aggregate(rows: { phase: Phase; size?: number; bytes?: number }[]): Totals {
  const t: Totals = { items: rows.length, stored: 0, failed: 0, preparing: 0, download: 0, bytes: 0, size: 0 };
  if (rows.length === 0) return t;
  let sizedAll = true;
  let dlMean = 0;
  for (const r of rows) {
    t.preparing += r.phase.preparing / rows.length;
    dlMean += r.phase.download / rows.length;
    if (r.phase.label === "stored") t.stored++;
    if (r.phase.label === "failed") t.failed++;
    if (r.size && r.size > 0) {
      t.size += r.size;
      t.bytes += Math.min(r.size, r.phase.label === "stored" ? r.size : (r.bytes ?? 0));
    } else sizedAll = false;
  }
  t.download = sizedAll && t.size > 0 ? t.bytes / t.size : dlMean;
  return t;
}

function clamp(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}

// ---- expiry ----

/** isExpired says whether an offline copy may no longer be played. */
export function isExpired(copy: Pick<OfflineCopy, "expiresAt" | "revoked">, nowMs: number): boolean {
  if (copy.revoked) return true;
  const t = Date.parse(copy.expiresAt);
  // A copy without a readable expiry is treated as expired: playing it
  // would skip the owner's rule, and a check-in online sets it again.
  return !Number.isFinite(t) || nowMs >= t;
}

/** afterCheckin gives every copy the device's new expiry; a copy that had
 * expired lives again, since the server accepted the device again. */
export function afterCheckin(index: OfflineIndex, deviceExpiresAt: string): OfflineIndex {
  const copies: Record<string, OfflineCopy> = {};
  for (const [k, c] of Object.entries(index.copies)) copies[k] = { ...c, expiresAt: deviceExpiresAt, revoked: false };
  return { ...index, copies };
}

/** afterRevoked marks every copy unplayable: the server refused this device. */
export function afterRevoked(index: OfflineIndex): OfflineIndex {
  const copies: Record<string, OfflineCopy> = {};
  for (const [k, c] of Object.entries(index.copies)) copies[k] = { ...c, revoked: true };
  return { ...index, copies };
}

// ---- the offline index ----

/** OfflineCopy is one item stored in this browser (its bytes are an OPFS file). */
export interface OfflineCopy {
  itemId: number;
  jobId: string;
  title: string;
  kind: string;
  filename: string;
  profile: ProfileName;
  /** file is the OPFS file name holding the bytes. */
  file: string;
  size: number;
  bytes: number;
  etag?: string;
  state: "downloading" | "complete" | "failed";
  error?: string;
  expiresAt: string;
  revoked?: boolean;
  durationMs: number;
  positionMs: number;
  storedAt: number;
  /** reported is true once the server heard POST .../downloaded. */
  reported?: boolean;
}

/** PendingProgress is a playback position not yet sent to history. */
export interface PendingProgress {
  itemId: number;
  positionMs: number;
  durationMs: number;
  at: number;
}

/** OfflineIndex is everything the Downloads page needs with no network. */
export interface OfflineIndex {
  version: 1;
  copies: Record<string, OfflineCopy>;
  pending: PendingProgress[];
}

/** emptyIndex is a fresh index. */
export function emptyIndex(): OfflineIndex {
  return { version: 1, copies: {}, pending: [] };
}

/** parseIndex reads a stored index, or starts over when it is unreadable. */
export function parseIndex(text: string | null | undefined): OfflineIndex {
  if (!text) return emptyIndex();
  try {
    const v = JSON.parse(text) as Partial<OfflineIndex>;
    if (v.version !== 1 || typeof v.copies !== "object" || v.copies === null) return emptyIndex();
    const copies: Record<string, OfflineCopy> = {};
    for (const [k, c] of Object.entries(v.copies)) {
      if (c && typeof c.itemId === "number" && typeof c.file === "string") copies[k] = c;
    }
    return { version: 1, copies, pending: Array.isArray(v.pending) ? v.pending.filter((p) => p && typeof p.itemId === "number") : [] };
  } catch {
    return emptyIndex();
  }
}

/** copyKey is a copy's key: one copy per library item. */
export function copyKey(itemId: number): string {
  return String(itemId);
}

/** fileName is the OPFS name of an item's bytes: never from user or server text. */
export function fileName(itemId: number, profile: ProfileName): string {
  return `item-${Math.trunc(itemId)}-${profile.replace(/[^a-z0-9]/gi, "")}.mp4`;
}

/** putCopy inserts or updates a copy. */
export function putCopy(index: OfflineIndex, c: OfflineCopy): OfflineIndex {
  return { ...index, copies: { ...index.copies, [copyKey(c.itemId)]: c } };
}

/** patchCopy changes some fields of a copy that exists. */
export function patchCopy(index: OfflineIndex, itemId: number, patch: Partial<OfflineCopy>): OfflineIndex {
  const c = index.copies[copyKey(itemId)];
  return c ? putCopy(index, { ...c, ...patch }) : index;
}

/** dropCopy removes a copy and its pending progress. */
export function dropCopy(index: OfflineIndex, itemId: number): OfflineIndex {
  const copies = { ...index.copies };
  delete copies[copyKey(itemId)];
  return { ...index, copies, pending: index.pending.filter((p) => p.itemId !== itemId) };
}

/** listCopies returns the copies newest first. */
export function listCopies(index: OfflineIndex): OfflineCopy[] {
  return Object.values(index.copies).sort((a, b) => b.storedAt - a.storedAt || a.title.localeCompare(b.title));
}

/** recordPosition saves where playback is and queues it for history; one
 * pending entry per item, the latest wins. */
export function recordPosition(index: OfflineIndex, itemId: number, positionMs: number, durationMs: number, at: number): OfflineIndex {
  const next = patchCopy(index, itemId, { positionMs: Math.max(0, Math.round(positionMs)) });
  const pending = next.pending.filter((p) => p.itemId !== itemId);
  pending.push({ itemId, positionMs: Math.max(0, Math.round(positionMs)), durationMs: Math.round(durationMs), at });
  return { ...next, pending };
}

/** ackPending drops what history accepted; a newer position recorded
 * while the request was out stays queued. */
export function ackPending(index: OfflineIndex, sent: PendingProgress): OfflineIndex {
  return { ...index, pending: index.pending.filter((p) => !(p.itemId === sent.itemId && p.at <= sent.at)) };
}

/** resumeAt is where playback of a copy starts: its saved position, or the
 * start when it was (nearly) finished or barely begun. */
export function resumeAt(c: Pick<OfflineCopy, "positionMs" | "durationMs">): number {
  const p = c.positionMs || 0;
  if (p < 5000) return 0;
  if (c.durationMs > 0 && p > c.durationMs * 0.95) return 0;
  return p;
}
