package touchpoint_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/pipeline"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/storetest"
	"github.com/kunding/kunding/internal/touchpoint"
)

type fx struct {
	t    testing.TB
	ctx  context.Context
	st   store.Store
	svc  *touchpoint.Service
	con  *touchpoint.Consumer
	src  map[string]store.Source
	n    int
	msgs map[string]string
}

func newFx(t testing.TB, st store.Store) *fx {
	ctx := context.Background()
	f := &fx{t: t, ctx: ctx, st: st, svc: &touchpoint.Service{Store: st}, src: map[string]store.Source{}, msgs: map[string]string{}}
	f.con = &touchpoint.Consumer{Service: f.svc}
	for _, s := range [][2]string{{"Web shop", "web"}, {"Hotline", "call-centre"}, {"Mailer", "email"}, {"Blog", "web"},
		{"Kunding surveys", "survey"}, {"Kunding cases", "case"}} {
		var src store.Source
		var err error
		if s[1] == "case" { // as package cases makes it
			src = store.Source{ID: "src_cases", Name: s[0], Kind: s[1], WriteKey: "wk_cases", CreatedAt: time.Now()}
			err = st.CreateSource(ctx, src)
		} else {
			src, err = source.Create(ctx, st, s[0], s[1])
		}
		if err != nil {
			t.Fatal(err)
		}
		f.src[s[0]] = src
	}
	return f
}

func march(day int) time.Time { return time.Date(2026, 3, day, 10, 0, 0, 0, time.UTC) }

// add appends an event and returns its messageId.
func (f *fx) add(src, user, typ, name string, day int, props map[string]any, ctx map[string]any) string {
	f.t.Helper()
	f.n++
	ev := event.Event{Type: typ, MessageID: fmt.Sprintf("m%d", f.n), UserID: user, Timestamp: march(day).Add(time.Duration(f.n) * time.Second)}
	ev.ReceivedAt = ev.Timestamp
	if typ == event.Track {
		ev.Event = name
	} else if typ != event.Identify {
		ev.Name = name
	}
	if props != nil {
		ev.Properties, _ = json.Marshal(props)
	}
	if typ == event.Identify {
		ev.Traits = ev.Properties
		ev.Properties = nil
	}
	if ctx != nil {
		ev.Context, _ = json.Marshal(ctx)
	}
	body, _ := json.Marshal(ev)
	if _, err := f.st.Append(f.ctx, []store.Record{{SourceID: f.src[src].ID, Event: ev, Body: body}}); err != nil {
		f.t.Fatal(err)
	}
	return ev.MessageID
}

// record is a page event of a user with a path, not yet appended.
func (f *fx) record(src, user, path string, i int) store.Record {
	ev := event.Event{Type: event.Page, MessageID: fmt.Sprintf("r%d", i), UserID: user, Timestamp: march(1).Add(time.Duration(i) * time.Minute)}
	ev.ReceivedAt = ev.Timestamp
	ev.Properties, _ = json.Marshal(map[string]any{"path": path})
	body, _ := json.Marshal(ev)
	return store.Record{SourceID: f.src[src].ID, Event: ev, Body: body}
}

func pipelineDrain(f *fx) (int, error) { return (&pipeline.Pipeline{Store: f.st}).Drain(f.ctx, nil) }

func (f *fx) drain() {
	f.t.Helper()
	if _, err := (&pipeline.Pipeline{Store: f.st}).Drain(f.ctx, nil); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.con.Drain(f.ctx); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fx) create(name, channel, stage string, prio int, cost float64, basis string, rules ...store.TouchpointRule) store.Touchpoint {
	f.t.Helper()
	tp, err := f.svc.Create(f.ctx, touchpoint.Input{Name: &name, Channel: &channel, Stage: &stage, Priority: &prio, Cost: &cost,
		CostBasis: &basis, Rules: &rules}, "u_admin")
	if err != nil {
		f.t.Fatal(err)
	}
	return tp
}

func answer(typ string, score float64, tp, trigger string) map[string]any {
	p := map[string]any{"surveyId": "sv_" + typ, "surveyType": typ, "score": score}
	if tp != "" {
		p["touchpoint"] = tp
	}
	if trigger != "" {
		p["triggerMessageId"] = trigger
	}
	return p
}

func figuresByName(t *testing.T, figs []touchpoint.Figures) map[string]touchpoint.Figures {
	out := map[string]touchpoint.Figures{}
	for _, f := range figs {
		out[f.Name] = f
	}
	return out
}

// TestFixtureFigures checks matching, discovery and every figure against
// values worked out by hand for a small log, on both stores.
func TestFixtureFigures(t *testing.T) {
	storetest.EachStore(t, func(t *testing.T, st store.Store) {
		f := newFx(t, st)
		help := f.create("Help pages", "web", "service", 0, 0, "contact", store.TouchpointRule{Source: "Web shop", PathPrefix: "/help"})
		hot := f.create("Hotline", "phone", "service", 0, 5, "contact", store.TouchpointRule{Source: "Hotline", Event: "Call Completed"})
		spring := f.create("Spring mailing", "email", "awareness", 0, 1000, "month", store.TouchpointRule{Campaign: "spring"})
		f.create("Web shop", "web", "purchase", 10, 0, "contact", store.TouchpointRule{Source: "Web shop"})

		f.add("Web shop", "u1", "identify", "", 1, map[string]any{"plan": "Gold"}, nil)
		f.add("Web shop", "u1", "page", "Returns", 1, map[string]any{"path": "/help/returns"}, nil)
		f.add("Web shop", "u1", "page", "Help", 1, map[string]any{"path": "/help"}, nil)
		f.add("Web shop", "u1", "page", "Help", 3, map[string]any{"path": "/help"}, nil)
		trig := f.add("Web shop", "u2", "page", "X", 2, map[string]any{"path": "/help/x"}, nil)
		f.add("Hotline", "u1", "track", "Call Completed", 2, map[string]any{"sentimentScore": -0.5, "sentiment": "negative"}, nil)
		f.add("Hotline", "u3", "track", "Call Completed", 2, map[string]any{"sentimentScore": 0.7, "sentiment": "positive"}, nil)
		f.add("Web shop", "u4", "page", "Products", 5, map[string]any{"path": "/products"}, map[string]any{"campaign": map[string]any{"name": "Spring"}})
		f.add("Web shop", "u2", "page", "About", 5, map[string]any{"path": "/about"}, nil)
		f.add("Web shop", "u3", "track", "Order Completed", 10, map[string]any{"orderId": "o1", "revenue": 50}, nil)
		f.add("Web shop", "u1", "track", "Order Completed", 20, map[string]any{"orderId": "o2", "revenue": 20}, nil)
		// Unmatched: two e-mail opens, two blog pages, one campaign.
		f.add("Mailer", "u1", "track", "Email Opened", 4, nil, nil)
		f.add("Mailer", "u2", "track", "Email Opened", 6, nil, nil)
		f.add("Blog", "u2", "page", "", 4, map[string]any{"path": "/blog/a"}, nil)
		f.add("Blog", "u3", "page", "", 7, map[string]any{"path": "/blog/b"}, nil)
		f.add("Mailer", "u3", "track", "Email Opened", 8, nil, map[string]any{"campaign": map[string]any{"name": "Autumn"}})
		// Survey answers: Hotline CSAT and overall NPS of five customers.
		for i, s := range [][2]float64{{2, 4}, {4, 8}, {5, 9}, {3, 6}, {1, 2}} {
			u := fmt.Sprintf("u%d", i+1)
			f.add("Kunding surveys", u, "track", "Survey Answered", 11, answer("csat", s[0], "hotline", ""), nil)
			f.add("Kunding surveys", u, "track", "Survey Answered", 12, answer("nps", s[1], "", ""), nil)
		}
		// A CES answer attributed through the event that triggered it.
		f.add("Kunding surveys", "u2", "track", "Survey Answered", 12, answer("ces", 6, "", trig), nil)
		// A complaint case about the hotline.
		f.add("Kunding cases", "u3", "track", "Case Opened", 13, map[string]any{"type": "complaint", "touchpoint": "Hotline"}, nil)
		f.drain()

		// The key driver from the incremental sums equals the regression
		// over the stored answers (one month: the same pairs).
		all, err := st.(store.TouchpointStore).TouchpointAnswers(f.ctx, "all", 0, 1<<40)
		if err != nil {
			t.Fatal(err)
		}
		ref := touchpoint.KeyDrivers(all)[hot.ID]
		// Batches of any size give the same figures: match again three
		// events at a time (answers of one customer-month across batches).
		before, _ := f.svc.AllFigures(f.ctx, touchpoint.Query{From: march(1).Truncate(24 * time.Hour), To: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)})
		f.svc.Rebuild(f.ctx)
		f.con.Batch = 3
		f.drain()
		f.con.Batch = 0
		after, _ := f.svc.AllFigures(f.ctx, touchpoint.Query{From: march(1).Truncate(24 * time.Hour), To: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)})
		bj, _ := json.Marshal(before)
		aj, _ := json.Marshal(after)
		if string(bj) != string(aj) {
			t.Errorf("figures differ by batch size:\n%s\n%s", bj, aj)
		}

		// Each event carries its touchpoint.
		ts := st.(store.TouchpointStore)
		seqs, err := ts.TouchpointEvents(f.ctx, help.ID, 10)
		if err != nil || len(seqs) != 4 {
			t.Fatalf("help events %v %v", seqs, err)
		}
		q := touchpoint.Query{From: march(1).Truncate(24 * time.Hour), To: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}
		figs, err := f.svc.AllFigures(f.ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		by := figuresByName(t, figs)
		h := by["Help pages"]
		// u1 three pages on days 1, 1, 3; u2 one on day 2: 4 contacts, 2
		// customers, 3 customer-days; u1's order on day 20 converts both of
		// u1's days: 2/3. The CES 6 via the trigger: (6−1)·100/6.
		if h.Contacts != 4 || h.Reach != 2 || h.CESN != 1 {
			t.Errorf("help: contacts %d reach %d cesN %d", h.Contacts, h.Reach, h.CESN)
		}
		near(t, "help conversion", float64(h.Conversion), 200.0/3, 1e-9)
		near(t, "help CES", float64(h.CES), 6, 1e-12)
		near(t, "help performance", float64(h.Performance), 500.0/6, 1e-9)
		// Hotline: 2 calls (u1, u3), sentiment (−0.5+0.7)/2 = 0.1, one of two
		// negative; CSAT 2,4,5,3,1: 2 of 5 satisfied = 40 %, mean 3,
		// performance (25+75+100+50+0)/5 = 50; one complaint per 2 contacts
		// = 500 per 1,000; u3's order on day 10 and u1's on day 20 convert
		// both callers' days (within 30 days): 2/2; cost
		// 5 per contact.
		hh := by["Hotline"]
		if hh.Contacts != 2 || hh.Reach != 2 || hh.CSATN != 5 || hh.Complaints != 1 || hh.SentimentN != 2 {
			t.Errorf("hotline: %+v", hh)
		}
		near(t, "hotline sentiment", float64(hh.Sentiment), 0.1, 1e-12)
		near(t, "hotline negative share", float64(hh.NegativeShare), 50, 1e-12)
		near(t, "hotline CSAT", float64(hh.CSAT), 40, 1e-12)
		near(t, "hotline CSAT mean", float64(hh.CSATMean), 3, 1e-12)
		near(t, "hotline performance", float64(hh.Performance), 50, 1e-12)
		near(t, "hotline complaint rate", float64(hh.ComplaintRate), 500, 1e-9)
		near(t, "hotline conversion", float64(hh.Conversion), 100, 1e-12)
		near(t, "hotline cost per contact", float64(hh.CostPerContact), 5, 1e-12)
		// Key driver: overall NPS·10 = 40,80,90,60,20 on CSAT 25,75,100,50,0
		// (the pairs of TestKeyDriversPairsCustomers): slope 0.72.
		if hh.KeyDriver.N != 5 {
			t.Fatalf("key driver n %d", hh.KeyDriver.N)
		}
		near(t, "hotline key driver slope", float64(hh.KeyDriver.Slope), 0.72, 1e-9)
		near(t, "hotline key driver r", float64(hh.KeyDriver.R), 0.9938837346736189, 1e-9)
		near(t, "key driver against the answers", float64(hh.KeyDriver.R), float64(ref.R), 1e-9)
		// Spring: one contact (the campaign rule wins over the web shop's
		// catch-all of priority 10); 1,000 a month over 31 days.
		sp := by["Spring mailing"]
		months := 31 / (365.2425 / 12)
		if sp.Contacts != 1 || sp.Reach != 1 {
			t.Errorf("spring: %+v", sp)
		}
		near(t, "spring cost per contact", float64(sp.CostPerContact), 1000*months, 1e-6)
		if w := by["Web shop"]; w.Contacts != 3 { // /about and two orders
			t.Errorf("web shop contacts %d", w.Contacts)
		}
		// A segment by trait: only u1 (plan gold).
		gq := q
		gq.Segment = "trait:plan=gold"
		gfigs, err := f.svc.AllFigures(f.ctx, gq)
		if err != nil {
			t.Fatal(err)
		}
		if g := figuresByName(t, gfigs)["Help pages"]; g.Contacts != 3 || g.Reach != 1 {
			t.Errorf("gold help: contacts %d reach %d", g.Contacts, g.Reach)
		}
		// A period of days within a month reads day rows: days 2..3.
		dq := touchpoint.Query{From: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)}
		dfigs, _ := f.svc.AllFigures(f.ctx, dq)
		if d := figuresByName(t, dfigs)["Help pages"]; d.Contacts != 2 || d.Reach != 2 {
			t.Errorf("days 2-3 help: contacts %d reach %d", d.Contacts, d.Reach)
		}

		// The matrix: only the hotline has a derived importance.
		m, err := f.svc.Matrix(f.ctx, touchpoint.MatrixQuery{Query: q})
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Points) != 1 || m.Points[0].ID != hot.ID || m.Points[0].Quadrant != touchpoint.KeepUp || !m.Points[0].Significant {
			t.Errorf("matrix points %+v", m.Points)
		}
		reasons := map[string]string{}
		for _, u := range m.Unplaced {
			reasons[u.ID] = u.Reason
		}
		if reasons[help.ID] != "no_importance" || reasons[spring.ID] != "no_performance" {
			t.Errorf("unplaced %+v", m.Unplaced)
		}

		// Discovery: three groups, most frequent first.
		ps, err := f.svc.Proposals(f.ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for _, p := range ps {
			got[p.Key] = p.Count
		}
		mailKey := "event|" + f.src["Mailer"].ID + "|email opened"
		blogKey := "path|" + f.src["Blog"].ID + "|/blog"
		if len(ps) != 3 || got[mailKey] != 2 || got[blogKey] != 2 || got["campaign|autumn"] != 1 {
			t.Fatalf("proposals %+v", ps)
		}
		// Accept the e-mail group, merge the blog into the web shop
		// touchpoint... into Help pages, ignore the campaign.
		acc, err := f.svc.Accept(f.ctx, mailKey, touchpoint.Input{}, "u_admin")
		if err != nil {
			t.Fatal(err)
		}
		if acc.Channel != "email" || len(acc.Rules) != 1 || acc.Rules[0].Event != "Email Opened" {
			t.Errorf("accepted %+v", acc)
		}
		if _, err := f.svc.Merge(f.ctx, blogKey, help.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Merge(f.ctx, blogKey, help.ID); !errors.Is(err, store.ErrConflict) {
			t.Errorf("second merge: %v", err)
		}
		if err := f.svc.Ignore(f.ctx, "campaign|autumn", "u_admin"); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Ignore(f.ctx, "no|such", "u_admin"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ignore unknown: %v", err)
		}
		p, _ := f.svc.Progress(f.ctx)
		if !p.Rebuilding {
			t.Errorf("no rebuild after rule changes: %+v", p)
		}
		f.drain()
		p, _ = f.svc.Progress(f.ctx)
		if p.Rebuilding || p.Percent != 100 {
			t.Errorf("after rebuild: %+v", p)
		}
		ps, _ = f.svc.Proposals(f.ctx, 10)
		if len(ps) != 0 {
			t.Errorf("proposals left: %+v", ps)
		}
		figs, _ = f.svc.AllFigures(f.ctx, q)
		by = figuresByName(t, figs)
		if by[acc.Name].Contacts != 3 || by["Help pages"].Contacts != 6 || by["Hotline"].Contacts != 2 {
			t.Errorf("after rebuild: accepted %d, help %d, hotline %d", by[acc.Name].Contacts, by["Help pages"].Contacts, by["Hotline"].Contacts)
		}
		// The autumn e-mail went to the accepted touchpoint? No: its
		// campaign group was ignored, but the rule Event "Email Opened"
		// of the Mailer matches it too, so 3 contacts above.

		// Updating with an old version fails and changes nothing.
		name := "Renamed"
		if _, err := f.svc.Update(f.ctx, hot.ID, touchpoint.Input{Name: &name, Version: 99}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("stale update: %v", err)
		}
		bad := []store.TouchpointRule{{}}
		if _, err := f.svc.Update(f.ctx, hot.ID, touchpoint.Input{Rules: &bad}); !errors.Is(err, touchpoint.ErrInvalid) {
			t.Errorf("empty rule: %v", err)
		}
		if tp, _ := f.svc.Get(f.ctx, hot.ID); tp.Name != "Hotline" || len(tp.Rules) != 1 {
			t.Errorf("changed by refused updates: %+v", tp)
		}
	})
}
