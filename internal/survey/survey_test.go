package survey_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/pipeline"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/storetest"
	"github.com/kunding/kunding/internal/survey"
)

var ctx = context.Background()

func ptr[T any](v T) *T { return &v }

func intp(v int) *int { return &v }

// world is a store with one known customer (user C-1, e-mail anna@example.de).
func world(t *testing.T, st store.Store) (*survey.Service, string) {
	t.Helper()
	src := store.Source{ID: "src_shop", Name: "Shop", Kind: "shop", WriteKey: "wk_shop", CreatedAt: time.Now()}
	if err := st.CreateSource(ctx, src); err != nil {
		t.Fatal(err)
	}
	ev := event.Event{Type: event.Identify, MessageID: "m1", UserID: "C-1", Traits: json.RawMessage(`{"email":"anna@example.de","plan":"gold"}`),
		Timestamp: time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond), ReceivedAt: time.Now().UTC().Truncate(time.Millisecond)}
	body, _ := json.Marshal(ev)
	if _, err := st.Append(ctx, []store.Record{{SourceID: src.ID, Event: ev, Body: body}}); err != nil {
		t.Fatal(err)
	}
	drain(t, st)
	p, err := st.CustomerByIdentifier(ctx, store.Identifier{Kind: "user", Value: "C-1"})
	if err != nil {
		t.Fatal(err)
	}
	return &survey.Service{Store: st}, p.CustomerID
}

func drain(t *testing.T, st store.Store) {
	t.Helper()
	if _, err := (&pipeline.Pipeline{Store: st}).Drain(ctx, nil); err != nil {
		t.Fatal(err)
	}
}

func mkSurvey(t *testing.T, svc *survey.Service, typ string) store.Survey {
	t.Helper()
	v, err := svc.Create(ctx, survey.Input{Name: ptr("After delivery " + typ), Type: ptr(typ), QuestionDE: ptr("Wie wahrscheinlich …?"),
		QuestionEN: ptr("How likely …?"), CommentDE: ptr("Warum?"), CommentEN: ptr("Why?"), Department: ptr("logistics"), Touchpoint: ptr("delivery")}, "test")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSurveyStore(t *testing.T) {
	storetest.EachStore(t, func(t *testing.T, st store.Store) {
		svc, _ := world(t, st)
		ss := st.(store.SurveyStore)
		v := mkSurvey(t, svc, "nps")
		if v.Department != "Logistics" || v.Status != "active" {
			t.Fatalf("survey %+v", v)
		}
		got, err := ss.SurveyByID(ctx, v.ID)
		if err != nil || got != v {
			t.Fatalf("read back %+v %v, want %+v", got, err, v)
		}
		if _, err := ss.SurveyByID(ctx, "sv_nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing: %v", err)
		}
		if err := ss.CreateSurvey(ctx, v); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate id: %v", err)
		}
		u, err := svc.Update(ctx, v.ID, survey.Input{Status: ptr("closed"), Name: ptr("Renamed")})
		if err != nil || u.Status != "closed" || u.Name != "Renamed" {
			t.Fatalf("update %+v %v", u, err)
		}
		if _, err := svc.Update(ctx, v.ID, survey.Input{Type: ptr("csat")}); !errors.Is(err, survey.ErrInvalid) {
			t.Fatalf("type change: %v", err)
		}
		// Responses: the row and its event in one transaction; a second
		// row with the same id stores nothing at all.
		r := store.SurveyResponse{ID: "sr_x", SurveyID: v.ID, Score: intp(9), Comment: "gut", Analysis: []byte(`{"sentiment":"positive"}`),
			Sentiment: "positive", CustomerID: "c1", Source: "api", AnsweredAt: time.UnixMilli(1700000000000).UTC()}
		ev := event.Event{Type: "track", MessageID: "survey-response-sr_x", Event: "Survey Answered", UserID: "C-1",
			Timestamp: r.AnsweredAt, ReceivedAt: r.AnsweredAt}
		body, _ := json.Marshal(ev)
		rec := store.Record{SourceID: "src_shop", Event: ev, Body: body}
		before, _ := st.Stats(ctx)
		if err := ss.RecordSurveyResponse(ctx, r, rec); err != nil {
			t.Fatal(err)
		}
		r2 := r
		r2.Score = intp(1)
		if err := ss.RecordSurveyResponse(ctx, r2, rec); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("second answer: %v", err)
		}
		after, _ := st.Stats(ctx)
		if after.Events != before.Events+1 {
			t.Fatalf("events %d -> %d, want one more", before.Events, after.Events)
		}
		back, err := ss.SurveyResponse(ctx, "sr_x")
		if err != nil || *back.Score != 9 || back.Comment != "gut" || string(back.Analysis) != `{"sentiment":"positive"}` || !back.AnsweredAt.Equal(r.AnsweredAt) {
			t.Fatalf("response %+v %v", back, err)
		}
		// A free answer has no score.
		free := store.SurveyResponse{ID: "sr_y", SurveyID: v.ID, Comment: "text", Source: "api", ClientHash: "h1", AnsweredAt: r.AnsweredAt.Add(time.Hour)}
		ev.MessageID = "survey-response-sr_y"
		body, _ = json.Marshal(ev)
		if err := ss.RecordSurveyResponse(ctx, free, store.Record{SourceID: "src_shop", Event: ev, Body: body}); err != nil {
			t.Fatal(err)
		}
		all, err := ss.SurveyResponses(ctx, store.ResponseFilter{SurveyID: v.ID})
		if err != nil || len(all) != 2 || all[0].ID != "sr_x" || all[1].Score != nil {
			t.Fatalf("responses %+v %v", all, err)
		}
		some, _ := ss.SurveyResponses(ctx, store.ResponseFilter{SurveyID: v.ID, From: r.AnsweredAt.Add(time.Minute)})
		if len(some) != 1 || some[0].ID != "sr_y" {
			t.Fatalf("from: %+v", some)
		}
		some, _ = ss.SurveyResponses(ctx, store.ResponseFilter{SurveyID: v.ID, To: r.AnsweredAt.Add(time.Hour)})
		if len(some) != 1 || some[0].ID != "sr_x" {
			t.Fatalf("to (exclusive): %+v", some)
		}
		if n, err := ss.CountSurveyResponses(ctx, v.ID, "h1", r.AnsweredAt); err != nil || n != 1 {
			t.Fatalf("count %d %v", n, err)
		}
		if err := ss.DeleteSurvey(ctx, v.ID); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("delete with responses: %v", err)
		}
		w := mkSurvey(t, svc, "ces")
		if err := ss.DeleteSurvey(ctx, w.ID); err != nil {
			t.Fatal(err)
		}
		if err := ss.DeleteSurvey(ctx, w.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("delete twice: %v", err)
		}
		list, err := ss.Surveys(ctx)
		if err != nil || len(list) != 1 {
			t.Fatalf("list %+v %v", list, err)
		}
	})
}

func TestValidation(t *testing.T) {
	storetest.EachStore(t, func(t *testing.T, st store.Store) {
		svc, _ := world(t, st)
		for _, in := range []survey.Input{
			{Type: ptr("nps"), QuestionDE: ptr("a"), QuestionEN: ptr("b")},                                          // no name
			{Name: ptr("x"), Type: ptr("stars"), QuestionDE: ptr("a"), QuestionEN: ptr("b")},                        // bad type
			{Name: ptr("x"), Type: ptr("nps"), QuestionEN: ptr("b")},                                                // no German question
			{Name: ptr("x"), Type: ptr("nps"), QuestionDE: ptr("a"), QuestionEN: ptr("b"), CommentDE: ptr("Warum")}, // comment in one language
			{Name: ptr("x"), Type: ptr("nps"), QuestionDE: ptr("a"), QuestionEN: ptr("b"), Department: ptr("Nowhere")},
			{Name: ptr("x"), Type: ptr("nps"), QuestionDE: ptr("a"), QuestionEN: ptr("b"), Status: ptr("paused")},
			{Name: ptr(strings.Repeat("x", 121)), Type: ptr("nps"), QuestionDE: ptr("a"), QuestionEN: ptr("b")},
		} {
			if _, err := svc.Create(ctx, in, "t"); !errors.Is(err, survey.ErrInvalid) {
				t.Errorf("%+v: got %v, want ErrInvalid", in, err)
			}
		}
		list, _ := st.(store.SurveyStore).Surveys(ctx)
		if len(list) != 0 {
			t.Fatalf("refused surveys stored: %+v", list)
		}
	})
}

func TestTokens(t *testing.T) {
	storetest.EachStore(t, func(t *testing.T, st store.Store) {
		svc, cust := world(t, st)
		now := time.Now()
		svc.Now = func() time.Time { return now }
		v := mkSurvey(t, svc, "nps")
		l, tok, err := svc.PersonalLink(ctx, v, survey.LinkRequest{Customer: survey.Customer{Email: "Anna@Example.de"}, Trigger: "order-17", ExpiresInDays: 7})
		if err != nil {
			t.Fatal(err)
		}
		if l.CustomerID != cust || l.Touchpoint != "delivery" || len(tok) > 200 || strings.ContainsAny(tok, "+/=?&") {
			t.Fatalf("link %+v token %q", l, tok)
		}
		back, err := svc.Parse(ctx, tok)
		if err != nil || back != l {
			t.Fatalf("parse %+v %v", back, err)
		}
		// Tampering with any byte of payload or signature breaks it.
		p, sig, _ := strings.Cut(tok, ".")
		forged, _ := json.Marshal(survey.Link{SurveyID: v.ID, CustomerID: "c_other", Trigger: "order-17", Expires: l.Expires})
		for _, bad := range []string{
			"", "x", p, p + ".", "." + sig, p + "." + sig[:len(sig)-1] + flip(sig[len(sig)-1]),
			flipAt(p, 5) + "." + sig, b64(forged) + "." + sig, p + "." + sig + "x", strings.Repeat("a", 5000),
		} {
			if _, err := svc.Parse(ctx, bad); !errors.Is(err, survey.ErrBadToken) {
				t.Errorf("token %q: got %v, want ErrBadToken", bad, err)
			}
		}
		// A token signed with another server's key is forged.
		other, _ := storetestOther(t)
		if _, err := other.Parse(ctx, tok); !errors.Is(err, survey.ErrBadToken) {
			t.Errorf("other key: %v", err)
		}
		// Expiry.
		now = now.AddDate(0, 0, 8)
		if _, err := svc.Parse(ctx, tok); !errors.Is(err, survey.ErrExpired) {
			t.Errorf("expired: %v", err)
		}
		// Unknown customers get no link.
		if _, _, err := svc.PersonalLink(ctx, v, survey.LinkRequest{Customer: survey.Customer{Email: "nobody@example.de"}}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown customer: %v", err)
		}
		if _, _, err := svc.PersonalLink(ctx, v, survey.LinkRequest{Customer: survey.Customer{CustomerID: cust}, ExpiresInDays: 400}); !errors.Is(err, survey.ErrInvalid) {
			t.Errorf("400 days: %v", err)
		}
	})
}

func storetestOther(t *testing.T) (*survey.Service, error) {
	var svc *survey.Service
	t.Run("other", func(t *testing.T) {})
	st, err := openSQLite(t)
	svc = &survey.Service{Store: st}
	return svc, err
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func flipAt(s string, i int) string { return s[:i] + flip(s[i]) + s[i+1:] }

func TestAnswersOnceAndProfile(t *testing.T) {
	storetest.EachStore(t, func(t *testing.T, st store.Store) {
		svc, cust := world(t, st)
		woke := 0
		svc.Wake = func() { woke++ }
		v := mkSurvey(t, svc, "nps")
		l, _, err := svc.PersonalLink(ctx, v, survey.LinkRequest{Customer: survey.Customer{CustomerID: cust}, Trigger: "order-17", Touchpoint: "parcel"})
		if err != nil {
			t.Fatal(err)
		}
		// Two concurrent answers to one link: exactly one is stored.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				_, errs[i] = svc.Answer(ctx, v, survey.Submission{Score: intp(3 + 7*i), Comment: "The delivery was terrible and late", Link: &l, Language: "en"})
			}(i)
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else if !errors.Is(err, survey.ErrAnswered) || !errors.Is(err, store.ErrConflict) {
				t.Fatalf("second answer: %v", err)
			}
		}
		if ok != 1 || woke != 1 {
			t.Fatalf("%d answers stored (%v), woke %d", ok, errs, woke)
		}
		// A new link for the same trigger is the same answer.
		l2, _, _ := svc.PersonalLink(ctx, v, survey.LinkRequest{Customer: survey.Customer{CustomerID: cust}, Trigger: "order-17"})
		if _, err := svc.Answer(ctx, v, survey.Submission{Score: intp(10), Link: &l2}); !errors.Is(err, survey.ErrAnswered) {
			t.Fatalf("same trigger, new link: %v", err)
		}
		rs, _ := st.(store.SurveyStore).SurveyResponses(ctx, store.ResponseFilter{SurveyID: v.ID})
		if len(rs) != 1 || rs[0].CustomerID != cust || rs[0].Touchpoint != "parcel" || rs[0].TriggerMessageID != "order-17" ||
			rs[0].Source != survey.ViaLink || rs[0].Department != "Logistics" || rs[0].Sentiment == "" || rs[0].IdentifierKind != "user" {
			t.Fatalf("responses %+v", rs)
		}
		first := *rs[0].Score
		// Bad input stores nothing.
		for _, sub := range []survey.Submission{
			{Score: nil, Link: &survey.Link{SurveyID: v.ID}},
			{Score: intp(11), Link: &survey.Link{SurveyID: v.ID}},
			{Score: intp(-1), Link: &survey.Link{SurveyID: v.ID}},
			{Score: intp(5), Comment: strings.Repeat("ä", survey.MaxComment+1), Link: &survey.Link{SurveyID: v.ID}},
			{Score: intp(5), Comment: "a\x00b", Link: &survey.Link{SurveyID: v.ID}},
			{Score: intp(5)}, // neither link nor customer
			{Score: intp(5), Customer: survey.Customer{Email: "no-address"}},
			{Score: intp(5), Customer: survey.Customer{Email: "a@b.de", UserID: "u"}},
		} {
			if _, err := svc.Answer(ctx, v, sub); !errors.Is(err, survey.ErrInvalid) {
				t.Errorf("%+v: got %v, want ErrInvalid", sub, err)
			}
		}
		if _, err := svc.Answer(ctx, v, survey.Submission{Score: intp(5), Link: &survey.Link{SurveyID: "sv_other"}}); !errors.Is(err, survey.ErrBadToken) {
			t.Errorf("link of another survey: %v", err)
		}
		// The API: an identifier of a customer Kunding does not know yet;
		// an idempotency key stores a retry once.
		sub := survey.Submission{Score: intp(9), Customer: survey.Customer{Email: "new@example.de"}, IdempotencyKey: "k-1", Touchpoint: "hotline"}
		r, err := svc.Answer(ctx, v, sub)
		if err != nil || r.CustomerID != "" || r.Source != survey.ViaAPI {
			t.Fatalf("api answer %+v %v", r, err)
		}
		if _, err := svc.Answer(ctx, v, sub); !errors.Is(err, survey.ErrAnswered) {
			t.Fatalf("retry: %v", err)
		}
		rs, _ = st.(store.SurveyStore).SurveyResponses(ctx, store.ResponseFilter{SurveyID: v.ID})
		if len(rs) != 2 || *rs[0].Score != first {
			t.Fatalf("after bad input: %d responses", len(rs))
		}
		// The pipeline puts the answers on the timelines and the profiles.
		drain(t, st)
		p, err := st.Customer(ctx, cust)
		if err != nil {
			t.Fatal(err)
		}
		nps, has := p.LastSurvey["nps"]
		wantCat := map[int]string{3: "detractor", 10: "promoter"}[first]
		if !has || nps.Score != first || nps.Category != wantCat || nps.SurveyID != v.ID {
			t.Fatalf("profile last NPS %+v", p.LastSurvey)
		}
		tl, _ := st.Timeline(ctx, cust, store.TimelineCursor{}, 10)
		if len(tl) == 0 || tl[0].Name != survey.EventName || tl[0].SourceName != survey.SourceName {
			t.Fatalf("timeline %+v", tl)
		}
		var body struct {
			Properties map[string]any `json:"properties"`
		}
		json.Unmarshal(tl[0].Body, &body)
		pr := body.Properties
		if pr["surveyType"] != "nps" || pr["responseId"] != rs[0].ID || pr["triggerMessageId"] != "order-17" || pr["touchpoint"] != "parcel" || pr["sentiment"] == nil {
			t.Fatalf("event properties %+v", pr)
		}
		nc, err := st.CustomerByIdentifier(ctx, store.Identifier{Kind: "email", Value: "new@example.de"})
		if err != nil || nc.LastSurvey["nps"].Category != "promoter" {
			t.Fatalf("API answer of a new customer: %+v %v", nc.LastSurvey, err)
		}
		// GDPR erasure removes the customer's responses with the events.
		if _, err := st.EraseCustomer(ctx, store.Erasure{CustomerID: cust,
			Pending:  func([]store.Identifier, []byte) bool { return false },
			Mentions: func([]store.Identifier, []byte) bool { return false }}); err != nil {
			t.Fatal(err)
		}
		rs, _ = st.(store.SurveyStore).SurveyResponses(ctx, store.ResponseFilter{SurveyID: v.ID})
		if len(rs) != 1 || rs[0].CustomerID == cust {
			t.Fatalf("after erasure: %+v", rs)
		}
		// A closed survey takes no answers.
		v, _ = svc.Update(ctx, v.ID, survey.Input{Status: ptr("closed")})
		if _, err := svc.Answer(ctx, v, survey.Submission{Score: intp(5), Link: &survey.Link{SurveyID: v.ID}}); !errors.Is(err, survey.ErrClosed) {
			t.Fatalf("closed: %v", err)
		}
	})
}

func TestAnonymousLimitAndFree(t *testing.T) {
	storetest.EachStore(t, func(t *testing.T, st store.Store) {
		svc, _ := world(t, st)
		v := mkSurvey(t, svc, "free")
		tok, err := svc.AnonymousLink(ctx, v)
		if err != nil {
			t.Fatal(err)
		}
		l, err := svc.Parse(ctx, tok)
		if err != nil || l.Personal() || l.Expires != 0 {
			t.Fatalf("anonymous link %+v %v", l, err)
		}
		if _, err := svc.Answer(ctx, v, survey.Submission{Score: intp(3), Comment: "x", Link: &l}); !errors.Is(err, survey.ErrInvalid) {
			t.Fatalf("score on a free survey: %v", err)
		}
		if _, err := svc.Answer(ctx, v, survey.Submission{Comment: "   ", Link: &l}); !errors.Is(err, survey.ErrInvalid) {
			t.Fatalf("empty free answer: %v", err)
		}
		for i := 0; i < survey.AnonymousPerHour; i++ {
			if _, err := svc.Answer(ctx, v, survey.Submission{Comment: "Great service, thanks", Link: &l, ClientAddr: "192.0.2.1"}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := svc.Answer(ctx, v, survey.Submission{Comment: "again", Link: &l, ClientAddr: "192.0.2.1"}); !errors.Is(err, survey.ErrLimited) {
			t.Fatalf("over the limit: %v", err)
		}
		if _, err := svc.Answer(ctx, v, survey.Submission{Comment: "another person", Link: &l, ClientAddr: "192.0.2.2"}); err != nil {
			t.Fatalf("other address: %v", err)
		}
		rs, _ := st.(store.SurveyStore).SurveyResponses(ctx, store.ResponseFilter{SurveyID: v.ID})
		if len(rs) != survey.AnonymousPerHour+1 || rs[0].CustomerID != "" || rs[0].Source != survey.ViaAnonymous || rs[0].ClientHash == "" {
			t.Fatalf("responses %d %+v", len(rs), rs[0])
		}
		drain(t, st) // anonymous answers are on no timeline, and do not stop the pipeline
		st2, _ := st.Stats(ctx)
		if st2.Processed != st2.LastSeq {
			t.Fatalf("pipeline stuck: %+v", st2)
		}
	})
}
