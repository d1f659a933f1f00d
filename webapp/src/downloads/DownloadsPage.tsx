// downloads/DownloadsPage.tsx is /downloads: the offline copies of this
// browser (read from the offline index, so the list works with no
// network), the jobs with their preparing and download bars, and a player
// that plays a stored copy from OPFS and remembers its position.
import { useEffect, useRef, useState } from "preact/hooks";
import { useObservable } from "../store";
import { ErrorNote, kindLabel } from "../ui";
import type { Job } from "./api";
import { aggregate, isExpired, listCopies, phaseOf, resumeAt, type OfflineCopy } from "./logic";
import { downloads } from "./manager";
import { formatBytes } from "./store";

/** Bar is one labelled progress bar. */
function Bar({ label, value }: { label: string; value: number }) {
  const pct = Math.round(Math.min(1, Math.max(0, value)) * 100);
  return (
    <div class="dl-bar">
      <span class="dl-bar-label">
        {label} {pct}%
      </span>
      <progress max={100} value={pct} aria-label={`${label} ${pct}%`} />
    </div>
  );
}

function when(iso: string): string {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? new Date(t).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "unknown";
}

/** OfflinePlayer plays a stored copy through an object URL of its OPFS file. */
function OfflinePlayer({ copy, onClose }: { copy: OfflineCopy; onClose: () => void }) {
  const mgr = downloads();
  const video = useRef<HTMLVideoElement>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    let url = "";
    let live = true;
    let lastSaved = 0;
    const v = video.current!;
    const save = () => {
      if (!v.duration || !Number.isFinite(v.duration)) return;
      lastSaved = v.currentTime;
      void mgr.savePosition(copy.itemId, v.currentTime * 1000, v.duration * 1000);
    };
    const onTime = () => {
      if (Math.abs(v.currentTime - lastSaved) >= 5) save();
    };
    const onMeta = () => {
      const at = resumeAt(copy) / 1000;
      if (at > 0 && at < v.duration) v.currentTime = at;
      lastSaved = v.currentTime;
      v.play().catch(() => undefined); // autoplay refused: the controls are there
    };
    v.addEventListener("loadedmetadata", onMeta);
    v.addEventListener("timeupdate", onTime);
    v.addEventListener("pause", save);
    v.addEventListener("ended", save);
    mgr.store.file(copy.file).then(
      (f) => {
        if (!live) return;
        url = URL.createObjectURL(f);
        v.src = url;
      },
      (e) => setError(`The stored file cannot be read (${(e as Error).message}). Remove it and download it again.`),
    );
    return () => {
      live = false;
      save();
      v.removeEventListener("pause", save);
      v.removeEventListener("ended", save);
      v.removeEventListener("timeupdate", onTime);
      v.removeEventListener("loadedmetadata", onMeta);
      v.removeAttribute("src");
      v.load();
      if (url) URL.revokeObjectURL(url);
    };
  }, [copy.itemId, copy.file]);
  return (
    <section class="dl-player" aria-label={`Playing ${copy.title} from this device`}>
      <div class="dl-player-head">
        <h2>{copy.title}</h2>
        <button type="button" class="btn small ghost" onClick={onClose}>
          Close player
        </button>
      </div>
      <video ref={video} class="offline-video" controls playsInline aria-label={`${copy.title}, offline copy`} />
      {error && <ErrorNote>{error}</ErrorNote>}
    </section>
  );
}

function CopyRow({ copy, now, onPlay }: { copy: OfflineCopy; now: number; onPlay: () => void }) {
  const mgr = downloads();
  const expired = isExpired(copy, now);
  const complete = copy.state === "complete";
  const state = copy.revoked ? "revoked" : expired ? "expired" : complete ? "ready offline" : copy.state === "failed" ? "failed" : "downloading";
  return (
    <li class={`dl-copy${expired ? " expired" : ""}`} data-item={copy.itemId} data-state={state}>
      <div class="dl-row-main">
        <strong>{copy.title}</strong>
        <span class="muted">
          {" "}
          {[kindLabel(copy.kind), copy.profile, formatBytes(complete ? copy.size : copy.bytes) + (complete || !copy.size ? "" : ` of ${formatBytes(copy.size)}`)].join(" · ")}
        </span>
        <div class={`dl-expiry${expired ? " bad" : ""}`}>
          {copy.revoked
            ? "This device was revoked: the copy no longer plays."
            : expired
              ? `Expired ${when(copy.expiresAt)}. Go online so this device checks in, then it plays again.`
              : `Plays offline until ${when(copy.expiresAt)}`}
        </div>
        {!complete && copy.state !== "failed" && <Bar label="Download" value={copy.size ? copy.bytes / copy.size : 0} />}
        {copy.error && <p class="error-note" role="alert">{copy.error}</p>}
      </div>
      <div class="dl-actions">
        <button type="button" class="btn small primary" disabled={!complete || expired} onClick={onPlay} aria-label={`Play ${copy.title} offline`}>
          Play
        </button>
        <button type="button" class="btn small" onClick={() => void mgr.removeCopy(copy.itemId)} aria-label={`Remove ${copy.title} from this device`}>
          Remove
        </button>
      </div>
    </li>
  );
}

function JobCard({ job, copies, own }: { job: Job; copies: Record<string, OfflineCopy>; own: boolean }) {
  const mgr = downloads();
  const [error, setError] = useState("");
  const rows = job.items.map((it) => {
    const local = own ? copies[String(it.item_id)] : undefined;
    return { it, local, phase: phaseOf(it, local), size: it.size ?? local?.size, bytes: local?.bytes };
  });
  const t = aggregate(rows);
  const act = (p: Promise<void>) => p.catch((e) => setError((e as Error).message));
  return (
    <li class="dl-job" data-job={job.id} data-state={job.state}>
      <div class="dl-job-head">
        <strong>
          {job.items.length === 1 ? job.items[0].title : `${job.items.length} files`} · {job.profile}
        </strong>
        <span class="muted">
          {" "}
          {job.state} · {t.stored}/{t.items} on this device{t.size ? ` · ${formatBytes(t.size)}` : ""}
          {!own && " · another device"}
        </span>
        <button type="button" class="btn small ghost" onClick={() => void act(mgr.removeJob(job))} aria-label={`Remove the download job ${job.id} and its files`}>
          Remove
        </button>
      </div>
      {job.fallback_reason && <p class="muted">Downloaded in {job.profile}: {job.fallback_reason}</p>}
      <Bar label="Preparing" value={t.preparing} />
      {own && <Bar label="Downloaded" value={t.download} />}
      {error && <ErrorNote>{error}</ErrorNote>}
      {job.items.length > 1 && (
        <ul class="dl-items">
          {rows.map(({ it, phase }) => (
            <li key={it.item_id} data-item={it.item_id}>
              <span>{it.title}</span> <span class="muted">{phase.label}</span>
              {phase.label === "preparing" && <Bar label="Preparing" value={phase.preparing} />}
              {phase.label === "downloading" && <Bar label="Download" value={phase.download} />}
              {it.error && <span class="error-note"> {it.error}</span>}
              {(phase.label === "failed" || rows.find((r) => r.it === it)?.local?.state === "failed") && own && (
                <button type="button" class="btn small" onClick={() => void act(mgr.retry(job, it.item_id))} aria-label={`Retry ${it.title}`}>
                  Retry
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {job.items.length === 1 && own && (rows[0].phase.label === "failed" || rows[0].local?.state === "failed") && (
        <button type="button" class="btn small" onClick={() => void act(mgr.retry(job, job.items[0].item_id))} aria-label={`Retry ${job.items[0].title}`}>
          Retry
        </button>
      )}
      {job.items.length === 1 && job.items[0].error && <p class="error-note">{job.items[0].error}</p>}
    </li>
  );
}

/** DownloadsPage lists offline copies and download jobs. */
export function DownloadsPage() {
  const mgr = downloads();
  const index = useObservable(mgr.store.index);
  const status = useObservable(mgr.status);
  const jobs = useObservable(mgr.jobs);
  const [playing, setPlaying] = useState<number | null>(null);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    void mgr.sync();
    const t = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(t);
  }, []);
  const copies = listCopies(index);
  const playingCopy = playing !== null ? index.copies[String(playing)] : undefined;
  return (
    <main class="page downloads-page">
      <h1>Downloads</h1>
      <p class="muted dl-status" aria-live="polite">
        {status.online ? "Online" : "Offline: showing what is stored on this device"}
        {status.device ? ` · this device: ${status.device.name}` : status.deviceId ? "" : " · this device is not registered yet (it is on your first download)"}
        {status.quota ? ` · storage ${formatBytes(status.usage ?? 0)} used of ${formatBytes(status.quota)}` : ""}
        {status.persisted === false ? " · the browser may clear these files when space runs low" : ""}
      </p>
      {!("storage" in navigator) || !navigator.storage.getDirectory ? (
        <ErrorNote>This browser cannot store downloads (no Origin Private File System). Use a current Chrome, Edge, Firefox or Safari.</ErrorNote>
      ) : null}
      {status.error && (
        <div class="error-note" role="alert">
          {status.error}{" "}
          <button type="button" class="btn small ghost" onClick={() => mgr.clearError()}>
            Dismiss
          </button>
        </div>
      )}
      {status.progressNote && <p class="muted dl-progress-note">{status.progressNote}</p>}
      {playingCopy && <OfflinePlayer copy={playingCopy} onClose={() => setPlaying(null)} />}
      <section aria-labelledby="dl-local-h">
        <h2 id="dl-local-h">On this device</h2>
        {copies.length === 0 ? (
          <p class="muted">Nothing yet. Open a film, an episode or a show and choose Download.</p>
        ) : (
          <ul class="dl-copies">
            {copies.map((c) => (
              <CopyRow key={c.itemId} copy={c} now={now} onPlay={() => setPlaying(c.itemId)} />
            ))}
          </ul>
        )}
      </section>
      {jobs.length > 0 && (
        <section aria-labelledby="dl-jobs-h">
          <h2 id="dl-jobs-h">Jobs</h2>
          <ul class="dl-jobs">
            {jobs.map((j) => (
              <JobCard key={j.id} job={j} copies={index.copies} own={!j.device_id || j.device_id === status.deviceId} />
            ))}
          </ul>
        </section>
      )}
    </main>
  );
}
