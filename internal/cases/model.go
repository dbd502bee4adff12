// Package cases holds complaints, requests, praise and ideas as cases that
// are owned until they are finished: the status machine, routing rules, SLA
// policies counted in business hours (calendars with German public
// holidays), escalation to the department lead and the CCO, rules that open
// cases from incoming events, duplicate detection and the figures. Every
// change goes into the case's append-only history. The HTTP layers call
// this package; it never calls them.
package cases

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kunding/kunding/internal/store"
)

// Case is a case (see store.Case for the fields).
type Case = store.Case

// Change is one entry of a case's history.
type Change = store.CaseChange

// Types of case.
const (
	TypeComplaint = "complaint"
	TypeRequest   = "request"
	TypePraise    = "praise"
	TypeIdea      = "idea"
)

// Types lists the types of case.
var Types = []string{TypeComplaint, TypeRequest, TypePraise, TypeIdea}

// Priorities, lowest first.
const (
	PriorityLow    = "low"
	PriorityNormal = "normal"
	PriorityHigh   = "high"
	PriorityUrgent = "urgent"
)

// Priorities lists the priorities, lowest first.
var Priorities = []string{PriorityLow, PriorityNormal, PriorityHigh, PriorityUrgent}

// Statuses of a case.
const (
	StatusNew               = "new"
	StatusOpen              = "open"
	StatusWaitingCustomer   = "waiting_customer"
	StatusWaitingDepartment = "waiting_department"
	StatusSolved            = "solved"
	StatusRejected          = "rejected"
	StatusMerged            = "merged"
)

// Statuses lists every status.
var Statuses = []string{StatusNew, StatusOpen, StatusWaitingCustomer, StatusWaitingDepartment, StatusSolved, StatusRejected, StatusMerged}

// transitions says which status may follow which. Solved and rejected
// cases can be reopened; a merged case is final.
var transitions = map[string][]string{
	StatusNew:               {StatusOpen, StatusWaitingCustomer, StatusWaitingDepartment, StatusSolved, StatusRejected, StatusMerged},
	StatusOpen:              {StatusWaitingCustomer, StatusWaitingDepartment, StatusSolved, StatusRejected, StatusMerged},
	StatusWaitingCustomer:   {StatusOpen, StatusWaitingDepartment, StatusSolved, StatusRejected, StatusMerged},
	StatusWaitingDepartment: {StatusOpen, StatusWaitingCustomer, StatusSolved, StatusRejected, StatusMerged},
	StatusSolved:            {StatusOpen},
	StatusRejected:          {StatusOpen},
	StatusMerged:            nil,
}

// Allowed returns the statuses a case in status from may move to.
func Allowed(from string) []string { return slices.Clone(transitions[from]) }

// CanMove reports whether a case may move from one status to another.
func CanMove(from, to string) bool { return slices.Contains(transitions[from], to) }

// Finished reports whether a status ends a case (it is no longer owned
// against a deadline).
func Finished(status string) bool {
	return status == StatusSolved || status == StatusRejected || status == StatusMerged
}

// ErrInvalid marks input that is refused; the error's text says why. The
// HTTP layer answers 400.
var ErrInvalid = errors.New("invalid input")

type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

func invalidf(format string, args ...any) error { return &invalidError{fmt.Sprintf(format, args...)} }

// ErrTransition refuses a status change the status machine does not allow
// (HTTP 409: it depends on the case's current state).
var ErrTransition = errors.New("status change not allowed")

// Clock tells the time. Tests and the browser walk use a ManualClock to
// move time forward.
type Clock interface{ Now() time.Time }

// SystemClock is the real time.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }
