// session.ts owns one viewer's connection to a party room: the livekit-client
// Room (adaptive stream + dynacast, so a slow viewer gets a lower simulcast
// layer), the data topics of the brief's contract, the measured sync, and
// reconnection with backoff when the Room gives up on its own.
import {
  ConnectionState,
  DisconnectReason,
  RemoteAudioTrack,
  RemoteParticipant,
  RemoteTrack,
  RemoteVideoTrack,
  Room,
  RoomEvent,
  Track,
} from "livekit-client";
import { Observable } from "./store";
import { DelayAligner, roomTarget } from "./aligner";
import type { LinkHealth } from "./party/hlsfollow";
import {
  AUDIO_CLOCK,
  acceptPlayback,
  audioOnly,
  ClockSkew,
  VIDEO_CLOCK,
  delayMs,
  isIngest,
  mediaPositionMs,
  parsePlayback,
  partyPositionMs,
  type Displayed,
  type Playback,
} from "./sync";

/** Data topics (brief: cross-service contracts). */
export const TOPIC = {
  playback: "marquee.playback",
  chat: "marquee.chat",
  reaction: "marquee.reaction",
  sync: "marquee.sync",
} as const;

export { audioOnly };
export * from "./sessiontypes";
import {
  PartyGone,
  type Reaction,
  type SessionParams,
  type SessionState,
  type Stats,
  type Transport,
  type Viewer,
  type ViewerState,
} from "./sessiontypes";

const SYNC_EVERY_MS = 2000;
/** SYNC_CHANGE_MS: a natural delay change this big is published before the next period. */
const SYNC_CHANGE_MS = 80;
const WATCHDOG_EVERY_MS = 500;
const BUFFERING_AFTER_MS = 1500;
const STALL_RECONNECT_MS = 4000;
const STALE_VIEWER_MS = 7000;
const MAX_CHAT = 200;
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000];
/** ATTR_POLL_MS: how often the playback attribute is read while the peer connection is not up. */
const ATTR_POLL_MS = 100;
/** HLS_RETRY_MS: on HLS, WebRTC is retried at once; signalling also carries the party's anchors. */
const HLS_RETRY_MS = 300;
/** SETTLE_MS is how long after a re-anchoring (seek, new item) delays are not measured. */
const SETTLE_MS = 1000;
/** AHEAD_LIMIT_MS: a viewer cannot be ahead of the party; more than this is a bad sample. */
const AHEAD_LIMIT_MS = -300;

function sameAnchor(a?: { ts: number; positionMs: number }, b?: { ts: number; positionMs: number }): boolean {
  return a?.ts === b?.ts && a?.positionMs === b?.positionMs;
}

export { isIngest };

/**
 * personOf is who a participant is: its identity without the connection
 * suffix ("user-7.k3f9" and "user-7" are both "user-7"), so a person with
 * two tabs is listed once.
 */
export function personOf(identity: string): string {
  const dot = identity.indexOf(".");
  return dot < 0 ? identity : identity.slice(0, dot);
}

/** userIdOf is the Marquee user behind a participant identity, or 0. */
export function userIdOf(identity: string): number {
  const m = /^user-(\d+)$/.exec(personOf(identity));
  return m ? Number(m[1]) : 0;
}

/** PartySession is one viewer's live connection to a party. */
export class PartySession {
  readonly state = new Observable<SessionState>({
    conn: "connecting",
    attempt: 0,
    retryAtMs: null,
    error: null,
    playback: null,
    hasVideo: false,
    hasAudio: false,
    audioBlocked: false,
    viewers: [],
    chat: [],
    reactions: [],
    delayMs: null,
    buffering: false,
    identity: "",
    transport: "webrtc",
    fallbackReason: null,
  });

  private room: Room | null = null;
  private closed = false;
  private videoEl: HTMLVideoElement | null = null;
  private audioEl: HTMLAudioElement | null = null;
  private videoTrack: RemoteVideoTrack | null = null;
  private audioTrack: RemoteAudioTrack | null = null;
  private skew = new ClockSkew();
  private displayed: Displayed | null = null;
  private framesShown = 0;
  private lastFrameAtMs = 0;
  private firstFrameAtMs: number | null = null;
  private firstFrameSinceConnectAtMs: number | null = null;
  private joinStartedAtMs = Date.now();
  private reconnects = 0;
  private remoteSync = new Map<string, { delayMs: number; naturalMs: number; state: ViewerState; transport: Transport; atMs: number }>();
  private timers: number[] = [];
  private seq = 0;
  private retryTimer = 0;
  private frameCbHandle = 0;
  private aligner = new DelayAligner();
  private bufferMs = 0;
  private ticks = 0;
  private playingSinceMs = 0;
  private lastAudioAtMs = 0;
  private settleUntilMs = 0;
  private publishedNaturalMs: number | null = null;
  /** offsets holds (position shown − wall time) of the last second of frames. */
  private offsets: number[] = [];
  private audioJitterMs = 0;
  private audioJitterTotals = { delay: 0, count: 0 };
  /** signalAtMs is when the latest Room's signalling joined (null: none up); pcConnected when its peer connection is up too. */
  private signalAtMs: number | null = null;
  private pcConnected = false;
  private pcAtMs: number | null = null;
  private connectAtMs: number | null = null;
  /** hlsAligner smooths the HLS fallback's measured delay (no jitter buffer to steer). */
  private hlsAligner = new DelayAligner();
  private hlsFrames = 0;
  /** polledAttr is the playback attribute pollAttributes last read. */
  private polledAttr = "";
  private fallbackAtMs: number | null = null;
  private hlsFirstFrameAtMs: number | null = null;

  constructor(private params: SessionParams) {}

  /** start connects and keeps the session alive until close(). */
  start(): void {
    this.timers.push(window.setInterval(() => this.publishSync(), SYNC_EVERY_MS));
    this.timers.push(window.setInterval(() => this.watchdog(), WATCHDOG_EVERY_MS));
    this.timers.push(window.setInterval(() => this.refreshViewers(), 1000));
    this.timers.push(window.setInterval(() => this.pollAttributes(), ATTR_POLL_MS));
    void this.connect();
  }

  /** close leaves the room for good. */
  close(): void {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.retryTimer);
    void this.room?.disconnect();
    this.room = null;
  }

  /** reconnectHere joins again after another connection replaced this one. */
  reconnectHere(): void {
    if (this.closed || this.state.get().conn !== "replaced") return;
    this.state.update({ attempt: 0, error: null });
    void this.connect();
  }

  /** setMediaElements gives the session the elements it renders into. */
  setMediaElements(video: HTMLVideoElement | null, audio: HTMLAudioElement | null): void {
    this.videoEl = video;
    this.audioEl = audio;
    if (video && this.videoTrack) this.attachVideo(this.videoTrack);
    if (audio && this.audioTrack) this.audioTrack.attach(audio);
  }

  /** startAudio resumes audio after a user gesture when autoplay was blocked. */
  async startAudio(): Promise<void> {
    await this.room?.startAudio();
    if (this.audioEl) await this.audioEl.play().catch(() => undefined);
    this.state.update({ audioBlocked: !(this.room?.canPlaybackAudio ?? true) });
  }

  /** partyPositionNow is where the party is now, or null before the first report. */
  partyPositionNow(): number | null {
    const pb = this.state.get().playback;
    return pb ? partyPositionMs(pb, Date.now(), this.skew) : null;
  }

  /** targetDelayMs is the delay behind the party every viewer aims for (aligner.ts). */
  targetDelayMs(): number {
    return this.aligner.targetMs();
  }

  /** linkHealth tells the HLS fallback (party/Fallback.tsx) how WebRTC is doing. */
  linkHealth(): LinkHealth {
    const st = this.state.get();
    const pb = st.playback;
    return {
      nowMs: Date.now(),
      hasItem: !!pb?.itemId && (pb.state === "playing" || pb.state === "paused"),
      partyPlaying: pb?.state === "playing",
      connectAtMs: this.connectAtMs,
      signalAtMs: this.signalAtMs,
      pcConnected: this.pcConnected,
      lastMediaAtMs: Math.max(this.lastFrameAtMs, this.lastAudioAtMs),
      firstMediaAtMs: this.firstFrameSinceConnectAtMs,
      playingSinceMs: this.playingSinceMs,
      hasTracks: st.hasVideo || st.hasAudio,
    };
  }

  /**
   * setTransport switches this viewer between WebRTC and the HLS fallback
   * (party/Fallback.tsx plays HLS). The Room stays: its signalling brings
   * the party's anchors and each new join retries WebRTC.
   */
  setTransport(transport: Transport, reason: string | null = null): void {
    if (this.state.get().transport === transport) return;
    this.hlsAligner.reset();
    this.displayed = null;
    this.offsets = [];
    // WebRTC sound trickling in while HLS plays must not double it.
    if (this.audioEl) this.audioEl.muted = transport === "hls";
    if (transport === "hls") [this.fallbackAtMs, this.hlsFirstFrameAtMs] = [Date.now(), null];
    this.state.update({ transport, fallbackReason: transport === "hls" ? reason : null, delayMs: null, buffering: false });
    if (transport === "hls") this.retrySoon();
    this.refreshViewers();
    this.publishSync();
  }

  /** observeHLS takes a position the HLS fallback shows (a frame, or sound only), for the measured delay. */
  observeHLS(shown: Displayed, frame: boolean): void {
    if (this.state.get().transport !== "hls") return;
    if (frame) this.hlsFrames++;
    if (frame && this.hlsFirstFrameAtMs === null) this.hlsFirstFrameAtMs = shown.atMs;
    this.displayed = shown;
    this.offsets.push(shown.positionMs - shown.atMs);
    if (this.offsets.length > 25) this.offsets.shift();
    const pb = this.state.get().playback;
    if (pb?.state !== "playing" || Date.now() < this.settleUntilMs) return;
    const d = delayMs(pb, shown, this.skew);
    if (d > AHEAD_LIMIT_MS) this.hlsAligner.observe(d);
  }

  /** sendChat sends one chat line to the room. */
  async sendChat(text: string): Promise<void> {
    text = text.trim().slice(0, 500);
    if (!text || !this.room) return;
    const msg = { type: "chat", from: this.displayName(), text, sentAtMs: Date.now() };
    await this.publish(TOPIC.chat, msg);
    this.addChat(msg.from, text, msg.sentAtMs, true);
  }

  /** sendReaction floats an emoji over everyone's video. */
  async sendReaction(emoji: string): Promise<void> {
    if (!this.room) return;
    await this.publish(TOPIC.reaction, { type: "reaction", from: this.displayName(), emoji });
    this.addReaction(emoji, this.displayName());
  }

  /** stats samples the receive side, for tests and the debug overlay. */
  async stats(): Promise<Stats> {
    let framesDecoded = 0;
    let audioSamples = 0;
    let audioEnergy = 0;
    let layer = "";
    const reports = await Promise.all([
      this.videoTrack?.receiver?.getStats(),
      this.audioTrack?.receiver?.getStats(),
    ]);
    for (const report of reports) {
      report?.forEach((s: Record<string, unknown>) => {
        if (s.type !== "inbound-rtp") return;
        if (s.kind === "video") {
          framesDecoded += Number(s.framesDecoded ?? 0);
          if (s.frameHeight) layer = `${s.frameWidth}x${s.frameHeight}`;
        }
        if (s.kind === "audio") {
          audioSamples += Number(s.totalSamplesReceived ?? 0);
          audioEnergy += Number(s.totalAudioEnergy ?? 0);
        }
      });
    }
    const st = this.state.get();
    return {
      conn: st.conn,
      playbackState: st.playback?.state ?? "",
      framesDecoded,
      framesShown: this.framesShown,
      lastFrameAtMs: this.lastFrameAtMs,
      audioSamples,
      audioEnergy,
      displayed: this.displayed,
      partyPositionMs: this.partyPositionNow(),
      delayMs: st.delayMs,
      joinStartedAtMs: this.joinStartedAtMs,
      firstFrameAtMs: this.firstFrameAtMs,
      firstFrameSinceConnectAtMs: this.firstFrameSinceConnectAtMs,
      reconnects: this.reconnects,
      bufferMs: this.bufferMs,
      displayedOffsetMs: this.offsets.length ? [...this.offsets].sort((a, b) => a - b)[this.offsets.length >> 1] : null,
      targetMs: this.aligner.targetMs(),
      layer,
      transport: st.transport,
      hlsFrames: this.hlsFrames,
      fallbackAtMs: this.fallbackAtMs,
      hlsFirstFrameAtMs: this.hlsFirstFrameAtMs,
      signalAtMs: this.signalAtMs,
      pcAtMs: this.pcAtMs,
    };
  }

  private displayName(): string {
    const lp = this.room?.localParticipant;
    return lp?.name || lp?.identity || "someone";
  }

  private async publish(topic: string, msg: unknown): Promise<void> {
    const data = new TextEncoder().encode(JSON.stringify(msg));
    await this.room?.localParticipant.publishData(data, { reliable: true, topic });
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const attempt = this.state.get().attempt;
    this.state.update({ conn: attempt > 0 ? "reconnecting" : "connecting", retryAtMs: null });
    this.signalAtMs = null;
    this.pcConnected = false;
    this.connectAtMs = Date.now();
    const room = new Room({ adaptiveStream: true, dynacast: true });
    this.room = room;
    this.wire(room);
    try {
      const creds = await this.params.credentials();
      await room.connect(creds.url, creds.token, { autoSubscribe: true });
      if (this.closed || this.room !== room) {
        await room.disconnect();
        return;
      }
      if (attempt > 0) this.reconnects++;
      this.pcConnected = true;
      this.pcAtMs = Date.now();
      this.firstFrameSinceConnectAtMs = null;
      this.aligner.reset();
      this.state.update({
        conn: "connected",
        attempt: 0,
        error: null,
        identity: room.localParticipant.identity,
        audioBlocked: !room.canPlaybackAudio,
      });
      for (const p of room.remoteParticipants.values()) this.readAttributes(p, false);
      this.refreshViewers();
    } catch (err) {
      if (err instanceof PartyGone) {
        this.room = null;
        this.videoTrack = null;
        this.audioTrack = null;
        this.state.update({ conn: "ended", retryAtMs: null, error: err.message, playback: null, viewers: [], hasVideo: false, hasAudio: false, delayMs: null });
        return;
      }
      if (this.room === room) this.scheduleRetry(err);
    }
  }

  private scheduleRetry(err: unknown): void {
    if (this.closed) return;
    this.signalAtMs = null;
    this.pcConnected = false;
    const attempt = this.state.get().attempt;
    // On HLS, WebRTC is retried at once: the next join is also what brings the anchors.
    const wait = this.state.get().transport === "hls" ? HLS_RETRY_MS : BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
    const message = err instanceof Error ? err.message : String(err ?? "connection lost");
    this.state.update({ conn: "reconnecting", attempt: attempt + 1, retryAtMs: Date.now() + wait, error: message });
    clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(() => void this.connect(), wait);
  }

  /** retrySoon makes a pending backoff wait no longer than HLS_RETRY_MS. */
  private retrySoon(): void {
    const st = this.state.get();
    if (this.closed || st.retryAtMs === null || st.retryAtMs - Date.now() <= HLS_RETRY_MS) return;
    this.state.update({ retryAtMs: Date.now() + HLS_RETRY_MS });
    clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(() => void this.connect(), HLS_RETRY_MS);
  }

  /** restart drops the current Room and joins again (watchdog, lost PC). */
  private restart(reason: string): void {
    const old = this.room;
    this.room = null;
    this.videoTrack = null;
    this.audioTrack = null;
    this.state.update({ hasVideo: false, hasAudio: false });
    void old?.disconnect();
    this.scheduleRetry(new Error(reason));
  }

  private wire(room: Room): void {
    room
      .on(RoomEvent.TrackSubscribed, (track: RemoteTrack) => this.onTrack(track))
      .on(RoomEvent.TrackUnsubscribed, (track: RemoteTrack) => this.onTrackGone(track))
      .on(RoomEvent.DataReceived, (payload, participant, _kind, topic) =>
        this.onData(payload, participant, topic),
      )
      .on(RoomEvent.SignalConnected, () => {
        if (this.room !== room) return;
        // The party's anchors come with signalling, before (or without)
        // a peer connection: the HLS fallback follows them.
        this.signalAtMs = Date.now();
        for (const p of room.remoteParticipants.values()) this.readAttributes(p, false);
        this.refreshViewers();
      })
      .on(RoomEvent.ParticipantAttributesChanged, (_changed, p) => {
        if (p instanceof RemoteParticipant) this.readAttributes(p, true);
        this.refreshViewers();
      })
      .on(RoomEvent.ParticipantConnected, () => this.refreshViewers())
      .on(RoomEvent.ParticipantDisconnected, (p) => {
        this.remoteSync.delete(p.identity);
        this.refreshViewers();
      })
      .on(RoomEvent.AudioPlaybackStatusChanged, () =>
        this.state.update({ audioBlocked: !room.canPlaybackAudio }),
      )
      .on(RoomEvent.Reconnecting, () => {
        if (this.room === room) this.state.update({ conn: "reconnecting" });
      })
      .on(RoomEvent.Reconnected, () => {
        if (this.room !== room) return;
        this.reconnects++;
        this.firstFrameSinceConnectAtMs = null;
        this.state.update({ conn: "connected", error: null });
      })
      .on(RoomEvent.Disconnected, (reason) => {
        if (this.room !== room || this.closed) return;
        this.room = null;
        this.signalAtMs = null;
        this.pcConnected = false;
        this.videoTrack = null;
        this.audioTrack = null;
        this.state.update({ hasVideo: false, hasAudio: false });
        if (reason === DisconnectReason.DUPLICATE_IDENTITY) {
          // Retrying would knock the other connection out in turn, for ever.
          clearTimeout(this.retryTimer);
          this.state.update({ conn: "replaced", retryAtMs: null, viewers: [], error: "This party was opened with your account elsewhere, so this tab stopped." });
          return;
        }
        this.scheduleRetry(new Error(`disconnected (${reason ?? "unknown"})`));
      });
  }

  /**
   * onTrack follows the ingest's tracks. Between queue items of another
   * kind (film, album track, episode) the ingest unpublishes its video and
   * publishes a new track: the new one replaces the old on the element.
   */
  private onTrack(track: RemoteTrack): void {
    if (track.kind === Track.Kind.Video) {
      if (this.videoTrack && this.videoTrack !== track) this.videoTrack.detach();
      this.videoTrack = track as RemoteVideoTrack;
      if (this.videoEl) this.attachVideo(this.videoTrack);
      this.state.update({ hasVideo: true });
    } else if (track.kind === Track.Kind.Audio) {
      if (this.audioTrack && this.audioTrack !== track) this.audioTrack.detach();
      this.audioTrack = track as RemoteAudioTrack;
      if (this.audioEl) track.attach(this.audioEl);
      this.state.update({ hasAudio: true, audioBlocked: !(this.room?.canPlaybackAudio ?? true) });
    }
  }

  /**
   * onTrackGone detaches an unpublished track: livekit-client only disables
   * it, and an element left holding it shows its last frame (or black)
   * instead of the next item.
   */
  private onTrackGone(track: RemoteTrack): void {
    track.detach();
    if (track === this.videoTrack) {
      this.videoTrack = null;
      this.state.update({ hasVideo: false });
    }
    if (track === this.audioTrack) {
      this.audioTrack = null;
      this.state.update({ hasAudio: false });
    }
  }

  private attachVideo(track: RemoteVideoTrack): void {
    const el = this.videoEl;
    if (!el) return;
    el.muted = true; // sound comes from the audio element; muted video may always autoplay
    track.attach(el);
    if (this.frameCbHandle && "cancelVideoFrameCallback" in el) el.cancelVideoFrameCallback(this.frameCbHandle);
    if (!("requestVideoFrameCallback" in el)) return;
    const onFrame = (_now: number, meta: VideoFrameCallbackMetadata) => {
      this.onVideoFrame(meta);
      if (this.videoEl === el) this.frameCbHandle = el.requestVideoFrameCallback(onFrame);
    };
    this.frameCbHandle = el.requestVideoFrameCallback(onFrame);
  }

  /**
   * onVideoFrame maps the presented frame's RTP timestamp through the
   * playback's video anchor to the position on screen, stamped with the
   * wall time it is displayed (expectedDisplayTime is on the performance clock).
   */
  private onVideoFrame(meta: VideoFrameCallbackMetadata): void {
    const shownAt = performance.timeOrigin + (meta.expectedDisplayTime ?? performance.now());
    this.framesShown++;
    this.lastFrameAtMs = shownAt;
    if (this.firstFrameAtMs === null) this.firstFrameAtMs = shownAt;
    if (this.firstFrameSinceConnectAtMs === null) this.firstFrameSinceConnectAtMs = shownAt;
    if (this.state.get().transport === "hls") return; // HLS shows the party; these frames only tell WebRTC is back
    const pb = this.state.get().playback;
    const rtp = (meta as VideoFrameCallbackMetadata & { rtpTimestamp?: number }).rtpTimestamp;
    if (!pb?.videoRtp || rtp === undefined) return;
    this.displayed = { positionMs: mediaPositionMs(rtp, pb.videoRtp, VIDEO_CLOCK), atMs: shownAt };
    this.observeDelay(pb, this.displayed);
    this.offsets.push(this.displayed.positionMs - shownAt);
    if (this.offsets.length > 25) this.offsets.shift();
  }

  /**
   * sampleAudio reads the audio receiver's synchronization source: the RTP
   * timestamp last played out and when (W3C webrtc-pc §5.4.4
   * RTCRtpSynchronizationSource). It always tells whether sound flows; for
   * audio-only items (no video track) it is also the position on screen.
   */
  private sampleAudio(pb: Playback | null, forPosition: boolean): void {
    const src = this.audioTrack?.receiver?.getSynchronizationSources()[0];
    if (!src) return;
    // Chromium reports epoch ms; the spec says the performance clock.
    const at = src.timestamp > 1e12 ? src.timestamp : performance.timeOrigin + src.timestamp;
    if (at === this.lastAudioAtMs) return;
    this.lastAudioAtMs = at;
    if (!forPosition) return;
    void this.sampleAudioJitter().catch(() => undefined);
    this.lastFrameAtMs = at;
    if (this.firstFrameAtMs === null) this.firstFrameAtMs = at;
    if (this.firstFrameSinceConnectAtMs === null) this.firstFrameSinceConnectAtMs = at;
    if (!pb?.audioRtp || this.state.get().transport === "hls") return;
    // The packet arrived at `at`; it is heard after its wait in the jitter buffer.
    this.displayed = { positionMs: mediaPositionMs(src.rtpTimestamp, pb.audioRtp, AUDIO_CLOCK), atMs: at + this.audioJitterMs };
    this.observeDelay(pb, this.displayed);
  }

  /**
   * pollAttributes reads the ingest's playback attribute while the peer
   * connection is not up: livekit-client holds attribute events back until
   * it is, but updates the participant, and the HLS fallback must follow
   * pauses and seeks. A poll's receive time is late, so no skew sample.
   */
  private pollAttributes(): void {
    if (!this.room || this.signalAtMs === null || this.pcConnected) return;
    for (const p of this.room.remoteParticipants.values()) {
      const raw = p.attributes?.["marquee.playback"];
      if (!raw || raw === this.polledAttr) continue;
      this.polledAttr = raw;
      this.readAttributes(p, false);
    }
  }

  /** observeDelay feeds one measured delay to the aligner, unless unreliable. */
  private observeDelay(pb: Playback, shown: Displayed): void {
    if (pb.state !== "playing" || Date.now() < this.settleUntilMs) return;
    const d = delayMs(pb, shown, this.skew);
    if (d > AHEAD_LIMIT_MS) this.aligner.observe(d);
  }

  /**
   * sampleAudioJitter reads how long audio now waits in the jitter buffer
   * (the change of jitterBufferDelay over jitterBufferEmittedCount since the
   * last sample, W3C webrtc-stats §8.3.1): the synchronization source's time
   * is when a packet arrived, so audio's shown time adds this wait.
   */
  private async sampleAudioJitter(): Promise<void> {
    const report = await this.audioTrack?.receiver?.getStats();
    report?.forEach((s: Record<string, unknown>) => {
      if (s.type !== "inbound-rtp" || s.kind !== "audio") return;
      const delay = Number(s.jitterBufferDelay ?? 0);
      const count = Number(s.jitterBufferEmittedCount ?? 0);
      const prev = this.audioJitterTotals;
      if (count > prev.count && delay >= prev.delay) this.audioJitterMs = ((delay - prev.delay) / (count - prev.count)) * 1000;
      this.audioJitterTotals = { delay, count };
    });
  }

  private onData(payload: Uint8Array, participant: RemoteParticipant | undefined, topic?: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(new TextDecoder().decode(payload));
    } catch {
      return;
    }
    if (typeof msg !== "object" || msg === null) return;
    const sender = participant?.name || participant?.identity || "";
    switch (topic) {
      case TOPIC.playback:
        if (participant && isIngest(participant)) this.setPlayback(msg, false);
        break;
      case TOPIC.chat:
        if (typeof msg.text === "string") {
          this.addChat(sender || String(msg.from ?? "?"), msg.text.slice(0, 500), Number(msg.sentAtMs) || Date.now(), false);
        }
        break;
      case TOPIC.reaction:
        if (typeof msg.emoji === "string" && msg.emoji.length <= 16) this.addReaction(msg.emoji, sender);
        break;
      case TOPIC.sync:
        if (participant) {
          const state = (["connected", "buffering", "reconnecting"] as const).find((s) => s === msg.state) ?? "connected";
          const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : NaN);
          const transport: Transport = msg.transport === "hls" ? "hls" : "webrtc";
          this.remoteSync.set(participant.identity, { delayMs: num(msg.delayMs), naturalMs: num(msg.naturalMs), state, transport, atMs: Date.now() });
          this.refreshViewers();
        }
        break;
    }
  }

  /**
   * readAttributes reads the ingest's copy of its last playback report;
   * live is false for the copy found on joining, whose age (since the last
   * change) says nothing about the clocks, so it is not a skew sample.
   */
  private readAttributes(p: RemoteParticipant, live: boolean): void {
    const raw = p.attributes?.["marquee.playback"];
    if (!raw || !isIngest(p)) return;
    try {
      this.setPlayback(JSON.parse(raw), true, live);
    } catch {
      /* a malformed attribute is ignored; the next data message replaces it */
    }
  }

  private setPlayback(raw: unknown, fromAttribute: boolean, live = true): void {
    const pb = parsePlayback(raw);
    if (!pb) return;
    const prev = this.state.get().playback;
    if (!acceptPlayback(prev, pb, fromAttribute, Date.now())) return;
    if (live) this.skew.observe(pb.sentAtMs, Date.now());
    if (pb.state === "playing" && prev?.state !== "playing") this.playingSinceMs = Date.now();
    if (pb.itemId !== prev?.itemId) this.aligner.reset(); // another item: other tracks, other delays
    if (!sameAnchor(pb.videoRtp, prev?.videoRtp) || !sameAnchor(pb.audioRtp, prev?.audioRtp)) {
      // Frames in flight still carry the old timeline: let them drain.
      this.settleUntilMs = Date.now() + SETTLE_MS;
      this.offsets = [];
    }
    if (prev) this.freeze(pb.state === "paused" && prev.state !== "paused" ? true : pb.state === "playing" && prev.state !== "playing" ? false : null);
    this.state.update({ playback: pb });
  }

  /**
   * freeze holds the picture and sound the moment a pause is announced
   * (true) and lets them run again on resume (false); null changes nothing.
   * Every viewer is aligned to the same delay, so all hold the same frame,
   * at once, instead of playing out their buffers for another few hundred ms.
   */
  private freeze(on: boolean | null): void {
    if (on === null) return;
    for (const el of [this.videoEl, this.audioEl]) {
      if (!el) continue;
      if (on) el.pause();
      else
        void el.play().catch(() => {
          if (el === this.audioEl) this.state.update({ audioBlocked: true }); // sound needs a tap again
        });
    }
  }

  private addChat(from: string, text: string, sentAtMs: number, mine: boolean): void {
    const chat = [...this.state.get().chat, { id: ++this.seq, from, text, sentAtMs, mine }].slice(-MAX_CHAT);
    this.state.update({ chat });
  }

  private addReaction(emoji: string, from: string): void {
    const id = ++this.seq;
    const r: Reaction = { id, emoji, from, lane: Math.floor(Math.random() * 6) };
    this.state.update({ reactions: [...this.state.get().reactions, r].slice(-30) });
    window.setTimeout(() => {
      this.state.update({ reactions: this.state.get().reactions.filter((x) => x.id !== id) });
    }, 4000);
  }

  private localState(): ViewerState {
    const st = this.state.get();
    if (st.conn !== "connected" && st.transport !== "hls") return "reconnecting";
    return st.buffering ? "buffering" : "connected";
  }

  private publishSync(): void {
    const room = this.room;
    if (!room || room.state !== ConnectionState.Connected) return;
    const d = this.state.get().delayMs;
    const natural = this.aligner.natural();
    this.publishedNaturalMs = natural;
    void this.publish(TOPIC.sync, {
      type: "sync",
      identity: room.localParticipant.identity,
      delayMs: d === null ? null : Math.round(d),
      state: this.localState(),
      // naturalMs (an addition to the contract's fields) lets every viewer
      // compute the same room target; see aligner.ts.
      naturalMs: natural === null ? null : Math.round(natural),
      // transport (an addition too) lets the others list this viewer as on HLS.
      transport: this.state.get().transport,
    }).catch(() => undefined);
  }

  /**
   * watchdog updates the measured delay and buffering flag, and restarts the
   * connection when media is gone for good: a track ended (its peer
   * connection was closed) or nothing arrived for STALL_RECONNECT_MS while
   * the party plays.
   */
  private watchdog(): void {
    const st = this.state.get();
    const pb = st.playback;
    this.sampleAudio(pb, audioOnly(st));
    if (++this.ticks % 2 === 0) this.align();
    // A big change of this viewer's natural delay (a slow device, a worse
    // network) is told at once, so the others follow within a second.
    const natural = this.aligner.natural();
    if (natural !== null && (this.publishedNaturalMs === null || Math.abs(natural - this.publishedNaturalMs) > SYNC_CHANGE_MS)) this.publishSync();
    const hls = st.transport === "hls";
    const delay = hls ? this.hlsAligner.delay() : this.aligner.delay();
    const playing = pb?.state === "playing" && (st.hasVideo || st.hasAudio);
    // Media is expected from the later of the last frame or sound and the
    // resume: a video track that idles while sound flows is not a stall.
    const sinceFrame = Date.now() - Math.max(this.lastFrameAtMs, this.lastAudioAtMs, this.playingSinceMs);
    const buffering = !hls && playing && this.lastFrameAtMs > 0 && sinceFrame > BUFFERING_AFTER_MS;
    if (delay !== st.delayMs || buffering !== st.buffering) this.state.update({ delayMs: delay, buffering });
    if (!this.room || st.conn !== "connected") return;
    const ended = [this.videoTrack, this.audioTrack].some((t) => t?.mediaStreamTrack.readyState === "ended");
    if (ended) this.restart("media track ended");
    else if (playing && this.lastFrameAtMs > 0 && sinceFrame > STALL_RECONNECT_MS) this.restart("media stalled");
  }

  /**
   * align steers this viewer's delay to the room target (the slowest fresh
   * natural delay, ours included, plus a margin) through both receivers'
   * jitter buffer target.
   */
  private align(): void {
    if (this.state.get().playback?.state !== "playing") return;
    const now = Date.now();
    const naturals = [this.aligner.natural() ?? NaN];
    for (const s of this.remoteSync.values()) {
      if (now - s.atMs < STALE_VIEWER_MS && s.state === "connected") naturals.push(s.naturalMs);
    }
    this.aligner.setTarget(roomTarget(naturals));
    const target = this.aligner.step();
    this.bufferMs = target;
    for (const r of [this.videoTrack?.receiver, this.audioTrack?.receiver]) {
      if (r && "jitterBufferTarget" in r) r.jitterBufferTarget = target;
    }
  }

  private refreshViewers(): void {
    const room = this.room;
    if (!room) return;
    const now = Date.now();
    const viewers: Viewer[] = [];
    const lp = room.localParticipant;
    // One line per person: a person's other tabs are not listed again.
    const listed = new Set<string>([personOf(lp.identity)]);
    if (lp.identity) {
      viewers.push({
        identity: lp.identity,
        name: lp.name || lp.identity,
        role: lp.attributes?.["marquee.role"] ?? "",
        isLocal: true,
        state: this.localState(),
        delayMs: this.state.get().delayMs,
        transport: this.state.get().transport,
      });
    }
    for (const p of room.remoteParticipants.values()) {
      if (isIngest(p) || listed.has(personOf(p.identity))) continue;
      listed.add(personOf(p.identity));
      const s = this.remoteSync.get(p.identity);
      const stale = !s || now - s.atMs > STALE_VIEWER_MS;
      viewers.push({
        identity: p.identity,
        name: p.name || p.identity,
        role: p.attributes?.["marquee.role"] ?? "",
        isLocal: false,
        state: s && stale ? "reconnecting" : (s?.state ?? "connected"),
        delayMs: s && !stale && Number.isFinite(s.delayMs) ? s.delayMs : null,
        transport: s && !stale ? s.transport : undefined,
      });
    }
    this.state.update({ viewers });
  }
}
