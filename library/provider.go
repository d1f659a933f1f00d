package library

import (
	"context"
	"errors"
)

// ErrNoMatch is returned by a Provider that found nothing for a query.
var ErrNoMatch = errors.New("library: no provider match")

// Provider looks up metadata for movies and shows from an outside catalog
// (TMDB, see package library/tmdb). Providers are off unless passed in
// Params.Providers; their answers fill only empty fields, never manual edits.
type Provider interface {
	// Name is a short lower-case id ("tmdb"), used as the ExternalIDs key.
	Name() string
	// Lookup returns the best match for q, or an error wrapping ErrNoMatch.
	Lookup(ctx context.Context, q LookupQuery) (Metadata, error)
}

// LookupQuery is what the scanner knows about an item before a lookup.
type LookupQuery struct {
	// Kind is ItemMovie or ItemShow.
	Kind  ItemKind
	Title string
	Year  int
	// IDs are ids already known (from .nfo sidecars), keyed by provider.
	IDs map[string]string
}

// Metadata is a provider's answer.
type Metadata struct {
	Title          string
	Year           int
	Summary        string
	Genres         []string
	RuntimeMinutes int
	// IDs holds the provider's own id and any cross-references (imdb...).
	IDs map[string]string
	// PosterURL is an absolute URL of a poster image, if any.
	PosterURL string
}

// PosterFetcher is implemented by providers that can download the images
// their Metadata.PosterURL points at. The scanner uses it for items with
// no poster of their own, before falling back to a grabbed frame.
type PosterFetcher interface {
	FetchPoster(ctx context.Context, url string) ([]byte, error)
}
