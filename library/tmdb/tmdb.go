// Package tmdb is a client of The Movie Database API v3
// (https://developer.themoviedb.org/reference/intro/getting-started) and a
// library.Provider built on it. It is off unless configured with an API
// key or a read access token, because Marquee may run without network.
//
// The key is sent as the api_key query parameter (v3 key) or as an
// "Authorization: Bearer" header (v4 read access token). Neither is ever
// logged or put in returned errors.
package tmdb

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
	"time"

	"github.com/marquee-party/marquee/library"
)

// Defaults for Config.
const (
	DefaultBaseURL      = "https://api.themoviedb.org/3"
	DefaultImageBaseURL = "https://image.tmdb.org/t/p/"
	DefaultPosterSize   = "w342"
)

// ErrNoCredentials means neither an API key nor a bearer token was given.
var ErrNoCredentials = errors.New("tmdb: no API key or bearer token")

// APIError is an error answer of the API: an HTTP status with TMDB's
// {"status_code", "status_message"} body (e.g. 7 invalid key, 34 not found).
type APIError struct {
	HTTPStatus int
	Code       int
	Message    string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("tmdb: HTTP %d: %s (code %d)", e.HTTPStatus, e.Message, e.Code)
}

// Is makes a 404 match library.ErrNoMatch.
func (e *APIError) Is(target error) bool {
	return target == library.ErrNoMatch && e.HTTPStatus == http.StatusNotFound
}

// Config configures a Client.
type Config struct {
	// APIKey is a v3 API key; BearerToken a v4 read access token. One is needed.
	APIKey      string
	BearerToken string
	// BaseURL defaults to DefaultBaseURL; tests point it at tmdbtest.
	BaseURL string
	// ImageBaseURL defaults to DefaultImageBaseURL (the "secure_base_url"
	// of /configuration).
	ImageBaseURL string
	// Language is an ISO 639-1 code with region ("en-US"), optional.
	Language string
	// HTTPClient defaults to a client with a 15 s timeout.
	HTTPClient *http.Client
}

// Client calls the TMDB API. It is safe for concurrent use.
type Client struct {
	cfg  Config
	base *url.URL
}

// New returns a client, or ErrNoCredentials.
func New(cfg Config) (*Client, error) {
	if cfg.APIKey == "" && cfg.BearerToken == "" {
		return nil, ErrNoCredentials
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.ImageBaseURL == "" {
		cfg.ImageBaseURL = DefaultImageBaseURL
	}
	if !strings.HasSuffix(cfg.ImageBaseURL, "/") {
		cfg.ImageBaseURL += "/"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	base, err := url.Parse(strings.TrimSuffix(cfg.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") {
		return nil, fmt.Errorf("tmdb: base URL %q is not http(s)", cfg.BaseURL)
	}
	return &Client{cfg: cfg, base: base}, nil
}

// get fetches path with query q and decodes the JSON answer into out.
func (c *Client) get(ctx context.Context, path string, q url.Values, out any) error {
	u := *c.base
	u.Path += path
	if q == nil {
		q = url.Values{}
	}
	if c.cfg.Language != "" {
		q.Set("language", c.cfg.Language)
	}
	if c.cfg.BearerToken == "" {
		q.Set("api_key", c.cfg.APIKey)
	}
	u.RawQuery = q.Encode()
	resp, err := c.do(ctx, path, u.String())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, 4<<20)
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Code    int    `json:"status_code"`
			Message string `json:"status_message"`
		}
		_ = json.NewDecoder(body).Decode(&e)
		if e.Message == "" {
			e.Message = http.StatusText(resp.StatusCode)
		}
		return &APIError{HTTPStatus: resp.StatusCode, Code: e.Code, Message: e.Message}
	}
	if err := json.NewDecoder(body).Decode(out); err != nil {
		return fmt.Errorf("tmdb: GET %s: decode: %w", path, err)
	}
	return nil
}

// maxRetryAfter caps how long a rate-limited request waits before its
// one retry.
const maxRetryAfter = 10 * time.Second

// do sends a GET, retrying once after HTTP 429 (TMDB's rate limit) when
// Retry-After asks for at most maxRetryAfter.
func (c *Client) do(ctx context.Context, path, rawURL string) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
		if err != nil {
			return nil, fmt.Errorf("tmdb: GET %s: %w", path, err)
		}
		req.Header.Set("Accept", "application/json")
		if c.cfg.BearerToken != "" {
			req.Header.Set("Authorization", "Bearer "+c.cfg.BearerToken)
		}
		resp, err := c.cfg.HTTPClient.Do(req)
		if err != nil {
			// *url.Error carries the URL, and with it the api_key: keep only the cause.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return nil, fmt.Errorf("tmdb: GET %s: %w", path, err)
		}
		if resp.StatusCode != http.StatusTooManyRequests || attempt > 0 {
			return resp, nil
		}
		secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		wait := time.Duration(secs) * time.Second
		if err != nil || secs < 0 || wait > maxRetryAfter {
			return resp, nil
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("tmdb: GET %s: %w", path, ctx.Err())
		case <-t.C:
		}
	}
}

// MovieResult is one hit of /search/movie.
type MovieResult struct {
	ID            int     `json:"id"`
	Title         string  `json:"title"`
	OriginalTitle string  `json:"original_title"`
	Overview      string  `json:"overview"`
	ReleaseDate   string  `json:"release_date"`
	PosterPath    string  `json:"poster_path"`
	BackdropPath  string  `json:"backdrop_path"`
	GenreIDs      []int   `json:"genre_ids"`
	Popularity    float64 `json:"popularity"`
}

// TVResult is one hit of /search/tv.
type TVResult struct {
	ID           int     `json:"id"`
	Name         string  `json:"name"`
	OriginalName string  `json:"original_name"`
	Overview     string  `json:"overview"`
	FirstAirDate string  `json:"first_air_date"`
	PosterPath   string  `json:"poster_path"`
	BackdropPath string  `json:"backdrop_path"`
	GenreIDs     []int   `json:"genre_ids"`
	Popularity   float64 `json:"popularity"`
}

type page[T any] struct {
	Page         int `json:"page"`
	Results      []T `json:"results"`
	TotalPages   int `json:"total_pages"`
	TotalResults int `json:"total_results"`
}

// Genre is a TMDB genre.
type Genre struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

// MovieDetails is /movie/{id}.
type MovieDetails struct {
	ID           int     `json:"id"`
	IMDbID       string  `json:"imdb_id"`
	Title        string  `json:"title"`
	Overview     string  `json:"overview"`
	Tagline      string  `json:"tagline"`
	ReleaseDate  string  `json:"release_date"`
	Runtime      int     `json:"runtime"`
	Genres       []Genre `json:"genres"`
	PosterPath   string  `json:"poster_path"`
	BackdropPath string  `json:"backdrop_path"`
}

// TVDetails is /tv/{id}.
type TVDetails struct {
	ID               int     `json:"id"`
	Name             string  `json:"name"`
	Overview         string  `json:"overview"`
	FirstAirDate     string  `json:"first_air_date"`
	EpisodeRunTime   []int   `json:"episode_run_time"`
	Genres           []Genre `json:"genres"`
	NumberOfSeasons  int     `json:"number_of_seasons"`
	NumberOfEpisodes int     `json:"number_of_episodes"`
	PosterPath       string  `json:"poster_path"`
	BackdropPath     string  `json:"backdrop_path"`
	Seasons          []struct {
		ID           int    `json:"id"`
		Name         string `json:"name"`
		SeasonNumber int    `json:"season_number"`
		EpisodeCount int    `json:"episode_count"`
		PosterPath   string `json:"poster_path"`
	} `json:"seasons"`
}

// Image is one entry of /movie/{id}/images or /tv/{id}/images.
type Image struct {
	FilePath    string  `json:"file_path"`
	Width       int     `json:"width"`
	Height      int     `json:"height"`
	AspectRatio float64 `json:"aspect_ratio"`
	Language    string  `json:"iso_639_1"`
	VoteAverage float64 `json:"vote_average"`
}

// Images lists a title's pictures.
type Images struct {
	ID        int     `json:"id"`
	Posters   []Image `json:"posters"`
	Backdrops []Image `json:"backdrops"`
	Logos     []Image `json:"logos"`
}

// SearchMovie searches movies by title, optionally by release year.
func (c *Client) SearchMovie(ctx context.Context, query string, year int) ([]MovieResult, error) {
	q := url.Values{"query": {query}, "include_adult": {"false"}}
	if year > 0 {
		q.Set("year", strconv.Itoa(year))
	}
	var p page[MovieResult]
	err := c.get(ctx, "/search/movie", q, &p)
	return p.Results, err
}

// SearchTV searches series by name, optionally by first air year.
func (c *Client) SearchTV(ctx context.Context, query string, year int) ([]TVResult, error) {
	q := url.Values{"query": {query}, "include_adult": {"false"}}
	if year > 0 {
		q.Set("first_air_date_year", strconv.Itoa(year))
	}
	var p page[TVResult]
	err := c.get(ctx, "/search/tv", q, &p)
	return p.Results, err
}

// Movie returns a movie's details.
func (c *Client) Movie(ctx context.Context, id int) (MovieDetails, error) {
	var m MovieDetails
	err := c.get(ctx, "/movie/"+strconv.Itoa(id), nil, &m)
	return m, err
}

// TV returns a series' details.
func (c *Client) TV(ctx context.Context, id int) (TVDetails, error) {
	var t TVDetails
	err := c.get(ctx, "/tv/"+strconv.Itoa(id), nil, &t)
	return t, err
}

// Images returns the pictures of a movie (kind "movie") or series ("tv").
func (c *Client) Images(ctx context.Context, kind string, id int) (Images, error) {
	if kind != "movie" && kind != "tv" {
		return Images{}, fmt.Errorf("tmdb: images of %q (want movie or tv)", kind)
	}
	var im Images
	err := c.get(ctx, "/"+kind+"/"+strconv.Itoa(id)+"/images", nil, &im)
	return im, err
}

// ImageURL builds the URL of an image file path at a size ("w342", "original").
func (c *Client) ImageURL(filePath, size string) string {
	if filePath == "" {
		return ""
	}
	return c.cfg.ImageBaseURL + size + filePath
}

// maxImageBytes bounds a downloaded image.
const maxImageBytes = 10 << 20

// FetchPoster implements library.PosterFetcher: it downloads an image URL
// built by ImageURL. Only URLs under the configured image base are fetched.
func (c *Client) FetchPoster(ctx context.Context, imageURL string) ([]byte, error) {
	if !strings.HasPrefix(imageURL, c.cfg.ImageBaseURL) {
		return nil, fmt.Errorf("tmdb: image URL outside %s", c.cfg.ImageBaseURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, imageURL, nil)
	if err != nil {
		return nil, fmt.Errorf("tmdb: image: %w", err)
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("tmdb: image: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &APIError{HTTPStatus: resp.StatusCode, Message: "image " + http.StatusText(resp.StatusCode)}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxImageBytes+1))
	if err != nil {
		return nil, fmt.Errorf("tmdb: image: %w", err)
	}
	if len(b) > maxImageBytes {
		return nil, fmt.Errorf("tmdb: image larger than %d bytes", maxImageBytes)
	}
	return b, nil
}
