package collect

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/event"
)

// FuzzBatchHandler sends arbitrary bodies through the real /v1/batch and
// /v1/track handlers onto a real SQLite store: no panic, a JSON answer with
// a known status, and the answer agrees with what was stored.
func FuzzBatchHandler(f *testing.F) {
	seeds := []string{
		`{"batch":[{"type":"identify","userId":"019mr8mf4r","traits":{"email":"jake@yahoo.com","name":"Jake Peterson","age":26},"timestamp":"2012-12-02T00:30:08.276Z"},{"type":"track","userId":"019mr8mf4r","event":"Song Played","properties":{"name":"Fallin for You","artist":"Dierks Bentley"},"timestamp":"2012-12-02T00:30:12.984Z"}],"context":{"device":{"type":"phone","name":"Apple iPhone 6"}}}`,
		`{"batch":[{"type":"track","userId":"u","event":"Order Completed","messageId":"m1","properties":{"revenue":10}},{"type":"track","userId":"u","event":"Order Completed","messageId":"m1"}],"sentAt":"2024-01-01T00:00:00Z"}`,
		`{"batch":[{"type":"track","userId":"u"},{"type":"nope"},null,1,"x",{"type":"page","anonymousId":"a"}]}`,
		`{"batch":[{"type":"alias","userId":"u","previousId":"p","integrations":{"All":false}}],"integrations":{"Mixpanel":true},"messageId":"b"}`,
		`{"batch":[],"writeKey":"nope"}`,
		`{"batch":{}}`,
		`{"userId":"u","event":"Single","properties":{"a":[1,2,3]}}`,
		`not json`,
	}
	for _, s := range seeds {
		for mode := range byte(4) {
			f.Add([]byte(s), mode)
		}
	}
	r := newRig(f, 64)
	close(r.st.release)
	mux := http.NewServeMux()
	c := &Collector{Store: r.st.Store, Appender: r.ap, Metrics: r.m, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	c.Register(mux)

	f.Fuzz(func(t *testing.T, body []byte, mode byte) {
		path := "/v1/batch"
		if mode&2 != 0 {
			path = "/v1/track"
		}
		sent := body
		if mode&1 != 0 {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(body)
			zw.Close()
			sent = buf.Bytes()
		}
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(sent))
		if mode&1 != 0 {
			req.Header.Set("Content-Encoding", "gzip")
		}
		if mode&4 == 0 {
			req.SetBasicAuth(r.src.WriteKey, "")
		}
		before, err := r.st.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		after, err := r.st.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}

		switch w.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type %q", ct)
		}
		var ans struct {
			Success    *bool             `json:"success"`
			Error      string            `json:"error"`
			Accepted   int64             `json:"accepted"`
			Duplicates int64             `json:"duplicates"`
			Rejected   []json.RawMessage `json:"rejected"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &ans); err != nil || ans.Success == nil {
			t.Fatalf("answer is not the JSON expected: %v %q", err, w.Body)
		}
		stored := after.Events - before.Events
		if w.Code != http.StatusOK {
			if *ans.Success || ans.Error == "" {
				t.Fatalf("%d without an error: %s", w.Code, w.Body)
			}
			if stored != 0 {
				t.Fatalf("%d answer, but %d events stored", w.Code, stored)
			}
			return
		}
		if !*ans.Success {
			t.Fatalf("200 with success false: %s", w.Body)
		}
		if path == "/v1/track" {
			if stored > 1 {
				t.Fatalf("one event sent, %d stored", stored)
			}
			return
		}
		if stored != ans.Accepted {
			t.Fatalf("answer says %d accepted, %d stored", ans.Accepted, stored)
		}
		b, err := event.DecodeBatch(body, time.Now())
		if err != nil {
			t.Fatalf("200 for a batch that does not decode: %v", err)
		}
		if got := ans.Accepted + ans.Duplicates + int64(len(ans.Rejected)); got != int64(len(b.Items)) {
			t.Fatalf("answer accounts for %d of %d events: %s", got, len(b.Items), w.Body)
		}
		if after.Rejected-before.Rejected != int64(len(ans.Rejected)) {
			t.Fatalf("%d rejected listed, %d kept", len(ans.Rejected), after.Rejected-before.Rejected)
		}
	})
}
