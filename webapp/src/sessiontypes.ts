// sessiontypes.ts holds the shapes a party session shares with the pages
// that show it (connection and viewer states, chat, stats); session.ts
// re-exports them.
import type { Displayed, Playback } from "./sync";

/**
 * How this viewer's link to the room is doing; "ended" when the party is
 * gone; "replaced" when another connection with this tab's identity took
 * its place (no automatic retry: the person chooses where to watch).
 */
export type ConnState = "connecting" | "connected" | "reconnecting" | "disconnected" | "ended" | "replaced";

/** PartyGone is thrown by SessionParams.credentials when the party no longer admits this viewer. */
export class PartyGone extends Error {}
/** A viewer's state as reported in `marquee.sync`. */
export type ViewerState = "connected" | "buffering" | "reconnecting";
/** Transport is how a viewer receives the party: WebRTC, or HLS of the same item as a fallback. */
export type Transport = "webrtc" | "hls";

/** Viewer is one person in the room as the viewer list shows them. */
export interface Viewer {
  identity: string;
  name: string;
  role: string;
  isLocal: boolean;
  state: ViewerState;
  delayMs: number | null;
  /** transport is "hls" for a viewer on the HLS fallback. */
  transport?: Transport;
}

/** ChatMessage is one line of chat. */
export interface ChatMessage {
  id: number;
  from: string;
  text: string;
  sentAtMs: number;
  mine: boolean;
}

/** Reaction is one floating emoji, removed after a few seconds. */
export interface Reaction {
  id: number;
  emoji: string;
  from: string;
  lane: number;
}

/** SessionState is everything the party page renders from the session. */
export interface SessionState {
  conn: ConnState;
  attempt: number;
  retryAtMs: number | null;
  error: string | null;
  playback: Playback | null;
  hasVideo: boolean;
  hasAudio: boolean;
  audioBlocked: boolean;
  viewers: Viewer[];
  chat: ChatMessage[];
  reactions: Reaction[];
  delayMs: number | null;
  buffering: boolean;
  identity: string;
  /** transport is what this viewer plays from; "hls" while WebRTC cannot carry the party. */
  transport: Transport;
  /** fallbackReason says why this viewer is on HLS. */
  fallbackReason: string | null;
}

/** Credentials let the session (re)join the room. */
export interface Credentials {
  url: string;
  token: string;
}

/** SessionParams configures a PartySession. */
export interface SessionParams {
  /** credentials is called for each (re)connection; it may mint a fresh token. */
  credentials: () => Promise<Credentials>;
}

/** Stats is what the browser tests and the debug overlay read. */
export interface Stats {
  conn: ConnState;
  playbackState: string;
  framesDecoded: number;
  framesShown: number;
  lastFrameAtMs: number;
  audioSamples: number;
  audioEnergy: number;
  displayed: Displayed | null;
  partyPositionMs: number | null;
  delayMs: number | null;
  joinStartedAtMs: number;
  firstFrameAtMs: number | null;
  /** firstFrameSinceConnectAtMs is when media first showed after the latest (re)join. */
  firstFrameSinceConnectAtMs: number | null;
  reconnects: number;
  /** bufferMs is the jitter buffer target the aligner set. */
  bufferMs: number;
  /**
   * displayedOffsetMs is the median, over the last second of frames, of the
   * position shown minus the wall time it was shown: at normal speed it is
   * constant, so two viewers' offsets differ by how far apart they are.
   */
  displayedOffsetMs: number | null;
  /** targetMs is the room's delay target this viewer steers to. */
  targetMs: number;
  layer: string;
  transport: Transport;
  /** hlsFrames counts the frames the HLS fallback showed. */
  hlsFrames: number;
  /** fallbackAtMs is when this viewer last switched to HLS; hlsFirstFrameAtMs when HLS first showed a frame since. */
  fallbackAtMs: number | null;
  hlsFirstFrameAtMs: number | null;
  /** signalAtMs is when the latest join's signalling connected (null: none up); pcAtMs when its peer connection came up. */
  signalAtMs: number | null;
  pcAtMs: number | null;
}
