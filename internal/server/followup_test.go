package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/cases"
	"github.com/kunding/kunding/internal/server"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/survey"
)

// TestSolvedCaseAsksFollowUpSurvey closes the loop of a complaint: with a
// follow-up survey configured, solving the case notes a personal survey
// link on it; the customer's answer through that link is attached to the
// case's history.
func TestSolvedCaseAsksFollowUpSurvey(t *testing.T) {
	for name, db := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := audit.WithActor(context.Background(), "test")
			srv, err := server.Start(ctx, server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), DB: db(t)})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Shutdown(context.Background())
			src, err := source.Create(ctx, srv.Store, "Shop", "shop")
			if err != nil {
				t.Fatal(err)
			}
			surveys := &survey.Service{Store: srv.Store, Wake: srv.Pipeline.Wake}
			str := func(s string) *string { return &s }
			v, err := surveys.Create(ctx, survey.Input{Name: str("After the case"), Type: str("csat"),
				QuestionDE: str("Wie zufrieden sind Sie mit der Lösung?"), QuestionEN: str("How satisfied are you with the solution?")}, "test")
			if err != nil {
				t.Fatal(err)
			}
			cfg, ver, err := srv.Cases.Config(ctx, cases.ConfigIntake)
			if err != nil {
				t.Fatal(err)
			}
			in := *cfg.(*cases.IntakeConfig)
			// A survey that does not exist is refused, and nothing changes.
			in.FollowUpSurveyID = "srv_nonexistent"
			raw, _ := json.Marshal(in)
			if _, err := srv.Cases.SetConfig(ctx, cases.ConfigIntake, raw, ver); !errors.Is(err, cases.ErrInvalid) {
				t.Fatalf("follow-up survey that does not exist: %v, want ErrInvalid", err)
			}
			if _, ver2, _ := srv.Cases.Config(ctx, cases.ConfigIntake); ver2 != ver {
				t.Fatalf("a refused configuration changed the version %d -> %d", ver, ver2)
			}
			in.FollowUpSurveyID = v.ID
			raw, _ = json.Marshal(in)
			if _, err := srv.Cases.SetConfig(ctx, cases.ConfigIntake, raw, ver); err != nil {
				t.Fatal(err)
			}

			req, _ := http.NewRequest("POST", "http://"+srv.Addr+"/v1/track", strings.NewReader(
				`{"userId":"C-9","event":"Complaint Submitted","properties":{"subject":"Parcel lost"}}`))
			req.SetBasicAuth(src.WriteKey, "")
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("track: %v %v", err, resp)
			}
			resp.Body.Close()
			var c cases.Case
			waitFor(t, "the case", func() bool {
				list, err := srv.Cases.List(ctx, store.CaseFilter{})
				if err != nil || len(list) == 0 {
					return false
				}
				c = list[0]
				return true
			})
			if c, err = srv.Cases.Transition(ctx, c.ID, cases.Move{Version: c.Version, Status: cases.StatusSolved,
				Resolution: "Sent a new parcel"}); err != nil {
				t.Fatal(err)
			}
			var token string
			link := regexp.MustCompile(`/s/(\S+)`)
			waitFor(t, "the survey link on the case", func() bool {
				h, _ := srv.Cases.History(ctx, c.ID)
				for _, x := range h {
					if m := link.FindStringSubmatch(x.Note); m != nil && strings.Contains(x.Note, "After the case") {
						token = m[1]
						return true
					}
				}
				return false
			})
			l, err := surveys.Parse(ctx, token)
			if err != nil {
				t.Fatal(err)
			}
			if l.CustomerID != c.CustomerID || l.Trigger != cases.EventMessageID(&c, "Case Solved") {
				t.Fatalf("link %+v; want the case's customer and its Case Solved event", l)
			}
			score := 5
			if _, err := surveys.Answer(ctx, v, survey.Submission{Score: &score, Comment: "Schnell gelöst, danke!", Language: "de",
				Link: &l, Via: survey.ViaLink}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the answer on the case", func() bool {
				h, _ := srv.Cases.History(ctx, c.ID)
				for _, x := range h {
					if x.Action == "satisfaction" && x.After["score"] == "5" {
						return true
					}
				}
				return false
			})
		})
	}
}
