// aligner.ts keeps every viewer the same distance behind the party.
//
// Each browser's WebRTC jitter buffer settles at its own delay (network,
// jitter, decode), so two viewers can show frames 100–200 ms apart. Every
// viewer measures its own delay (sync.ts) and steers it to one shared target
// with the receivers' jitterBufferTarget (W3C webrtc-extensions §6,
// "RTCRtpReceiver.jitterBufferTarget"): viewers who are ahead buffer more.
// Chromium keeps audio and video in sync, so one value drives both.
//
// The target is the room's: every viewer reports its natural delay (its
// delay minus the buffer it added) in marquee.sync, and all of them aim a
// little above the slowest one (roomTarget), so nobody waits longer than the
// slowest viewer needs.

/** TARGET_DELAY_MS is the target before any report arrives. */
export const TARGET_DELAY_MS = 300;
/** MIN_TARGET_MS and MAX_TARGET_MS bound the room target. */
export const MIN_TARGET_MS = 150;
export const MAX_TARGET_MS = 1500;
/** MARGIN_MS is the headroom above the slowest viewer's natural delay. */
export const MARGIN_MS = 50;

/**
 * roomTarget is the delay every viewer should show: the slowest natural
 * delay among the viewers plus a margin, within bounds. Viewers compute it
 * from the same reports, so they agree without a coordinator.
 */
export function roomTarget(naturalDelays: number[]): number {
  const known = naturalDelays.filter((d) => Number.isFinite(d) && d >= 0);
  if (known.length === 0) return TARGET_DELAY_MS;
  return Math.min(MAX_TARGET_MS, Math.max(MIN_TARGET_MS, Math.max(...known) + MARGIN_MS));
}

/** MAX_BUFFER_MS is the most the browser accepts (the spec's 4 s, less margin). */
export const MAX_BUFFER_MS = 3000;

const EMA_ALPHA = 0.1;
const OUTLIER_MS = 1000;
const OUTLIERS_BEFORE_RESET = 10;
const GAIN = 0.5;

/** DelayAligner smooths measured delays and proposes a jitter buffer target. */
export class DelayAligner {
  private ema: number | null = null;
  private outliers = 0;
  private buffer = 0;

  constructor(private target = TARGET_DELAY_MS) {}

  /** buffered is the jitter buffer target last proposed. */
  buffered(): number {
    return this.buffer;
  }

  /**
   * observe takes one per-frame delay. A value far from the average (frames
   * in flight across a seek's re-anchoring) is ignored unless it persists,
   * which means the delay really changed.
   */
  observe(delayMs: number): void {
    if (!Number.isFinite(delayMs)) return;
    if (this.ema !== null && Math.abs(delayMs - this.ema) > OUTLIER_MS) {
      if (++this.outliers < OUTLIERS_BEFORE_RESET) return;
      this.ema = null;
    }
    this.outliers = 0;
    this.ema = this.ema === null ? delayMs : this.ema + EMA_ALPHA * (delayMs - this.ema);
  }

  /** delay is the smoothed delay, or null before any frame. */
  delay(): number | null {
    return this.ema;
  }

  /** natural is the delay this viewer would have without the added buffer. */
  natural(): number | null {
    return this.ema === null ? null : Math.max(0, this.ema - this.buffer);
  }

  /** targetMs is the delay being steered to. */
  targetMs(): number {
    return this.target;
  }

  /** setTarget changes the delay to steer to. */
  setTarget(ms: number): void {
    this.target = ms;
  }

  /**
   * step returns the jitter buffer target to apply now: an integral
   * controller that adds half the remaining error each call (about 1 s apart).
   */
  step(): number {
    if (this.ema !== null) {
      this.buffer = Math.min(MAX_BUFFER_MS, Math.max(0, this.buffer + GAIN * (this.target - this.ema)));
    }
    return this.buffer;
  }

  /** reset forgets everything, for a new connection (new receivers start at 0). */
  reset(): void {
    this.ema = null;
    this.outliers = 0;
    this.buffer = 0;
  }
}
