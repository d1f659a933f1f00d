// emoji.tsx draws the reaction set as small SVGs, so reactions look the
// same everywhere, including systems without a colour emoji font. Messages
// still carry the emoji character (marquee.reaction); unknown ones are
// shown as text.

/** REACTIONS is the set the reaction bar offers. */
export const REACTIONS = ["❤️", "😂", "😮", "🔥", "🍿", "⭐"] as const;

const NAMES: Record<string, string> = { "❤️": "heart", "😂": "laughing", "😮": "surprised", "🔥": "fire", "🍿": "popcorn", "⭐": "star" };

/** emojiName is the word a screen reader says for a reaction. */
export function emojiName(e: string): string {
  return NAMES[e] ?? e;
}

function face(mouth: preact.JSX.Element, eyes: preact.JSX.Element, extra?: preact.JSX.Element) {
  return (
    <>
      <circle cx="16" cy="16" r="14" fill="#ffcc4d" />
      <circle cx="16" cy="16" r="14" fill="none" stroke="#e0a526" stroke-width="1.2" />
      {eyes}
      {mouth}
      {extra}
    </>
  );
}

const drawings: Record<string, () => preact.JSX.Element> = {
  "❤️": () => <path d="M16 28 4.6 16.9A7 7 0 0 1 16 8.2a7 7 0 0 1 11.4 8.7z" fill="#e5484d" />,
  "😂": () =>
    face(
      <path d="M8.5 17.5h15a7.5 7.5 0 0 1-15 0z" fill="#6b3a1e" />,
      <g fill="none" stroke="#6b3a1e" stroke-width="2" stroke-linecap="round">
        <path d="M8.5 12.5q2.5-3 5 0M18.5 12.5q2.5-3 5 0" />
      </g>,
      <g fill="#5dadec">
        <path d="M4 14q-3 5 0 7 3-2 0-7zM28 14q3 5 0 7-3-2 0-7z" />
      </g>,
    ),
  "😮": () =>
    face(
      <ellipse cx="16" cy="21.5" rx="3.5" ry="4.5" fill="#6b3a1e" />,
      <g fill="#6b3a1e">
        <ellipse cx="11" cy="12" rx="2" ry="2.8" />
        <ellipse cx="21" cy="12" rx="2" ry="2.8" />
      </g>,
    ),
  "🔥": () => (
    <>
      <path d="M16 2c1 6 9 9 9 17a9 9 0 0 1-18 0c0-5 3-7 4-10 1 3 2 4 3 4 0-4 0-8 2-11z" fill="#f4900c" />
      <path d="M16 14c1 4 5 5 5 10a5 5 0 0 1-10 0c0-3 2-4 3-6 .5 1.5 1 2 2 2 0-2-.5-4 0-6z" fill="#ffcc4d" />
    </>
  ),
  "🍿": () => (
    <>
      <g fill="#fff6e0" stroke="#e8d8b0" stroke-width="0.8">
        <circle cx="10" cy="9" r="4" />
        <circle cx="16" cy="6.5" r="4.2" />
        <circle cx="22" cy="9" r="4" />
        <circle cx="13" cy="11.5" r="3.6" />
        <circle cx="19" cy="11.5" r="3.6" />
      </g>
      <path d="M6 12h20l-2.5 17h-15z" fill="#fff" />
      <path d="M6 12h4l1.5 17H8.5zM14 12h4l-.5 17h-3zM22 12h4l-2.5 17h-3z" fill="#e5484d" />
    </>
  ),
  "⭐": () => <path d="m16 2.5 4.2 8.6 9.4 1.4-6.8 6.6 1.6 9.4L16 24l-8.4 4.5 1.6-9.4-6.8-6.6 9.4-1.4z" fill="#ffcc4d" stroke="#f4a100" stroke-width="1" stroke-linejoin="round" />,
};

/** Emoji renders a reaction: the drawing for one of REACTIONS, else the text. */
export function Emoji({ e, size = 26 }: { e: string; size?: number }) {
  const draw = drawings[e];
  if (!draw) return <span style={{ fontSize: `${size}px`, lineHeight: 1 }}>{e}</span>;
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      {draw()}
    </svg>
  );
}
