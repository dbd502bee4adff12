package feeds

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/feedback"
	"github.com/kunding/kunding/internal/store"
)

// Bounds of a feed's poll interval.
const (
	MinInterval     = 60
	MaxInterval     = 7 * 24 * 3600
	DefaultInterval = 15 * 60
)

// ErrInvalid marks a feed setting that cannot be stored.
var ErrInvalid = errors.New("invalid feed")

type settingError struct{ msg string }

func (e *settingError) Error() string        { return e.msg }
func (e *settingError) Is(target error) bool { return target == ErrInvalid }

func invalid(format string, args ...any) error {
	return &settingError{fmt.Sprintf(format, args...)}
}

// Settings are what an administrator sets of a feed; nil fields keep
// their value on update (and take the default on create).
type Settings struct {
	Name            *string `json:"name,omitempty"`
	URL             *string `json:"url,omitempty"`
	Portal          *string `json:"portal,omitempty"`
	Kind            *string `json:"kind,omitempty"`
	IntervalSeconds *int    `json:"intervalSeconds,omitempty"`
	Enabled         *bool   `json:"enabled,omitempty"`
}

var nameRE = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N} ._\-]{0,79}$`)

func fstore(st store.Store) (store.FeedbackStore, error) {
	fs, ok := st.(store.FeedbackStore)
	if !ok {
		return nil, errors.New("this store does not keep feeds")
	}
	return fs, nil
}

// apply validates s onto f.
func (s Settings) apply(f *store.Feed) error {
	if s.Name != nil {
		f.Name = strings.TrimSpace(*s.Name)
	}
	if !nameRE.MatchString(f.Name) {
		return invalid("name %q: 1 to 80 letters, digits, spaces, dots, dashes or underscores, starting with a letter or digit", f.Name)
	}
	if s.URL != nil {
		f.URL = strings.TrimSpace(*s.URL)
	}
	if f.URL == "" {
		return invalid("url: missing")
	}
	if err := feedback.CheckURL("url", f.URL); err != nil {
		return invalid("%v", err)
	}
	if s.Portal != nil {
		f.Portal = feedback.NormalizePortal(*s.Portal)
	}
	if f.Portal == "" {
		u, _ := url.Parse(f.URL)
		f.Portal = strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	}
	if err := feedback.ValidPortal(f.Portal); err != nil {
		return invalid("%v", err)
	}
	if s.Kind != nil {
		f.Kind = strings.ToLower(strings.TrimSpace(*s.Kind))
	}
	if f.Kind == "" {
		f.Kind = "review"
	}
	if err := feedback.ValidKind(f.Kind); err != nil {
		return invalid("%v", err)
	}
	if s.IntervalSeconds != nil {
		f.IntervalSeconds = *s.IntervalSeconds
	} else if f.IntervalSeconds == 0 {
		f.IntervalSeconds = DefaultInterval
	}
	if f.IntervalSeconds < MinInterval || f.IntervalSeconds > MaxInterval {
		return invalid("intervalSeconds %d: must be between %d (a minute) and %d (a week)", f.IntervalSeconds, MinInterval, MaxInterval)
	}
	if s.Enabled != nil {
		f.Enabled = *s.Enabled
	}
	return nil
}

// Create validates and stores a new feed; it is polled at once.
func Create(ctx context.Context, st store.Store, s Settings) (store.Feed, error) {
	fs, err := fstore(st)
	if err != nil {
		return store.Feed{}, err
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	f := store.Feed{ID: "feed_" + auth.NewSecret("")[:16], Enabled: true, CreatedAt: now, UpdatedAt: now}
	if s.Name == nil {
		return f, invalid("name: missing")
	}
	if err := s.apply(&f); err != nil {
		return f, err
	}
	f.NextPoll = now
	if err := fs.CreateFeed(ctx, f); err != nil {
		return f, err
	}
	return fs.Feed(ctx, f.ID)
}

// Update changes the settings of a feed. A changed URL or a feed enabled
// again is polled at once, with its failures forgotten.
func Update(ctx context.Context, st store.Store, id string, s Settings) (store.Feed, error) {
	fs, err := fstore(st)
	if err != nil {
		return store.Feed{}, err
	}
	f, err := fs.Feed(ctx, id)
	if err != nil {
		return f, err
	}
	old := f
	if err := s.apply(&f); err != nil {
		return f, err
	}
	f.UpdatedAt = time.Now().UTC().Truncate(time.Millisecond)
	if f.URL != old.URL || (f.Enabled && !old.Enabled) || f.IntervalSeconds != old.IntervalSeconds {
		f.NextPoll = f.UpdatedAt
	}
	if err := fs.UpdateFeed(ctx, f); err != nil {
		return f, err
	}
	if f.URL != old.URL {
		// Another document: its ETag, errors and counts start afresh.
		if err := fs.SaveFeedState(ctx, id, store.FeedState{NextPoll: f.UpdatedAt}, 0); err != nil {
			return f, err
		}
	}
	return fs.Feed(ctx, id)
}

// Delete removes a feed; the feedback stored from it stays.
func Delete(ctx context.Context, st store.Store, id string) error {
	fs, err := fstore(st)
	if err != nil {
		return err
	}
	return fs.DeleteFeed(ctx, id)
}
