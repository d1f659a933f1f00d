package library

import (
	"context"
	"fmt"
)

// MediaRoot is the Root an item's media file must be opened through (its
// local library's folder), and the file's path. Items of remote libraries
// have no local file: ErrNotPlayable.
func (s *Service) MediaRoot(ctx context.Context, it Item) (Root, string, error) {
	lib, err := s.Library(ctx, it.LibraryID)
	if err != nil {
		return Root{}, "", err
	}
	if lib.Source != SourceLocal || it.Path == "" {
		return Root{}, "", fmt.Errorf("%w: item %d is not a local file", ErrNotPlayable, it.ID)
	}
	r, err := NewRoot(lib.Location)
	return r, it.Path, err
}
