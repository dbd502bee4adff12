package collect

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/kunding/kunding/internal/metrics"
	"github.com/kunding/kunding/internal/store"
)

// ErrOverloaded means the write queue is full; the client should retry later.
var ErrOverloaded = store.ErrOverloaded

// ErrClosed means the appender no longer accepts events (shutdown).
var ErrClosed = store.ErrClosed

// Writer takes validated events durably: Append returns only when they
// are safe (see docs/collection.md). isNew says per record whether it was
// new, or is nil when that is not known yet (the journal learns it when it
// loads the events into the log).
type Writer interface {
	Append(ctx context.Context, recs []store.Record) (isNew []bool, err error)
}

// Appender writes events to the log in group commits: every request waiting
// while one commit runs goes into the next, so that one fsync acknowledges
// many requests. A request is answered only after its commit.
type Appender struct {
	store   store.Store
	m       *metrics.Metrics
	reqs    chan *appendReq
	done    chan struct{}
	maxRows int
	after   func() // called after each successful commit (wakes the pipeline)

	// mu guards closed and the send on reqs against Close: a send on the
	// closed channel would panic in a request that arrives during shutdown.
	mu        sync.RWMutex
	closed    bool
	closeOnce sync.Once
}

type appendReq struct {
	recs  []store.Record
	isNew []bool
	err   error
	done  chan struct{}
}

// NewAppender starts the commit loop. queue bounds the waiting requests.
func NewAppender(s store.Store, m *metrics.Metrics, queue int, after func()) *Appender {
	a := &Appender{store: s, m: m, reqs: make(chan *appendReq, queue), done: make(chan struct{}), maxRows: 10000, after: after}
	go a.loop()
	return a
}

// Append queues recs and waits until they are committed. It returns per
// record whether it was new.
func (a *Appender) Append(ctx context.Context, recs []store.Record) ([]bool, error) {
	r := &appendReq{recs: recs, done: make(chan struct{})}
	a.mu.RLock()
	if a.closed {
		a.mu.RUnlock()
		return nil, ErrClosed
	}
	select {
	case a.reqs <- r:
		a.mu.RUnlock()
	default:
		a.mu.RUnlock()
		if a.m != nil {
			a.m.Overloaded.Inc()
		}
		return nil, ErrOverloaded
	}
	// Once queued, the request is committed or fails as a whole; we wait for
	// it even if the client gave up, so the answer is never ambiguous to us.
	<-r.done
	return r.isNew, r.err
}

// Close stops accepting and waits for queued requests to be committed.
// Appends after Close fail with ErrClosed. Close may be called again.
func (a *Appender) Close() {
	a.closeOnce.Do(func() {
		a.mu.Lock()
		a.closed = true
		close(a.reqs)
		a.mu.Unlock()
	})
	<-a.done
}

func (a *Appender) loop() {
	defer close(a.done)
	for first := range a.reqs {
		group := []*appendReq{first}
		rows := len(first.recs)
	gather:
		for rows < a.maxRows {
			select {
			case r, ok := <-a.reqs:
				if !ok {
					break gather
				}
				group = append(group, r)
				rows += len(r.recs)
			default:
				break gather
			}
		}
		all := make([]store.Record, 0, rows)
		for _, r := range group {
			all = append(all, r.recs...)
		}
		start := time.Now()
		isNew, err := a.commit(all)
		if a.m != nil {
			a.m.CommitSeconds.Observe(time.Since(start).Seconds())
			a.m.CommitEvents.Observe(float64(len(all)))
		}
		if err != nil && len(group) > 1 && !errors.Is(err, store.ErrUnavailable) {
			// The database refused the data, not the connection: one
			// request's events must not fail its neighbours, so each
			// request is committed on its own.
			for _, r := range group {
				r.isNew, r.err = a.commit(r.recs)
				close(r.done)
			}
			if a.after != nil {
				a.after()
			}
			continue
		}
		off := 0
		for _, r := range group {
			if err != nil {
				r.err = err
			} else {
				r.isNew = isNew[off : off+len(r.recs)]
			}
			off += len(r.recs)
			close(r.done)
		}
		if err == nil && a.after != nil {
			a.after()
		}
	}
}

// commit retries briefly on errors that a moment may cure (a busy or
// unreachable database), so that a short hiccup does not reach clients.
// Errors of the data itself are not retried.
func (a *Appender) commit(all []store.Record) ([]bool, error) {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		var isNew []bool
		isNew, err = a.store.Append(ctx, all)
		cancel()
		if err == nil {
			return isNew, nil
		}
		if !errors.Is(err, store.ErrUnavailable) {
			return nil, err
		}
		time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond)
	}
	return nil, err
}
