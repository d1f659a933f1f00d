// Package jellyfintest is a fake Jellyfin server for tests. It replays the
// JSON shapes of Jellyfin's REST API (BaseItemDto, BaseItemDtoQueryResult,
// UserDto; https://api.jellyfin.org) for the endpoints package jellyfin
// uses, checks the API key in the "Authorization: MediaBrowser Token=..."
// header, X-Emby-Token or the api_key parameter, keeps per-item played
// state, and serves real files for stream and download URLs.
package jellyfintest

import (
	"bytes"
	"encoding/json"
	"image"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Fixed ids of the fake's catalogue (Jellyfin ids are 32 hex digits).
const (
	APIKey      = "0123456789abcdef0123456789abcdef"
	ServerID    = "5e1f0c9f0a4c4d5e8a1b2c3d4e5f6a7b"
	AdminID     = "a0000000000000000000000000000001"
	GuestID     = "a0000000000000000000000000000002"
	MoviesView  = "f0000000000000000000000000000001"
	ShowsView   = "f0000000000000000000000000000002"
	MusicView   = "f0000000000000000000000000000003"
	BoxsetView  = "f0000000000000000000000000000004"
	MovieBunny  = "b0000000000000000000000000000001"
	MovieSintel = "b0000000000000000000000000000002"
	SeriesID    = "c0000000000000000000000000000001"
	Season1ID   = "c0000000000000000000000000000011"
	SpecialsID  = "c0000000000000000000000000000010"
	Episode1ID  = "c0000000000000000000000000000101"
	Episode2ID  = "c0000000000000000000000000000102"
	Episode3ID  = "c0000000000000000000000000000103"
	SpecialID   = "c00000000000000000000000000000a1"
	LooseEpID   = "c0000000000000000000000000000201" // season 2, a season /Seasons does not list
	TrackA      = "d0000000000000000000000000000001"
	TrackB      = "d0000000000000000000000000000002"
	AlbumID     = "d0000000000000000000000000000100"
)

// item is the fake's record of a BaseItemDto.
type item struct {
	id, name, typ, parent, mediaType string
	year                             int
	overview                         string
	genres                           []string
	providers                        map[string]string
	ticks                            int64
	index, parentIndex               int
	seriesID, seriesName, seasonID   string
	album, albumID, albumArtist      string
	primary                          string
	collectionType                   string
}

// Server is the fake. Set Files to serve media for stream/download URLs.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	items    []item
	played   map[string]bool // key: userID + "/" + itemID
	files    map[string]string
	requests []string
}

// NewServer starts the fake on 127.0.0.1.
func NewServer() *Server {
	s := &Server{played: map[string]bool{}, files: map[string]string{}}
	s.items = []item{
		{id: MoviesView, name: "Movies", typ: "CollectionFolder", collectionType: "movies"},
		{id: ShowsView, name: "Shows", typ: "CollectionFolder", collectionType: "tvshows"},
		{id: MusicView, name: "Music", typ: "CollectionFolder", collectionType: "music"},
		{id: BoxsetView, name: "Collections", typ: "CollectionFolder", collectionType: "boxsets"},
		{id: MovieBunny, name: "Big Buck Bunny", typ: "Movie", parent: MoviesView, mediaType: "Video", year: 2008,
			overview: "A giant rabbit takes revenge.", genres: []string{"Animation", "Comedy"},
			providers: map[string]string{"Tmdb": "10378", "Imdb": "tt1254207"}, ticks: 5_960_000_000, primary: "1a2b3c"},
		{id: MovieSintel, name: "Sintel", typ: "Movie", parent: MoviesView, mediaType: "Video", year: 2010,
			overview: "A girl searches for her dragon.", genres: []string{"Animation", "Fantasy"},
			providers: map[string]string{"Tmdb": "45745"}, ticks: 8_880_000_000},
		{id: SeriesID, name: "Firefly", typ: "Series", parent: ShowsView, year: 2002, overview: "Browncoats.",
			genres: []string{"Western"}, providers: map[string]string{"Tvdb": "78874"}, primary: "5e6f"},
		{id: SpecialsID, name: "Specials", typ: "Season", parent: SeriesID, index: 0, seriesID: SeriesID, seriesName: "Firefly"},
		{id: Season1ID, name: "Season 1", typ: "Season", parent: SeriesID, index: 1, seriesID: SeriesID, seriesName: "Firefly", primary: "77"},
		{id: Episode1ID, name: "Serenity", typ: "Episode", parent: Season1ID, mediaType: "Video", index: 1, parentIndex: 1,
			seriesID: SeriesID, seriesName: "Firefly", seasonID: Season1ID, ticks: 5_160_000_000, year: 2002},
		{id: Episode2ID, name: "The Train Job", typ: "Episode", parent: Season1ID, mediaType: "Video", index: 2, parentIndex: 1,
			seriesID: SeriesID, seriesName: "Firefly", seasonID: Season1ID, ticks: 2_580_000_000, year: 2002},
		{id: Episode3ID, name: "Bushwhacked", typ: "Episode", parent: Season1ID, mediaType: "Video", index: 3, parentIndex: 1,
			seriesID: SeriesID, seriesName: "Firefly", seasonID: Season1ID, ticks: 2_580_000_000, year: 2002},
		{id: SpecialID, name: "Here's How It Was", typ: "Episode", parent: SpecialsID, mediaType: "Video", index: 1, parentIndex: 0,
			seriesID: SeriesID, seriesName: "Firefly", seasonID: SpecialsID, ticks: 1_200_000_000},
		{id: LooseEpID, name: "Lost Episode", typ: "Episode", parent: SeriesID, mediaType: "Video", index: 1, parentIndex: 2,
			seriesID: SeriesID, seriesName: "Firefly", ticks: 2_400_000_000},
		{id: TrackA, name: "Song A", typ: "Audio", parent: MusicView, mediaType: "Audio", index: 1, year: 1997,
			album: "Album X", albumID: AlbumID, albumArtist: "Artist Y", ticks: 40_000_000, primary: "99"},
		{id: TrackB, name: "Song B", typ: "Audio", parent: MusicView, mediaType: "Audio", index: 2, year: 1997,
			album: "Album X", albumID: AlbumID, albumArtist: "Artist Y", ticks: 40_000_000},
	}
	s.played[AdminID+"/"+MovieSintel] = true
	s.played[AdminID+"/"+Episode1ID] = true
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// SetPlayed sets a user's played flag for an item.
func (s *Server) SetPlayed(userID, itemID string, played bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.played[userID+"/"+itemID] = played
}

// SetFile makes stream and download URLs of itemID serve a local file.
func (s *Server) SetFile(itemID, path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[itemID] = path
}

// RemoveItem deletes an item from the catalogue, as if deleted in Jellyfin.
func (s *Server) RemoveItem(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, it := range s.items {
		if it.id == id {
			s.items = append(s.items[:i], s.items[i+1:]...)
			return
		}
	}
}

// Requests returns the request URIs seen so far (with query strings).
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

func (s *Server) authorized(r *http.Request) bool {
	if r.Header.Get("X-Emby-Token") == APIKey || r.Header.Get("X-MediaBrowser-Token") == APIKey ||
		r.URL.Query().Get("api_key") == APIKey || r.URL.Query().Get("ApiKey") == APIKey {
		return true
	}
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "MediaBrowser ") {
		return false
	}
	for _, part := range strings.Split(strings.TrimPrefix(auth, "MediaBrowser "), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		if strings.EqualFold(k, "Token") && strings.Trim(v, `"`) == APIKey {
			return true
		}
	}
	return false
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.URL.RequestURI())
	s.mu.Unlock()
	if !s.authorized(r) {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	p := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	q := r.URL.Query()
	switch {
	case len(p) == 1 && p[0] == "Users":
		writeJSON(w, []any{userDto(AdminID, "admin", true), userDto(GuestID, "guest", false)})
	case len(p) == 3 && p[0] == "Users" && p[2] == "Views":
		s.list(w, r, q.Get("userId"), func(it item) bool { return it.typ == "CollectionFolder" }, p[1])
	case len(p) == 1 && p[0] == "Items":
		s.items_(w, r, q)
	case len(p) == 3 && p[0] == "Shows" && p[2] == "Seasons":
		s.list(w, r, q.Get("userId"), func(it item) bool { return it.typ == "Season" && it.seriesID == p[1] }, "")
	case len(p) == 3 && p[0] == "Shows" && p[2] == "Episodes":
		season := q.Get("seasonId")
		s.list(w, r, q.Get("userId"), func(it item) bool {
			return it.typ == "Episode" && it.seriesID == p[1] && (season == "" || it.seasonID == season)
		}, "")
	case len(p) == 4 && p[0] == "Items" && p[2] == "Images" && p[3] == "Primary":
		s.image(w, p[1])
	case len(p) == 3 && ((p[0] == "Videos" && p[2] == "stream") || (p[0] == "Audio" && p[2] == "universal") ||
		(p[0] == "Items" && p[2] == "Download")):
		s.file(w, r, p[1])
	default:
		http.NotFound(w, r)
	}
}

// items_ answers GET /Items: ParentId (recursive), IncludeItemTypes, paging.
func (s *Server) items_(w http.ResponseWriter, r *http.Request, q map[string][]string) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	parent, recursive := get("ParentId"), strings.EqualFold(get("Recursive"), "true")
	types := map[string]bool{}
	for _, t := range strings.Split(get("IncludeItemTypes"), ",") {
		if t != "" {
			types[t] = true
		}
	}
	s.list(w, r, get("userId"), func(it item) bool {
		if len(types) > 0 && !types[it.typ] {
			return false
		}
		if parent == "" {
			return true
		}
		return it.parent == parent || (recursive && s.under(it, parent))
	}, "")
}

// under reports whether it descends from ancestor.
func (s *Server) under(it item, ancestor string) bool {
	for range 5 {
		if it.parent == "" {
			return false
		}
		if it.parent == ancestor {
			return true
		}
		found := false
		for _, p := range s.items {
			if p.id == it.parent {
				it, found = p, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return false
}

// list writes a BaseItemDtoQueryResult of the items keep selects.
func (s *Server) list(w http.ResponseWriter, r *http.Request, userID string, keep func(item) bool, pathUser string) {
	if pathUser != "" {
		userID = pathUser
	}
	q := r.URL.Query()
	fields := map[string]bool{}
	for _, f := range strings.Split(q.Get("Fields"), ",") {
		fields[strings.TrimSpace(f)] = true
	}
	s.mu.Lock()
	var sel []item
	for _, it := range s.items {
		if keep(it) && !(it.typ == "CollectionFolder" && userID == GuestID && it.collectionType == "music") {
			sel = append(sel, it)
		}
	}
	sort.SliceStable(sel, func(i, j int) bool {
		if sel[i].parentIndex != sel[j].parentIndex {
			return sel[i].parentIndex < sel[j].parentIndex
		}
		return sel[i].index < sel[j].index
	})
	total := len(sel)
	start, _ := strconv.Atoi(q.Get("StartIndex"))
	start = min(max(start, 0), total)
	end := total
	if limit, err := strconv.Atoi(q.Get("Limit")); err == nil && limit >= 0 {
		end = min(start+limit, total)
	}
	out := []map[string]any{}
	for _, it := range sel[start:end] {
		out = append(out, s.dto(it, userID, fields))
	}
	s.mu.Unlock()
	writeJSON(w, map[string]any{"Items": out, "TotalRecordCount": total, "StartIndex": start})
}

// dto renders a BaseItemDto; Overview, Genres and ProviderIds only when
// asked for in Fields, as Jellyfin does.
func (s *Server) dto(it item, userID string, fields map[string]bool) map[string]any {
	d := map[string]any{"Name": it.name, "ServerId": ServerID, "Id": it.id, "Type": it.typ,
		"IsFolder": it.mediaType == "", "LocationType": "FileSystem", "ImageTags": map[string]string{},
		"BackdropImageTags": []string{}}
	if it.primary != "" {
		d["ImageTags"] = map[string]string{"Primary": it.primary}
	}
	if it.collectionType != "" {
		d["CollectionType"] = it.collectionType
	}
	if it.mediaType != "" {
		d["MediaType"] = it.mediaType
		d["RunTimeTicks"] = it.ticks
	}
	if it.year > 0 {
		d["ProductionYear"] = it.year
	}
	if it.typ == "Episode" || it.typ == "Season" || it.typ == "Audio" {
		d["IndexNumber"] = it.index
	}
	if it.typ == "Episode" {
		d["ParentIndexNumber"] = it.parentIndex
		d["SeriesId"], d["SeriesName"] = it.seriesID, it.seriesName
		if it.seasonID != "" {
			d["SeasonId"] = it.seasonID
		}
	}
	if it.typ == "Season" {
		d["SeriesId"], d["SeriesName"] = it.seriesID, it.seriesName
	}
	if it.typ == "Audio" {
		d["Album"], d["AlbumId"], d["AlbumArtist"] = it.album, it.albumID, it.albumArtist
		d["Artists"] = []string{it.albumArtist}
		d["ArtistItems"] = []map[string]string{{"Name": it.albumArtist, "Id": "e0000000000000000000000000000001"}}
	}
	if fields["Overview"] && it.overview != "" {
		d["Overview"] = it.overview
	}
	if fields["Genres"] {
		d["Genres"] = append([]string{}, it.genres...)
	}
	if fields["ProviderIds"] {
		pi := map[string]string{}
		for k, v := range it.providers {
			pi[k] = v
		}
		d["ProviderIds"] = pi
	}
	if userID != "" && it.typ != "CollectionFolder" {
		played := s.played[userID+"/"+it.id]
		count := 0
		if played {
			count = 1
		}
		d["UserData"] = map[string]any{"PlaybackPositionTicks": 0, "PlayCount": count, "IsFavorite": false,
			"Played": played, "Key": it.id, "ItemId": it.id}
	}
	return d
}

func (s *Server) image(w http.ResponseWriter, id string) {
	s.mu.Lock()
	var tag string
	for _, it := range s.items {
		if it.id == id {
			tag = it.primary
		}
	}
	s.mu.Unlock()
	if tag == "" {
		http.Error(w, "", http.StatusNotFound)
		return
	}
	img := image.NewRGBA(image.Rect(0, 0, 40, 60))
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, img, nil)
	w.Header().Set("Content-Type", "image/jpeg")
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) file(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	path := s.files[id]
	s.mu.Unlock()
	if path == "" {
		http.NotFound(w, r)
		return
	}
	http.ServeFile(w, r, path)
}

func userDto(id, name string, admin bool) map[string]any {
	return map[string]any{"Name": name, "ServerId": ServerID, "Id": id, "HasPassword": true,
		"HasConfiguredPassword": true, "EnableAutoLogin": false,
		"Policy": map[string]any{"IsAdministrator": admin, "IsHidden": false, "IsDisabled": false,
			"EnableMediaPlayback": true, "EnableAllFolders": true},
		"Configuration": map[string]any{"PlayDefaultAudioTrack": true}}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}
