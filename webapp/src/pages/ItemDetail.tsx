import { useEffect, useState } from "preact/hooks";
import { api, type AudioStream, type Item, type SubtitleStream } from "../api";
import { navigate } from "../router";
import { ErrorNote, Icon, Poster, Spinner, kindLabel, runtime } from "../ui";
import { OptimizeLink } from "./Optimize";
import { DownloadButton } from "../downloads/DownloadButton";
import { CdnNodePicker } from "./CdnNodePicker";

const PLAYABLE = new Set(["movie", "episode", "track"]);

/** START_LABEL names the start button of each kind; containers queue their tracks or episodes in order. */
const START_LABEL: Record<string, string> = {
  movie: "Start a party",
  episode: "Start a party",
  track: "Start a party",
  album: "Play the album",
  artist: "Play all albums",
  season: "Play the season",
  show: "Play the show",
};

/** useAncestors loads an item's parents, top first (show › season, artist › album). */
function useAncestors(item: Item | null): Item[] {
  const [chain, setChain] = useState<Item[]>([]);
  useEffect(() => {
    setChain([]);
    if (!item?.parentId) return;
    let live = true;
    (async () => {
      const out: Item[] = [];
      for (let id = item.parentId; id && out.length < 3; ) {
        const p = await api.item(id);
        out.unshift(p);
        id = p.parentId;
      }
      if (live) setChain(out);
    })().catch(() => undefined);
    return () => {
      live = false;
    };
  }, [item?.id, item?.parentId]);
  return chain;
}

/** Breadcrumb is Library › Show › Season (or Library › Artist › Album) above an item's title. */
function Breadcrumb({ chain }: { chain: Item[] }) {
  return (
    <nav class="eyebrow breadcrumb" aria-label="Breadcrumb">
      <a href="/">Library</a>
      {chain.map((p) => (
        <span key={p.id}>
          {" › "}
          <a href={`/items/${p.id}`}>{p.kind === "season" && p.seasonNumber ? `Season ${p.seasonNumber}` : p.title}</a>
        </span>
      ))}
    </nav>
  );
}

function ChildList({ items }: { items: Item[] }) {
  return (
    <ul class="child-list">
      {items.map((c) => (
        <li key={c.id}>
          <a href={`/items/${c.id}`}>
            <span class="num">{c.episodeNumber || c.trackNumber || c.seasonNumber || ""}</span>
            <span class="child-title">{c.title}</span>
            <span class="muted">{runtime(c)}</span>
          </a>
        </li>
      ))}
    </ul>
  );
}

/** SeasonsWithEpisodes lists a show's seasons, each with its episodes. */
function SeasonsWithEpisodes({ seasons }: { seasons: Item[] }) {
  const [episodes, setEpisodes] = useState<Record<number, Item[]>>({});
  useEffect(() => {
    let live = true;
    Promise.all(seasons.map(async (s) => [s.id, await api.items({ parentId: s.id }).catch(() => [])] as const)).then((rows) => {
      if (live) setEpisodes(Object.fromEntries(rows));
    });
    return () => {
      live = false;
    };
  }, [seasons]);
  return (
    <>
      {seasons.map((s) => (
        <section key={s.id} aria-labelledby={`season-${s.id}`} class="season">
          <h2 id={`season-${s.id}`}>
            <a href={`/items/${s.id}`}>{s.seasonNumber ? `Season ${s.seasonNumber}` : s.title}</a>
          </h2>
          <DownloadButton target={{ kind: "season", id: s.id }} label="Download season" />
          <ChildList items={episodes[s.id] ?? []} />
        </section>
      ))}
    </>
  );
}

function language(code?: string): string {
  if (!code || code === "und") return "Unknown language";
  try {
    return new Intl.DisplayNames(["en"], { type: "language" }).of(code) ?? code;
  } catch {
    return code;
  }
}

function channels(n: number): string {
  return ({ 1: "mono", 2: "stereo", 6: "5.1", 8: "7.1" } as Record<number, string>)[n] ?? `${n} ch`;
}

function AudioTracks({ tracks }: { tracks: AudioStream[] }) {
  return (
    <section aria-labelledby="audio-h">
      <h2 id="audio-h">Audio tracks</h2>
      <ul class="tracks">
        {tracks.map((a, i) => (
          <li key={a.index}>
            <strong>{a.title || (a.language && a.language !== "und" ? language(a.language) : `Track ${i + 1}`)}</strong>
            <span class="muted">
              {" "}
              {[a.codec.toUpperCase(), channels(a.channels), a.sampleRate ? `${a.sampleRate / 1000} kHz` : ""].filter(Boolean).join(" · ")}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Subtitles({ tracks }: { tracks: SubtitleStream[] }) {
  return (
    <section aria-labelledby="subs-h">
      <h2 id="subs-h">Subtitles</h2>
      {tracks.length === 0 ? (
        <p class="muted">None</p>
      ) : (
        <ul class="tracks">
          {tracks.map((s, i) => (
            <li key={s.index}>
              <strong>{s.title || (s.language && s.language !== "und" ? language(s.language) : `Subtitle ${i + 1}`)}</strong>
              <span class="muted"> {s.codec}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** ItemPage is an item's detail page: facts, tracks, children, and "Start a party". */
export function ItemPage({ id }: { id: number }) {
  const [item, setItem] = useState<Item | null>(null);
  const [children, setChildren] = useState<Item[]>([]);
  const [error, setError] = useState("");
  const [starting, setStarting] = useState(false);
  const chain = useAncestors(item);

  useEffect(() => {
    setItem(null);
    api.item(id).then(setItem, (e) => setError(`Could not load this item: ${e.message}`));
    api.items({ parentId: id }).then(setChildren, () => setChildren([]));
  }, [id]);

  const start = async () => {
    if (!item) return;
    setStarting(true);
    try {
      const party = await api.createParty(item.id);
      // Start at once; if the ingest refuses, the party page shows the state and a Play button.
      await api.control(party.id, "play").catch((e) => console.warn("marquee: play", e));
      navigate(`/party/${party.id}`);
    } catch (e) {
      setError(`Could not start a party: ${(e as Error).message}`);
      setStarting(false);
    }
  };

  if (error && !item) return <main class="page"><ErrorNote>{error}</ErrorNote></main>;
  if (!item) return <main class="page"><Spinner /></main>;

  const video = item.media?.video?.find((v) => v.index !== item.media?.coverArt);
  const tags = item.media?.tags ?? {};
  const facts = [
    kindLabel(item.kind),
    item.year || null,
    runtime(item) || null,
    video ? `${video.height}p` : null,
    ...(item.genres ?? []).slice(0, 3),
  ].filter(Boolean);

  return (
    <main class="page detail-page">
      <div class="detail-backdrop" aria-hidden="true">
        <Poster item={item} size="lg" />
      </div>
      <div class="detail">
        <Poster item={item} size="lg" />
        <div class="detail-body">
          <Breadcrumb chain={chain} />
          <h1>{item.title}</h1>
          {item.kind === "track" && (tags.artist || tags.album) && (
            <p class="subtitle">{[tags.artist, tags.album].filter(Boolean).join(" — ")}</p>
          )}
          <p class="facts">{facts.join(" · ")}</p>
          {item.summary && <p class="summary">{item.summary}</p>}
          <div class="detail-actions">
            {START_LABEL[item.kind] && (PLAYABLE.has(item.kind) || children.length > 0) && (
              <button type="button" class="btn primary big" onClick={start} disabled={starting}>
                <Icon name="play" /> {starting ? "Starting…" : START_LABEL[item.kind]}
              </button>
            )}
            {/* Play watches alone, on demand (HLS), resuming where this user stopped. */}
            {PLAYABLE.has(item.kind) && !item.probeError && (
              <a class="btn big" href={`/watch/${item.id}`} aria-label={`Play ${item.title} on your own`}>
                <Icon name="play" /> Play
              </a>
            )}
            {(item.kind === "movie" || item.kind === "episode") && <OptimizeLink target={{ itemIds: [item.id] }} />}
            {(PLAYABLE.has(item.kind) || item.kind === "season" || item.kind === "album") && (
              <DownloadButton target={{ kind: PLAYABLE.has(item.kind) ? "item" : item.kind === "season" ? "season" : "album", id: item.id }} label={PLAYABLE.has(item.kind) ? "Download" : `Download ${item.kind}`} audioOnly={item.kind === "track" || item.kind === "album"} />
            )}
          </div>
          {PLAYABLE.has(item.kind) && !item.probeError && <CdnNodePicker itemId={item.id} />}
          {error && <ErrorNote>{error}</ErrorNote>}
          {item.probeError && <ErrorNote>This file could not be read: {item.probeError}</ErrorNote>}
          <div class="detail-cols">
            {item.media?.audio && item.media.audio.length > 0 && <AudioTracks tracks={item.media.audio} />}
            {PLAYABLE.has(item.kind) && item.kind !== "track" && <Subtitles tracks={item.media?.subtitles ?? []} />}
          </div>
          {children.length > 0 && item.kind === "show" && <SeasonsWithEpisodes seasons={children} />}
          {children.length > 0 && item.kind !== "show" && (
            <section aria-labelledby="children-h">
              <h2 id="children-h">{item.kind === "season" ? "Episodes" : item.kind === "artist" ? "Albums" : "Tracks"}</h2>
              <ChildList items={children} />
            </section>
          )}
        </div>
      </div>
    </main>
  );
}
