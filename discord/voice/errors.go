package voice

import "errors"

// Errors returned by the voice client. A *CloseError reports a final close
// code from the voice server.
var (
	// ErrProtocol means the voice server sent something this client cannot use.
	ErrProtocol = errors.New("voice: protocol error")
	// ErrNoCommonMode means the server offers none of our encryption modes.
	ErrNoCommonMode = errors.New("voice: no common encryption mode")
	// ErrIPDiscovery means the UDP IP discovery exchange failed.
	ErrIPDiscovery = errors.New("voice: IP discovery failed")
)
