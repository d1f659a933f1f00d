package discordtest

import (
	"maps"
	"slices"
	"sort"
	"strconv"
	"time"
)

// State is what the fake has seen and answered. Wait and Snapshot hand out
// copies.
type State struct {
	// Main gateway.
	Identifies int
	Resumes    int
	Intents    int
	VoiceJoins []VoiceJoin // opcode 4 Voice State Updates received

	// REST.
	Commands        []Command                        // last registered command set
	Responses       map[string][]InteractionResponse // by interaction id: callback, then edits
	Messages        []Message                        // channel messages, edits applied
	MessageEdits    int
	VoiceStatePatch []VoiceStatePatch

	// Voice gateway.
	VoiceIdentifies int
	VoiceResumes    []int // seq_ack of each Resume
	VoiceCloses     []int // close codes the fake sent
	HeartbeatAcks   []int // seq_ack of each voice Heartbeat
	VoiceSeq        int   // last sequence number the voice server sent
	Mode            string
	Speaking        []int // speaking flags received

	// Voice UDP.
	Discoveries int
	Packets     []Packet
	BadPackets  int // failed to decrypt or parse

	voiceStatePatchStatus int
}

func (st *State) snapshot() *State {
	c := *st
	c.VoiceJoins = slices.Clone(st.VoiceJoins)
	c.Commands = slices.Clone(st.Commands)
	c.Responses = maps.Clone(st.Responses)
	c.Messages = slices.Clone(st.Messages)
	c.VoiceStatePatch = slices.Clone(st.VoiceStatePatch)
	c.VoiceResumes = slices.Clone(st.VoiceResumes)
	c.VoiceCloses = slices.Clone(st.VoiceCloses)
	c.HeartbeatAcks = slices.Clone(st.HeartbeatAcks)
	c.Speaking = slices.Clone(st.Speaking)
	c.Packets = slices.Clone(st.Packets)
	return &c
}

// VoiceJoin is one opcode 4 Voice State Update from the bot.
type VoiceJoin struct {
	GuildID   string
	ChannelID string // empty: leave
}

// Command is a registered application command (name and sub-commands).
type Command struct {
	Name         string
	Options      []string // sub-command or option names
	Autocomplete []string // names of options with autocomplete
}

// InteractionResponse is a callback or an edit of the original response.
type InteractionResponse struct {
	Type    int // 4 message, 5 deferred, 8 autocomplete result; 0 for edits
	Content string
	Flags   int
	Embeds  []Embed
	Buttons []Button
	Choices []Choice
}

// Choice is one autocomplete choice.
type Choice struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
}

// Message is a channel message as last edited.
type Message struct {
	ID        string
	ChannelID string
	Content   string
	Embeds    []Embed
	Buttons   []Button
	Edits     int
}

// Embed holds the embed fields tests look at.
type Embed struct {
	Title       string       `json:"title"`
	Description string       `json:"description"`
	URL         string       `json:"url"`
	Fields      []EmbedField `json:"fields"`
	Image       *struct {
		URL string `json:"url"`
	} `json:"image"`
	Thumbnail *struct {
		URL string `json:"url"`
	} `json:"thumbnail"`
	Footer *struct {
		Text string `json:"text"`
	} `json:"footer"`
}

// EmbedField is one embed field.
type EmbedField struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Button is a button component; link buttons (style 5) carry a URL.
type Button struct {
	Label string `json:"label"`
	Style int    `json:"style"`
	URL   string `json:"url"`
}

// VoiceStatePatch is one PATCH /guilds/{id}/voice-states/@me.
type VoiceStatePatch struct {
	ChannelID      string
	Suppress       *bool
	RequestToSpeak *string
	Status         int // HTTP status the fake answered
}

// Packet is one decrypted voice RTP packet.
type Packet struct {
	Arrival   time.Time
	Seq       uint16
	Timestamp uint32
	SSRC      uint32
	Opus      []byte
	Silence   bool // the F8 FF FE silence frame
	ValidOpus bool // TOC parses and the packet holds 20 ms (RFC 6716 §3.1)
}

// AudioPackets returns the packets that are not silence frames.
func (st *State) AudioPackets() []Packet {
	var out []Packet
	for _, p := range st.Packets {
		if !p.Silence {
			out = append(out, p)
		}
	}
	return out
}

// MedianInterval is the median arrival gap between consecutive packets.
func MedianInterval(pkts []Packet) time.Duration {
	if len(pkts) < 2 {
		return 0
	}
	gaps := make([]time.Duration, 0, len(pkts)-1)
	for i := 1; i < len(pkts); i++ {
		gaps = append(gaps, pkts[i].Arrival.Sub(pkts[i-1].Arrival))
	}
	sort.Slice(gaps, func(i, j int) bool { return gaps[i] < gaps[j] })
	return gaps[len(gaps)/2]
}

// MessagesIn returns the messages of one channel.
func (st *State) MessagesIn(channelID string) []Message {
	var out []Message
	for _, m := range st.Messages {
		if m.ChannelID == channelID {
			out = append(out, m)
		}
	}
	return out
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// SilenceTail describes the packets after the last audio packet: how many
// sequence numbers they span (robust to a lost packet in the middle) and
// whether all that arrived are silence frames.
func (st *State) SilenceTail() (span int, allSilence bool) {
	last := -1
	for i, p := range st.Packets {
		if !p.Silence {
			last = i
		}
	}
	if last < 0 || last == len(st.Packets)-1 {
		return 0, true
	}
	for _, p := range st.Packets[last+1:] {
		if !p.Silence {
			return 0, false
		}
	}
	return int(st.Packets[len(st.Packets)-1].Seq - st.Packets[last].Seq), true
}
