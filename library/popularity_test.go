package library

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestMostViewedAndRecentlyAdded(t *testing.T) {
	svc, db := newTestService(t)
	ctx := context.Background()
	dir := t.TempDir()
	lib, err := svc.CreateLibrary(ctx, "Movies", dir, KindMovies)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 7, 17, 0, 0, 0, time.UTC)
	item := func(kind, key string, added time.Time) int64 {
		var id int64
		if err := db.QueryRow(`INSERT INTO library_items(library_id, kind, key, title, added_at, updated_at)
			VALUES(?, ?, ?, ?, ?, 0) RETURNING id`, lib.ID, kind, key, key, added.UnixMilli()).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	a := item("movie", "a", now.Add(-72*time.Hour))
	b := item("movie", "b", now.Add(-48*time.Hour))
	c := item("episode", "c", now.Add(-time.Hour))
	item("track", "t", now) // music is not balanced
	var users []int64
	for i := range 3 {
		var u int64
		if err := db.QueryRow(`INSERT INTO users(username, display_name, role, created_at) VALUES(?, 'U', 'member', 0) RETURNING id`,
			fmt.Sprint("u", i)).Scan(&u); err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	watch := func(u, item int64, at time.Time) {
		if _, err := db.Exec(`INSERT INTO watch_progress(user_id, item_id, position_ms, duration_ms, updated_at) VALUES(?, ?, 1, 10, ?)`,
			u, item, at.UnixMilli()); err != nil {
			t.Fatal(err)
		}
	}
	// b: three viewers this week; a: two; c: one, long ago.
	for _, u := range users {
		watch(u, b, now.Add(-time.Hour))
	}
	watch(users[0], a, now.Add(-2*time.Hour))
	watch(users[1], a, now.Add(-3*time.Hour))
	watch(users[2], c, now.Add(-30*24*time.Hour))
	mv, err := svc.MostViewed(ctx, now.Add(-7*24*time.Hour), 10)
	if err != nil || fmt.Sprint(mv) != fmt.Sprint([]int64{b, a}) {
		t.Fatalf("MostViewed = %v, %v; want [%d %d]", mv, err, b, a)
	}
	if mv, _ := svc.MostViewed(ctx, now.Add(-7*24*time.Hour), 1); fmt.Sprint(mv) != fmt.Sprint([]int64{b}) {
		t.Fatalf("MostViewed limit 1 = %v", mv)
	}
	ra, err := svc.RecentlyAdded(ctx, 2)
	if err != nil || fmt.Sprint(ra) != fmt.Sprint([]int64{c, b}) {
		t.Fatalf("RecentlyAdded = %v, %v; want [%d %d]", ra, err, c, b)
	}
}
