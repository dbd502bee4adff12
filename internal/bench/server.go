package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/kunding/kunding/internal/server"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store"
)

// Prepare opens (creating if needed) the store of dataDir and creates a
// source for the benchmark; it returns the store, still open, and the
// source. The caller starts the server on the same directory: SQLite in
// WAL mode lets both processes read, and this one only reads while the
// benchmark runs.
func Prepare(ctx context.Context, db, dataDir string, fsync bool) (store.Store, store.Source, error) {
	st, err := server.Open(ctx, db, dataDir, fsync)
	if err != nil {
		return nil, store.Source{}, err
	}
	src, err := source.Create(ctx, st, fmt.Sprintf("bench %s", time.Now().UTC().Format("20060102-150405.000")), "web")
	if err != nil {
		st.Close()
		return nil, store.Source{}, err
	}
	return st, src, nil
}
