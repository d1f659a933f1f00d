import type { Entry } from "../api";

/**
 * trackCredits is the "Artist — Album" line of the music view. The queue
 * entry's credits come first: every viewer has them, guests included.
 * Older entries have none; then the item's tags (members only) and last
 * the "Artist – Track" playback title stand in.
 */
export function trackCredits(
  entry: Pick<Entry, "artist" | "album"> | null,
  tags: Record<string, string>,
  playbackTitle: string,
  track: string,
): string {
  const artist = entry?.artist || tags.artist || tags.ARTIST || artistFromTitle(playbackTitle, track);
  const album = entry?.album || tags.album || tags.ALBUM;
  return [artist, album].filter(Boolean).join(" — ");
}

/** artistFromTitle reads the artist out of an "Artist – Track" playback title. */
function artistFromTitle(title: string, track: string): string {
  for (const sep of [" – ", " — ", " - "]) {
    if (title.endsWith(sep + track)) return title.slice(0, -(sep.length + track.length));
    if (title.startsWith(track + sep)) return title.slice(track.length + sep.length);
  }
  return "";
}
