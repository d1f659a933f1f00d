package discordtest

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// SetVoiceStatePatchStatus makes PATCH /guilds/{id}/voice-states/@me with
// suppress:false answer status (e.g. 403 when the bot lacks MUTE_MEMBERS).
// Requests to speak are always accepted.
func (s *Server) SetVoiceStatePatchStatus(status int) {
	s.mu.Lock()
	s.st.voiceStatePatchStatus = status
	s.mu.Unlock()
}

// restMessage is the body of message creates/edits and interaction data.
type restMessage struct {
	Content    string            `json:"content"`
	Flags      int               `json:"flags"`
	Embeds     []Embed           `json:"embeds"`
	Components []json.RawMessage `json:"components"`
	Choices    []Choice          `json:"choices"`
}

func (m restMessage) buttons() []Button {
	var out []Button
	for _, row := range m.Components {
		var r struct {
			Components []Button `json:"components"`
		}
		if json.Unmarshal(row, &r) == nil {
			out = append(out, r.Components...)
		}
	}
	return out
}

// serveREST answers the REST routes the bot uses under /api/v9/.
func (s *Server) serveREST(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/api/v9/")
	parts := strings.Split(path, "/")
	route := r.Method + " " + parts[0]
	bot := r.Header.Get("Authorization") == "Bot "+s.opts.Token
	switch {
	case route == "GET gateway":
		writeJSON(w, 200, map[string]any{"url": "wss://" + s.addr() + "/gateway/"})
	case parts[0] == "interactions" && len(parts) == 4 && parts[3] == "callback" && r.Method == http.MethodPost:
		s.interactionCallback(w, r, parts[1])
	case parts[0] == "webhooks" && len(parts) >= 3:
		s.webhook(w, r, parts)
	case !bot:
		writeJSON(w, 401, map[string]any{"message": "401: Unauthorized", "code": 0})
	case route == "PUT applications":
		s.registerCommands(w, r)
	case parts[0] == "channels" && len(parts) >= 3 && parts[2] == "messages":
		s.channelMessage(w, r, parts)
	case route == "PATCH guilds" && len(parts) == 4 && parts[2] == "voice-states" && parts[3] == "@me":
		s.voiceStatePatch(w, r, parts[1])
	default:
		writeJSON(w, 404, map[string]any{"message": "404: Not Found", "code": 0})
	}
}

func (s *Server) registerCommands(w http.ResponseWriter, r *http.Request) {
	var cmds []struct {
		Name    string `json:"name"`
		Options []struct {
			Name         string `json:"name"`
			Autocomplete bool   `json:"autocomplete"`
			Options      []struct {
				Name         string `json:"name"`
				Autocomplete bool   `json:"autocomplete"`
			} `json:"options"`
		} `json:"options"`
	}
	if err := json.NewDecoder(r.Body).Decode(&cmds); err != nil {
		writeJSON(w, 400, map[string]any{"message": "Invalid Form Body", "code": 50035})
		return
	}
	var out []Command
	var echo []map[string]any
	s.mu.Lock()
	for _, c := range cmds {
		cmd := Command{Name: c.Name}
		for _, o := range c.Options {
			cmd.Options = append(cmd.Options, o.Name)
			if o.Autocomplete {
				cmd.Autocomplete = append(cmd.Autocomplete, o.Name)
			}
			for _, so := range o.Options {
				if so.Autocomplete {
					cmd.Autocomplete = append(cmd.Autocomplete, o.Name+"."+so.Name)
				}
			}
		}
		out = append(out, cmd)
		echo = append(echo, map[string]any{"id": s.newID(), "application_id": s.opts.ApplicationID, "name": c.Name, "type": 1, "version": "1"})
	}
	s.st.Commands = out
	s.changed()
	s.mu.Unlock()
	writeJSON(w, 200, echo)
}

func (s *Server) interactionCallback(w http.ResponseWriter, r *http.Request, id string) {
	var body struct {
		Type int         `json:"type"`
		Data restMessage `json:"data"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeJSON(w, 400, map[string]any{"message": "Invalid Form Body", "code": 50035})
		return
	}
	s.recordResponse(id, InteractionResponse{Type: body.Type, Content: body.Data.Content, Flags: body.Data.Flags,
		Embeds: body.Data.Embeds, Buttons: body.Data.buttons(), Choices: body.Data.Choices})
	w.WriteHeader(http.StatusNoContent)
}

// webhook handles edits of the original response and follow-ups; the
// interaction token is "itoken-<interaction id>".
func (s *Server) webhook(w http.ResponseWriter, r *http.Request, parts []string) {
	id := strings.TrimPrefix(parts[2], "itoken-")
	var body restMessage
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeJSON(w, 400, map[string]any{"message": "Invalid Form Body", "code": 50035})
		return
	}
	s.recordResponse(id, InteractionResponse{Content: body.Content, Flags: body.Flags, Embeds: body.Embeds, Buttons: body.buttons()})
	s.mu.Lock()
	mid := s.newID()
	s.mu.Unlock()
	writeJSON(w, 200, map[string]any{"id": mid, "channel_id": s.opts.TextChannelID, "content": body.Content})
}

func (s *Server) recordResponse(id string, resp InteractionResponse) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.Responses == nil {
		s.st.Responses = map[string][]InteractionResponse{}
	}
	s.st.Responses[id] = append(s.st.Responses[id], resp)
	s.changed()
}

func (s *Server) channelMessage(w http.ResponseWriter, r *http.Request, parts []string) {
	var body restMessage
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeJSON(w, 400, map[string]any{"message": "Invalid Form Body", "code": 50035})
		return
	}
	channelID := parts[1]
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && len(parts) == 3:
		m := Message{ID: s.newID(), ChannelID: channelID, Content: body.Content, Embeds: body.Embeds, Buttons: body.buttons()}
		s.st.Messages = append(s.st.Messages, m)
		s.changed()
		writeJSON(w, 200, map[string]any{"id": m.ID, "channel_id": channelID, "content": m.Content})
	case r.Method == http.MethodPatch && len(parts) == 4:
		for i := range s.st.Messages {
			m := &s.st.Messages[i]
			if m.ID != parts[3] || m.ChannelID != channelID {
				continue
			}
			if body.Content != "" {
				m.Content = body.Content
			}
			if body.Embeds != nil {
				m.Embeds = body.Embeds
			}
			if body.Components != nil {
				m.Buttons = body.buttons()
			}
			m.Edits++
			s.st.MessageEdits++
			s.changed()
			writeJSON(w, 200, map[string]any{"id": m.ID, "channel_id": channelID, "content": m.Content})
			return
		}
		writeJSON(w, 404, map[string]any{"message": "Unknown Message", "code": 10008})
	default:
		writeJSON(w, 405, map[string]any{"message": "405: Method Not Allowed", "code": 0})
	}
}

// voiceStatePatch implements "Modify Current User Voice State": suppress
// false needs MUTE_MEMBERS (configurable 403); request_to_speak_timestamp is
// accepted. On success the fake dispatches the new VOICE_STATE_UPDATE.
func (s *Server) voiceStatePatch(w http.ResponseWriter, r *http.Request, guildID string) {
	var body struct {
		ChannelID      string  `json:"channel_id"`
		Suppress       *bool   `json:"suppress"`
		RequestToSpeak *string `json:"request_to_speak_timestamp"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || guildID != s.opts.GuildID {
		writeJSON(w, 400, map[string]any{"message": "Invalid Form Body", "code": 50035})
		return
	}
	s.mu.Lock()
	status := http.StatusNoContent
	if body.Suppress != nil && !*body.Suppress {
		status = s.st.voiceStatePatchStatus
	}
	s.st.VoiceStatePatch = append(s.st.VoiceStatePatch, VoiceStatePatch{ChannelID: body.ChannelID, Suppress: body.Suppress,
		RequestToSpeak: body.RequestToSpeak, Status: status})
	s.changed()
	g := s.gw
	sessionID := s.curVoiceSession
	s.mu.Unlock()
	if status >= 300 {
		writeJSON(w, status, map[string]any{"message": "Missing Permissions", "code": 50013})
		return
	}
	w.WriteHeader(status)
	if g != nil && body.Suppress != nil {
		_ = g.dispatch(context.Background(), "VOICE_STATE_UPDATE", map[string]any{
			"guild_id": guildID, "channel_id": body.ChannelID, "user_id": s.opts.BotUserID,
			"session_id": sessionID, "suppress": *body.Suppress, "request_to_speak_timestamp": nil,
		})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// DeleteMessage deletes a channel message, as a moderator would.
func (s *Server) DeleteMessage(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.Messages = slices.DeleteFunc(s.st.Messages, func(m Message) bool { return m.ID == id })
	s.changed()
}
