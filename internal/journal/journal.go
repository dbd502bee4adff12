// Package journal is the write-ahead journal of the collection API: a
// durable, append-only queue of validated events in segment files on the
// node's disk. A request is acknowledged once its events are in the journal
// (written, and fsynced if so configured, in group commits); a loader moves
// them into the store's event log behind the acknowledgement.
//
// Why: appending a frame to a file costs about a microsecond of CPU, an
// insert into the event log's indexes tens of microseconds and the one
// writer connection of SQLite is shared with the pipeline. The journal takes
// the database off the acknowledgement path, so a burst of events is
// accepted at the speed of the disk and the parser, and the database
// catches up at its own pace.
//
// Loading is at-least-once: after a crash the loader repeats the records
// after its last checkpoint, and the event log drops the repeats by
// (source, messageId), so every acknowledged event ends up in the log once.
package journal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/store"
)

// Frame layout: length (uint32, of the payload), CRC-32C of the payload
// (uint32), payload. Payload: source id, message id, type, name (each a
// uvarint length and the bytes), timestamp and receivedAt (varint Unix
// milliseconds), body (uvarint length and the bytes).
const frameHeader = 8

// maxFrame bounds a frame when reading: anything larger is a torn or
// corrupt header (events are at most 32 KB).
const maxFrame = 4 << 20

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Pos is a position in the journal: a segment number and a byte offset.
type Pos struct {
	Seg uint64
	Off int64
}

// Less reports whether p is before q.
func (p Pos) Less(q Pos) bool {
	return p.Seg < q.Seg || (p.Seg == q.Seg && p.Off < q.Off)
}

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Seg, p.Off) }

const segSuffix = ".jnl"

func segName(n uint64) string { return fmt.Sprintf("%016d%s", n, segSuffix) }

// segments lists the segment numbers in dir in ascending order.
func segments(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []uint64
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, segSuffix) {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(name, segSuffix), 10, 64)
		if err != nil {
			continue
		}
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// appendFrame encodes r as a frame onto b.
func appendFrame(b []byte, r *store.Record) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)
	name := r.Event.Event
	if name == "" {
		name = r.Event.Name
	}
	b = appendString(b, r.SourceID)
	b = appendString(b, r.Event.MessageID)
	b = appendString(b, r.Event.Type)
	b = appendString(b, name)
	b = binary.AppendVarint(b, r.Event.Timestamp.UnixMilli())
	b = binary.AppendVarint(b, r.Event.ReceivedAt.UnixMilli())
	b = binary.AppendUvarint(b, uint64(len(r.Body)))
	b = append(b, r.Body...)
	payload := b[start+frameHeader:]
	binary.LittleEndian.PutUint32(b[start:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(b[start+4:], crc32.Checksum(payload, crcTable))
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

var errCorrupt = errors.New("corrupt journal frame")

// decodePayload turns a frame's payload back into a record. The record's
// Event carries what the event log indexes (message id, type, name,
// timestamps); Body is the whole event as stored.
func decodePayload(p []byte) (store.Record, error) {
	var r store.Record
	var s [4]string
	for i := range s {
		n, k := binary.Uvarint(p)
		if k <= 0 || uint64(len(p)-k) < n {
			return r, errCorrupt
		}
		s[i] = string(p[k : k+int(n)])
		p = p[k+int(n):]
	}
	ts, k := binary.Varint(p)
	if k <= 0 {
		return r, errCorrupt
	}
	p = p[k:]
	recv, k := binary.Varint(p)
	if k <= 0 {
		return r, errCorrupt
	}
	p = p[k:]
	n, k := binary.Uvarint(p)
	if k <= 0 || uint64(len(p)-k) != n {
		return r, errCorrupt
	}
	r.SourceID = s[0]
	r.Event = event.Event{MessageID: s[1], Type: s[2], Event: s[3],
		Timestamp: time.UnixMilli(ts).UTC(), ReceivedAt: time.UnixMilli(recv).UTC()}
	r.Body = append([]byte(nil), p[k:]...)
	return r, nil
}

// reader reads frames of one segment file sequentially.
type reader struct {
	f   *os.File
	br  *bufio.Reader
	off int64
	buf []byte
}

func openReader(path string, off int64) (*reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return &reader{f: f, br: bufio.NewReaderSize(f, 256<<10), off: off}, nil
}

// next reads the next frame. It returns io.EOF at a clean end and
// errCorrupt (or io.ErrUnexpectedEOF) at a torn or damaged frame.
func (r *reader) next() (store.Record, error) {
	var h [frameHeader]byte
	if _, err := io.ReadFull(r.br, h[:]); err != nil {
		return store.Record{}, err
	}
	n := binary.LittleEndian.Uint32(h[:])
	if n == 0 || n > maxFrame {
		return store.Record{}, errCorrupt
	}
	if cap(r.buf) < int(n) {
		r.buf = make([]byte, n)
	}
	p := r.buf[:n]
	if _, err := io.ReadFull(r.br, p); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return store.Record{}, err
	}
	if crc32.Checksum(p, crcTable) != binary.LittleEndian.Uint32(h[4:]) {
		return store.Record{}, errCorrupt
	}
	rec, err := decodePayload(p)
	if err != nil {
		return store.Record{}, err
	}
	r.off += frameHeader + int64(n)
	return rec, nil
}

func (r *reader) close() { r.f.Close() }

// validEnd returns the offset after the last whole frame of a segment
// file (what a crash in the middle of a write left behind it is garbage)
// and the number of whole frames at or after offset from.
func validEnd(path string, from int64) (int64, int64, error) {
	r, err := openReader(path, 0)
	if err != nil {
		return 0, 0, err
	}
	defer r.close()
	var n int64
	for {
		at := r.off
		if _, err := r.next(); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF || errors.Is(err, errCorrupt) {
				return r.off, n, nil
			}
			return 0, 0, err
		}
		if at >= from {
			n++
		}
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// checkpoint file: the position up to which records are in the event log.
const checkpointFile = "checkpoint"

func readCheckpoint(dir string) (Pos, bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, checkpointFile))
	if errors.Is(err, os.ErrNotExist) {
		return Pos{}, false, nil
	}
	if err != nil {
		return Pos{}, false, err
	}
	var p Pos
	if _, err := fmt.Sscanf(strings.TrimSpace(string(b)), "%d:%d", &p.Seg, &p.Off); err != nil {
		// A damaged checkpoint only costs a longer replay: the log drops
		// the repeats.
		return Pos{}, false, nil
	}
	return p, true, nil
}

// writeCheckpoint replaces the checkpoint atomically (write and rename), so
// a crash leaves the old or the new one, never half of one. No fsync: a
// lost checkpoint means replaying records the log already has.
func writeCheckpoint(dir string, p Pos) error {
	tmp := filepath.Join(dir, checkpointFile+".tmp")
	if err := os.WriteFile(tmp, []byte(p.String()+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, checkpointFile))
}

// Dir is where a node keeps its journal in its data directory.
func Dir(dataDir string) string { return filepath.Join(dataDir, "journal") }
