// Package importer is the bulk import of Kunding: Segment-shaped events from
// JSON lines and transactions from CSV files, appended straight to the event
// log in chunks. Every line gets a messageId that depends only on the source
// and the line's content, so importing a file again stores nothing twice.
package importer

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/store"
)

// Stages reported to Options.Progress.
const (
	StageValidate = "validate"
	StageImport   = "import"
	StagePipeline = "pipeline"
)

// DefaultChunk is how many events go into one Store.Append: large enough
// that a commit's cost is spread thin, small enough that memory stays flat.
const DefaultChunk = 5000

// maxRejectedBody bounds what is kept of a refused line.
const maxRejectedBody = 4096

// maxLine bounds one line; an event may not exceed event.MaxEventBytes
// anyway, and a longer line is rejected without being held whole.
const maxLine = 1 << 20

// ErrInvalid means --strict found bad lines and stored nothing.
var ErrInvalid = errors.New("invalid lines")

// ErrTooManyErrors means the import stopped after Options.MaxErrors bad lines.
var ErrTooManyErrors = errors.New("too many invalid lines")

// Options are what both kinds of import share.
type Options struct {
	Store  store.Store
	Source store.Source // its ID goes into every messageId
	// CreateSource, if set and Source has no ID, makes the source once the
	// file has been opened and its header matched, so that an import that
	// fails at once leaves no source behind.
	CreateSource func(ctx context.Context) (store.Source, error)
	File         string // the name used in messages, FILE:LINE
	// Open opens the input; it is called once per pass (strict and dry-run
	// imports read the file twice rather than holding it in memory).
	Open func() (io.ReadCloser, error)
	// Strict stores nothing unless every line is valid.
	Strict bool
	// DryRun validates and counts, and stores nothing.
	DryRun bool
	// MaxErrors stops the import after that many bad lines (0: no limit),
	// because a wrong mapping would otherwise reject a whole file line by line.
	MaxErrors int
	Chunk     int
	Now       func() time.Time
	// Progress, if set, is called as lines are read: done and total in lines
	// (total 0 when unknown).
	Progress func(stage string, done, total int64)
	// OnError, if set, is called for each bad line.
	OnError func(*LineError)
}

// Summary counts what an import did.
type Summary struct {
	Lines      int    `json:"lines"` // data lines read (without header and blank lines)
	New        int    `json:"new"`
	Duplicates int    `json:"duplicates"`
	Rejected   int    `json:"rejected"`
	Sample     []byte `json:"-"` // the first valid event as it would be stored
}

// LineError is a problem with one line of the input.
type LineError struct {
	File string
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// row is one data line (or CSV record) of the input.
type row struct {
	line    int      // 1-based line where it starts
	fields  []string // CSV cells, trimmed; nil for JSON lines
	raw     []byte   // as in the file, for the rejected-events table
	content string   // what identifies the row for its messageId
	err     error    // the row could not be read
}

// rowReader reads one pass over the input.
type rowReader interface {
	// next returns io.EOF at the end; other errors end the import.
	next() (row, error)
	// event turns a row into a validated event.
	event(r *row, receivedAt time.Time, messageID string) (event.Event, error)
}

// format is one kind of input.
type format interface {
	rows(r io.Reader) (rowReader, error)
}

// MessageID is the messageId of the occurrence-th (0-based) line with this
// content in an import for the source. Counting occurrences keeps identical
// lines apart (two equal purchases on one day are two purchases) while
// importing the file again yields the same ids.
func MessageID(sourceID, content string, occurrence int) string {
	h := sha256.New()
	h.Write([]byte("kunding-import-v1\x00"))
	h.Write([]byte(sourceID))
	h.Write([]byte{0})
	h.Write([]byte(content))
	var n [9]byte
	binary.BigEndian.PutUint64(n[1:], uint64(occurrence))
	h.Write(n[:])
	return "imp-" + hex.EncodeToString(h.Sum(nil)[:16])
}

func run(ctx context.Context, opt Options, f format) (Summary, error) {
	if opt.Open == nil {
		return Summary{}, errors.New("import: no input")
	}
	if opt.Chunk <= 0 {
		opt.Chunk = DefaultChunk
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if !opt.DryRun && opt.Store == nil {
		return Summary{}, errors.New("import: no store")
	}
	var total int64
	if opt.Progress != nil {
		n, err := countLines(opt.Open)
		if err != nil {
			return Summary{}, fmt.Errorf("%s: %w", opt.File, err)
		}
		total = n
	}
	if opt.Strict || opt.DryRun {
		s, err := pass(ctx, opt, f, total, false)
		if err != nil {
			return s, err
		}
		if s.Rejected > 0 {
			return s, fmt.Errorf("%w: %d of %d lines are bad; nothing was stored", ErrInvalid, s.Rejected, s.Lines)
		}
		if opt.DryRun {
			return s, nil
		}
	}
	return pass(ctx, opt, f, total, true)
}

// pass reads the input once; with write it appends valid events in chunks
// and keeps bad lines as rejected events (not in strict mode, where pass
// one already made sure there are none).
func pass(ctx context.Context, opt Options, f format, total int64, write bool) (Summary, error) {
	var s Summary
	rc, err := opt.Open()
	if err != nil {
		return s, err
	}
	defer rc.Close()
	rr, err := f.rows(rc)
	if err != nil {
		return s, fmt.Errorf("%s: %w", opt.File, err)
	}
	stage := StageImport
	if !write {
		stage = StageValidate
	} else if opt.Source.ID == "" && opt.CreateSource != nil {
		if opt.Source, err = opt.CreateSource(ctx); err != nil {
			return s, err
		}
	}
	now := opt.Now().UTC()
	seen := map[[16]byte]int{}
	var recs []store.Record
	var rejs []store.Rejected
	flush := func() error {
		if !write {
			return nil
		}
		if len(recs) > 0 {
			isNew, err := opt.Store.Append(ctx, recs)
			if err != nil {
				return fmt.Errorf("append to the event log: %w", err)
			}
			for _, n := range isNew {
				if n {
					s.New++
				} else {
					s.Duplicates++
				}
			}
			recs = recs[:0]
		}
		if len(rejs) > 0 {
			if err := opt.Store.AppendRejected(ctx, rejs); err != nil {
				return fmt.Errorf("keep rejected lines: %w", err)
			}
			rejs = rejs[:0]
		}
		return nil
	}
	last := 0
	for {
		if err := ctx.Err(); err != nil {
			return s, err
		}
		r, err := rr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if ferr := flush(); ferr != nil {
				return s, ferr
			}
			return s, fmt.Errorf("%s:%d: %w", opt.File, last+1, err)
		}
		last = r.line
		s.Lines++
		key := sha256.Sum256([]byte(r.content))
		var k [16]byte
		copy(k[:], key[:])
		occ := seen[k]
		seen[k] = occ + 1
		id := MessageID(opt.Source.ID, r.content, occ)

		ev, body, perr := convert(rr, &r, now, id)
		if perr != nil {
			le := &LineError{File: opt.File, Line: r.line, Err: perr}
			s.Rejected++
			if opt.OnError != nil {
				opt.OnError(le)
			}
			if write && opt.Strict {
				flush()
				return s, fmt.Errorf("%w (the file changed during the import)", le)
			}
			if write {
				rejs = append(rejs, rejectedOf(opt.Source.ID, ev.MessageID, id, now, le, r.raw))
			}
			if opt.MaxErrors > 0 && s.Rejected >= opt.MaxErrors {
				if err := flush(); err != nil {
					return s, err
				}
				return s, fmt.Errorf("%w: stopped at %s:%d after %d bad lines (raise --max-errors, or check the mapping and format)",
					ErrTooManyErrors, opt.File, r.line, s.Rejected)
			}
		} else {
			if s.Sample == nil {
				s.Sample = body
			}
			if write {
				recs = append(recs, store.Record{SourceID: opt.Source.ID, Event: ev, Body: body})
			}
		}
		if len(recs) >= opt.Chunk || len(rejs) >= opt.Chunk {
			if err := flush(); err != nil {
				return s, err
			}
		}
		if opt.Progress != nil {
			opt.Progress(stage, int64(r.line), total)
		}
	}
	if err := flush(); err != nil {
		return s, err
	}
	if opt.Progress != nil {
		opt.Progress(stage, max(total, int64(last)), total)
	}
	return s, nil
}

func convert(f rowReader, r *row, now time.Time, id string) (event.Event, []byte, error) {
	if r.err != nil {
		return event.Event{}, nil, r.err
	}
	ev, err := f.event(r, now, id)
	if err != nil {
		return ev, nil, err
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return ev, nil, fmt.Errorf("encode event: %v", err)
	}
	return ev, body, nil
}

func rejectedOf(sourceID, msgID, fallback string, at time.Time, le *LineError, raw []byte) store.Rejected {
	if msgID == "" {
		msgID = fallback
	}
	body := bytes.ToValidUTF8(raw, []byte("?"))
	if len(body) > maxRejectedBody {
		body = append(body[:maxRejectedBody:maxRejectedBody], "…"...)
	}
	return store.Rejected{SourceID: sourceID, MessageID: msgID, ReceivedAt: at, Reason: le.Error(), Body: string(body)}
}

// countLines counts the lines of the input for the progress bar.
func countLines(open func() (io.ReadCloser, error)) (int64, error) {
	rc, err := open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	var n int64
	buf := make([]byte, 256*1024)
	lastNL := true
	for {
		k, err := rc.Read(buf)
		if k > 0 {
			n += int64(bytes.Count(buf[:k], []byte{'\n'}))
			lastNL = buf[k-1] == '\n'
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	if !lastNL {
		n++
	}
	return n, nil
}

// lineReader reads lines of any length, keeping at most maxLine bytes of one.
type lineReader struct {
	r    *bufio.Reader
	line int
	buf  []byte
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64*1024)}
}

// next returns the next line without its line ending, its number, and
// whether it was cut at maxLine.
func (lr *lineReader) next() ([]byte, int, bool, error) {
	lr.buf = lr.buf[:0]
	tooLong := false
	for {
		chunk, err := lr.r.ReadSlice('\n')
		if len(lr.buf)+len(chunk) <= maxLine {
			lr.buf = append(lr.buf, chunk...)
		} else {
			tooLong = true
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(lr.buf) == 0 && !tooLong {
			return nil, 0, false, io.EOF
		}
		if err != nil && err != io.EOF {
			return nil, 0, false, err
		}
		lr.line++
		line := bytes.TrimRight(lr.buf, "\r\n")
		if lr.line == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
		}
		return line, lr.line, tooLong, nil
	}
}

func checkUTF8(b []byte) error {
	if !utf8.Valid(b) {
		return errors.New("not valid UTF-8; convert the file first (e.g. iconv -f WINDOWS-1252 -t UTF-8)")
	}
	return nil
}
