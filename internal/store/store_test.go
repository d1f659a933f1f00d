package store

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"testing/fstest"
)

func TestOpenAppliesEmbeddedMigrations(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "m.db")
	db, err := Open(ctx, file, nil)
	if err != nil {
		t.Fatal(err)
	}
	migs, err := Migrations(embedded)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Version(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if want := migs[len(migs)-1].Version; v != want {
		t.Fatalf("version = %d, want %d", v, want)
	}
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
	var fk, sync int
	if err := db.QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys = %d, %v", fk, err)
	}
	if err := db.QueryRow(`PRAGMA synchronous`).Scan(&sync); err != nil || sync != 2 {
		t.Fatalf("synchronous = %d, %v; want 2 (FULL)", sync, err)
	}
	_ = db.Close()

	// Reopening is a no-op.
	db, err = Open(ctx, file, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM schema_version`).Scan(&n); err != nil || n != len(migs) {
		t.Fatalf("schema_version rows = %d, %v; want %d", n, err, len(migs))
	}
}

func TestMigrations(t *testing.T) {
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []int
		wantErr error
	}{
		{"sorted", fstest.MapFS{
			"0002_b.sql": {Data: []byte("CREATE TABLE b(x);")},
			"0001_a.sql": {Data: []byte("CREATE TABLE a(x);")},
			"README.md":  {Data: []byte("ignored")},
		}, []int{1, 2}, nil},
		{"bad name", fstest.MapFS{"1_a.sql": {Data: []byte("")}}, nil, ErrBadMigrationName},
		{"no name", fstest.MapFS{"0001_.sql": {Data: []byte("")}}, nil, ErrBadMigrationName},
		{"zero", fstest.MapFS{"0000_a.sql": {Data: []byte("")}}, nil, ErrBadMigrationName},
		{"duplicate", fstest.MapFS{
			"0001_a.sql": {Data: []byte("")},
			"0001_b.sql": {Data: []byte("")},
		}, nil, ErrDuplicateMigration},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			migs, err := Migrations(tt.files)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			var got []int
			for _, m := range migs {
				got = append(got, m.Version)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("versions = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("versions = %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestMigrateFailureRollsBack(t *testing.T) {
	ctx := context.Background()
	db, err := OpenRaw(filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	migs := []Migration{
		{Version: 1, Name: "0001_a.sql", SQL: "CREATE TABLE a(x INTEGER);"},
		{Version: 2, Name: "0002_b.sql", SQL: "CREATE TABLE b(x INTEGER); INSERT INTO nope VALUES(1);"},
	}
	if err := Migrate(ctx, db, migs, nil); err == nil {
		t.Fatal("Migrate succeeded with a broken migration")
	}
	if v, _ := Version(ctx, db); v != 1 {
		t.Fatalf("version = %d, want 1", v)
	}
	// Table b must not exist: its migration rolled back as a whole.
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'b'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("table b exists after failed migration (n=%d, err=%v)", n, err)
	}
	migs[1].SQL = "CREATE TABLE b(x INTEGER);"
	if err := Migrate(ctx, db, migs, nil); err != nil {
		t.Fatal(err)
	}
	if v, _ := Version(ctx, db); v != 2 {
		t.Fatalf("version = %d, want 2", v)
	}
	if err := Migrate(ctx, db, migs[:1], nil); !errors.Is(err, ErrFutureSchema) {
		t.Fatalf("older binary: err = %v, want ErrFutureSchema", err)
	}
}

func TestConcurrentWritersDoNotFailBusy(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "m.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := range 20 {
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					errs <- err
					return
				}
				var n int
				_ = tx.QueryRow(`SELECT COUNT(*) FROM users`).Scan(&n)
				_, err = tx.Exec(`INSERT INTO users(username, display_name, role, created_at) VALUES(?, ?, 'member', 0)`,
					"u"+string(rune('a'+w))+string(rune('a'+i)), "x")
				if err != nil {
					_ = tx.Rollback()
					errs <- err
					return
				}
				if err := tx.Commit(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM users`).Scan(&n); err != nil || n != 160 {
		t.Fatalf("users = %d, %v; want 160", n, err)
	}
}
