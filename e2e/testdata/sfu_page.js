// Test page for the SFU browser tests: drives livekit-client (UMD global
// LivekitClient) with its default options. State lives on window.state.
window.state = { data: [], reconnecting: 0, reconnected: 0, tracks: 0, disconnected: 0, errors: [] };

function watch(room) {
  const E = LivekitClient.RoomEvent;
  room.on(E.DataReceived, (payload, participant, kind, topic) => {
    state.data.push({ text: new TextDecoder().decode(payload), from: participant && participant.identity, topic });
  });
  room.on(E.Reconnecting, () => state.reconnecting++);
  room.on(E.SignalReconnecting, () => state.reconnecting++);
  room.on(E.Reconnected, () => state.reconnected++);
  room.on(E.Disconnected, (reason) => { state.disconnected++; state.disconnectReason = reason; });
  room.on(E.TrackSubscribed, (track) => {
    state.tracks++;
    if (track.kind === 'audio') state.audio = track;
    if (track.kind === 'video') {
      state.video = track;
      const el = track.attach();
      el.muted = true;
      el.style.width = '640px';
      document.body.appendChild(el);
    }
  });
}

async function startPublisher(url, token) {
  const room = new LivekitClient.Room();
  window.room = room;
  watch(room);
  await room.connect(url, token);
  const canvas = document.createElement('canvas');
  canvas.width = 640; canvas.height = 360;
  document.body.appendChild(canvas);
  const g = canvas.getContext('2d');
  let n = 0;
  setInterval(() => {
    g.fillStyle = `hsl(${(n * 5) % 360}, 70%, 45%)`;
    g.fillRect(0, 0, 640, 360);
    g.fillStyle = '#fff';
    g.font = '48px sans-serif';
    g.fillText('marquee frame ' + n++, 40, 190);
  }, 33);
  const track = canvas.captureStream(30).getVideoTracks()[0];
  await room.localParticipant.publishTrack(track, { name: 'video', source: LivekitClient.Track.Source.Camera });
  return room.localParticipant.sid;
}

// publishTone adds a WebAudio oscillator as a microphone track.
async function publishTone() {
  const ctx = new AudioContext();
  const osc = ctx.createOscillator();
  const dest = ctx.createMediaStreamDestination();
  osc.connect(dest);
  osc.start();
  const track = dest.stream.getAudioTracks()[0];
  await room.localParticipant.publishTrack(track, { name: 'audio', source: LivekitClient.Track.Source.Microphone });
}

async function startViewer(url, token, options) {
  const room = new LivekitClient.Room(options || {});
  window.room = room;
  watch(room);
  await room.connect(url, token);
  return room.localParticipant.sid;
}

async function sendData(text, topic) {
  await room.localParticipant.publishData(new TextEncoder().encode(text), { reliable: true, topic });
}

async function framesDecoded() {
  if (!state.video || !state.video.receiver) return 0;
  const stats = await state.video.receiver.getStats();
  let n = 0;
  stats.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') n = s.framesDecoded || 0; });
  return n;
}

async function frameWidth() {
  if (!state.video || !state.video.receiver) return 0;
  const stats = await state.video.receiver.getStats();
  let w = 0;
  stats.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') w = s.frameWidth || 0; });
  return w;
}

async function audioPacketsReceived() {
  if (!state.audio || !state.audio.receiver) return 0;
  const stats = await state.audio.receiver.getStats();
  let n = 0;
  stats.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'audio') n = s.packetsReceived || 0; });
  return n;
}

function usedFallback() {
  return !!(room.engine && room.engine.client && room.engine.client.useV0SignalPath);
}

// audioStats is the viewer's audio inbound-rtp: the codec it decodes
// (audio/red when the SFU sends RED), samples played and concealed.
async function audioStats() {
  const out = { mime: '', packets: 0, lost: 0, samples: 0, concealed: 0 };
  if (!state.audio || !state.audio.receiver) return out;
  const stats = await state.audio.receiver.getStats();
  let codecId = '';
  stats.forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'audio') {
      out.packets = s.packetsReceived || 0;
      out.lost = s.packetsLost || 0;
      out.samples = s.totalSamplesReceived || 0;
      out.concealed = s.concealedSamples || 0;
      codecId = s.codecId;
    }
  });
  stats.forEach((s) => { if (s.id === codecId) out.mime = s.mimeType; });
  return out;
}
