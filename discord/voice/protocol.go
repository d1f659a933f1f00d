package voice

import (
	"encoding/json"
	"fmt"
)

// Voice gateway opcodes ("Opcodes and Status Codes: Voice Opcodes").
const (
	opIdentify           = 0
	opSelectProtocol     = 1
	opReady              = 2
	opHeartbeat          = 3
	opSessionDescription = 4
	opSpeaking           = 5
	opHeartbeatAck       = 6
	opResume             = 7
	opHello              = 8
	opResumed            = 9
)

// Encryption modes ("Transport Encryption Modes"), in our order of preference.
const (
	ModeAES256GCM         = "aead_aes256_gcm_rtpsize"
	ModeXChaCha20Poly1305 = "aead_xchacha20_poly1305_rtpsize"
)

// GatewayVersion is the voice gateway version this client speaks.
const GatewayVersion = 8

// Voice close event codes ("Voice Close Event Codes").
const (
	CloseSessionNoLongerValid = 4006
	CloseSessionTimeout       = 4009
	CloseDisconnected         = 4014
	CloseVoiceServerCrashed   = 4015
	CloseUnknownEncryption    = 4016
	CloseE2EERequired         = 4017
)

// message is one JSON voice gateway payload. Seq is set by v8 servers on
// messages that may be replayed ("Buffered Resume").
type message struct {
	Op  int             `json:"op"`
	D   json.RawMessage `json:"d"`
	Seq *int            `json:"seq,omitempty"`
}

type identifyData struct {
	ServerID               string `json:"server_id"`
	UserID                 string `json:"user_id"`
	SessionID              string `json:"session_id"`
	Token                  string `json:"token"`
	MaxDAVEProtocolVersion int    `json:"max_dave_protocol_version"`
}

type resumeData struct {
	ServerID  string `json:"server_id"`
	SessionID string `json:"session_id"`
	Token     string `json:"token"`
	SeqAck    int    `json:"seq_ack"`
}

type helloData struct {
	HeartbeatInterval float64 `json:"heartbeat_interval"`
}

type readyData struct {
	SSRC  uint32   `json:"ssrc"`
	IP    string   `json:"ip"`
	Port  int      `json:"port"`
	Modes []string `json:"modes"`
}

type selectProtocolData struct {
	Protocol string             `json:"protocol"`
	Data     selectProtocolAddr `json:"data"`
}

type selectProtocolAddr struct {
	Address string `json:"address"`
	Port    int    `json:"port"`
	Mode    string `json:"mode"`
}

type sessionDescriptionData struct {
	Mode string `json:"mode"`
	// SecretKey is the key as Discord sends it: a JSON array of 32 numbers.
	SecretKey           []int `json:"secret_key"`
	DAVEProtocolVersion int   `json:"dave_protocol_version"`
}

type heartbeatData struct {
	T      int64 `json:"t"`
	SeqAck int   `json:"seq_ack"`
}

type speakingData struct {
	Speaking int    `json:"speaking"`
	Delay    int    `json:"delay"`
	SSRC     uint32 `json:"ssrc"`
}

// CloseError is returned by Conn.Run when the voice server closed the
// connection with a code after which reconnecting would not help.
type CloseError struct {
	Code   int
	Reason string
}

// Error names the close code and reason.
func (e *CloseError) Error() string {
	return fmt.Sprintf("voice: server closed the connection with %d (%s)", e.Code, e.Reason)
}

// closeAction says what the client does after the websocket closes.
type closeAction int

const (
	actionResume   closeAction = iota // open a new websocket and send Resume
	actionIdentify                    // open a new websocket and Identify again
	actionStop                        // return a *CloseError
)

// classifyClose maps a close code to the reconnection rule of "Voice Close
// Event Codes". Codes below 4000 (network errors, 1001, 1006, -1 when no close
// frame arrived) are treated like a crash: try to resume.
func classifyClose(code int) closeAction {
	switch code {
	case CloseVoiceServerCrashed:
		return actionResume
	case CloseSessionNoLongerValid, CloseSessionTimeout:
		return actionIdentify
	}
	if code >= 4000 {
		return actionStop
	}
	return actionResume
}
