package cases_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/kunding/kunding/internal/cases"
	"github.com/kunding/kunding/internal/store"
)

func TestRulesOpenCasesFromEvents(t *testing.T) {
	eachEnv(t, at(2026, 3, 16, 9, 0), func(t *testing.T, e *env) {
		cust := e.customer("C-1")
		e.customer("C-2")
		// Each of these opens a case ...
		opens := map[int64]string{}
		opens[e.track("C-1", "Complaint Submitted", map[string]any{"subject": "Cold food", "text": "The pizza arrived cold.", "channel": "web"})] = cases.OriginComplaintEvent
		opens[e.track("C-1", "Beschwerde", map[string]any{"message": "Die Lieferung war beschädigt."})] = cases.OriginComplaintEvent
		opens[e.track("C-1", "Shop Complaint Filed", nil)] = cases.OriginComplaintEvent // by the pattern
		opens[e.track("C-1", "Survey Answered", map[string]any{"surveyId": "s1", "surveyName": "After delivery", "surveyType": "nps",
			"score": 3, "category": "detractor", "comment": "Slow and unfriendly", "touchpoint": "delivery", "responseId": "r1",
			"themes": []string{"delivery", "staff"}, "sentiment": "negative", "language": "en"})] = cases.OriginDetractor
		opens[e.track("C-2", "Survey Answered", map[string]any{"surveyType": "csat", "score": 2, "surveyName": "Hotline"})] = cases.OriginLowCSAT
		opens[e.track("anon:feedback:trustpilot:max", "Feedback Received", map[string]any{"feedbackId": "f1", "portal": "trustpilot",
			"kind": "review", "author": "max", "rating": 1, "title": "Never again", "text": "Terrible service", "url": "https://tp.example/r/1"})] = cases.OriginBadFeedback
		opens[e.track("anon:feedback:forum:eva", "Feedback Received", map[string]any{"feedbackId": "f2", "portal": "forum",
			"kind": "forum", "author": "eva", "text": "This company is terrible, awful support, never again.", "sentiment": "negative"})] = cases.OriginBadFeedback
		// ... and these do not.
		for _, x := range []struct {
			name  string
			props map[string]any
		}{
			{"Order Completed", map[string]any{"revenue": 10}},
			{"Survey Answered", map[string]any{"surveyType": "nps", "score": 7, "category": "passive"}},
			{"Survey Answered", map[string]any{"surveyType": "nps", "score": 10}},
			{"Survey Answered", map[string]any{"surveyType": "csat", "score": 3}},
			{"Survey Answered", map[string]any{"surveyType": "free", "comment": "ok"}},
			{"Feedback Received", map[string]any{"portal": "trustpilot", "rating": 4, "text": "Good", "sentiment": "positive"}},
			{"Feedback Received", map[string]any{"portal": "trustpilot", "rating": 5, "text": "Great, fast delivery, wonderful!"}},
		} {
			e.track("C-2", x.name, x.props)
		}
		n, err := e.svc.Drain(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatal("drain read nothing")
		}
		all, err := e.svc.List(e.ctx, store.CaseFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != len(opens) {
			t.Fatalf("%d cases, want %d", len(all), len(opens))
		}
		for _, c := range all {
			if len(c.Sources) != 1 {
				t.Fatalf("case %s sources %+v", c.ID, c.Sources)
			}
			want, ok := opens[c.Sources[0].Seq]
			if !ok || c.Origin != want {
				t.Errorf("case from seq %d: origin %q, want %q", c.Sources[0].Seq, c.Origin, want)
			}
			if c.Department == "" || c.ResolutionDue.IsZero() || c.CustomerID == "" {
				t.Errorf("case %+v", c)
			}
			switch c.Sources[0].Event {
			case "Survey Answered":
				if c.Origin == cases.OriginDetractor {
					if c.Subject != "NPS 3 (detractor) in survey After delivery" || c.Description != "Slow and unfriendly" || c.Theme != "delivery" ||
						c.Touchpoint != "delivery" || c.Channel != "survey" || c.CustomerID != cust || c.Language != "en" {
						t.Errorf("detractor case %+v", c)
					}
				}
			case "Feedback Received":
				if !strings.HasPrefix(c.Contact, "anon:feedback:") {
					t.Errorf("feedback case contact %q", c.Contact)
				}
				if c.Touchpoint == "trustpilot" && (c.Subject != "1-star review on trustpilot: Never again" || !strings.Contains(c.Description, "https://tp.example/r/1")) {
					t.Errorf("review case %+v", c)
				}
				if c.Touchpoint == "forum" && (c.Channel != "forum" || c.Sentiment != "negative") {
					t.Errorf("forum case %+v", c)
				}
			case "Complaint Submitted":
				if c.Subject != "Cold food" || c.Description != "The pizza arrived cold." || c.Channel != "web" || c.CreatedBy != "system" {
					t.Errorf("complaint case %+v", c)
				}
			case "Beschwerde":
				if c.Subject != "Beschwerde" || c.Channel != "shop" {
					t.Errorf("Beschwerde case %+v", c)
				}
			}
		}
		// A replay (cursor back to the start, as after a restore) opens nothing twice.
		cur, _ := e.st.(store.CaseStore).CaseCursor(e.ctx)
		if err := e.st.(store.CaseStore).AdvanceCaseCursor(e.ctx, cur, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Drain(e.ctx); err != nil {
			t.Fatal(err)
		}
		if n, _ := e.svc.Count(e.ctx, store.CaseFilter{}); n != len(opens) {
			t.Fatalf("after replay %d cases, want %d", n, len(opens))
		}
		// Events the pipeline has not processed yet wait.
		e.clock.Advance(1)
		if n, _ := e.svc.Step(e.ctx); n != 0 {
			t.Errorf("step with nothing new read %d", n)
		}
	})
}

func TestRulesConfigurable(t *testing.T) {
	eachEnv(t, at(2026, 3, 16, 9, 0), func(t *testing.T, e *env) {
		e.customer("C-1")
		e.setConfig(cases.ConfigIntake, cases.IntakeConfig{ComplaintEvents: []string{"Ticket Escalated"}, NPSMax: 4, CSATMax: 1, RatingMax: 1})
		e.track("C-1", "Complaint Submitted", nil)                                                                   // no longer (no pattern, not listed)
		e.track("C-1", "Ticket Escalated", nil)                                                                      // yes
		e.track("C-1", "Survey Answered", map[string]any{"surveyType": "nps", "score": 5})                           // no (npsMax 4)
		e.track("C-1", "Survey Answered", map[string]any{"surveyType": "nps", "score": 4})                           // yes
		e.track("C-1", "Feedback Received", map[string]any{"rating": 2, "portal": "x"})                              // no
		e.track("C-1", "Feedback Received", map[string]any{"text": "awful", "portal": "x", "sentiment": "negative"}) // no (negativeSentiment off)
		if _, err := e.svc.Drain(e.ctx); err != nil {
			t.Fatal(err)
		}
		all, _ := e.svc.List(e.ctx, store.CaseFilter{})
		var got []string
		for _, c := range all {
			got = append(got, c.Sources[0].Event)
		}
		sort.Strings(got)
		if strings.Join(got, ",") != "Survey Answered,Ticket Escalated" {
			t.Errorf("cases from %v", got)
		}
	})
}

func TestCaseEventsOnTimeline(t *testing.T) {
	eachEnv(t, at(2026, 3, 16, 9, 0), func(t *testing.T, e *env) {
		e.svc.Timeline = true
		cust := e.customer("C-1")
		c := e.create(cases.NewCase{CustomerID: cust, Type: "complaint", Subject: "Broken"})
		if _, err := e.svc.Transition(e.ctx, c.ID, cases.Move{Version: c.Version, Status: "solved", Resolution: "Refunded"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.pl.Drain(e.ctx, nil); err != nil {
			t.Fatal(err)
		}
		tl, err := e.st.Timeline(e.ctx, cust, store.TimelineCursor{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, x := range tl {
			names = append(names, x.Name)
		}
		if strings.Join(names, ",") != "Case Solved,Case Opened,Signed Up" && strings.Join(names, ",") != "Case Opened,Case Solved,Signed Up" {
			t.Errorf("timeline %v", names)
		}
		// The case events open no cases themselves.
		if _, err := e.svc.Drain(e.ctx); err != nil {
			t.Fatal(err)
		}
		if n, _ := e.svc.Count(e.ctx, store.CaseFilter{}); n != 1 {
			t.Errorf("%d cases", n)
		}
	})
}

func TestSurveyAnswerForASolvedCaseJoinsTheCase(t *testing.T) {
	eachEnv(t, at(2026, 3, 16, 9, 0), func(t *testing.T, e *env) {
		cust := e.customer("C-1")
		c := e.create(cases.NewCase{CustomerID: cust, Type: "complaint", Subject: "Broken"})
		c, err := e.svc.Transition(e.ctx, c.ID, cases.Move{Version: c.Version, Status: "solved", Resolution: "Replaced"})
		if err != nil {
			t.Fatal(err)
		}
		e.track("C-1", "Survey Answered", map[string]any{"surveyType": "csat", "score": 5, "surveyName": "After your case",
			"comment": "Quick and friendly", "responseId": "r9", "triggerMessageId": cases.EventMessageID(&c, "Case Solved")})
		for i := 0; i < 2; i++ { // the second run is a replay
			cur, _ := e.st.(store.CaseStore).CaseCursor(e.ctx)
			if i == 1 {
				e.st.(store.CaseStore).AdvanceCaseCursor(e.ctx, cur, 0)
			}
			if _, err := e.svc.Drain(e.ctx); err != nil {
				t.Fatal(err)
			}
		}
		var got []store.CaseChange
		for _, h := range e.history(c.ID) {
			if h.Action == "satisfaction" {
				got = append(got, h)
			}
		}
		if len(got) != 1 || got[0].After["score"] != "5" || got[0].Note != "Quick and friendly" || got[0].After["responseId"] != "r9" {
			t.Fatalf("satisfaction entries %+v", got)
		}
	})
}
