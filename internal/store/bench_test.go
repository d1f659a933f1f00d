package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkCommit measures one acknowledged single-row write transaction
// under each synchronous mode, to justify FULL (see the package doc).
func BenchmarkCommit(b *testing.B) {
	for _, mode := range []string{"FULL", "NORMAL"} {
		b.Run("synchronous="+mode, func(b *testing.B) {
			ctx := context.Background()
			db, err := Open(ctx, filepath.Join(b.TempDir(), "b.db"), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			db.SetMaxOpenConns(1) // the pragma is per connection
			if _, err := db.Exec("PRAGMA synchronous=" + mode); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := range b.N {
				if _, err := db.ExecContext(ctx, `INSERT INTO users(username, display_name, role, created_at)
					VALUES(?, 'x', 'member', 0)`, fmt.Sprint("u", i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
