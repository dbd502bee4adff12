// Package collect is the collection API, compatible with the Segment HTTP
// Tracking API: it authenticates the write key, decodes and validates events,
// appends the valid ones durably and answers only after the commit.
package collect

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/metrics"
	"github.com/kunding/kunding/internal/store"
)

// Collector serves /v1/.
type Collector struct {
	Store store.Store
	// Appender makes events durable: an *Appender (straight into the
	// store) or a *journal.Journal (a local write-ahead journal).
	Appender Writer
	Metrics  *metrics.Metrics
	Log      *slog.Logger
	Now      func() time.Time

	keys sync.Map // write key -> cachedSource

	outageMu     sync.Mutex
	outageLogged time.Time
	outageCount  int
}

type cachedSource struct {
	src     store.Source
	expires time.Time
}

// keyCacheTTL bounds how long a rotated or deleted write key keeps working.
const keyCacheTTL = 10 * time.Second

// Register adds the collection routes to mux.
func (c *Collector) Register(mux *http.ServeMux) {
	for _, t := range []string{event.Identify, event.Track, event.Page, event.Screen, event.Group, event.Alias} {
		typ := t
		mux.HandleFunc("/v1/"+typ, cors(func(w http.ResponseWriter, r *http.Request) { c.single(w, r, typ) }))
	}
	mux.HandleFunc("/v1/batch", cors(c.batch))
	mux.HandleFunc("/v1/import", cors(c.batch))
	// Clients read the answer as JSON; a mistyped endpoint says so in JSON too.
	mux.HandleFunc("/v1/", cors(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no endpoint %s; use /v1/identify, track, page, screen, group, alias, batch or import", r.URL.Path))
	}))
}

// cors lets browser SDKs call the collection API from any site, as they
// call Segment's: the write key, not the origin, authenticates. SDKs that
// send JSON with an Authorization header (RudderStack's) need the preflight.
func cors(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			hdr := w.Header()
			hdr.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
			hdr.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Content-Encoding, AnonymousId")
			hdr.Set("Access-Control-Max-Age", "86400")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h(w, r)
	}
}

// Error answers are JSON with a text that says what is wrong.
func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]any{"success": false, "error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func newMessageID() string {
	var b [16]byte
	rand.Read(b[:])
	return "kdg-" + hex.EncodeToString(b[:])
}

// Batch bodies and their stored encodings are about 100 KB each; a fresh
// allocation of that size is cleared by the runtime, which cost a tenth of
// a batch's CPU. They are reused. Nothing keeps a slice of them once the
// handler returns: Parse copies what an event keeps, the writers copy or
// commit the records before Append returns, rejected bodies are copied.
var buffers = sync.Pool{New: func() any { return new([]byte) }}

// maxPooled keeps a rare huge gzip batch from staying in the pool.
const maxPooled = 2 << 20

func putBuffer(p *[]byte, b []byte) {
	if cap(b) <= maxPooled {
		*p = b[:0]
		buffers.Put(p)
	}
}

// readBody reads a possibly gzipped body of at most limit bytes after
// decompression, into dst's memory where it fits.
func readBody(r *http.Request, limit int, dst []byte) ([]byte, int, error) {
	var rd io.Reader = http.MaxBytesReader(nil, r.Body, int64(limit)+1)
	switch strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))) {
	case "", "identity":
	case "gzip":
		gz, err := gzip.NewReader(rd)
		if err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("body is not valid gzip: %v", err)
		}
		defer gz.Close()
		rd = gz
	default:
		return nil, http.StatusUnsupportedMediaType, fmt.Errorf("Content-Encoding %q is not supported; send plain or gzip", r.Header.Get("Content-Encoding"))
	}
	// Sized by Content-Length where it is given, so a batch is read into
	// one allocation instead of a dozen doublings.
	buf := bytes.NewBuffer(dst[:0])
	if n := r.ContentLength; n > 0 && n <= int64(limit) {
		buf.Grow(int(n) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(io.LimitReader(rd, int64(limit)+1))
	b := buf.Bytes()
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("body is larger than %d bytes", limit)
		}
		if strings.Contains(err.Error(), "gzip") || strings.Contains(err.Error(), "flate") || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, http.StatusBadRequest, fmt.Errorf("body is not valid gzip: %v", err)
		}
		return nil, http.StatusBadRequest, fmt.Errorf("read body: %v", err)
	}
	if len(b) > limit {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("body is larger than %d bytes", limit)
	}
	return b, 0, nil
}

// source authenticates a write key.
func (c *Collector) source(ctx context.Context, key string) (store.Source, error) {
	if key == "" {
		return store.Source{}, store.ErrNotFound
	}
	now := time.Now()
	if v, ok := c.keys.Load(key); ok {
		cs := v.(cachedSource)
		if now.Before(cs.expires) {
			return cs.src, nil
		}
	}
	src, err := c.Store.SourceByWriteKey(ctx, key)
	if err != nil {
		return src, err
	}
	c.keys.Store(key, cachedSource{src: src, expires: now.Add(keyCacheTTL)})
	return src, nil
}

// ForgetKeys drops cached write keys, after a key was rotated.
func (c *Collector) ForgetKeys() { c.keys.Clear() }

func (c *Collector) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// headerWriteKey returns the write key of a Basic Authorization header: the
// user name of "key:". Like Segment, it also accepts "key" encoded without
// the colon (older clients) and ":key" (the key as the password).
func headerWriteKey(r *http.Request) string {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return ""
	}
	dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return ""
	}
	user, pass, _ := strings.Cut(string(dec), ":")
	if user == "" {
		user = pass
	}
	return user
}

// authenticate resolves the write key from Basic auth or, failing that, the body.
// It writes the error answer itself and returns ok=false.
func (c *Collector) authenticate(w http.ResponseWriter, r *http.Request, bodyKey string) (store.Source, bool) {
	key := bodyKey
	if hk := headerWriteKey(r); hk != "" {
		key = hk
	}
	if key == "" {
		writeError(w, http.StatusUnauthorized, "missing write key: send it as the HTTP Basic user name or as writeKey in the body")
		return store.Source{}, false
	}
	src, err := c.source(r.Context(), key)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusUnauthorized, "unknown write key")
		return src, false
	}
	if err != nil {
		c.unavailable(w, err)
		return src, false
	}
	return src, true
}

func (c *Collector) unavailable(w http.ResponseWriter, err error) {
	// During an outage every request fails the same way: log the first and
	// then a count every few seconds, not one line per request.
	c.outageMu.Lock()
	c.outageCount++
	if time.Since(c.outageLogged) >= 5*time.Second {
		c.Log.Error("collection: store unavailable, answering 503", "err", err, "requests", c.outageCount)
		c.outageLogged, c.outageCount = time.Now(), 0
	}
	c.outageMu.Unlock()
	w.Header().Set("Retry-After", "5")
	writeError(w, http.StatusServiceUnavailable, "the event store is unavailable; retry later")
}

func (c *Collector) checkMethod(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeError(w, http.StatusMethodNotAllowed, "use POST")
		return false
	}
	return true
}

// rejection describes one refused event in an answer.
type rejection struct {
	Index     int    `json:"index"`
	MessageID string `json:"messageId,omitempty"`
	Error     string `json:"error"`
}

func (c *Collector) single(w http.ResponseWriter, r *http.Request, typ string) {
	if !c.checkMethod(w, r) {
		return
	}
	// A single event may not exceed the per-event limit; a little slack
	// leaves room for writeKey and sentAt around it.
	body, code, err := readBody(r, event.MaxEventBytes+1024, nil)
	if err != nil {
		writeError(w, code, err.Error())
		return
	}
	src, ok := c.authenticate(w, r, event.WriteKeyOf(body))
	if !ok {
		return
	}
	recv := c.now()
	c.Metrics.Received.Inc()
	ev, err := event.Parse(body, typ, event.Envelope{ReceivedAt: recv}, newMessageID)
	if err != nil {
		c.reject(src, recv, []rejected{{raw: body, err: err, msgID: event.MessageIDOf(body)}})
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	rec, _, err := record(make([]byte, 0, len(body)+256), src.ID, ev)
	if err != nil {
		c.reject(src, recv, []rejected{{raw: body, err: err, msgID: ev.MessageID}})
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if !c.append(w, []store.Record{rec}) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true})
}

func (c *Collector) batch(w http.ResponseWriter, r *http.Request) {
	if !c.checkMethod(w, r) {
		return
	}
	bodyBuf := buffers.Get().(*[]byte)
	body, code, err := readBody(r, event.MaxBatchBytes, *bodyBuf)
	defer putBuffer(bodyBuf, body)
	if err != nil {
		writeError(w, code, err.Error())
		return
	}
	recv := c.now()
	b, decErr := event.DecodeBatch(body, recv)
	if decErr != nil && headerWriteKey(r) == "" {
		writeError(w, http.StatusBadRequest, decErr.Error())
		return
	}
	src, ok := c.authenticate(w, r, b.Envelope.WriteKey)
	if !ok {
		return
	}
	if decErr != nil {
		c.Metrics.Received.Inc()
		c.reject(src, recv, []rejected{{raw: body, err: decErr}})
		writeError(w, http.StatusBadRequest, decErr.Error())
		return
	}
	c.Metrics.Received.Add(float64(len(b.Items)))
	recs := make([]store.Record, 0, len(b.Items))
	var bad []rejection
	var rej []rejected
	// The stored bodies share one buffer: an event grows by its
	// receivedAt, sentAt and messageId, and by a merged batch context.
	encBuf := buffers.Get().(*[]byte)
	enc := *encBuf
	if need := len(body) + len(b.Items)*(192+len(b.Envelope.Context)+len(b.Envelope.Integrations)); cap(enc) < need {
		enc = make([]byte, 0, need)
	}
	defer func() { putBuffer(encBuf, enc) }()
	for i, raw := range b.Items {
		ev, err := event.Parse(raw, "", b.Envelope, newMessageID)
		var msgID string
		if err == nil {
			var rec store.Record
			if rec, enc, err = record(enc, src.ID, ev); err == nil {
				recs = append(recs, rec)
				continue
			}
			msgID = ev.MessageID
		} else {
			// What Parse refused may have a messageId too long or not
			// storable; MessageIDOf gives only one that can be shown.
			msgID = event.MessageIDOf(raw)
		}
		bad = append(bad, rejection{Index: i, MessageID: msgID, Error: err.Error()})
		rej = append(rej, rejected{raw: raw, err: err, msgID: msgID})
	}
	if len(recs) == 0 && len(bad) > 0 {
		c.reject(src, recv, rej)
		writeJSON(w, http.StatusBadRequest, map[string]any{"success": false,
			"error": fmt.Sprintf("all %d events were rejected", len(bad)), "rejected": bad})
		return
	}
	isNew, ok := c.appendNew(w, recs)
	if !ok {
		// The client is told to retry the whole batch: its refused events
		// are kept when the batch gets a final answer, not once per attempt.
		return
	}
	c.reject(src, recv, rej)
	resp := map[string]any{"success": true}
	if isNew == nil {
		// Journal: the events are durable; repeats are dropped when they
		// are loaded into the log, so they cannot be counted here.
		resp["accepted"] = len(recs)
	} else {
		dups := 0
		for _, n := range isNew {
			if !n {
				dups++
			}
		}
		resp["accepted"], resp["duplicates"] = len(recs)-dups, dups
	}
	if len(bad) > 0 {
		resp["rejected"] = bad
	}
	writeJSON(w, http.StatusOK, resp)
}

// record encodes a validated event as it is stored, at the end of buf,
// and returns buf with it.
func record(buf []byte, sourceID string, ev event.Event) (store.Record, []byte, error) {
	start := len(buf)
	out, err := ev.AppendJSON(buf)
	if err != nil {
		return store.Record{}, buf, fmt.Errorf("encode event: %v", err)
	}
	return store.Record{SourceID: sourceID, Event: ev, Body: out[start:len(out):len(out)]}, out, nil
}

func (c *Collector) append(w http.ResponseWriter, recs []store.Record) bool {
	_, ok := c.appendNew(w, recs)
	return ok
}

func (c *Collector) appendNew(w http.ResponseWriter, recs []store.Record) ([]bool, bool) {
	if len(recs) == 0 {
		return nil, true
	}
	isNew, err := c.Appender.Append(context.Background(), recs)
	switch {
	case errors.Is(err, ErrOverloaded), errors.Is(err, ErrClosed):
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, err.Error()+"; retry later")
		return nil, false
	case errors.Is(err, store.ErrUnavailable):
		c.unavailable(w, err)
		return nil, false
	case err != nil:
		// The database refused valid events: a fault of ours, not of the
		// client's data or connection. Logged in full; the client may retry.
		c.Log.Error("collection: events not stored", "err", err, "events", len(recs))
		writeError(w, http.StatusInternalServerError, "the events could not be stored; the server log says why")
		return nil, false
	}
	if isNew == nil {
		// The journal counts them when it loads them into the log.
		return nil, true
	}
	n := 0
	for _, x := range isNew {
		if x {
			n++
		}
	}
	c.Metrics.Accepted.Add(float64(n))
	c.Metrics.Deduplicated.Add(float64(len(isNew) - n))
	return isNew, true
}

type rejected struct {
	raw   []byte
	err   error
	msgID string
}

// maxRejectedBody bounds what is kept of a refused event's body.
const maxRejectedBody = 4096

// reject counts refused events and keeps them for inspection. The source's
// write key is blanked out of the kept bodies: whoever reads rejected events
// must not learn a credential from them.
func (c *Collector) reject(src store.Source, at time.Time, rs []rejected) {
	if len(rs) == 0 {
		return
	}
	sourceID := src.ID
	out := make([]store.Rejected, 0, len(rs))
	for _, r := range rs {
		class := "invalid"
		var fe *event.Error
		if errors.As(r.err, &fe) && fe.Field != "" {
			class = "invalid_" + fe.Field
		}
		c.Metrics.Rejected.WithLabelValues(class).Inc()
		body := r.raw
		if src.WriteKey != "" {
			body = bytes.ReplaceAll(body, []byte(src.WriteKey), []byte("[write key]"))
		}
		cut := len(body) > maxRejectedBody
		if cut {
			body = body[:maxRejectedBody:maxRejectedBody]
		}
		// After the cut, so that a rune split by it is replaced too.
		body = bytes.ToValidUTF8(body, []byte("?"))
		if cut {
			body = append(body, "…"...)
		}
		out = append(out, store.Rejected{SourceID: sourceID, MessageID: r.msgID, ReceivedAt: at, Reason: r.err.Error(), Body: string(body)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Store.AppendRejected(ctx, out); err != nil {
		c.Log.Warn("could not keep rejected events", "source", sourceID, "count", len(out), "err", err)
	}
}
