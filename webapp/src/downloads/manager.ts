// downloads/manager.ts runs this browser's downloads: it registers the
// device once, asks the server for jobs, follows them over SSE, fetches
// each ready file into OPFS (resuming with Range when cut), tells the
// server when the bytes are stored, checks the device in to keep offline
// copies valid, and sends the positions played offline to history.
import { ApiError } from "../api";
import { Observable } from "../store";
import { dl, type Device, type Job, type JobItem, type ProfileName, type Target } from "./api";
import {
  ackPending,
  afterCheckin,
  afterRevoked,
  copyKey,
  dropCopy,
  fileName,
  patchCopy,
  planResume,
  putCopy,
  recordPosition,
  resumeHeaders,
  type OfflineCopy,
} from "./logic";
import { OfflineStore, StorageError, describeStorageError } from "./store";

const DEVICE_KEY = "marquee.downloads.device";
/** COMMIT_BYTES is how much is written between commits: a cut download loses at most this. */
const COMMIT_BYTES = 8 << 20;
const MAX_ATTEMPTS = 5;

/** Status is what the Downloads page shows above the lists. */
export interface Status {
  online: boolean;
  deviceId: string;
  device?: Device;
  /** error is the last failure worth telling, in words that say what to do. */
  error: string;
  /** progressNote says why played positions are still waiting on this device. */
  progressNote: string;
  usage?: number;
  quota?: number;
  persisted?: boolean;
  /** busy is the item being fetched now. */
  busy?: number;
}

/** defaultDeviceName names this browser from its user agent, e.g. "Chrome on Linux". */
export function defaultDeviceName(ua: string): string {
  const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrom(e|ium)\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "Browser";
  const os = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Mac OS X/.test(ua) ? "macOS" : /Windows/.test(ua) ? "Windows" : /Linux/.test(ua) ? "Linux" : "";
  return os ? `${browser} on ${os}` : browser;
}

/** DownloadManager owns this browser's downloads; one per page load (see downloads()). */
export class DownloadManager {
  readonly store = new OfflineStore();
  readonly jobs = new Observable<Job[]>([]);
  readonly status = new Observable<Status>({ online: navigator.onLine, deviceId: localStorage.getItem(DEVICE_KEY) ?? "", error: "", progressNote: "" });
  private events: EventSource | null = null;
  private queue: { job: Job; item: JobItem }[] = [];
  private running = false;
  private syncing: Promise<void> | null = null;
  private transferring: AbortController | null = null;

  constructor() {
    addEventListener("online", () => {
      this.status.update({ online: true });
      void this.sync();
    });
    addEventListener("offline", () => {
      this.status.update({ online: false });
      // A lost network can leave a response hanging for minutes: stop it now,
      // keep what is stored, and continue with Range once back online.
      this.transferring?.abort(new Interrupted("the browser went offline"));
    });
    void this.store.ready.then(() => this.sync());
    void this.estimate();
  }

  /** registered says whether this browser has a device id. */
  registered(): boolean {
    return !!this.status.get().deviceId;
  }

  /** register names this browser as a download device (once). */
  async register(name: string): Promise<string> {
    const d = await dl.registerDevice(name.trim() || defaultDeviceName(navigator.userAgent));
    localStorage.setItem(DEVICE_KEY, d.id);
    this.status.update({ deviceId: d.id, device: d });
    return d.id;
  }

  /** download starts a job for target in profile; the first call registers the device. */
  async download(target: Target, profile: ProfileName, deviceName: string): Promise<Job> {
    const id = this.status.get().deviceId || (await this.register(deviceName));
    // Ask once that the browser keep our files under storage pressure; the answer is shown.
    if (navigator.storage?.persist) void navigator.storage.persist().then((p) => this.status.update({ persisted: p }), () => undefined);
    const job = await dl.createJob(id, profile, target);
    this.onJob(job);
    this.listen();
    return job;
  }

  /** sync, when online, checks the device in, reloads jobs, resumes downloads and sends queued progress. */
  sync(): Promise<void> {
    if (!this.syncing) {
      this.syncing = this.doSync().finally(() => (this.syncing = null));
    }
    return this.syncing;
  }

  private async doSync(): Promise<void> {
    const id = this.status.get().deviceId;
    if (!id) return;
    try {
      const device = await dl.checkin(id);
      this.status.update({ device, online: true });
      await this.store.update((i) => (device.revoked ? afterRevoked(i) : afterCheckin(i, device.expires_at)));
    } catch (e) {
      if (e instanceof ApiError && (e.code === "device_revoked" || e.status === 404 || e.code === "download_forbidden")) {
        // revoked (or not ours any more): copies stop playing; a new download registers again
        localStorage.removeItem(DEVICE_KEY);
        this.status.update({ deviceId: "", device: undefined, error: `This device's downloads were revoked (${e.message}). Download again to register it.` });
        await this.store.update(afterRevoked);
        return;
      }
      if (!(e instanceof ApiError)) {
        this.status.update({ online: false }); // no network: the copies keep their expiry
        return;
      }
      if (e.status === 401) return; // signed out: nothing to sync until sign-in
      console.warn("marquee: device check-in", e); // a server fault: jobs still load
    }
    try {
      const jobs = await dl.jobs();
      this.jobs.set(jobs);
      for (const j of jobs) this.onJob(j);
      this.listen();
    } catch (e) {
      console.warn("marquee: downloads jobs", e);
    }
    await this.flushProgress();
    await this.estimate();
  }

  /** listen follows the jobs over SSE while one of this device's jobs is
   * unfinished, and closes the stream after (one connection less per tab). */
  private listen(): void {
    const mine = this.status.get().deviceId;
    const copies = this.store.index.get().copies;
    const open = this.jobs.get().some(
      (j) =>
        (!j.device_id || j.device_id === mine) &&
        (j.state === "preparing" || j.state === "ready") &&
        j.items.some((it) => it.state !== "failed" && copies[copyKey(it.item_id)]?.state !== "complete"),
    );
    if (!open) {
      this.events?.close();
      this.events = null;
      return;
    }
    if (this.events) return;
    const es = dl.events();
    es.addEventListener("job", (ev) => {
      try {
        this.onJob(JSON.parse((ev as MessageEvent).data) as Job);
      } catch (e) {
        console.warn("marquee: downloads event", e);
      }
    });
    this.events = es;
  }

  /** onJob records a job's new state and queues its ready files for fetching. */
  private onJob(job: Job): void {
    const list = this.jobs.get().filter((j) => String(j.id) !== String(job.id));
    this.jobs.set([job, ...list].sort((a, b) => b.created_at.localeCompare(a.created_at)));
    if (job.device_id && job.device_id !== this.status.get().deviceId) return; // another device's job
    if (job.state === "cancelled") return;
    for (const item of job.items) {
      if ((item.state !== "ready" && item.state !== "downloaded") || !item.url) continue;
      const c = this.store.index.get().copies[copyKey(item.item_id)];
      if (c && c.state === "complete" && c.jobId === String(job.id)) {
        if (!c.reported && item.state === "ready") void this.report(job, item);
        continue;
      }
      if (c?.state === "failed" && c.jobId === String(job.id)) continue; // waits for retry
      if (this.queue.some((q) => q.item.item_id === item.item_id) || this.status.get().busy === item.item_id) continue;
      this.queue.push({ job, item });
    }
    void this.pump();
    this.listen();
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        this.status.update({ busy: next.item.item_id });
        const { item } = next;
        await this.fetchItem(next.job, item).catch(async (e) => {
          if (e instanceof TypeError || e instanceof Interrupted) {
            // the network went away (fetch and body reads fail with TypeError): keep
            // what is stored and continue with Range at the next sync (back online)
            await this.store.update((i) => patchCopy(i, item.item_id, { error: "The network dropped: the download continues where it stopped when you are back online." }));
            return;
          }
          const msg = e instanceof StorageError || e instanceof PlanError ? e.message : await describeStorageError(e);
          await this.store.update((i) => patchCopy(i, item.item_id, { state: "failed", error: msg }));
          this.status.update({ error: `${item.title}: ${msg}` });
        });
      }
    } finally {
      this.status.update({ busy: undefined });
      this.running = false;
      void this.estimate();
    }
  }

  /** fetchItem downloads one file into OPFS, resuming from what is stored. */
  private async fetchItem(job: Job, item: JobItem): Promise<void> {
    const jobId = String(job.id);
    const old = this.store.index.get().copies[copyKey(item.item_id)];
    const file = fileName(item.item_id, job.profile);
    const same = old && old.jobId === jobId && old.file === file && (!item.size || old.size === item.size);
    if (old && !same && old.file !== file) await this.store.remove(old.file);
    const copy: OfflineCopy = {
      itemId: item.item_id,
      jobId,
      title: item.title,
      kind: item.kind,
      filename: item.filename,
      profile: job.profile,
      file,
      size: item.size ?? 0,
      bytes: 0,
      etag: same ? old.etag : undefined,
      state: "downloading",
      expiresAt: this.status.get().device?.expires_at ?? item.expires_at ?? old?.expiresAt ?? "",
      durationMs: item.duration_ms ?? 0,
      positionMs: old?.positionMs ?? 0,
      storedAt: Date.now(),
    };
    let stored = same ? await this.store.size(file) : 0;
    await this.store.update((i) => putCopy(i, { ...copy, bytes: stored }));
    for (let attempt = 1; ; attempt++) {
      try {
        stored = await this.transfer(item, copy, stored);
        break;
      } catch (e) {
        if (e instanceof StorageError || e instanceof PlanError || e instanceof Interrupted || attempt >= MAX_ATTEMPTS || !navigator.onLine) throw e;
        stored = await this.store.size(file); // what the last commit kept
        console.warn(`marquee: download of ${item.title} cut at ${stored} bytes, resuming (attempt ${attempt + 1})`, e);
        await new Promise((r) => setTimeout(r, 1000 * 2 ** (attempt - 1)));
      }
    }
    await this.store.update((i) => patchCopy(i, item.item_id, { state: "complete", bytes: stored, size: stored, error: undefined }));
    await this.report(job, item);
    this.listen();
  }

  /** transfer makes one request and writes its body; it returns the stored length. */
  private async transfer(item: JobItem, copy: OfflineCopy, stored: number): Promise<number> {
    const etag = this.store.index.get().copies[copyKey(item.item_id)]?.etag;
    const ac = new AbortController();
    this.transferring = ac;
    try {
      return await this.transferWith(ac.signal, item, copy, stored, etag);
    } catch (e) {
      throw ac.signal.aborted && ac.signal.reason instanceof Interrupted ? ac.signal.reason : e;
    } finally {
      if (this.transferring === ac) this.transferring = null;
    }
  }

  private async transferWith(signal: AbortSignal, item: JobItem, copy: OfflineCopy, stored: number, etag?: string): Promise<number> {
    const res = await fetch(item.url!, { headers: resumeHeaders(stored, etag), signal });
    if (stored > 0) console.info(`marquee: resuming ${item.title} at byte ${stored}: HTTP ${res.status}`);
    const plan = planResume(stored, { status: res.status, contentRange: res.headers.get("Content-Range"), contentLength: res.headers.get("Content-Length") });
    if (plan.action === "error") {
      await res.body?.cancel().catch(() => undefined);
      throw new PlanError(plan.message);
    }
    if (plan.action === "complete") return plan.total;
    let offset = plan.action === "append" ? plan.offset : 0;
    const total = plan.total ?? (plan.action === "append" ? stored + Number(res.headers.get("Content-Length") ?? 0) : Number(res.headers.get("Content-Length") ?? 0));
    const tag = res.headers.get("ETag") ?? undefined;
    await this.store.update((i) => patchCopy(i, item.item_id, { size: total || copy.size, etag: tag, bytes: offset }));
    if (!res.body) throw new Error("the server sent no body");
    const reader = res.body.getReader();
    let w = await this.openWritable(copy.file, offset);
    let sinceCommit = 0;
    let lastShown = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await this.write(w, value);
        offset += value.byteLength;
        sinceCommit += value.byteLength;
        if (sinceCommit >= COMMIT_BYTES) {
          await this.commit(w);
          w = await this.openWritable(copy.file, offset);
          sinceCommit = 0;
          await this.store.update((i) => patchCopy(i, item.item_id, { bytes: offset }));
        } else if (performance.now() - lastShown > 250) {
          lastShown = performance.now();
          void this.store.update((i) => patchCopy(i, item.item_id, { bytes: offset }), true);
        }
      }
    } catch (e) {
      // keep what arrived: the committed prefix is where the next request resumes
      await w.close().catch(() => undefined);
      throw e;
    }
    await this.commit(w);
    if (total && offset !== total) throw new Error(`the file ended at ${offset} of ${total} bytes`);
    return offset;
  }

  private async openWritable(name: string, offset: number): Promise<FileSystemWritableFileStream> {
    try {
      return await this.store.writable(name, offset);
    } catch (e) {
      throw new StorageError(await describeStorageError(e));
    }
  }

  private async write(w: FileSystemWritableFileStream, chunk: Uint8Array): Promise<void> {
    try {
      await w.write(chunk as Uint8Array<ArrayBuffer>);
    } catch (e) {
      await w.abort().catch(() => undefined);
      throw new StorageError(await describeStorageError(e));
    }
  }

  private async commit(w: FileSystemWritableFileStream): Promise<void> {
    try {
      await w.close();
    } catch (e) {
      throw new StorageError(await describeStorageError(e));
    }
  }

  private async report(job: Job, item: JobItem): Promise<void> {
    try {
      await dl.downloaded(job.id, item.item_id);
      await this.store.update((i) => patchCopy(i, item.item_id, { reported: true }));
    } catch (e) {
      console.warn("marquee: downloaded", e); // sent again at the next sync
    }
  }

  /** retry asks the server to prepare a failed item again and fetches it. */
  async retry(job: Job, itemId: number): Promise<void> {
    await this.store.update((i) => patchCopy(i, itemId, { state: "downloading", error: undefined }));
    const item = job.items.find((x) => x.item_id === itemId);
    if (item?.state === "failed" || !item?.url) this.onJob(await dl.retry(job.id, itemId));
    else this.onJob(job);
  }

  /** removeJob cancels a job on the server and deletes its offline copies. */
  async removeJob(job: Job): Promise<void> {
    await dl.removeJob(job.id);
    this.jobs.set(this.jobs.get().filter((j) => String(j.id) !== String(job.id)));
    this.queue = this.queue.filter((q) => String(q.job.id) !== String(job.id));
    for (const c of Object.values(this.store.index.get().copies)) if (c.jobId === String(job.id)) await this.removeCopy(c.itemId);
  }

  /** removeCopy deletes an offline copy from this browser. */
  async removeCopy(itemId: number): Promise<void> {
    const c = this.store.index.get().copies[copyKey(itemId)];
    if (c) await this.store.remove(c.file);
    await this.store.update((i) => dropCopy(i, itemId));
    void this.estimate();
  }

  /** savePosition stores where offline playback is and queues it for history. */
  async savePosition(itemId: number, positionMs: number, durationMs: number): Promise<void> {
    await this.store.update((i) => recordPosition(i, itemId, positionMs, durationMs, Date.now()));
    if (navigator.onLine) void this.flushProgress();
  }

  /** flushProgress sends queued positions to history; what fails stays queued. */
  async flushProgress(): Promise<void> {
    for (const p of [...this.store.index.get().pending]) {
      try {
        await dl.progress(p.itemId, p.positionMs, p.durationMs);
        await this.store.update((i) => ackPending(i, p));
        this.status.update({ progressNote: "" });
      } catch (e) {
        if (!(e instanceof ApiError)) return; // offline: try at the next sync
        if (e.status === 404 || e.status === 405) {
          this.status.update({ progressNote: `History did not accept the position played offline (PUT /api/items/${p.itemId}/progress answered ${e.status}); it stays on this device and is sent again when you are online.` });
          return;
        }
        // refused for good (e.g. the item is gone): drop it so the rest go through
        await this.store.update((i) => ackPending(i, p));
      }
    }
  }

  /** estimate refreshes the storage figures the page shows. */
  async estimate(): Promise<void> {
    try {
      const est = await navigator.storage.estimate();
      const persisted = navigator.storage.persisted ? await navigator.storage.persisted() : undefined;
      this.status.update({ usage: est.usage, quota: est.quota, persisted });
    } catch {
      /* figures stay unknown */
    }
  }

  /** clearError hides the last error. */
  clearError(): void {
    this.status.update({ error: "" });
  }
}

/** PlanError is a response the download cannot continue from: not retried. */
class PlanError extends Error {}

/** Interrupted is a transfer stopped on purpose (offline): it resumes at the next sync. */
class Interrupted extends Error {}

let manager: DownloadManager | null = null;

/** hasDevice says whether this browser registered as a download device. */
export function hasDevice(): boolean {
  return !!localStorage.getItem(DEVICE_KEY);
}

/** downloads returns the page's download manager, creating it on first use. */
export function downloads(): DownloadManager {
  if (!manager) manager = new DownloadManager();
  return manager;
}
