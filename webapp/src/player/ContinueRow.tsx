// ContinueRow.tsx is the library page's "Continue watching" row: the items
// this user started and has not finished, each opening the player where
// they stopped.
import { useEffect, useState } from "preact/hooks";
import { Poster } from "../ui";
import { playerApi, type InProgress } from "./api";
import { formatTime, progressFraction } from "./logic";

/** ContinueRow draws nothing until there is something to continue. */
export function ContinueRow() {
  const [list, setList] = useState<InProgress[]>([]);
  useEffect(() => {
    playerApi.continueWatching().then(setList, () => setList([]));
  }, []);
  if (list.length === 0) return null;
  return (
    <section class="continue-row" aria-labelledby="continue-h">
      <h2 id="continue-h">Continue watching</h2>
      <ul>
        {list.map(({ item, progress }) => {
          const frac = progressFraction(progress);
          const left = formatTime((progress.durationMs - progress.positionMs) / 1000);
          return (
            <li key={item.id}>
              <a class="card continue-card" href={`/watch/${item.id}`} aria-label={`Continue ${item.title}, ${left} left`}>
                <Poster item={item} />
                <div class="continue-progress" role="progressbar" aria-label="Watched" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(frac * 100)}>
                  <div style={{ width: `${frac * 100}%` }} />
                </div>
                <div class="card-text">
                  <span class="card-title">{item.title}</span>
                  <span class="card-meta">{left} left</span>
                </div>
              </a>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
