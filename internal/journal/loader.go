package journal

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/kunding/kunding/internal/store"
)

// errStopped means the loader was told to stop before a batch was loaded.
var errStopped = errors.New("journal loader stopped")

func (j *Journal) loadLoop() {
	defer close(j.loaderOut)
	j.mu.Lock()
	pos := j.loaded
	j.mu.Unlock()
	var rd *reader
	defer func() {
		if rd != nil {
			rd.close()
		}
	}()
	batch := make([]store.Record, 0, j.opt.LoadBatch)
	var batchBytes int64
	for {
		j.mu.Lock()
		committed := j.committed
		ch := j.changed
		j.mu.Unlock()
		if !pos.Less(committed) {
			if j.drain.Load() {
				return
			}
			select {
			case <-ch:
			case <-j.stopLoad:
				return
			}
			continue
		}
		if !j.yieldToBurst() {
			return
		}
		// Read up to a batch of committed frames.
		batch = batch[:0]
		batchBytes = 0
		end := pos
		for len(batch) < j.opt.LoadBatch && end.Less(committed) {
			if rd == nil || rd.off != end.Off {
				if rd != nil {
					rd.close()
					rd = nil
				}
				var err error
				rd, err = openReader(filepath.Join(j.opt.Dir, segName(end.Seg)), end.Off)
				if err != nil {
					j.log.Error("journal: cannot read a segment", "segment", end.Seg, "err", err)
					j.sleepOrStop(time.Second)
					break
				}
			}
			rec, err := rd.next()
			if err != nil {
				if end.Seg < committed.Seg {
					// The writer has moved on, so this segment is finished:
					// its end is the end of its last frame. Anything else
					// is a damaged frame (the disk lost data under us): say
					// so loudly and go on with the next segment rather than
					// stop loading for good.
					if err != io.EOF {
						j.log.Error("journal: damaged segment, the rest of it is skipped", "segment", end.Seg, "offset", rd.off, "err", err)
					}
					rd.close()
					rd = nil
					end = Pos{Seg: end.Seg + 1}
					continue
				}
				j.log.Error("journal: cannot read a written frame", "at", end.String(), "err", err)
				rd.close()
				rd = nil
				j.sleepOrStop(time.Second)
				break
			}
			batchBytes += rd.off - end.Off
			end.Off = rd.off
			batch = append(batch, rec)
		}
		if len(batch) > 0 {
			if err := j.load(batch); err != nil {
				// Stopped (shutdown with the store away): the batch stays in
				// the journal.
				return
			}
			j.pending.Add(-int64(len(batch)))
		}
		j.backlog.Add(-batchBytes)
		if end.Seg > pos.Seg || len(batch) > 0 {
			if err := writeCheckpoint(j.opt.Dir, end); err != nil {
				j.log.Error("journal: cannot write the checkpoint", "err", err)
			}
			for s := pos.Seg; s < end.Seg; s++ {
				os.Remove(filepath.Join(j.opt.Dir, segName(s)))
			}
		}
		pos = end
		j.mu.Lock()
		j.loaded = pos
		j.notifyLocked()
		j.mu.Unlock()
		j.mu.Lock()
		after := j.opt.After
		j.mu.Unlock()
		if len(batch) > 0 && after != nil {
			after()
		}
	}
}

// yieldToBurst holds the next load back while requests queue for the group
// commit (a burst): on two cores the loader, and the pipeline it feeds,
// would take the CPU the answers need, and the SDKs waiting for them buffer
// or drop events. It waits at most BurstDefer per batch, and not at all once
// a quarter of MaxBacklog waits, so the log follows within seconds under
// steady load and the journal cannot fill up. false: stop loading.
func (j *Journal) yieldToBurst() bool {
	if j.opt.BurstDefer <= 0 {
		return true
	}
	deadline := time.Now().Add(j.opt.BurstDefer)
	for j.waiting.Load() >= 2 && j.backlog.Load() < j.opt.MaxBacklog/4 && !j.drain.Load() && time.Now().Before(deadline) {
		if !j.sleepOrStop(5 * time.Millisecond) {
			return false
		}
	}
	return true
}

func (j *Journal) sleepOrStop(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-j.stopLoad:
		return false
	}
}

// load appends recs to the event log. While the database is away it
// retries with growing pauses (the events are safe in the journal). If the
// database refuses the data itself, the batch is split until the refused
// events are found; those are kept as rejected events with the reason,
// never dropped silently, and the others are loaded.
func (j *Journal) load(recs []store.Record) error {
	pause := 50 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		isNew, err := j.opt.Store.Append(ctx, recs)
		cancel()
		if err == nil {
			j.count(isNew)
			return nil
		}
		if !errors.Is(err, store.ErrUnavailable) && !errors.Is(err, context.DeadlineExceeded) {
			if len(recs) == 1 {
				j.refuse(recs[0], err)
				return nil
			}
			half := len(recs) / 2
			if err := j.load(recs[:half]); err != nil {
				return err
			}
			return j.load(recs[half:])
		}
		j.log.Warn("journal: event log unavailable, retrying", "events", len(recs), "err", err)
		if !j.sleepOrStop(pause) {
			return errStopped
		}
		if pause < 5*time.Second {
			pause *= 2
		}
	}
}

func (j *Journal) count(isNew []bool) {
	m := j.opt.Metrics
	if m == nil {
		return
	}
	n := 0
	for _, x := range isNew {
		if x {
			n++
		}
	}
	m.Accepted.Add(float64(n))
	m.Deduplicated.Add(float64(len(isNew) - n))
}

func (j *Journal) refuse(r store.Record, cause error) {
	j.log.Error("journal: the event log refused an acknowledged event; kept as rejected", "source", r.SourceID, "messageId", r.Event.MessageID, "err", cause)
	body := r.Body
	if len(body) > 4096 {
		body = body[:4096]
	}
	rej := store.Rejected{SourceID: r.SourceID, MessageID: r.Event.MessageID, ReceivedAt: r.Event.ReceivedAt,
		Reason: "accepted, but the event log refused it: " + cause.Error(), Body: string(body)}
	for pause := 100 * time.Millisecond; ; pause *= 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := j.opt.Store.AppendRejected(ctx, []store.Rejected{rej})
		cancel()
		if err == nil {
			break
		}
		j.log.Error("journal: cannot keep a refused event", "err", err)
		if pause > 5*time.Second || !j.sleepOrStop(pause) {
			break
		}
	}
	if m := j.opt.Metrics; m != nil {
		m.Rejected.WithLabelValues("refused_by_log").Inc()
	}
}
