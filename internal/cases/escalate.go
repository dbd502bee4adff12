package cases

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/store"
)

// Escalation levels.
const (
	LevelNone = 0
	LevelLead = 1 // the department lead
	LevelCCO  = 2 // the Chief Customer Officer
)

// TickResult counts what one run of the escalation job did.
type TickResult struct {
	Checked   int `json:"checked"`
	Warnings  int `json:"warnings"`
	ToLead    int `json:"escalatedToLead"`
	ToCCO     int `json:"escalatedToCco"`
	Conflicts int `json:"skippedChangedMeanwhile"`
}

// Tick is the escalation job: for every unfinished case not waiting for
// the customer, it warns once before each deadline, escalates to the
// department lead when a deadline has passed, and to the CCO when the case
// is still overdue ccoAfter business hours later. What it did is kept on
// the case (warned flags, level), so running it again changes nothing:
// several nodes or a restart cannot escalate twice. Levels are never
// skipped: a case found far overdue gets level 1 and then level 2, in
// that order, in its history.
func (s *Service) Tick(ctx context.Context) (TickResult, error) {
	var res TickResult
	_, sla, _, err := s.load(ctx)
	if err != nil {
		return res, err
	}
	now := s.now()
	// Only cases with a deadline within the longest warning time can need
	// anything: beyond horizon every calendar has more business time left.
	var maxWarn time.Duration
	for _, p := range append(sla.Policies, FallbackPolicy) {
		maxWarn = max(maxWarn, p.warnBefore(p.FirstResponseHours), p.warnBefore(p.ResolutionHours))
	}
	var horizon time.Time
	for _, cal := range sla.Calendars {
		if h := cal.Add(now, maxWarn); h.After(horizon) {
			horizon = h
		}
	}
	open, err := s.cs.Cases(ctx, store.CaseFilter{Open: true, BelowLevel: LevelCCO, DueBefore: horizon.Add(time.Millisecond)})
	if err != nil {
		return res, err
	}
	var users []store.User
	usersLoaded := false
	for i := range open {
		c := &open[i]
		if c.Status == StatusWaitingCustomer {
			continue
		}
		res.Checked++
		p := sla.Policy(c.Policy)
		cal := sla.CalendarOf(c.Calendar)
		var hist []Change
		var notices []string
		add := func(action string, after map[string]string, reason string) {
			hist = append(hist, Change{CaseID: c.ID, At: now, Actor: audit.SystemActor, Action: action, After: after, Reason: reason})
			notices = append(notices, action)
		}
		frPending := c.FirstResponseAt.IsZero()
		if frPending && !c.WarnedResponse && now.Before(c.FirstResponseDue) && cal.Between(now, c.FirstResponseDue) <= p.warnBefore(p.FirstResponseHours) {
			c.WarnedResponse = true
			add("warning", map[string]string{"deadline": "firstResponse", "due": c.FirstResponseDue.Format(time.RFC3339)},
				fmt.Sprintf("%s of business time left until the first-response deadline", cal.Between(now, c.FirstResponseDue).Round(time.Minute)))
			res.Warnings++
		}
		if !c.WarnedResolution && now.Before(c.ResolutionDue) && cal.Between(now, c.ResolutionDue) <= p.warnBefore(p.ResolutionHours) {
			c.WarnedResolution = true
			add("warning", map[string]string{"deadline": "resolution", "due": c.ResolutionDue.Format(time.RFC3339)},
				fmt.Sprintf("%s of business time left until the resolution deadline", cal.Between(now, c.ResolutionDue).Round(time.Minute)))
			res.Warnings++
		}
		var since time.Time
		var which string
		if frPending && !now.Before(c.FirstResponseDue) {
			since, which = c.FirstResponseDue, "first response"
		}
		if !now.Before(c.ResolutionDue) && (since.IsZero() || c.ResolutionDue.Before(since)) {
			since, which = c.ResolutionDue, "resolution"
		}
		if !since.IsZero() {
			if !usersLoaded {
				if users, err = s.Store.Users(ctx); err != nil {
					return res, err
				}
				usersLoaded = true
			}
			if c.EscalationLevel < LevelLead {
				c.EscalationLevel, c.EscalatedAt = LevelLead, now
				if which == "first response" {
					c.ResponseEscalated = true
				}
				who := recipients(users, "lead", c.Department)
				add("escalated", map[string]string{"escalationLevel": "1", "to": "lead of " + c.Department, "users": who},
					fmt.Sprintf("%s deadline %s passed", which, since.Format(time.RFC3339)))
				res.ToLead++
			}
			if over := cal.Between(since, now); c.EscalationLevel < LevelCCO && over >= p.ccoAfter() {
				c.EscalationLevel, c.EscalatedAt = LevelCCO, now
				who := recipients(users, "cco", "")
				add("escalated", map[string]string{"escalationLevel": "2", "to": "cco", "users": who},
					fmt.Sprintf("still overdue %s of business time after the %s deadline (CCO after %s)", over.Round(time.Minute), which, p.ccoAfter()))
				res.ToCCO++
			}
		}
		if len(hist) == 0 {
			continue
		}
		c.UpdatedAt = now
		err := s.cs.UpdateCases(ctx, []*Case{c}, hist)
		if errors.Is(err, store.ErrVersion) {
			// Someone changed the case meanwhile; the next run looks again.
			res.Conflicts++
			continue
		}
		if err != nil {
			return res, err
		}
		for j, a := range notices {
			s.notify(ctx, a, *c, hist[j])
			if a == "escalated" {
				s.emit(ctx, c, "Case Escalated", map[string]any{"escalationLevel": hist[j].After["escalationLevel"]})
			}
		}
	}
	return res, nil
}

// recipients names the enabled users of a role (in a department, if given).
func recipients(users []store.User, role, department string) string {
	var ids []string
	for _, u := range users {
		if u.Role == role && !u.Disabled && (department == "" || u.Department == department) {
			ids = append(ids, u.ID)
		}
	}
	sort.Strings(ids)
	if len(ids) == 0 {
		return "(nobody with role " + role + "; the case shows on the board)"
	}
	return strings.Join(ids, ",")
}
