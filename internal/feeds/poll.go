package feeds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kunding/kunding/internal/feedback"
	"github.com/kunding/kunding/internal/store"
)

// Defaults of a Poller.
const (
	DefaultTimeout  = 30 * time.Second
	DefaultMaxBytes = 10 << 20
	DefaultTick     = 15 * time.Second
	// MaxBackoff bounds the wait after repeated failures.
	MaxBackoff = 24 * time.Hour
	// maxItemErrors bounds the reasons kept for skipped items.
	maxItemErrors = 10
)

// Poller fetches the feeds that are due and stores their new items. Any
// number of nodes may run one on a shared database: a lease per feed lets
// one node at a time poll it, and feedback is stored once by its id even
// if two nodes got the same item.
type Poller struct {
	Store  store.Store
	Intake *feedback.Service
	// Client fetches the feeds (default: one with Timeout).
	Client *http.Client
	// Holder names this node in leases.
	Holder   string
	Log      *slog.Logger
	Now      func() time.Time
	Timeout  time.Duration // one fetch, including reading the body
	MaxBytes int64         // the largest feed document read
	Tick     time.Duration // how often Run looks for due feeds
}

// Report tells what one poll of a feed did.
type Report struct {
	FeedID      string `json:"feedId"`
	Polled      bool   `json:"polled"` // false: not due, or another node polls it
	NotModified bool   `json:"notModified,omitempty"`
	Items       int    `json:"items"`
	New         int    `json:"new"`
	Duplicates  int    `json:"duplicates"`
	Skipped     int    `json:"skipped"`
	Error       string `json:"error,omitempty"`
}

func (p *Poller) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Poller) log() *slog.Logger {
	if p.Log != nil {
		return p.Log
	}
	return slog.Default()
}

func (p *Poller) fstore() (store.FeedbackStore, error) {
	fs, ok := p.Store.(store.FeedbackStore)
	if !ok {
		return nil, errors.New("this store does not keep feeds")
	}
	return fs, nil
}

// Run polls due feeds until ctx ends.
func (p *Poller) Run(ctx context.Context) {
	tick := p.Tick
	if tick <= 0 {
		tick = DefaultTick
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		if _, err := p.PollDue(ctx); err != nil && ctx.Err() == nil {
			p.log().Warn("feeds: poll", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// PollDue polls every enabled feed whose next poll time has come.
func (p *Poller) PollDue(ctx context.Context) ([]Report, error) {
	fs, err := p.fstore()
	if err != nil {
		return nil, err
	}
	all, err := fs.Feeds(ctx)
	if err != nil {
		return nil, err
	}
	var out []Report
	now := p.now()
	for _, f := range all {
		if !f.Enabled || f.NextPoll.After(now) {
			continue
		}
		r, err := p.PollFeed(ctx, f.ID, false)
		if err != nil {
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			p.log().Warn("feeds: poll", "feed", f.ID, "err", err)
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

func leaseName(id string) string { return "feed:" + id }

// PollFeed polls one feed under its lease: when due, or at once with
// force (an administrator's "poll now"). Feed errors (HTTP, timeouts,
// broken XML) are recorded in the feed's state and reported, not
// returned; the error is for the store failing.
func (p *Poller) PollFeed(ctx context.Context, id string, force bool) (Report, error) {
	rep := Report{FeedID: id}
	fs, err := p.fstore()
	if err != nil {
		return rep, err
	}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	holder := p.Holder
	if holder == "" {
		holder = "feeds"
	}
	ok, err := p.Store.AcquireLease(ctx, leaseName(id), holder, 2*timeout+time.Minute)
	if err != nil || !ok {
		return rep, err
	}
	defer p.Store.ReleaseLease(context.WithoutCancel(ctx), leaseName(id), holder)
	// Read again under the lease: another node may have just polled it.
	f, err := fs.Feed(ctx, id)
	if err != nil {
		return rep, err
	}
	now := p.now()
	if !force && (!f.Enabled || f.NextPoll.After(now)) {
		return rep, nil
	}
	rep.Polled = true
	st := f.FeedState
	st.LastPoll = &now
	items, etag, lastMod, notModified, ferr := p.fetch(ctx, f, timeout)
	if ferr != nil {
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
		st.Failures++
		st.LastError = ferr.Error()
		st.NextPoll = now.Add(Backoff(f.IntervalSeconds, st.Failures))
		rep.Error = st.LastError
		p.log().Warn("feeds: feed failed", "feed", f.ID, "name", f.Name, "failures", st.Failures, "err", ferr)
		return rep, fs.SaveFeedState(ctx, id, st, 0)
	}
	rep.NotModified = notModified
	rep.Items = len(items)
	var itemErrs []string
	for i, it := range items {
		in, reason := toInput(f, it)
		if reason == "" {
			res, err := p.Intake.SubmitFromFeed(ctx, in, f.ID)
			switch {
			case err == nil && res.Duplicate:
				rep.Duplicates++
				continue
			case err == nil:
				rep.New++
				continue
			case errors.Is(err, feedback.ErrInvalid):
				reason = err.Error()
			default:
				// The store failed: the state (and ETag) stays as it
				// was, so the next poll fetches the items again.
				return rep, fmt.Errorf("feed %s item %q: %w", f.ID, it.ID, err)
			}
		}
		rep.Skipped++
		if len(itemErrs) < maxItemErrors {
			itemErrs = append(itemErrs, fmt.Sprintf("item %d (%s): %s", i+1, shorten(it.ID, 80), reason))
		}
	}
	st.Failures = 0
	st.LastError = ""
	st.LastSuccess = &now
	st.NextPoll = now.Add(Backoff(f.IntervalSeconds, 0))
	if !notModified {
		st.ETag, st.LastModified = etag, lastMod
		st.LastItems, st.LastNew, st.LastSkipped = rep.Items, rep.New, rep.Skipped
		st.ItemErrors = strings.Join(itemErrs, "\n")
	} else {
		st.LastNew = 0
	}
	if rep.Skipped > 0 {
		p.log().Warn("feeds: items skipped", "feed", f.ID, "skipped", rep.Skipped, "first", itemErrs[0])
	}
	return rep, fs.SaveFeedState(ctx, id, st, rep.New)
}

// Backoff is the wait before the next poll after failures polls failed in
// a row: the interval, doubled with each failure, at most MaxBackoff (or
// the interval, if that is longer).
func Backoff(intervalSeconds, failures int) time.Duration {
	d := time.Duration(intervalSeconds) * time.Second
	if d <= 0 {
		d = 15 * time.Minute
	}
	limit := max(MaxBackoff, d)
	for i := 1; i < failures && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

func (p *Poller) fetch(ctx context.Context, f store.Feed, timeout time.Duration) (items []Item, etag, lastMod string, notModified bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL, nil)
	if err != nil {
		return nil, "", "", false, fmt.Errorf("bad URL: %v", err)
	}
	req.Header.Set("User-Agent", "Kunding feed poller (+https://github.com/kunding/kunding)")
	req.Header.Set("Accept", "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5")
	if f.ETag != "" {
		req.Header.Set("If-None-Match", f.ETag)
	}
	if f.LastModified != "" {
		req.Header.Set("If-Modified-Since", f.LastModified)
	}
	client := p.Client
	if client == nil {
		client = &http.Client{Timeout: timeout}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", "", false, describe(err, timeout)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified {
		return nil, f.ETag, f.LastModified, true, nil
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, "", "", false, fmt.Errorf("HTTP %s", resp.Status)
	}
	maxBytes := p.MaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return nil, "", "", false, describe(err, timeout)
	}
	if int64(len(data)) > maxBytes {
		return nil, "", "", false, fmt.Errorf("feed larger than %d bytes", maxBytes)
	}
	items, err = Parse(data)
	if err != nil {
		return nil, "", "", false, err
	}
	return items, resp.Header.Get("ETag"), resp.Header.Get("Last-Modified"), false, nil
}

func describe(err error, timeout time.Duration) error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Errorf("timeout: no complete answer within %s", timeout)
	}
	return fmt.Errorf("fetch failed: %v", err)
}

// toInput turns a feed item into feedback input; reason says why an item
// cannot be used.
func toInput(f store.Feed, it Item) (feedback.Input, string) {
	in := feedback.Input{Portal: f.Portal, Kind: f.Kind, Title: truncate(it.Title, feedback.MaxTitle), Author: truncate(it.Author, feedback.MaxAuthor)}
	in.Text = it.Text
	if in.Text == "" {
		// A forum thread or a short post may have only a title.
		in.Text = it.Title
	}
	if strings.TrimSpace(in.Text) == "" {
		return in, "no text and no title"
	}
	in.Text = truncate(in.Text, feedback.MaxText)
	in.ExternalID = it.ID
	if utf8.RuneCountInString(in.ExternalID) > feedback.MaxExternalID {
		in.ExternalID = contentID(Item{Title: it.ID})
	}
	if it.Link != "" && feedback.CheckURL("url", it.Link) == nil {
		in.URL = it.Link
	}
	if !it.Published.IsZero() {
		// A date in the future (a wrong clock of the portal) or unreadable
		// becomes the time Kunding saw the item (Input's default).
		in.Time = it.Published.Format(time.RFC3339Nano)
		if it.Published.After(time.Now().Add(time.Hour)) || it.Published.Year() < 1990 {
			in.Time = ""
		}
	}
	return in, ""
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func shorten(s string, n int) string { return truncate(s, n) }
