package feedback_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/feedback"
	"github.com/kunding/kunding/internal/pipeline"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/storetest"
)

func f64(v float64) *float64 { return &v }

// counts returns the number of events and feedback rows.
func counts(t *testing.T, st store.Store) (events, rows int) {
	t.Helper()
	s, err := st.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fbs, err := st.(store.FeedbackStore).ListFeedback(context.Background(), store.FeedbackFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return int(s.Events), len(fbs)
}

// customer makes a customer with an e-mail address through the log and
// the pipeline, as a shop would.
func customer(t *testing.T, st store.Store, userID, email string) string {
	t.Helper()
	ctx := context.Background()
	src := store.Source{ID: "src_shop", Name: "Shop", Kind: "shop", WriteKey: "wk_shop", CreatedAt: time.Now()}
	if err := st.CreateSource(ctx, src); err != nil && !errors.Is(err, store.ErrConflict) {
		t.Fatal(err)
	}
	raw := `{"type":"identify","userId":"` + userID + `","traits":{"name":"Anna Schmidt","email":"` + email + `"}}`
	e, err := event.Parse([]byte(raw), "", event.Envelope{ReceivedAt: time.Now()}, func() string { return "id-" + userID })
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(e)
	if _, err := st.Append(ctx, []store.Record{{SourceID: src.ID, Event: e, Body: b}}); err != nil {
		t.Fatal(err)
	}
	drain(t, st)
	p, err := st.CustomerByIdentifier(ctx, store.Identifier{Kind: "user", Value: userID})
	if err != nil {
		t.Fatal(err)
	}
	return p.CustomerID
}

func drain(t *testing.T, st store.Store) {
	t.Helper()
	if _, err := (&pipeline.Pipeline{Store: st, Holder: "test"}).Drain(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
}

func TestSubmit(t *testing.T) {
	storetest.EachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		svc := &feedback.Service{Store: st}
		fs := st.(store.FeedbackStore)
		anna := customer(t, st, "C-1001", "anna@example.de")
		ev0, _ := counts(t, st)

		// A review with an external id, linked by e-mail (any case).
		in := feedback.Input{Portal: "Trustpilot", ExternalID: "tp-1", Author: "Anna S.", Rating: f64(1),
			Title: "Never again", Text: "The delivery was late and the package arrived broken. Terrible service!",
			URL: "https://www.trustpilot.com/reviews/tp-1", Time: "2026-11-20T10:00:00Z", Email: "Anna@Example.DE"}
		res, err := svc.Submit(ctx, in)
		if err != nil || res.Duplicate {
			t.Fatalf("submit: %+v %v", res, err)
		}
		fb := res.Feedback
		if fb.Portal != "trustpilot" || fb.Kind != "review" || fb.CustomerID != anna || fb.Rating == nil || *fb.Rating != 1 ||
			fb.Sentiment != "negative" || fb.Seq == 0 || !fb.Timestamp.Equal(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)) {
			t.Fatalf("stored: %+v", fb)
		}
		// The same id again (a retry, or the portal's edit) is a duplicate:
		// one row, one event.
		in2 := in
		in2.Text = "edited text"
		res, err = svc.Submit(ctx, in2)
		if err != nil || !res.Duplicate || res.Feedback.ID != fb.ID {
			t.Fatalf("repeat: %+v %v", res, err)
		}
		if ev, rows := counts(t, st); ev != ev0+1 || rows != 1 {
			t.Fatalf("after repeat: %d events (want %d), %d rows", ev, ev0+1, rows)
		}

		// The event is on Anna's timeline after the pipeline ran.
		drain(t, st)
		tl, err := st.Timeline(ctx, anna, store.TimelineCursor{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		var seen bool
		for _, e := range tl {
			if e.Name == feedback.EventName && e.Seq == fb.Seq {
				seen = true
				var body struct {
					MessageID  string `json:"messageId"`
					Properties struct {
						FeedbackID string   `json:"feedbackId"`
						Rating     float64  `json:"rating"`
						Sentiment  string   `json:"sentiment"`
						Themes     []string `json:"themes"`
					} `json:"properties"`
				}
				if err := json.Unmarshal(e.Body, &body); err != nil || body.Properties.FeedbackID != fb.ID || body.Properties.Rating != 1 ||
					body.Properties.Sentiment != "negative" || body.MessageID != "feedback-"+fb.ID {
					t.Errorf("event body %s: %+v %v", e.Body, body, err)
				}
			}
		}
		if !seen {
			t.Errorf("Feedback Received not on the customer's timeline: %+v", tl)
		}

		// Without an id: deduplicated by content; an unknown author gets
		// the anonymous id of the contract.
		post := feedback.Input{Portal: "forum.example.de", Kind: "forum", Author: "Bahnfahrer77", Text: "Super freundliches Personal, danke!"}
		r1, err := svc.Submit(ctx, post)
		if err != nil || r1.Duplicate || r1.Feedback.CustomerID != "" {
			t.Fatalf("forum post: %+v %v", r1, err)
		}
		r2, err := svc.Submit(ctx, post)
		if err != nil || !r2.Duplicate || r2.Feedback.ID != r1.Feedback.ID {
			t.Fatalf("forum post again: %+v %v", r2, err)
		}
		se, err := st.EventBySeq(ctx, r1.Feedback.Seq)
		if err != nil || !strings.Contains(string(se.Body), `"anonymousId":"feedback:forum.example.de:bahnfahrer77"`) {
			t.Fatalf("anonymous event: %s %v", se.Body, err)
		}

		// Ratings on other scales are normalised to 1..5.
		r3, err := svc.Submit(ctx, feedback.Input{Portal: "google", Text: "ok", Rating: f64(8), RatingMin: f64(0), RatingMax: f64(10)})
		if err != nil || r3.Feedback.Rating == nil || *r3.Feedback.Rating != 4.2 {
			t.Fatalf("scale 0..10: %+v %v", r3.Feedback.Rating, err)
		}

		// Filters.
		list := func(f store.FeedbackFilter) int {
			f.Limit = 100
			fbs, err := fs.ListFeedback(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			return len(fbs)
		}
		if n := list(store.FeedbackFilter{Portal: "trustpilot"}); n != 1 {
			t.Errorf("portal filter: %d", n)
		}
		if n := list(store.FeedbackFilter{CustomerID: anna}); n != 1 {
			t.Errorf("customer filter: %d", n)
		}
		if n := list(store.FeedbackFilter{Sentiment: "negative"}); n != 1 {
			t.Errorf("sentiment filter: %d", n)
		}
		if n := list(store.FeedbackFilter{From: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)}); n != 2 {
			t.Errorf("from filter: %d", n)
		}
		if n := list(store.FeedbackFilter{To: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)}); n != 1 {
			t.Errorf("to filter: %d", n)
		}
		if len(fb.Themes) > 0 {
			if n := list(store.FeedbackFilter{Theme: fb.Themes[0]}); n < 1 {
				t.Errorf("theme filter %s: %d", fb.Themes[0], n)
			}
		}
		if n := list(store.FeedbackFilter{Theme: "no_such_theme"}); n != 0 {
			t.Errorf("unknown theme: %d", n)
		}

		// GDPR erasure of Anna removes her review with its event; the
		// others stay.
		drain(t, st)
		if _, err := st.EraseCustomer(ctx, store.Erasure{CustomerID: anna,
			Pending:  func([]store.Identifier, []byte) bool { return false },
			Mentions: func([]store.Identifier, []byte) bool { return false }}); err != nil {
			t.Fatal(err)
		}
		if _, err := fs.Feedback(ctx, fb.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("erased customer's feedback: %v", err)
		}
		if _, err := st.EventBySeq(ctx, fb.Seq); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("erased customer's feedback event: %v", err)
		}
		if n := list(store.FeedbackFilter{}); n != 2 {
			t.Errorf("after the erasure %d feedback, want the 2 of others", n)
		}
	})
}

func TestSubmitRefusesBadInput(t *testing.T) {
	storetest.EachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		svc := &feedback.Service{Store: st}
		good := feedback.Input{Portal: "trustpilot", Text: "Fine."}
		for _, tc := range []struct {
			name, field string
			mod         func(in *feedback.Input)
		}{
			{"no text", "text", func(in *feedback.Input) { in.Text = "" }},
			{"blank text", "text", func(in *feedback.Input) { in.Text = " \n\t " }},
			{"huge text", "text", func(in *feedback.Input) { in.Text = strings.Repeat("ä", feedback.MaxText+1) }},
			{"no portal", "portal", func(in *feedback.Input) { in.Portal = "" }},
			{"bad portal", "portal", func(in *feedback.Input) { in.Portal = "trust pilot!" }},
			{"bad kind", "kind", func(in *feedback.Input) { in.Kind = "complaint" }},
			{"rating 0", "rating", func(in *feedback.Input) { in.Rating = f64(0) }},
			{"rating 6", "rating", func(in *feedback.Input) { in.Rating = f64(6) }},
			{"scale upside down", "ratingMax", func(in *feedback.Input) { in.Rating = f64(3); in.RatingMax = f64(1) }},
			{"scale without rating", "rating", func(in *feedback.Input) { in.RatingMax = f64(10) }},
			{"bad url", "url", func(in *feedback.Input) { in.URL = "javascript:alert(1)" }},
			{"relative url", "url", func(in *feedback.Input) { in.URL = "/reviews/1" }},
			{"bad time", "time", func(in *feedback.Input) { in.Time = "yesterday" }},
			{"future time", "time", func(in *feedback.Input) { in.Time = time.Now().Add(72 * time.Hour).Format(time.RFC3339) }},
			{"bad email", "email", func(in *feedback.Input) { in.Email = "not-an-address" }},
			{"bad phone", "phone", func(in *feedback.Input) { in.Phone = "12" }},
			{"NUL", "text", func(in *feedback.Input) { in.Text = "a\x00b" }},
			{"bad UTF-8", "title", func(in *feedback.Input) { in.Title = "\xff\xfe" }},
		} {
			in := good
			tc.mod(&in)
			_, err := svc.Submit(ctx, in)
			var fe *feedback.FieldError
			if !errors.Is(err, feedback.ErrInvalid) || !errors.As(err, &fe) || fe.Field != tc.field {
				t.Errorf("%s: %v, want an invalid %s", tc.name, err, tc.field)
			}
		}
		if ev, rows := counts(t, st); ev != 0 || rows != 0 {
			t.Fatalf("bad input stored %d events, %d rows", ev, rows)
		}
		// Exactly at the limit is fine.
		in := good
		in.Text = strings.Repeat("ä", feedback.MaxText)
		if _, err := svc.Submit(ctx, in); err != nil {
			t.Fatalf("text at the limit: %v", err)
		}
	})
}

// TestSubmitConcurrently stores one feedback sent by many clients at once
// (retries racing each other, or two nodes) exactly once.
func TestSubmitConcurrently(t *testing.T) {
	storetest.EachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		in := feedback.Input{Portal: "google", ExternalID: "g-7", Text: "Great shop, fast delivery!"}
		const n = 8
		errs := make(chan error, n)
		created := make(chan bool, n)
		for range n {
			go func() {
				// A service per goroutine: like separate nodes, each
				// creates or finds the feedback source itself.
				r, err := (&feedback.Service{Store: st}).Submit(ctx, in)
				errs <- err
				created <- err == nil && !r.Duplicate
			}()
		}
		news := 0
		for range n {
			if err := <-errs; err != nil {
				t.Error(err)
			}
			if <-created {
				news++
			}
		}
		if ev, rows := counts(t, st); news != 1 || ev != 1 || rows != 1 {
			t.Fatalf("%d created, %d events, %d rows; want 1 each", news, ev, rows)
		}
	})
}
