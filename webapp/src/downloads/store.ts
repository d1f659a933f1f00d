// downloads/store.ts keeps offline copies in the Origin Private File System
// (OPFS): one file per item under downloads/, and the offline index as
// downloads/index.json beside them.
//
// Why OPFS and not the Cache API: a film is hundreds of MB written over
// minutes and possibly cut. OPFS lets the download append to a file and
// commit what it has (the committed file size is the resume offset, so a
// cut download continues with Range from exactly there), and a stored File
// plays through an object URL with seeking done by the browser on disk.
// A Cache API entry is one whole Response: it cannot be appended to, so a
// resumed download would have to hold or re-read every earlier byte, and
// seeking would need the service worker to slice ranges itself. The index
// lives in the same directory so removing a download is one place.
import { Observable } from "../store";
import { emptyIndex, parseIndex, type OfflineIndex } from "./logic";

const DIR = "downloads";
const INDEX = "index.json";

/** StorageError is a storage failure put in words for the person. */
export class StorageError extends Error {}

/** describeStorageError turns a write failure into what to do, with the
 * browser's usage and quota when it can tell. */
export async function describeStorageError(e: unknown): Promise<string> {
  const name = (e as DOMException)?.name;
  if (name === "QuotaExceededError") {
    let figures = "";
    try {
      const est = await navigator.storage.estimate();
      if (est.quota) figures = ` (${formatBytes(est.usage ?? 0)} used of ${formatBytes(est.quota)} this browser allows)`;
    } catch {
      /* the message stands without figures */
    }
    return `Not enough storage for this download${figures}. Remove other downloads on this page, or free disk space, then retry.`;
  }
  if (name === "NotAllowedError" || name === "SecurityError") {
    return "This browser does not let Marquee store files (private window, or storage blocked in site settings). Allow site data, then retry.";
  }
  return `Could not store the file: ${(e as Error)?.message ?? String(e)}`;
}

/** formatBytes writes a size as "512 KB", "1.4 GB". */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n <= 0) return "0 B";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n >= 100 || i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}

/** OfflineStore is the index (observable) and the files of offline copies. */
export class OfflineStore {
  readonly index = new Observable<OfflineIndex>(emptyIndex());
  private dirP: Promise<FileSystemDirectoryHandle> | null = null;
  private saving: Promise<void> = Promise.resolve();
  /** ready resolves once the stored index is loaded. */
  readonly ready: Promise<void>;

  constructor() {
    this.ready = this.load();
  }

  /** supported says whether this browser has OPFS. */
  static supported(): boolean {
    return typeof navigator !== "undefined" && !!navigator.storage?.getDirectory;
  }

  private dir(): Promise<FileSystemDirectoryHandle> {
    if (!this.dirP) {
      this.dirP = navigator.storage.getDirectory().then((root) => root.getDirectoryHandle(DIR, { create: true }));
      this.dirP.catch(() => (this.dirP = null));
    }
    return this.dirP;
  }

  private async load(): Promise<void> {
    if (!OfflineStore.supported()) return;
    try {
      const h = await (await this.dir()).getFileHandle(INDEX);
      this.index.set(parseIndex(await (await h.getFile()).text()));
    } catch (e) {
      if ((e as DOMException)?.name !== "NotFoundError") console.warn("marquee: offline index", e);
    }
  }

  /** update changes the index and, unless transient, writes it to disk in order. */
  update(fn: (i: OfflineIndex) => OfflineIndex, transient = false): Promise<void> {
    this.index.set(fn(this.index.get()));
    if (transient) return Promise.resolve();
    this.saving = this.saving.then(() => this.write(), () => this.write());
    return this.saving;
  }

  private async write(): Promise<void> {
    const h = await (await this.dir()).getFileHandle(INDEX, { create: true });
    const w = await h.createWritable();
    try {
      await w.write(JSON.stringify(this.index.get()));
      await w.close();
    } catch (e) {
      await w.abort().catch(() => undefined);
      throw new StorageError(await describeStorageError(e));
    }
  }

  /** size is the committed length of a file, 0 when it does not exist. */
  async size(name: string): Promise<number> {
    try {
      return (await (await (await this.dir()).getFileHandle(name)).getFile()).size;
    } catch {
      return 0;
    }
  }

  /** writable opens a file for writing from offset (0 truncates it). */
  async writable(name: string, offset: number): Promise<FileSystemWritableFileStream> {
    const h = await (await this.dir()).getFileHandle(name, { create: true });
    const w = await h.createWritable({ keepExistingData: offset > 0 });
    if (offset > 0) await w.seek(offset);
    else await w.truncate(0);
    return w;
  }

  /** file returns the stored bytes as a File (disk-backed; play it through an object URL). */
  async file(name: string): Promise<File> {
    return (await (await this.dir()).getFileHandle(name)).getFile();
  }

  /** remove deletes a file; a missing file is not an error. */
  async remove(name: string): Promise<void> {
    try {
      await (await this.dir()).removeEntry(name);
    } catch (e) {
      if ((e as DOMException)?.name !== "NotFoundError") throw e;
    }
  }
}
