package cdn

import "errors"

// Errors returned by the signer and the node. Viewer-facing failures are
// answered as JSON {"code","message"}; the codes are listed in node.go.
var (
	// ErrMissingSignature means the URL carries no exp or sig parameter.
	ErrMissingSignature = errors.New("cdn: URL is not signed")
	// ErrBadSignature means the signature does not match the path and expiry,
	// or the exp/sig parameters are malformed or repeated.
	ErrBadSignature = errors.New("cdn: bad URL signature")
	// ErrExpired means a correctly signed URL is past its expiry.
	ErrExpired = errors.New("cdn: signed URL has expired")
	// ErrWeakSecret means the URL signing secret is shorter than MinSecretLen.
	ErrWeakSecret = errors.New("cdn: URL signing secret too short")
	// ErrOrigin means the origin could not be reached or answered with an
	// error; the viewer gets a 502.
	ErrOrigin = errors.New("cdn: origin failed")
)
