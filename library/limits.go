package library

import (
	"fmt"
	"unicode/utf8"
)

// Limits of an item's text fields, in bytes of UTF-8. They are the one
// definition: edits beyond them are refused (EditItem, and the API's 400
// names the field and limit), scanned and imported metadata is cut to
// them at a character boundary (with a note in the scan log), and party
// queues accept any title the library can hold (api checks
// party.MaxTitleBytes >= MaxTitleBytes at compile time).
const (
	// MaxTitleBytes bounds titles and sort titles, and the composed names
	// DisplayTitle and Target.Title give ("Show – S01E02 – Name").
	MaxTitleBytes = 300
	// MaxSummaryBytes bounds summaries (plots).
	MaxSummaryBytes = 10_000
	// MaxGenres and MaxGenreBytes bound an item's genre list.
	MaxGenres     = 32
	MaxGenreBytes = 100
	// MaxExternalIDs and MaxExternalIDBytes bound provider ids (key and value).
	MaxExternalIDs     = 16
	MaxExternalIDBytes = 100
)

// FieldError says which field of an edit is out of bounds; it wraps
// ErrInvalid.
type FieldError struct {
	Field string
	Limit int
	Msg   string
}

func (e *FieldError) Error() string { return fmt.Sprintf("%v: %s %s", ErrInvalid, e.Field, e.Msg) }

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Truncate cuts s to at most max bytes without splitting a UTF-8
// character (invalid bytes at the cut are dropped too), and reports
// whether it cut.
func Truncate(s string, max int) (string, bool) {
	if len(s) <= max {
		return s, false
	}
	s = s[:max]
	for len(s) > 0 {
		r, size := utf8.DecodeLastRuneInString(s)
		if r != utf8.RuneError || size > 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return s, true
}

// checkEdit refuses an edit with a field beyond its limit.
func checkEdit(e Edit) error {
	tooLong := func(field string, v *string, max int) error {
		if v != nil && len(*v) > max {
			return &FieldError{Field: field, Limit: max, Msg: fmt.Sprintf("must be at most %d bytes (got %d)", max, len(*v))}
		}
		return nil
	}
	if err := tooLong("title", e.Title, MaxTitleBytes); err != nil {
		return err
	}
	if err := tooLong("sortTitle", e.SortTitle, MaxTitleBytes); err != nil {
		return err
	}
	if err := tooLong("summary", e.Summary, MaxSummaryBytes); err != nil {
		return err
	}
	if e.Genres != nil {
		if len(*e.Genres) > MaxGenres {
			return &FieldError{Field: "genres", Limit: MaxGenres, Msg: fmt.Sprintf("must list at most %d genres (got %d)", MaxGenres, len(*e.Genres))}
		}
		for _, g := range *e.Genres {
			if err := tooLong("genres", &g, MaxGenreBytes); err != nil {
				return err
			}
		}
	}
	return nil
}

// clamp cuts a scanned or imported row's text to the limits and returns a
// note per field it cut, for the scan log.
func (r *itemRow) clamp() []string {
	var notes []string
	cut := func(field string, v *string, max int) {
		if s, ok := Truncate(*v, max); ok {
			notes = append(notes, fmt.Sprintf("%s cut from %d to %d bytes", field, len(*v), len(s)))
			*v = s
		}
	}
	cut("title", &r.title, MaxTitleBytes)
	cut("sort title", &r.sortTitle, MaxTitleBytes)
	cut("summary", &r.summary, MaxSummaryBytes)
	if len(r.genres) > MaxGenres {
		notes = append(notes, fmt.Sprintf("genres cut from %d to %d", len(r.genres), MaxGenres))
		r.genres = r.genres[:MaxGenres]
	}
	for i := range r.genres {
		cut("genre", &r.genres[i], MaxGenreBytes)
	}
	if len(r.externalIDs) > MaxExternalIDs || anyLonger(r.externalIDs, MaxExternalIDBytes) {
		kept := map[string]string{}
		for k, v := range r.externalIDs {
			if len(kept) < MaxExternalIDs && len(k) <= MaxExternalIDBytes && len(v) <= MaxExternalIDBytes {
				kept[k] = v
			}
		}
		notes = append(notes, fmt.Sprintf("external ids cut from %d to %d", len(r.externalIDs), len(kept)))
		r.externalIDs = kept
	}
	return notes
}

func anyLonger(m map[string]string, max int) bool {
	for k, v := range m {
		if len(k) > max || len(v) > max {
			return true
		}
	}
	return false
}
