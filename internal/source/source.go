// Package source creates and rotates the sources that send events.
package source

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/store"
)

// Kinds are the kinds of source Kunding knows; others are refused so that
// reports can group sources reliably.
var Kinds = []string{"web", "app", "server", "crm", "shop", "call-centre", "email", "review-portal", "forum", "survey", "import", "other"}

var nameRE = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N} ._\-]{0,79}$`)

// Create validates and stores a new source with a fresh write key.
func Create(ctx context.Context, s store.Store, name, kind string) (store.Source, error) {
	name = strings.TrimSpace(name)
	kind = strings.ToLower(strings.TrimSpace(kind))
	if !nameRE.MatchString(name) {
		return store.Source{}, fmt.Errorf("name %q: 1 to 80 letters, digits, spaces, dots, dashes or underscores, starting with a letter or digit", name)
	}
	ok := false
	for _, k := range Kinds {
		ok = ok || k == kind
	}
	if !ok {
		return store.Source{}, fmt.Errorf("kind %q: must be one of %s", kind, strings.Join(Kinds, ", "))
	}
	src := newSource(name, kind)
	if err := s.CreateSource(ctx, src); err != nil {
		return store.Source{}, err
	}
	return src, nil
}

func newSource(name, kind string) store.Source {
	return store.Source{
		ID:        "src_" + auth.NewSecret("")[:16],
		Name:      name,
		Kind:      kind,
		WriteKey:  auth.NewSecret("wk_"),
		CreatedAt: time.Now().UTC().Truncate(time.Millisecond),
	}
}

// Internal returns Kunding's own source of that name (the one survey
// answers, cases, campaigns or feeds are logged under), creating it on
// first use. Its kind may be one users cannot choose ("case"). Several
// nodes may race to create it: the loser reads the winner's.
func Internal(ctx context.Context, s store.Store, name, kind string) (store.Source, error) {
	src, err := s.SourceByName(ctx, name)
	if !errors.Is(err, store.ErrNotFound) {
		return src, err
	}
	src = newSource(name, kind)
	err = s.CreateSource(ctx, src)
	if errors.Is(err, store.ErrConflict) {
		return s.SourceByName(ctx, name)
	}
	return src, err
}

// RotateKey gives a source a fresh write key and returns the source with it.
// Clients still sending the old key are refused once the collection API's
// key cache has expired (10 s) or been dropped (collect.Collector.ForgetKeys).
func RotateKey(ctx context.Context, s store.Store, sourceID string) (store.Source, error) {
	src, err := s.SourceByID(ctx, sourceID)
	if err != nil {
		return store.Source{}, fmt.Errorf("source %s: %w", sourceID, err)
	}
	src.WriteKey = auth.NewSecret("wk_")
	if err := s.RotateWriteKey(ctx, sourceID, src.WriteKey); err != nil {
		return store.Source{}, err
	}
	return src, nil
}
