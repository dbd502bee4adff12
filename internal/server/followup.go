package server

import (
	"context"
	"log/slog"

	"github.com/kunding/kunding/internal/cases"
	"github.com/kunding/kunding/internal/survey"
)

// wireFollowUp closes the loop of a solved case (issue 7, item 6): when the
// case intake configuration names a follow-up survey and a case of a known
// customer is solved, a personal link of that survey is made, triggered by
// the case's "Case Solved" event, and noted on the case for the agent to
// send (webhook consumers see the note as case.updated). The answer comes
// back as a "Survey Answered" event naming that trigger, and the intake
// rules attach it to the case.
func wireFollowUp(svc *cases.Service, surveys *survey.Service, log *slog.Logger) {
	svc.AddHook(func(ctx context.Context, n cases.Notice) {
		if n.Action != "solved" || n.Case.CustomerID == "" {
			return
		}
		cfg, _, err := svc.Config(ctx, cases.ConfigIntake)
		in, ok := cfg.(*cases.IntakeConfig)
		if err != nil || !ok || in.FollowUpSurveyID == "" {
			return
		}
		ss, err := surveys.Surveys()
		if err != nil {
			return
		}
		v, err := ss.SurveyByID(ctx, in.FollowUpSurveyID)
		if err != nil {
			log.Warn("cases: follow-up survey not found", "survey", in.FollowUpSurveyID, "err", err)
			return
		}
		if v.Status != "active" {
			return
		}
		_, tok, err := surveys.PersonalLink(ctx, v, survey.LinkRequest{
			Customer:   survey.Customer{CustomerID: n.Case.CustomerID},
			Touchpoint: n.Case.Touchpoint,
			Trigger:    cases.EventMessageID(&n.Case, "Case Solved"),
		})
		if err != nil {
			log.Warn("cases: follow-up survey link", "case", n.Case.ID, "err", err)
			return
		}
		note := "Zufriedenheitsumfrage für den Kunden / satisfaction survey for the customer (" + v.Name + "): " + survey.HostedPath(tok)
		if _, err := svc.AddNote(ctx, n.Case.ID, note, false); err != nil {
			log.Warn("cases: follow-up survey note", "case", n.Case.ID, "err", err)
		}
	})
}
