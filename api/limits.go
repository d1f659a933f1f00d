package api

import (
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/party"
)

// Any title the library can hold must fit a party and its queue; this
// constant fails to compile (a negative uint) when party.MaxTitleBytes
// drops below library.MaxTitleBytes.
const _ = uint(party.MaxTitleBytes - library.MaxTitleBytes)
