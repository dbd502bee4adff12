package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/kunding/kunding/internal/journal"
	"github.com/kunding/kunding/internal/store"
)

// loadJournal loads what a stopped server acknowledged into its journal
// but did not load into the event log yet, before a command that works on
// the whole log (rebuild, erasure) runs: otherwise those events would
// arrive after it. A running server holds the journal and loads it itself.
func loadJournal(ctx context.Context, sf storeFlags, st store.Store, stderr io.Writer) error {
	if *sf.db != "" {
		return nil
	}
	dir := journal.Dir(*sf.data)
	if _, err := os.Stat(dir); err != nil {
		return nil
	}
	j, err := journal.Open(journal.Options{Dir: dir, Fsync: true, Store: st,
		Log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		// In use: the server is running and loads it.
		return nil
	}
	n, _ := j.Backlog()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	err = j.Sync(sctx)
	j.Close()
	if err != nil {
		return fmt.Errorf("loading the journal %s: %w", dir, err)
	}
	if n > 0 {
		fmt.Fprintf(stderr, "loaded %d events from the journal into the event log\n", n)
	}
	return nil
}
