import { useEffect, useState } from "preact/hooks";
import { api, entryItem, type Entry, type Item } from "../api";
import { Icon, IconButton, Poster, kindLabel, runtime } from "../ui";
import { formatTime } from "../sync";

/** Queue shows what plays next; controllers add, drag to reorder and remove. */
export function Queue({ partyId, current, queue, canControl, onChanged, onError }: {
  partyId: number;
  current: Entry | null;
  queue: Entry[];
  canControl: boolean;
  onChanged: () => void;
  onError: (msg: string) => void;
}) {
  const upcoming = queue.filter((e) => e.status === "queued" && e.id !== current?.id);
  const [dragId, setDragId] = useState<number | null>(null);
  const [order, setOrder] = useState<Entry[]>(upcoming);
  const key = upcoming.map((e) => e.id).join();
  useEffect(() => setOrder(upcoming), [key]);

  /** commit sends the whole queue: entries not shown keep their place ahead. */
  const commit = async (next: Entry[]) => {
    setOrder(next);
    const shown = new Set(next.map((e) => e.id));
    const ids = [...queue.filter((e) => !shown.has(e.id)).map((e) => e.id), ...next.map((e) => e.id)];
    try {
      await api.reorder(partyId, ids);
    } catch (e) {
      onError(`Could not reorder: ${(e as Error).message}`);
      setOrder(upcoming);
    }
    onChanged();
  };
  const move = (from: number, to: number) => {
    if (to < 0 || to >= order.length || from === to) return;
    const next = [...order];
    const [e] = next.splice(from, 1);
    next.splice(to, 0, e);
    void commit(next);
  };
  const remove = async (id: number) => {
    try {
      await api.dequeue(partyId, id);
    } catch (e) {
      onError(`Could not remove: ${(e as Error).message}`);
    }
    onChanged();
  };

  return (
    <section class="panel" aria-labelledby="queue-h">
      <h2 id="queue-h">
        Queue <span class="count">{order.length}</span>
      </h2>
      {current && (
        <div class="now-playing">
          <Poster item={entryItem(current)} size="sm" />
          <span>
            <span class="eyebrow">Now playing</span>
            <strong>{current.title}</strong>
          </span>
        </div>
      )}
      {order.length === 0 ? (
        <p class="muted small">Nothing queued.</p>
      ) : (
        <ol class="queue" data-testid="queue">
          {order.map((e, i) => (
            <li
              key={e.id}
              class={dragId === e.id ? "dragging" : ""}
              draggable={canControl}
              onDragStart={(ev) => {
                setDragId(e.id);
                ev.dataTransfer?.setData("text/plain", String(e.id));
              }}
              onDragOver={(ev) => {
                if (!canControl || dragId === null) return;
                ev.preventDefault();
                const from = order.findIndex((x) => x.id === dragId);
                if (from >= 0 && from !== i) {
                  const next = [...order];
                  const [m] = next.splice(from, 1);
                  next.splice(i, 0, m);
                  setOrder(next);
                }
              }}
              onDrop={(ev) => ev.preventDefault()}
              onDragEnd={() => {
                setDragId(null);
                if (order.map((x) => x.id).join() !== key) void commit(order);
              }}
            >
              {canControl && (
                <span class="drag-handle" aria-hidden="true">
                  <Icon name="drag" size={18} />
                </span>
              )}
              <span class="queue-title">
                {e.title}
                {e.runtimeSeconds ? <span class="muted small"> {formatTime(e.runtimeSeconds * 1000)}</span> : null}
              </span>
              {canControl && (
                <span class="queue-actions">
                  <IconButton icon="up" label={`Move ${e.title} up`} size={18} disabled={i === 0} onClick={() => move(i, i - 1)} />
                  <IconButton icon="down" label={`Move ${e.title} down`} size={18} disabled={i === order.length - 1} onClick={() => move(i, i + 1)} />
                  <IconButton icon="close" label={`Remove ${e.title} from the queue`} size={18} onClick={() => void remove(e.id)} />
                </span>
              )}
            </li>
          ))}
        </ol>
      )}
      {canControl && <AddToQueue partyId={partyId} onAdded={onChanged} onError={onError} />}
    </section>
  );
}

const PLAYABLE = ["movie", "episode", "track"];

function AddToQueue({ partyId, onAdded, onError }: { partyId: number; onAdded: () => void; onError: (m: string) => void }) {
  const [q, setQ] = useState("");
  const [results, setResults] = useState<Item[]>([]);
  // searched is the query the results answer; refusal says why there are none.
  const [searched, setSearched] = useState("");
  const [refusal, setRefusal] = useState("");
  useEffect(() => {
    const search = q.trim();
    if (!search) {
      setResults([]);
      setSearched("");
      setRefusal("");
      return;
    }
    let live = true;
    const t = setTimeout(() => {
      // The party's libraries: a co-host may be a guest without a library of their own.
      api.partyItems(partyId, { search, kinds: PLAYABLE, limit: 8 }).then(
        (items) => {
          if (!live) return;
          setResults(items);
          setSearched(search);
          setRefusal("");
        },
        (e) => {
          if (!live) return;
          setResults([]);
          setSearched(search);
          setRefusal(`Could not search the library: ${(e as Error).message}`);
        },
      );
    }, 200);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [q, partyId]);
  const add = async (it: Item) => {
    try {
      await api.enqueue(partyId, it.id);
      setQ("");
      onAdded();
    } catch (e) {
      onError(`Could not add ${it.title}: ${(e as Error).message}`);
    }
  };
  return (
    <div class="add-queue">
      <div class="search">
        <Icon name="search" size={16} />
        <input type="search" placeholder="Add from the library" aria-label="Search the library to add to the queue" value={q} onInput={(e) => setQ(e.currentTarget.value)} />
      </div>
      {refusal && (
        <p class="error-note small" role="alert" data-testid="queue-search-error">
          {refusal}
        </p>
      )}
      {!refusal && searched && searched === q.trim() && results.length === 0 && (
        <p class="muted small" role="status">
          Nothing in the party's libraries matches “{searched}”.
        </p>
      )}
      {results.length > 0 && (
        <ul class="results">
          {results.map((it) => (
            <li key={it.id}>
              <button type="button" onClick={() => void add(it)} aria-label={`Add ${it.title} to the queue`}>
                <Poster item={it} size="sm" />
                <span>
                  <strong>{it.title}</strong>
                  <span class="muted small">{[kindLabel(it.kind), it.year || null, runtime(it) || null].filter(Boolean).join(" · ")}</span>
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
