// Optimize.tsx is the admin page of pre-encoding jobs ("optimized
// versions"): choose renditions of an item or a library, start a job, and
// follow every job live (server-sent events) with a progress bar per job
// and per item, and Cancel.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, type Item, type Library, type User } from "../api";
import { ErrorNote, Spinner } from "../ui";
import { RENDITIONS, bytes, eta, isFinal, merge, percent, vodJobs, type JobItem, type JobTarget, type VODJob } from "../vodjobs";
import "../optimize.css";

/** optimizeHref is the Optimize page for some items or a library. */
export function optimizeHref(target: JobTarget): string {
  return "itemIds" in target ? `/admin/optimize?items=${target.itemIds.join(",")}` : `/admin/optimize?library=${target.libraryId}`;
}

/** OptimizeLink is an "Optimize…" link shown to admins only; without user it asks who is signed in. */
export function OptimizeLink({ target, label = "Optimize…", user }: { target: JobTarget; label?: string; user?: User }) {
  const [admin, setAdmin] = useState(user?.role === "admin");
  useEffect(() => {
    if (!user) api.me().then((u) => setAdmin(u.role === "admin"), () => setAdmin(false));
  }, [user]);
  if (!admin) return null;
  return (
    <a class="btn ghost small optimize-link" href={optimizeHref(target)}>
      {label}
    </a>
  );
}

/** Bar is a labelled progress bar, 0–100. */
function Bar({ value, label, state }: { value: number; label: string; state: string }) {
  return (
    <div class={`progress state-${state}`} role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={value}>
      <span style={{ width: `${value}%` }} />
    </div>
  );
}

const STATE_LABEL: Record<string, string> = { queued: "Queued", running: "Encoding", done: "Done", failed: "Failed", cancelled: "Cancelled" };

function ItemRow({ x }: { x: JobItem }) {
  const v = percent(x, x.state);
  return (
    <li class="job-item">
      <div class="job-line">
        <a href={`/items/${x.itemId}`}>{x.title}</a>
        <span class={`badge state-${x.state}`}>{STATE_LABEL[x.state] ?? x.state}</span>
        <span class="muted small">
          {x.total > 0 ? `${x.done}/${x.total} segments` : ""}
          {x.renditions.length > 0 ? ` · ${x.renditions.join(", ")}` : ""}
          {x.skipped?.length ? ` · skipped ${x.skipped.join(", ")} (not in this file)` : ""}
        </span>
      </div>
      <Bar value={v} label={`${x.title}: ${v}%`} state={x.state} />
      {x.error && <p class="error-note small">{x.error}</p>}
    </li>
  );
}

function JobCard({ job, onCancel }: { job: VODJob; onCancel: (id: number) => void }) {
  const v = percent(job, job.state);
  const facts = [`${job.done} of ${job.total} segments`, job.encoded ? `${job.encoded} encoded` : "", bytes(job.bytes), job.failed ? `${job.failed} failed` : "", eta(job.etaSeconds)];
  return (
    <section class="job" data-testid={`job-${job.id}`} aria-labelledby={`job-${job.id}-h`}>
      <div class="job-line">
        <h2 id={`job-${job.id}-h`}>Job {job.id}</h2>
        <span class={`badge state-${job.state}`}>{STATE_LABEL[job.state] ?? job.state}</span>
        <span class="muted small">{job.renditions.join(", ")}</span>
        {!isFinal(job.state) && (
          <button type="button" class="btn ghost small" onClick={() => onCancel(job.id)}>
            Cancel
          </button>
        )}
      </div>
      <Bar value={v} label={`Job ${job.id}: ${v}%`} state={job.state} />
      <p class="muted small">
        {v}% · {facts.filter(Boolean).join(" · ")}
      </p>
      {job.error && <ErrorNote>{job.error}</ErrorNote>}
      <ul class="job-items">
        {job.items.map((x) => (
          <ItemRow key={x.itemId} x={x} />
        ))}
      </ul>
    </section>
  );
}

/** useTarget reads the target from the query (?items=1,2 or ?library=3) and names it. */
function useTarget(query: URLSearchParams) {
  const itemIds = (query.get("items") ?? "").split(",").map(Number).filter((n) => n > 0);
  const [libraries, setLibraries] = useState<Library[]>([]);
  const [items, setItems] = useState<Item[]>([]);
  const [libraryId, setLibraryId] = useState(Number(query.get("library") ?? 0));
  const key = itemIds.join(",");
  useEffect(() => {
    api.libraries().then((ls) => {
      setLibraries(ls.filter((l) => l.kind !== "music"));
      if (!itemIds.length && !libraryId && ls.length) setLibraryId(ls.find((l) => l.kind !== "music")?.id ?? 0);
    }, () => setLibraries([]));
    Promise.all(itemIds.map((id) => api.item(id))).then(setItems, () => setItems([]));
  }, [key]);
  const target: JobTarget | null = itemIds.length ? { itemIds } : libraryId ? { libraryId } : null;
  return { target, items, libraries, libraryId, setLibraryId };
}

/** useLiveJobs loads the jobs and follows each unfinished one over its event stream. */
function useLiveJobs() {
  const [jobs, setJobs] = useState<VODJob[] | null>(null);
  const [error, setError] = useState("");
  const streams = useRef(new Map<number, EventSource>());
  useEffect(() => {
    vodJobs.list().then(setJobs, (e) => setError(`Could not load the jobs: ${e.message}`));
    const open = streams.current;
    return () => {
      for (const es of open.values()) es.close();
      open.clear();
    };
  }, []);
  useEffect(() => {
    for (const j of jobs ?? []) {
      if (isFinal(j.state) || streams.current.has(j.id)) continue;
      const es = new EventSource(vodJobs.eventsUrl(j.id));
      es.onmessage = (ev) => {
        const next = JSON.parse(ev.data) as VODJob;
        setJobs((l) => merge(l ?? [], next));
        if (isFinal(next.state)) {
          es.close(); // the server ends the stream; do not reconnect
        }
      };
      streams.current.set(j.id, es);
    }
  }, [jobs]);
  return { jobs, setJobs, error, setError };
}

/** OptimizePage starts pre-encoding jobs and shows them live. */
export function OptimizePage({ query }: { query: URLSearchParams }) {
  const { target, items, libraries, libraryId, setLibraryId } = useTarget(query);
  const { jobs, setJobs, error, setError } = useLiveJobs();
  const [chosen, setChosen] = useState<string[]>(["720p", "480p", "audio"]);
  const [starting, setStarting] = useState(false);

  const start = async (e: Event) => {
    e.preventDefault();
    if (!target) return;
    setStarting(true);
    setError("");
    try {
      const j = await vodJobs.start(target, chosen);
      setJobs((l) => merge(l ?? [], j));
    } catch (err) {
      setError(`Could not start the job: ${(err as Error).message}`);
    } finally {
      setStarting(false);
    }
  };
  const cancel = async (id: number) => {
    try {
      const j = await vodJobs.cancel(id);
      setJobs((l) => merge(l ?? [], j));
    } catch (err) {
      setError(`Could not cancel job ${id}: ${(err as Error).message}`);
    }
  };
  const toggle = (name: string, on: boolean) => setChosen((c) => (on ? [...c, name] : c.filter((n) => n !== name)));

  return (
    <main class="page optimize-page">
      <h1>Optimized versions</h1>
      <p class="muted">
        Encode renditions ahead of viewers, into the segment cache every viewer shares. Jobs run one at a time in the background, within the server's
        encoding budget (vod.workers); people watching go first.
      </p>
      <form class="optimize-form" onSubmit={start}>
        <fieldset>
          <legend>What</legend>
          {items.length > 0 ? (
            <p>{items.map((i) => i.title).join(", ")}</p>
          ) : (
            <label>
              Library{" "}
              <select value={libraryId} onChange={(e) => setLibraryId(Number(e.currentTarget.value))} aria-label="Library to optimize">
                {libraries.map((l) => (
                  <option key={l.id} value={l.id}>
                    {l.name}
                  </option>
                ))}
              </select>
            </label>
          )}
        </fieldset>
        <fieldset>
          <legend>Renditions</legend>
          {RENDITIONS.map((r) => (
            <label key={r.name} class="check" title={r.title}>
              <input type="checkbox" name="rendition" value={r.name} checked={chosen.includes(r.name)} onChange={(e) => toggle(r.name, e.currentTarget.checked)} />{" "}
              {r.label}
            </label>
          ))}
          <p class="muted small">Renditions taller than a file are skipped: nothing is upscaled.</p>
        </fieldset>
        <button type="submit" class="btn primary" disabled={starting || !target || chosen.length === 0}>
          {starting ? "Starting…" : "Start"}
        </button>
      </form>
      {error && <ErrorNote>{error}</ErrorNote>}
      {jobs === null ? (
        <Spinner />
      ) : jobs.length === 0 ? (
        <p class="muted">No jobs yet.</p>
      ) : (
        jobs.map((j) => <JobCard key={j.id} job={j} onCancel={(id) => void cancel(id)} />)
      )}
    </main>
  );
}
