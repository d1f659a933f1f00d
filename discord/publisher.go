package discord

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/marquee-party/marquee/discord/voice"
)

const (
	// joinTimeout bounds the wait for VOICE_STATE_UPDATE and
	// VOICE_SERVER_UPDATE after opcode 4.
	joinTimeout = 15 * time.Second
	// maxVoiceAttempts bounds reconnects that keep failing: no crash loop.
	maxVoiceAttempts = 5
)

// voiceLoop plays the party's audio in its voice channel, rejoining after
// failures that may pass, and telling the channel about the ones that won't.
func (ps *partySession) voiceLoop(ctx context.Context) {
	src := &reopeningSource{ps: ps}
	defer src.close()
	attempts := 0
	for ctx.Err() == nil {
		started := time.Now()
		sessions := ps.b.gatewaySessions()
		err := ps.voiceSession(ctx, src)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, ErrVoiceDisconnected) && ps.b.gatewaySessions() != sessions {
			// The gateway identified again, which drops voice sessions
			// ("4014 ... the main gateway session was dropped"): rejoin.
			ps.log.Info("gateway session changed; rejoining voice")
			continue
		}
		switch {
		case errors.Is(err, ErrDAVERequired):
			ps.b.m.voiceErrors.WithLabelValues("dave_required").Inc()
			ps.report(ctx, "dave", err, "🔒 Discord requires end-to-end encryption (DAVE) for audio in normal voice channels, "+
				"which Marquee doesn't support yet, so I can't play the audio in <#"+ps.voiceChannelID+">. "+
				"Please use a **Stage channel** instead: `/party stop`, then `/party start` with `channel:` set to a Stage. "+
				"The party goes on in the browser: "+ps.invite)
			return
		case errors.Is(err, ErrVoiceDisconnected):
			ps.b.m.voiceErrors.WithLabelValues("disconnected").Inc()
			ps.report(ctx, "disconnected", err, "I was disconnected from <#"+ps.voiceChannelID+">, so the audio stopped there. "+
				"The party goes on in the browser: "+ps.invite)
			return
		case errors.Is(err, ErrMissingPermission):
			ps.b.m.voiceErrors.WithLabelValues("permission").Inc()
			ps.report(ctx, "join", err, "I couldn't join <#"+ps.voiceChannelID+">. Please give me the **Connect** and **Speak** "+
				"permissions there. The party goes on in the browser: "+ps.invite)
			return
		}
		ps.b.m.voiceErrors.WithLabelValues("other").Inc()
		if time.Since(started) > time.Minute {
			attempts = 0
		}
		attempts++
		ps.log.Warn("voice connection failed", "err", err, "attempt", attempts)
		if attempts >= maxVoiceAttempts {
			ps.report(ctx, "voice", err, "The audio connection to Discord keeps failing, so I stopped trying. "+
				"The party goes on in the browser: "+ps.invite)
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(attempts) * time.Second):
		}
	}
}

// openSource subscribes to the party room's audio, retrying while the room
// is being set up.
func (ps *partySession) openSource(ctx context.Context) (OpusSource, error) {
	delay := 500 * time.Millisecond
	for {
		src, err := ps.b.p.Audio.Open(ctx, ps.room)
		if err == nil {
			return src, nil
		}
		ps.log.Warn("opening the party audio failed", "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 30*time.Second)
	}
}

// reopeningSource opens the party audio on first use and opens it again
// when it ends (SFU restart, room reset), so the voice connection never
// runs dry for good. Only one voice connection reads it at a time.
type reopeningSource struct {
	ps  *partySession
	cur OpusSource
}

// NextFrame implements voice.Source. When the audio ends it returns a pause
// marker (silence frames go out at once) and reopens on the next call.
func (r *reopeningSource) NextFrame(ctx context.Context) (voice.Frame, error) {
	if r.cur == nil {
		src, err := r.ps.openSource(ctx)
		if err != nil {
			return voice.Frame{}, err
		}
		r.cur = src
	}
	f, err := r.cur.NextFrame(ctx)
	if err == nil || ctx.Err() != nil {
		return f, err
	}
	r.ps.log.Warn("party audio ended; reopening", "err", err)
	r.close()
	return voice.Frame{Pause: true}, nil
}

func (r *reopeningSource) close() {
	if r.cur != nil {
		_ = r.cur.Close()
		r.cur = nil
	}
}

// voiceCreds are the two halves of a voice session.
type voiceCreds struct {
	sessionID, token, endpoint string
	suppressed                 bool
}

// voiceSession joins the channel and runs voice connections until one fails
// for good, following new VOICE_SERVER_UPDATEs (region moves, gateway
// re-identifies) without leaving.
func (ps *partySession) voiceSession(ctx context.Context, src voice.Source) error {
	creds, err := ps.join(ctx)
	if err != nil {
		return err
	}
	if creds.suppressed && ps.isStage() {
		ps.unsuppress(ctx)
	}
	for {
		cctx, cancel := context.WithCancel(ctx)
		errc := make(chan error, 1)
		conn, err := voice.New(voice.Params{Endpoint: creds.endpoint, ServerID: ps.guildID, UserID: ps.b.botUserID(),
			SessionID: creds.sessionID, Token: creds.token, HTTPClient: ps.b.http, Modes: ps.b.cfg.Voice.Modes,
			Source: src, Logger: ps.log, Metrics: ps.b.m.voice})
		if err != nil {
			cancel()
			return err
		}
		go func() { errc <- conn.Run(cctx) }()
		restart := false
		for !restart {
			select {
			case err := <-errc:
				cancel()
				return voiceError(err)
			case <-ctx.Done():
				cancel()
				<-errc
				return nil
			case ev := <-ps.voiceEvents:
				switch {
				case ev.server != nil && ev.server.Endpoint != "" && (ev.server.Token != creds.token || ev.server.Endpoint != creds.endpoint):
					creds.token, creds.endpoint = ev.server.Token, ev.server.Endpoint
					restart = true
				case ev.state != nil && ev.state.ChannelID == "":
					cancel()
					<-errc
					return ErrVoiceDisconnected
				case ev.state != nil && ev.state.SessionID != "" && ev.state.SessionID != creds.sessionID:
					creds.sessionID = ev.state.SessionID
				case ev.state != nil && ev.state.Suppress && ev.state.RequestToSpeakTimestamp == nil && ps.isStage():
					ps.unsuppress(ctx) // moved back to the audience
				}
			}
		}
		cancel()
		<-errc
		ps.log.Info("voice server changed; reconnecting")
	}
}

// voiceError maps final voice close codes to the package's errors.
func voiceError(err error) error {
	var ce *voice.CloseError
	if errors.As(err, &ce) {
		switch ce.Code {
		case voice.CloseE2EERequired:
			return fmt.Errorf("%w (close code %d)", ErrDAVERequired, ce.Code)
		case voice.CloseDisconnected, 4022:
			return fmt.Errorf("%w (close code %d)", ErrVoiceDisconnected, ce.Code)
		}
	}
	if err == nil {
		return errors.New("discord: voice connection ended")
	}
	return err
}

// join sends opcode 4 and waits for both VOICE_STATE_UPDATE and
// VOICE_SERVER_UPDATE ("Connecting to Voice").
func (ps *partySession) join(ctx context.Context) (voiceCreds, error) {
	for drained := false; !drained; {
		select {
		case <-ps.voiceEvents:
		default:
			drained = true
		}
	}
	if err := ps.b.setVoiceChannel(ps.guildID, ps.voiceChannelID); err != nil {
		return voiceCreds{}, fmt.Errorf("discord: voice join: %w", err)
	}
	var c voiceCreds
	timeout := time.NewTimer(joinTimeout)
	defer timeout.Stop()
	for c.sessionID == "" || c.endpoint == "" {
		select {
		case <-ctx.Done():
			return c, ctx.Err()
		case <-timeout.C:
			return c, fmt.Errorf("%w: no voice session for channel %s (Connect permission, or channel full)", ErrMissingPermission, ps.voiceChannelID)
		case ev := <-ps.voiceEvents:
			if ev.state != nil && ev.state.ChannelID == ps.voiceChannelID {
				c.sessionID, c.suppressed = ev.state.SessionID, ev.state.Suppress
			}
			if ev.server != nil && ev.server.Endpoint != "" {
				c.token, c.endpoint = ev.server.Token, ev.server.Endpoint
			}
		}
	}
	return c, nil
}

func (ps *partySession) isStage() bool {
	ch, err := ps.b.sess().State.Channel(ps.voiceChannelID)
	return err == nil && ch.Type == discordgo.ChannelTypeGuildStageVoice
}

// unsuppress makes the bot a Stage speaker with "Modify Current User Voice
// State" (suppress:false, needs MUTE_MEMBERS). If refused, it raises its hand
// (request_to_speak_timestamp) and says so in the text channel.
func (ps *partySession) unsuppress(ctx context.Context) {
	ps.mu.Lock()
	refused := ps.notified["stage"]
	ps.mu.Unlock()
	if refused {
		return // hand raised already; a moderator brings us up
	}
	url := discordgo.EndpointGuild(ps.guildID) + "/voice-states/@me"
	_, err := ps.b.sess().RequestWithBucketID("PATCH", url, map[string]any{"channel_id": ps.voiceChannelID, "suppress": false}, url,
		discordgo.WithContext(ctx))
	if err == nil {
		return
	}
	if !isForbidden(err) {
		ps.log.Warn("becoming a Stage speaker failed", "err", err)
		return
	}
	_, rerr := ps.b.sess().RequestWithBucketID("PATCH", url, map[string]any{"channel_id": ps.voiceChannelID,
		"request_to_speak_timestamp": time.Now().UTC().Format(time.RFC3339)}, url, discordgo.WithContext(ctx))
	msg := "✋ I can't make myself a speaker on <#" + ps.voiceChannelID + ">: I need the **Mute Members** permission " +
		"(or be a Stage moderator). I've requested to speak — a Stage moderator can invite me up, then you'll hear the party."
	if rerr != nil {
		msg = "I can't make myself a speaker on <#" + ps.voiceChannelID + ">: I need the **Mute Members** permission " +
			"(or be a Stage moderator), and requesting to speak failed too."
	}
	ps.report(ctx, "stage", fmt.Errorf("%w: MUTE_MEMBERS to speak on the Stage", ErrMissingPermission), msg)
}
