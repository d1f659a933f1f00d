// Package tmdbtest is a fake TMDB API v3 server for tests. It answers the
// endpoints package tmdb uses with TMDB's JSON shapes (search pages, movie
// and tv details, images, configuration, error bodies with status_code and
// status_message), checks the api_key parameter or the Bearer token, and
// serves placeholder JPEGs under /t/p/{size}/{file}.
package tmdbtest

import (
	"bytes"
	"encoding/json"
	"image"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
)

// Credentials the fake accepts.
const (
	APIKey      = "test-tmdb-key"
	BearerToken = "test-tmdb-read-token"
)

// Movie is a catalogue entry of the fake.
type Movie struct {
	ID          int
	IMDbID      string
	Title       string
	Overview    string
	ReleaseDate string
	Runtime     int
	Genres      map[int]string
	PosterPath  string
}

// Series is a TV catalogue entry of the fake.
type Series struct {
	ID           int
	Name         string
	Overview     string
	FirstAirDate string
	RunTime      int
	Seasons      int
	Genres       map[int]string
	PosterPath   string
}

// Server is the fake. Read Requests to see what clients asked.
type Server struct {
	*httptest.Server
	Movies []Movie
	Series []Series

	mu       sync.Mutex
	requests []string
	limited  int
}

// NewServer starts the fake on 127.0.0.1 with a small catalogue.
func NewServer() *Server {
	s := &Server{
		Movies: []Movie{
			{ID: 27205, IMDbID: "tt1375666", Title: "Inception", ReleaseDate: "2010-07-15", Runtime: 148,
				Overview:   "Cobb, a skilled thief who commits corporate espionage by infiltrating the subconscious of his targets.",
				Genres:     map[int]string{28: "Action", 878: "Science Fiction", 12: "Adventure"},
				PosterPath: "/oYuLEt3zVCKq57qu2F8dT7NIa6f.jpg"},
			{ID: 603, IMDbID: "tt0133093", Title: "The Matrix", ReleaseDate: "1999-03-30", Runtime: 136,
				Overview:   "Set in the 22nd century, The Matrix tells the story of a computer hacker.",
				Genres:     map[int]string{28: "Action", 878: "Science Fiction"},
				PosterPath: "/f89U3ADr1oiB1s9GkdPOEpXUk5H.jpg"},
			{ID: 604, IMDbID: "tt0234215", Title: "The Matrix Reloaded", ReleaseDate: "2003-05-15", Runtime: 138,
				Overview: "Six months after the events depicted in The Matrix.", Genres: map[int]string{28: "Action"}},
		},
		Series: []Series{
			{ID: 1437, Name: "Firefly", FirstAirDate: "2002-09-20", RunTime: 44, Seasons: 1,
				Overview:   "Captain Malcolm 'Mal' Reynolds is a former galactic war veteran.",
				Genres:     map[int]string{37: "Western", 18: "Drama", 10765: "Sci-Fi & Fantasy"},
				PosterPath: "/vZcKsy4sGAvWMVqLluwYuoi11Kj.jpg"},
		},
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// BaseURL is the API root to give tmdb.Config.BaseURL.
func (s *Server) BaseURL() string { return s.URL + "/3" }

// ImageBaseURL is the image root to give tmdb.Config.ImageBaseURL.
func (s *Server) ImageBaseURL() string { return s.URL + "/t/p/" }

// RateLimit makes the next n API requests fail with HTTP 429, status_code
// 25 and "Retry-After: 0", as TMDB does when a client goes too fast.
func (s *Server) RateLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limited = n
}

// Requests returns the paths requested so far (without query strings).
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.URL.Path)
	limited := s.limited > 0 && !strings.HasPrefix(r.URL.Path, "/t/p/")
	if limited {
		s.limited--
	}
	s.mu.Unlock()
	if limited {
		w.Header().Set("Retry-After", "0")
		writeError(w, http.StatusTooManyRequests, 25, "Your request count (41) is over the allowed limit of 40.")
		return
	}
	if strings.HasPrefix(r.URL.Path, "/t/p/") {
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write(placeholderJPEG())
		return
	}
	if r.URL.Query().Get("api_key") != APIKey && r.Header.Get("Authorization") != "Bearer "+BearerToken {
		writeError(w, http.StatusUnauthorized, 7, "Invalid API key: You must be granted a valid key.")
		return
	}
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/3"), "/"), "/")
	q := r.URL.Query()
	switch {
	case len(parts) == 1 && parts[0] == "configuration":
		writeJSON(w, map[string]any{"images": map[string]any{
			"base_url": "http://" + r.Host + "/t/p/", "secure_base_url": "http://" + r.Host + "/t/p/",
			"poster_sizes":   []string{"w92", "w154", "w185", "w342", "w500", "w780", "original"},
			"backdrop_sizes": []string{"w300", "w780", "w1280", "original"},
		}, "change_keys": []string{"adult", "air_date"}})
	case len(parts) == 2 && parts[0] == "search" && parts[1] == "movie":
		s.searchMovie(w, q.Get("query"), q.Get("year"))
	case len(parts) == 2 && parts[0] == "search" && parts[1] == "tv":
		s.searchTV(w, q.Get("query"), q.Get("first_air_date_year"))
	case len(parts) >= 2 && (parts[0] == "movie" || parts[0] == "tv"):
		id, _ := strconv.Atoi(parts[1])
		s.details(w, parts[0], id, len(parts) == 3 && parts[2] == "images", len(parts) > 3 || (len(parts) == 3 && parts[2] != "images"))
	default:
		writeError(w, http.StatusNotFound, 34, "The resource you requested could not be found.")
	}
}

func (s *Server) searchMovie(w http.ResponseWriter, query, year string) {
	results := []map[string]any{}
	for _, m := range s.Movies {
		if matches(m.Title, query) && (year == "" || strings.HasPrefix(m.ReleaseDate, year)) {
			results = append(results, map[string]any{
				"adult": false, "backdrop_path": nil, "genre_ids": genreIDs(m.Genres), "id": m.ID,
				"original_language": "en", "original_title": m.Title, "overview": m.Overview, "popularity": 80.5,
				"poster_path": nullable(m.PosterPath), "release_date": m.ReleaseDate, "title": m.Title,
				"video": false, "vote_average": 8.2, "vote_count": 30000,
			})
		}
	}
	writeJSON(w, pageOf(results))
}

func (s *Server) searchTV(w http.ResponseWriter, query, year string) {
	results := []map[string]any{}
	for _, t := range s.Series {
		if matches(t.Name, query) && (year == "" || strings.HasPrefix(t.FirstAirDate, year)) {
			results = append(results, map[string]any{
				"adult": false, "backdrop_path": nil, "genre_ids": genreIDs(t.Genres), "id": t.ID,
				"origin_country": []string{"US"}, "original_language": "en", "original_name": t.Name,
				"overview": t.Overview, "popularity": 40.1, "poster_path": nullable(t.PosterPath),
				"first_air_date": t.FirstAirDate, "name": t.Name, "vote_average": 8.3, "vote_count": 4000,
			})
		}
	}
	writeJSON(w, pageOf(results))
}

func (s *Server) details(w http.ResponseWriter, kind string, id int, images, bad bool) {
	notFound := func() { writeError(w, http.StatusNotFound, 34, "The resource you requested could not be found.") }
	if bad {
		notFound()
		return
	}
	var body map[string]any
	var poster string
	for _, m := range s.Movies {
		if kind == "movie" && m.ID == id {
			poster = m.PosterPath
			body = map[string]any{"adult": false, "backdrop_path": nil, "budget": 160000000, "genres": genreList(m.Genres),
				"homepage": "", "id": m.ID, "imdb_id": m.IMDbID, "original_language": "en", "original_title": m.Title,
				"overview": m.Overview, "popularity": 80.5, "poster_path": nullable(m.PosterPath),
				"release_date": m.ReleaseDate, "revenue": 0, "runtime": m.Runtime, "status": "Released",
				"tagline": "", "title": m.Title, "video": false, "vote_average": 8.2, "vote_count": 30000}
		}
	}
	for _, t := range s.Series {
		if kind == "tv" && t.ID == id {
			poster = t.PosterPath
			seasons := []map[string]any{}
			for n := 1; n <= t.Seasons; n++ {
				seasons = append(seasons, map[string]any{"air_date": t.FirstAirDate, "episode_count": 14,
					"id": t.ID*100 + n, "name": "Season " + strconv.Itoa(n), "overview": "", "poster_path": nil, "season_number": n})
			}
			body = map[string]any{"adult": false, "backdrop_path": nil, "created_by": []any{},
				"episode_run_time": []int{t.RunTime}, "first_air_date": t.FirstAirDate, "genres": genreList(t.Genres),
				"id": t.ID, "in_production": false, "languages": []string{"en"}, "name": t.Name,
				"number_of_episodes": 14 * t.Seasons, "number_of_seasons": t.Seasons, "origin_country": []string{"US"},
				"original_language": "en", "original_name": t.Name, "overview": t.Overview,
				"poster_path": nullable(t.PosterPath), "seasons": seasons, "status": "Ended", "type": "Scripted"}
		}
	}
	if body == nil {
		notFound()
		return
	}
	if images {
		posters := []map[string]any{}
		if poster != "" {
			posters = append(posters, map[string]any{"aspect_ratio": 0.667, "height": 3000, "iso_639_1": "en",
				"file_path": poster, "vote_average": 5.5, "vote_count": 12, "width": 2000})
		}
		writeJSON(w, map[string]any{"id": id, "backdrops": []any{}, "logos": []any{}, "posters": posters})
		return
	}
	writeJSON(w, body)
}

func matches(title, query string) bool {
	q := strings.ToLower(strings.TrimSpace(query))
	return q != "" && strings.Contains(strings.ToLower(title), q)
}

func pageOf(results []map[string]any) map[string]any {
	pages := 1
	if len(results) == 0 {
		pages = 0
	}
	return map[string]any{"page": 1, "results": results, "total_pages": pages, "total_results": len(results)}
}

func genreIDs(g map[int]string) []int {
	out := []int{}
	for id := range g {
		out = append(out, id)
	}
	return out
}

func genreList(g map[int]string) []map[string]any {
	out := []map[string]any{}
	for _, id := range sortedKeys(g) {
		out = append(out, map[string]any{"id": id, "name": g[id]})
	}
	return out
}

func sortedKeys(g map[int]string) []int {
	keys := genreIDs(g)
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"status_code": code, "status_message": msg, "success": false})
}

func placeholderJPEG() []byte {
	img := image.NewGray(image.Rect(0, 0, 34, 51))
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, img, nil)
	return buf.Bytes()
}
