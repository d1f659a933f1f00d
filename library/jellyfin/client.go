// Package jellyfin imports a Jellyfin server's libraries into the Marquee
// catalog through Jellyfin's REST API (https://api.jellyfin.org) with an API
// key, and resolves imported items into the ingest's playback contract.
//
// The key travels in the "Authorization: MediaBrowser Token=..." header on
// API calls, and as the api_key query parameter only inside the stream and
// download URLs handed to the ingest (which cannot send headers). It is
// never logged and never put in returned errors.
package jellyfin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Errors of the client.
var (
	// ErrUnauthorized means Jellyfin refused the API key.
	ErrUnauthorized = errors.New("jellyfin: API key refused")
	// ErrNoUser means the server has no user to import as.
	ErrNoUser = errors.New("jellyfin: no user")
	// ErrNoView means the named library (view) does not exist for the user.
	ErrNoView = errors.New("jellyfin: no such library")
)

// StatusError is an unexpected HTTP status from Jellyfin.
type StatusError struct {
	Path   string
	Status int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("jellyfin: GET %s: HTTP %d", e.Path, e.Status)
}

// Config configures a Client.
type Config struct {
	// BaseURL of the server, e.g. http://jellyfin.lan:8096.
	BaseURL string
	APIKey  string
	// UserID selects whose views and played state are used; empty picks the
	// first administrator.
	UserID string
	// HTTPClient defaults to a client with a 30 s timeout.
	HTTPClient *http.Client
}

// Client talks to one Jellyfin server. It is safe for concurrent use.
type Client struct {
	cfg  Config
	base *url.URL

	mu     sync.Mutex
	userID string
}

// New returns a client for cfg.
func New(cfg Config) (*Client, error) {
	if cfg.APIKey == "" {
		return nil, fmt.Errorf("jellyfin: empty API key")
	}
	base, err := url.Parse(strings.TrimSuffix(cfg.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("jellyfin: base URL %q is not http(s)", cfg.BaseURL)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{cfg: cfg, base: base, userID: cfg.UserID}, nil
}

// BaseURL is the server root the client was built with.
func (c *Client) BaseURL() string { return c.base.String() }

func (c *Client) url(path string, q url.Values) string {
	u := *c.base
	u.Path += path
	u.RawQuery = q.Encode()
	return u.String()
}

// get fetches path and decodes its JSON into out (if out is not nil), or
// returns the raw body when out is a *[]byte.
func (c *Client) get(ctx context.Context, path string, q url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url(path, q), nil)
	if err != nil {
		return fmt.Errorf("jellyfin: GET %s: %w", path, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", `MediaBrowser Client="Marquee", Device="marquee-api", DeviceId="marquee", Version="1", Token="`+c.cfg.APIKey+`"`)
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // drop the URL
		}
		return fmt.Errorf("jellyfin: GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return ErrUnauthorized
	case resp.StatusCode != http.StatusOK:
		return &StatusError{Path: path, Status: resp.StatusCode}
	}
	if raw, ok := out.(*[]byte); ok {
		b, err := io.ReadAll(io.LimitReader(resp.Body, 10<<20+1))
		if err != nil {
			return fmt.Errorf("jellyfin: GET %s: %w", path, err)
		}
		if len(b) > 10<<20 {
			return fmt.Errorf("jellyfin: GET %s: body over 10 MiB", path)
		}
		*raw = b
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(out); err != nil {
		return fmt.Errorf("jellyfin: GET %s: decode: %w", path, err)
	}
	return nil
}

// User is an entry of GET /Users.
type User struct {
	ID     string `json:"Id"`
	Name   string `json:"Name"`
	Policy struct {
		IsAdministrator bool `json:"IsAdministrator"`
		IsDisabled      bool `json:"IsDisabled"`
	} `json:"Policy"`
}

// UserData is BaseItemDto.UserData: the user's state for an item.
type UserData struct {
	Played                bool  `json:"Played"`
	PlayCount             int   `json:"PlayCount"`
	PlaybackPositionTicks int64 `json:"PlaybackPositionTicks"`
}

// Item is the part of Jellyfin's BaseItemDto that Marquee reads.
type Item struct {
	ID                string            `json:"Id"`
	Name              string            `json:"Name"`
	Type              string            `json:"Type"`
	CollectionType    string            `json:"CollectionType"`
	MediaType         string            `json:"MediaType"`
	ProductionYear    int               `json:"ProductionYear"`
	Overview          string            `json:"Overview"`
	Genres            []string          `json:"Genres"`
	ProviderIDs       map[string]string `json:"ProviderIds"`
	RunTimeTicks      int64             `json:"RunTimeTicks"`
	IndexNumber       int               `json:"IndexNumber"`
	ParentIndexNumber int               `json:"ParentIndexNumber"`
	SeriesID          string            `json:"SeriesId"`
	SeriesName        string            `json:"SeriesName"`
	SeasonID          string            `json:"SeasonId"`
	Album             string            `json:"Album"`
	AlbumID           string            `json:"AlbumId"`
	AlbumArtist       string            `json:"AlbumArtist"`
	Artists           []string          `json:"Artists"`
	ImageTags         map[string]string `json:"ImageTags"`
	UserData          *UserData         `json:"UserData"`
}

// Played reports the user's played flag.
func (it Item) Played() bool { return it.UserData != nil && it.UserData.Played }

// queryResult is BaseItemDtoQueryResult.
type queryResult struct {
	Items            []Item `json:"Items"`
	TotalRecordCount int    `json:"TotalRecordCount"`
	StartIndex       int    `json:"StartIndex"`
}

// itemFields are requested on item lists (ItemFields enum).
const itemFields = "Overview,Genres,ProviderIds,ProductionYear"

// pageSize is how many items one /Items call asks for.
const pageSize = 500

// Users lists the server's users (GET /Users, admin key).
func (c *Client) Users(ctx context.Context) ([]User, error) {
	var us []User
	err := c.get(ctx, "/Users", nil, &us)
	return us, err
}

// UserID returns the configured user, or the first enabled administrator.
func (c *Client) UserID(ctx context.Context) (string, error) {
	c.mu.Lock()
	id := c.userID
	c.mu.Unlock()
	if id != "" {
		return id, nil
	}
	us, err := c.Users(ctx)
	if err != nil {
		return "", err
	}
	for _, u := range us {
		if u.Policy.IsAdministrator && !u.Policy.IsDisabled {
			id = u.ID
			break
		}
	}
	if id == "" && len(us) > 0 {
		id = us[0].ID
	}
	if id == "" {
		return "", ErrNoUser
	}
	c.mu.Lock()
	c.userID = id
	c.mu.Unlock()
	return id, nil
}

// Views lists a user's libraries (GET /Users/{id}/Views).
func (c *Client) Views(ctx context.Context, userID string) ([]Item, error) {
	var qr queryResult
	err := c.get(ctx, "/Users/"+url.PathEscape(userID)+"/Views", nil, &qr)
	return qr.Items, err
}

// Items lists, recursively, the items of the given types under parentID
// (GET /Items, paged).
func (c *Client) Items(ctx context.Context, userID, parentID string, types []string) ([]Item, error) {
	var all []Item
	for start := 0; ; {
		q := url.Values{"userId": {userID}, "ParentId": {parentID}, "Recursive": {"true"},
			"IncludeItemTypes": {strings.Join(types, ",")}, "Fields": {itemFields}, "EnableUserData": {"true"},
			"SortBy": {"SortName"}, "StartIndex": {strconv.Itoa(start)}, "Limit": {strconv.Itoa(pageSize)}}
		var qr queryResult
		if err := c.get(ctx, "/Items", q, &qr); err != nil {
			return nil, err
		}
		all = append(all, qr.Items...)
		start += len(qr.Items)
		if len(qr.Items) == 0 || start >= qr.TotalRecordCount {
			return all, nil
		}
	}
}

// Seasons lists a series' seasons (GET /Shows/{id}/Seasons).
func (c *Client) Seasons(ctx context.Context, userID, seriesID string) ([]Item, error) {
	var qr queryResult
	q := url.Values{"userId": {userID}, "Fields": {itemFields}}
	err := c.get(ctx, "/Shows/"+url.PathEscape(seriesID)+"/Seasons", q, &qr)
	return qr.Items, err
}

// Episodes lists a series' episodes in order, optionally of one season
// (GET /Shows/{id}/Episodes), with the user's played state.
func (c *Client) Episodes(ctx context.Context, userID, seriesID, seasonID string) ([]Item, error) {
	var qr queryResult
	q := url.Values{"userId": {userID}, "Fields": {itemFields}, "EnableUserData": {"true"}}
	if seasonID != "" {
		q.Set("seasonId", seasonID)
	}
	err := c.get(ctx, "/Shows/"+url.PathEscape(seriesID)+"/Episodes", q, &qr)
	return qr.Items, err
}

// PrimaryImage downloads an item's primary image, at most 400 px wide
// (GET /Items/{id}/Images/Primary).
func (c *Client) PrimaryImage(ctx context.Context, itemID, tag string) ([]byte, error) {
	q := url.Values{"maxWidth": {"400"}, "quality": {"90"}}
	if tag != "" {
		q.Set("tag", tag)
	}
	var b []byte
	err := c.get(ctx, "/Items/"+url.PathEscape(itemID)+"/Images/Primary", q, &b)
	return b, err
}

// StreamURL is what the ingest plays first: the original file, streamed
// as is (/Videos/{id}/stream?static=true), or for audio the universal
// endpoint, which also serves the original when its container is listed.
func (c *Client) StreamURL(itemID string, audio bool) string {
	q := url.Values{"api_key": {c.cfg.APIKey}}
	if audio {
		c.mu.Lock()
		uid := c.userID
		c.mu.Unlock()
		q.Set("UserId", uid)
		q.Set("Container", "opus,webm|opus,mp3,aac,m4a|aac,m4a|alac,flac,webma,webm|webma,wav,ogg")
		q.Set("TranscodingContainer", "mp3")
		q.Set("AudioCodec", "mp3")
		return c.url("/Audio/"+url.PathEscape(itemID)+"/universal", q)
	}
	q.Set("static", "true")
	return c.url("/Videos/"+url.PathEscape(itemID)+"/stream", q)
}

// DownloadURL is the ingest's fallback: the original file (/Items/{id}/Download).
func (c *Client) DownloadURL(itemID string) string {
	return c.url("/Items/"+url.PathEscape(itemID)+"/Download", url.Values{"api_key": {c.cfg.APIKey}})
}
