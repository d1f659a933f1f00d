package library

import (
	"context"
	"strings"
)

// Names the scanner gives the containers of music it cannot place; they
// are not credits worth showing.
const (
	unknownArtist = "Unknown artist"
	unknownAlbum  = "Unknown album"
)

// Credits say who made a piece of music and on which album, so that a
// player can show them beside the track title without browsing the
// library (party guests may not).
type Credits struct {
	Artist string
	Album  string
}

// Credits returns the artist and album of a track (its own artist tag,
// else its artist folder or tag; its album) or of an album. Other kinds,
// and names the library does not know, give empty strings.
func (s *Service) Credits(ctx context.Context, it Item) Credits {
	var c Credits
	album := it
	switch it.Kind {
	case ItemTrack:
		if it.Media != nil {
			c.Artist = strings.TrimSpace(it.Media.Tags["artist"])
		}
		parent, err := s.Item(ctx, it.ParentID)
		if it.ParentID == 0 || err != nil || parent.Kind != ItemAlbum {
			return c.known()
		}
		album = parent
	case ItemAlbum:
	default:
		return Credits{}
	}
	c.Album = album.Title
	if c.Artist == "" && album.ParentID != 0 {
		if artist, err := s.Item(ctx, album.ParentID); err == nil && artist.Kind == ItemArtist {
			c.Artist = artist.Title
		}
	}
	return c.known()
}

func (c Credits) known() Credits {
	if c.Artist == unknownArtist {
		c.Artist = ""
	}
	if c.Album == unknownAlbum {
		c.Album = ""
	}
	return c
}
