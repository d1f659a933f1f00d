import { useEffect, useState } from "preact/hooks";
import { ApiError, api, type Item, type Library, type Party, type ScanProgress, type User } from "../api";
import { ErrorNote, Icon, Poster, Spinner, kindLabel, runtime } from "../ui";
import { ContinueRow } from "../player/ContinueRow";
import { OptimizeLink } from "./Optimize";

/** Filters are the type chips above the grid; kinds are the library's item kinds. */
const FILTERS: { id: string; label: string; kinds: string[] }[] = [
  { id: "all", label: "All", kinds: [] },
  { id: "movies", label: "Films", kinds: ["movie"] },
  { id: "shows", label: "Shows", kinds: ["show"] },
  { id: "episodes", label: "Episodes", kinds: ["episode"] },
  { id: "music", label: "Music", kinds: ["album", "track"] },
];

/** LibraryPage is the poster grid with search, type filters and scans. */
export function LibraryPage({ user }: { user: User }) {
  const [search, setSearch] = useState("");
  const [filter, setFilter] = useState("all");
  const [items, setItems] = useState<Item[] | null>(null);
  const [libraries, setLibraries] = useState<Library[]>([]);
  const [error, setError] = useState("");
  const [scanning, setScanning] = useState<number | null>(null);
  const [reload, setReload] = useState(0);
  const [percent, setPercent] = useState(0);
  const [parties, setParties] = useState<Party[]>([]);

  useEffect(() => {
    api.parties().then((ps) => setParties(ps.filter((p) => p.status === "playing" || p.status === "paused" || p.status === "connecting")), () => setParties([]));
  }, []);

  useEffect(() => {
    api.libraries().then(setLibraries, (e) => setError(`Could not load libraries: ${e.message}`));
  }, [reload]);

  useEffect(() => {
    const kinds = FILTERS.find((f) => f.id === filter)?.kinds ?? [];
    const t = setTimeout(() => {
      api.items({ search: search.trim(), kinds }).then(
        (list) => {
          setItems(list);
          setError("");
        },
        (e) => setError(`Could not load the library: ${e.message}`),
      );
    }, 200);
    return () => clearTimeout(t);
  }, [search, filter, reload]);

  /** scan starts a library scan (or follows the one running) until it ends. */
  const scan = async (id: number) => {
    setScanning(id);
    setError("");
    try {
      let p: ScanProgress;
      try {
        p = await api.scan(id);
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 409)) throw e;
        p = await api.scanProgress(id);
      }
      while (p.state === "queued" || p.state === "running") {
        setPercent(Math.round(p.percent ?? 0));
        await new Promise((r) => setTimeout(r, 400));
        p = await api.scanProgress(id);
      }
      if (p.state === "failed") setError(`Scan failed: ${p.error || "unknown error"}`);
      setReload((n) => n + 1);
    } catch (e) {
      setError(`Scan failed: ${(e as Error).message}`);
    } finally {
      setScanning(null);
      setPercent(0);
    }
  };

  return (
    <main class="page library-page">
      <div class="library-head">
        <h1>Library</h1>
        <div class="search">
          <Icon name="search" size={18} />
          <input
            type="search"
            placeholder="Search titles"
            aria-label="Search the library"
            value={search}
            onInput={(e) => setSearch(e.currentTarget.value)}
          />
        </div>
      </div>
      <div class="toolbar">
        <div class="chips" role="group" aria-label="Filter by type">
          {FILTERS.map((f) => (
            <button type="button" key={f.id} class={`chip${filter === f.id ? " active" : ""}`} aria-pressed={filter === f.id} onClick={() => setFilter(f.id)}>
              {f.label}
            </button>
          ))}
        </div>
        {user.role === "admin" && libraries.length > 0 && (
          <div class="scans">
            {libraries.map((l) => (
              <button type="button" key={l.id} class="btn ghost small" disabled={scanning !== null} onClick={() => scan(l.id)} aria-label={`Scan library ${l.name}`}>
                <Icon name="refresh" size={16} /> {scanning === l.id ? `Scanning ${l.name}… ${percent}%` : `Scan ${l.name}`}
              </button>
            ))}
            {libraries
              .filter((l) => l.kind !== "music")
              .map((l) => (
                <OptimizeLink key={`o${l.id}`} user={user} target={{ libraryId: l.id }} label={`Optimize ${l.name}…`} />
              ))}
          </div>
        )}
      </div>
      {parties.length > 0 && (
        <section class="live-parties" aria-labelledby="parties-h">
          <h2 id="parties-h">Parties on now</h2>
          <ul>
            {parties.map((p) => (
              <li key={p.id}>
                <a class="party-chip" href={`/party/${p.id}`}>
                  <span class="dot" aria-hidden="true" />
                  <span>{p.title}</span>
                  <span class="muted small">{p.status === "paused" ? "paused" : "live"}</span>
                </a>
              </li>
            ))}
          </ul>
        </section>
      )}
      {!search && filter === "all" && <ContinueRow />}
      {error && <ErrorNote>{error}</ErrorNote>}
      {items === null ? (
        <Spinner />
      ) : items.length === 0 ? (
        <div class="empty">
          <h2>{search ? "Nothing matches" : "The library is empty"}</h2>
          <p class="muted">{search ? "Try another title." : libraries.length ? "Scan a library to fill it." : "An admin adds libraries in the server's configuration."}</p>
        </div>
      ) : (
        <ul class="grid" aria-label="Library items">
          {items.map((it) => (
            <li key={it.id}>
              <a class="card" href={`/items/${it.id}`} aria-label={`${it.title}${it.year ? ` (${it.year})` : ""}`}>
                <Poster item={it} />
                <div class="card-text">
                  <span class="card-title">{it.title}</span>
                  <span class="card-meta">{[it.year || null, runtime(it) || kindLabel(it.kind)].filter(Boolean).join(" · ")}</span>
                </div>
              </a>
            </li>
          ))}
        </ul>
      )}
    </main>
  );
}
