package voice_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/marquee-party/marquee/discord/discordtest"
	"github.com/marquee-party/marquee/discord/voice"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type harness struct {
	fake *discordtest.Server
	src  *discordtest.OpusClip
	errc chan error
	stop context.CancelFunc
}

func start(t *testing.T, opts discordtest.Options, channel func(discordtest.Options) string) *harness {
	t.Helper()
	fake, err := discordtest.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	cred := fake.NewVoiceSession(channel(fake.Options()))
	src := discordtest.NewOpusClip()
	c, err := voice.New(voice.Params{Endpoint: cred.Endpoint, ServerID: cred.GuildID, UserID: cred.UserID,
		SessionID: cred.SessionID, Token: cred.Token, HTTPClient: fake.HTTPClient(), Source: src})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{fake: fake, src: src, errc: make(chan error, 1), stop: cancel}
	go func() { h.errc <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-h.errc:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return")
		}
		fake.Close()
	})
	return h
}

func stage(o discordtest.Options) string { return o.StageChannelID }

func (h *harness) wait(t *testing.T, what string, cond func(*discordtest.State) bool) *discordtest.State {
	t.Helper()
	if err := h.fake.Wait(15*time.Second, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
	return h.fake.Snapshot()
}

func TestDeliversPacedAudio(t *testing.T) {
	for _, tc := range []struct {
		name  string
		modes []string
	}{
		{"aes256gcm preferred", nil},
		{"xchacha20 when only offered", []string{voice.ModeXChaCha20Poly1305}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t, discordtest.Options{VoiceModes: tc.modes, HeartbeatInterval: 200 * time.Millisecond}, stage)
			st := h.wait(t, "100 audio packets", func(s *discordtest.State) bool { return len(s.AudioPackets()) >= 100 })
			want := voice.ModeAES256GCM
			if tc.modes != nil {
				want = voice.ModeXChaCha20Poly1305
			}
			if st.Mode != want {
				t.Errorf("mode = %q, want %q", st.Mode, want)
			}
			if st.Discoveries == 0 || st.BadPackets != 0 {
				t.Errorf("discoveries = %d, bad packets = %d", st.Discoveries, st.BadPackets)
			}
			if len(st.Speaking) == 0 || st.Speaking[0] != 1 {
				t.Errorf("speaking = %v, want a first 1", st.Speaking)
			}
			pkts := st.AudioPackets()
			missing := 0
			for i, p := range pkts {
				if !p.ValidOpus {
					t.Fatalf("packet %d: invalid Opus % x", i, p.Opus)
				}
				if i == 0 {
					continue
				}
				// Loopback UDP may drop a few packets on a loaded machine;
				// sequence numbers must still only move forward.
				step := p.Seq - pkts[i-1].Seq
				if step == 0 || step > 10 {
					t.Fatalf("packet %d: seq %d after %d", i, p.Seq, pkts[i-1].Seq)
				}
				missing += int(step) - 1
			}
			if missing > len(pkts)/10 {
				t.Errorf("%d of %d packets missing", missing, len(pkts))
			}
			if med := discordtest.MedianInterval(pkts); med < 15*time.Millisecond || med > 25*time.Millisecond {
				t.Errorf("median interval = %v, want about 20 ms", med)
			}
			st = h.wait(t, "a heartbeat acking the binary message", func(s *discordtest.State) bool {
				return len(s.HeartbeatAcks) > 0 && s.HeartbeatAcks[len(s.HeartbeatAcks)-1] == s.VoiceSeq
			})
			if st.VoiceSeq < 3 {
				t.Errorf("voice seq = %d, want ≥ 3 (ready, session description, binary)", st.VoiceSeq)
			}
		})
	}
}

func TestPauseSendsFiveSilenceFramesThenStops(t *testing.T) {
	h := start(t, discordtest.Options{}, stage)
	h.wait(t, "audio", func(s *discordtest.State) bool { return len(s.AudioPackets()) >= 10 })
	h.src.SetPaused(true)
	h.wait(t, "speaking off", func(s *discordtest.State) bool {
		return len(s.Speaking) >= 2 && s.Speaking[len(s.Speaking)-1] == 0
	})
	time.Sleep(100 * time.Millisecond) // let in-flight UDP land
	n := len(h.fake.Snapshot().Packets)
	time.Sleep(200 * time.Millisecond) // nothing more may arrive while paused
	st := h.fake.Snapshot()
	if len(st.Packets) != n {
		t.Fatalf("%d packets arrived while paused", len(st.Packets)-n)
	}
	if span, silent := st.SilenceTail(); span != 5 || !silent {
		t.Fatalf("after the last audio: %d packets by seq, all silence %v; want 5 silence frames", span, silent)
	}
	h.src.SetPaused(false)
	h.wait(t, "audio after resume", func(s *discordtest.State) bool {
		return len(s.Packets) > n+10 && s.Speaking[len(s.Speaking)-1] == 1
	})
}

func TestResumesAfter4015(t *testing.T) {
	h := start(t, discordtest.Options{HeartbeatInterval: 300 * time.Millisecond}, stage)
	h.wait(t, "audio", func(s *discordtest.State) bool { return len(s.AudioPackets()) >= 10 })
	seq := h.fake.Snapshot().VoiceSeq
	h.fake.CloseVoice(4015)
	st := h.wait(t, "a resume", func(s *discordtest.State) bool { return len(s.VoiceResumes) == 1 })
	if st.VoiceResumes[0] != seq {
		t.Errorf("resume seq_ack = %d, want %d", st.VoiceResumes[0], seq)
	}
	n := len(st.AudioPackets())
	st = h.wait(t, "audio after resume", func(s *discordtest.State) bool { return len(s.AudioPackets()) >= n+25 })
	if st.VoiceIdentifies != 1 || st.BadPackets != 0 {
		t.Errorf("identifies = %d (want 1: resumed, not re-identified), bad packets = %d", st.VoiceIdentifies, st.BadPackets)
	}
}

func TestReidentifiesAfter4006(t *testing.T) {
	h := start(t, discordtest.Options{}, stage)
	h.wait(t, "audio", func(s *discordtest.State) bool { return len(s.AudioPackets()) >= 5 })
	h.fake.CloseVoice(4006)
	st := h.wait(t, "second identify", func(s *discordtest.State) bool { return s.VoiceIdentifies == 2 })
	n := len(st.AudioPackets())
	st = h.wait(t, "audio after identify", func(s *discordtest.State) bool { return len(s.AudioPackets()) >= n+10 })
	if len(st.VoiceResumes) != 0 {
		t.Errorf("resumes = %v, want none after 4006", st.VoiceResumes)
	}
}

func TestDAVERequiredIsFinal(t *testing.T) {
	h := start(t, discordtest.Options{}, func(o discordtest.Options) string { return o.VoiceChannelID })
	select {
	case err := <-h.errc:
		var ce *voice.CloseError
		if !errors.As(err, &ce) || ce.Code != voice.CloseE2EERequired {
			t.Fatalf("Run = %v, want CloseError 4017", err)
		}
		h.errc <- nil // for cleanup
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return after 4017")
	}
	if st := h.fake.Snapshot(); st.VoiceIdentifies != 1 {
		t.Errorf("identifies = %d, want 1 (no reconnect loop)", st.VoiceIdentifies)
	}
}
