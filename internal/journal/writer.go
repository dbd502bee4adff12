package journal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kunding/kunding/internal/metrics"
	"github.com/kunding/kunding/internal/store"
)

// Options configure a journal.
type Options struct {
	// Dir holds the segment files and the checkpoint; created if missing.
	Dir string
	// Fsync: fsync every group commit before acknowledging (power-loss
	// safe). Without it an acknowledged event survives a crash of the
	// process (it is in the operating system's page cache), not of the
	// machine.
	Fsync bool
	// Store receives the events (the event log).
	Store store.Store
	// SegmentSize: a new segment file starts after this many bytes.
	// Default 64 MiB.
	SegmentSize int64
	// MaxBacklog: while more than this many bytes wait to be loaded,
	// Append refuses with store.ErrOverloaded (503 and Retry-After to the
	// client). Default 1 GiB.
	MaxBacklog int64
	// Queue bounds the requests waiting for a group commit. Default 2048.
	Queue int
	// LoadBatch is the number of records per append to the store.
	// Default 2000.
	LoadBatch int
	// BurstDefer is how long the loader may hold a batch back while
	// requests queue for the group commit (see yieldToBurst). Zero: never.
	BurstDefer time.Duration
	// DrainTimeout bounds how long Close waits for the loader to empty
	// the journal; what is left is loaded at the next start. Default 30 s.
	DrainTimeout time.Duration
	Metrics      *metrics.Metrics
	Log          *slog.Logger
	// After is called after each load into the store (wakes the pipeline).
	After func()
}

// Journal is an open journal with its writer and loader running.
type Journal struct {
	opt  Options
	log  *slog.Logger
	reqs chan *writeReq
	// toSync carries written groups to syncLoop.
	toSync chan *written
	lock   *os.File

	// Writer state, owned by the write loop.
	f   *os.File
	pos Pos
	buf []byte

	mu        sync.Mutex
	committed Pos           // end of what is written (and fsynced if set)
	loaded    Pos           // end of what is in the store
	changed   chan struct{} // closed and replaced when committed or loaded move
	closedMu  sync.RWMutex
	closed    bool
	closeOnce sync.Once
	writerOut chan struct{}
	loaderOut chan struct{}
	stopLoad  chan struct{} // closed when the drain time is up
	drain     atomic.Bool   // the writer is done: load what is left and stop

	backlog atomic.Int64 // bytes written, not yet loaded
	waiting atomic.Int64 // Append calls waiting for their group commit
	pending atomic.Int64 // records written, not yet loaded
}

type writeReq struct {
	recs []store.Record
	err  error
	done chan struct{}
}

// Open recovers the journal in opt.Dir (cutting off a frame torn by a
// crash), and starts the writer and the loader. Records a previous run
// acknowledged but did not load are loaded first.
func Open(opt Options) (*Journal, error) {
	if opt.Store == nil {
		return nil, errors.New("journal: no store")
	}
	if opt.SegmentSize <= 0 {
		opt.SegmentSize = 64 << 20
	}
	if opt.MaxBacklog <= 0 {
		opt.MaxBacklog = 1 << 30
	}
	if opt.Queue <= 0 {
		opt.Queue = 2048
	}
	if opt.LoadBatch <= 0 {
		opt.LoadBatch = 2000
	}
	if opt.DrainTimeout <= 0 {
		opt.DrainTimeout = 30 * time.Second
	}
	log := opt.Log
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(opt.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	lock, err := lockDir(opt.Dir)
	if err != nil {
		return nil, err
	}
	j := &Journal{opt: opt, log: log, reqs: make(chan *writeReq, opt.Queue), toSync: make(chan *written, opt.Queue), lock: lock,
		changed: make(chan struct{}), writerOut: make(chan struct{}), loaderOut: make(chan struct{}),
		stopLoad: make(chan struct{}),
		// A group of a few dozen batches fits without growing.
		buf: make([]byte, 0, 4<<20)}
	if err := j.recover(); err != nil {
		lock.Close()
		return nil, err
	}
	go j.writeLoop()
	go j.loadLoop()
	return j, nil
}

// recover finds where loading resumes and where writing continues.
func (j *Journal) recover() error {
	segs, err := segments(j.opt.Dir)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	cp, ok, err := readCheckpoint(j.opt.Dir)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if len(segs) == 0 {
		segs = []uint64{1}
		f, err := os.OpenFile(filepath.Join(j.opt.Dir, segName(1)), os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			return fmt.Errorf("journal: %w", err)
		}
		f.Close()
		if err := syncDir(j.opt.Dir); err != nil {
			return fmt.Errorf("journal: %w", err)
		}
	}
	if !ok || cp.Seg < segs[0] {
		cp = Pos{Seg: segs[0]}
	}
	var backlog, pending int64
	var left []uint64
	for i, n := range segs {
		path := filepath.Join(j.opt.Dir, segName(n))
		if n < cp.Seg {
			// Loaded completely; a crash came between the checkpoint and
			// the removal.
			os.Remove(path)
			continue
		}
		from := int64(0)
		if n == cp.Seg {
			from = cp.Off
		}
		end, frames, err := validEnd(path, from)
		if err != nil {
			return fmt.Errorf("journal: %s: %w", path, err)
		}
		if i == len(segs)-1 {
			// Only the last segment can end in a torn frame: cut it off.
			if err := os.Truncate(path, end); err != nil {
				return fmt.Errorf("journal: %w", err)
			}
		}
		if n == cp.Seg {
			if cp.Off > end {
				cp.Off = end
			}
			backlog += end - cp.Off
		} else {
			backlog += end
		}
		pending += frames
		left = append(left, n)
	}
	if len(left) == 0 {
		// The checkpoint names a segment that is gone (removed by hand):
		// everything before it was loaded; continue in a fresh one.
		left = []uint64{max(cp.Seg, segs[len(segs)-1]+1)}
		cp = Pos{Seg: left[0]}
	}
	last := left[len(left)-1]
	path := filepath.Join(j.opt.Dir, segName(last))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	end, err := f.Seek(0, 2)
	if err != nil {
		f.Close()
		return fmt.Errorf("journal: %w", err)
	}
	j.f = f
	j.pos = Pos{Seg: last, Off: end}
	j.committed = j.pos
	j.loaded = cp
	j.backlog.Store(backlog)
	j.pending.Store(pending)
	if backlog > 0 {
		j.log.Info("journal: loading events acknowledged before the last stop", "bytes", backlog)
	}
	return nil
}

// Append writes recs to the journal in the next group commit and returns
// when they are durable (see Options.Fsync). It returns nil for isNew:
// whether an event repeats one already in the log is known only when it is
// loaded.
func (j *Journal) Append(ctx context.Context, recs []store.Record) ([]bool, error) {
	if j.backlog.Load() > j.opt.MaxBacklog {
		if j.opt.Metrics != nil {
			j.opt.Metrics.Overloaded.Inc()
		}
		return nil, store.ErrOverloaded
	}
	r := &writeReq{recs: recs, done: make(chan struct{})}
	j.waiting.Add(1)
	defer j.waiting.Add(-1)
	j.closedMu.RLock()
	if j.closed {
		j.closedMu.RUnlock()
		return nil, store.ErrClosed
	}
	select {
	case j.reqs <- r:
		j.closedMu.RUnlock()
	default:
		j.closedMu.RUnlock()
		if j.opt.Metrics != nil {
			j.opt.Metrics.Overloaded.Inc()
		}
		return nil, store.ErrOverloaded
	}
	// Once queued the request is written or fails as a whole; wait for it
	// even if the client gave up, so our answer is never ambiguous.
	<-r.done
	return nil, r.err
}

// maxGroupBytes bounds one group commit's write.
const maxGroupBytes = 8 << 20

// writeLoop gathers the queued requests into a group, writes it, and hands
// it to syncLoop. Writing the next group while the previous one is being
// fsynced keeps the disk's flush latency off the CPU's critical path:
// with the two in one loop, a quarter of the acknowledgements' time was
// spent waiting for fdatasync with nothing else written meanwhile.
func (j *Journal) writeLoop() {
	synced := make(chan struct{})
	go j.syncLoop(synced)
	defer func() {
		close(j.toSync)
		<-synced
		if j.f != nil {
			j.f.Sync()
			j.f.Close()
		}
		close(j.writerOut)
	}()
	for first := range j.reqs {
		group := []*writeReq{first}
		j.buf = j.buf[:0]
		j.buf = j.encode(j.buf, first.recs)
	gather:
		for len(j.buf) < maxGroupBytes {
			select {
			case r, ok := <-j.reqs:
				if !ok {
					break gather
				}
				group = append(group, r)
				j.buf = j.encode(j.buf, r.recs)
			default:
				break gather
			}
		}
		n := 0
		for _, r := range group {
			n += len(r.recs)
		}
		w := &written{group: group, records: n, start: time.Now()}
		w.retired, w.err = j.write(j.buf, n)
		w.f, w.end = j.f, j.pos
		j.toSync <- w
	}
}

// written is a group on its way from writeLoop to syncLoop.
type written struct {
	group   []*writeReq
	records int
	start   time.Time
	err     error    // the write failed: answer the group with it
	f       *os.File // the segment written to
	end     Pos      // the end of the journal after the group
	retired *os.File // a segment finished before this group: close it once synced
}

// syncLoop makes written groups durable and answers them. It takes all
// groups waiting at once: one fdatasync covers them all.
func (j *Journal) syncLoop(done chan<- struct{}) {
	defer close(done)
	for first := range j.toSync {
		ws := []*written{first}
	more:
		for {
			select {
			case w, ok := <-j.toSync:
				if !ok {
					break more
				}
				ws = append(ws, w)
			default:
				break more
			}
		}
		var err error
		if j.opt.Fsync {
			// Segments in order: one rotated away is fsynced by rotate
			// already, so only the current one (or two) remain.
			var last *os.File
			for _, w := range ws {
				if w.err == nil && w.f != last {
					if e := fdatasync(w.f); e != nil && err == nil {
						err = e
					}
					last = w.f
				}
			}
			if err != nil {
				j.log.Error("journal: fsync failed", "err", err)
				err = fmt.Errorf("%w: journal: %v", store.ErrUnavailable, err)
			}
		}
		var end Pos
		ok := false
		for _, w := range ws {
			werr := w.err
			if werr == nil {
				werr = err
			}
			if werr == nil {
				end, ok = w.end, true
			}
			if m := j.opt.Metrics; m != nil {
				m.CommitSeconds.Observe(time.Since(w.start).Seconds())
				if werr == nil {
					m.CommitEvents.Observe(float64(w.records))
				}
			}
			for _, r := range w.group {
				r.err = werr
				close(r.done)
			}
			if w.retired != nil {
				w.retired.Close()
			}
		}
		if ok {
			// What failed to fsync stays unacknowledged but is in the
			// file: a later successful fsync makes it loadable, and the
			// log drops the repeats of the client's retry.
			j.mu.Lock()
			j.committed = end
			j.notifyLocked()
			j.mu.Unlock()
		}
	}
}

func (j *Journal) encode(b []byte, recs []store.Record) []byte {
	for i := range recs {
		b = appendFrame(b, &recs[i])
	}
	return b
}

// write appends b at the end of the current segment, starting a new one
// when it is full; it returns the finished segment, for syncLoop to close.
func (j *Journal) write(b []byte, records int) (retired *os.File, err error) {
	if j.pos.Off > 0 && j.pos.Off+int64(len(b)) > j.opt.SegmentSize {
		if retired, err = j.rotate(); err != nil {
			j.log.Error("journal: cannot start a new segment", "err", err)
			return nil, fmt.Errorf("%w: journal: %v", store.ErrUnavailable, err)
		}
	}
	if _, err = j.f.Write(b); err != nil {
		// Disk full or an I/O error: cut off whatever part was written,
		// so no half frame stays in front of the next one. The client is
		// told to retry (503).
		j.log.Error("journal: write failed", "err", err)
		if terr := j.f.Truncate(j.pos.Off); terr != nil {
			j.log.Error("journal: cannot cut off a failed write", "err", terr)
		}
		j.f.Seek(j.pos.Off, 0)
		return retired, fmt.Errorf("%w: journal: %v", store.ErrUnavailable, err)
	}
	j.pos.Off += int64(len(b))
	j.backlog.Add(int64(len(b)))
	j.pending.Add(int64(records))
	return retired, nil
}

// rotate starts the next segment. The finished one is fsynced here, so the
// groups in it that syncLoop has not yet synced are durable; syncLoop
// closes it after answering them.
func (j *Journal) rotate() (*os.File, error) {
	if err := j.f.Sync(); err != nil {
		return nil, err
	}
	next := j.pos.Seg + 1
	f, err := os.OpenFile(filepath.Join(j.opt.Dir, segName(next)), os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syncDir(j.opt.Dir); err != nil {
		f.Close()
		return nil, err
	}
	old := j.f
	j.f = f
	j.pos = Pos{Seg: next}
	return old, nil
}

func (j *Journal) notifyLocked() {
	close(j.changed)
	j.changed = make(chan struct{})
}

// SetAfter sets the function called after each load (to wake the
// pipeline); for wiring where the pipeline is made after the journal.
func (j *Journal) SetAfter(f func()) {
	j.mu.Lock()
	j.opt.After = f
	j.mu.Unlock()
}

// Backlog returns the records and bytes written but not yet loaded.
func (j *Journal) Backlog() (records, bytes int64) {
	return j.pending.Load(), j.backlog.Load()
}

// Sync waits until everything acknowledged before the call is in the
// store's event log.
func (j *Journal) Sync(ctx context.Context) error {
	j.mu.Lock()
	target := j.committed
	j.mu.Unlock()
	for {
		j.mu.Lock()
		done := !j.loaded.Less(target)
		ch := j.changed
		j.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-j.loaderOut:
			return errors.New("journal: closed before everything was loaded")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close stops accepting, writes what is queued, and gives the loader up to
// DrainTimeout to load the rest into the store; anything left stays in the
// journal for the next start. Close may be called again.
func (j *Journal) Close() {
	j.closeOnce.Do(func() {
		j.closedMu.Lock()
		j.closed = true
		close(j.reqs)
		j.closedMu.Unlock()
		<-j.writerOut
		j.drain.Store(true)
		j.mu.Lock()
		j.notifyLocked()
		j.mu.Unlock()
		t := time.NewTimer(j.opt.DrainTimeout)
		select {
		case <-j.loaderOut:
		case <-t.C:
			close(j.stopLoad)
			<-j.loaderOut
			_, left := j.Backlog()
			j.log.Warn("journal: stopped before loading everything; the rest is loaded at the next start", "bytes", left)
		}
		t.Stop()
		j.lock.Close()
	})
	<-j.loaderOut
}
