package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/cases"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/web/i18n"
)

// The pages of cases (issue 7): the boards per department, the CCO's
// overview of escalations, the case page with its history and actions,
// the figures, and the cases on the customer page. Every change goes
// through cases.Service, which keeps the case's history (the audit trail
// of cases).

// caseServices holds services made on demand for a Handler without one.
var caseServices sync.Map // *Handler -> *cases.Service

func (h *Handler) cases() (*cases.Service, error) {
	if h.cfg.Cases != nil {
		return h.cfg.Cases, nil
	}
	if s, ok := caseServices.Load(h); ok {
		return s.(*cases.Service), nil
	}
	s, err := cases.New(h.cfg.Store, nil)
	if err != nil {
		return nil, err
	}
	v, _ := caseServices.LoadOrStore(h, s)
	return v.(*cases.Service), nil
}

func (h *Handler) caseRoutes(private func(string, auth.Permission, http.HandlerFunc)) {
	private("GET /cases", auth.PermCasesRead, h.caseBoard)
	private("POST /cases/bulk", auth.PermCasesWrite, h.caseBulk)
	private("GET /cases/overview", auth.PermCasesRead, h.caseOverview)
	private("GET /cases/figures", auth.PermCasesRead, h.caseFigures)
	private("GET /cases/{id}", auth.PermCasesRead, h.casePage)
	private("POST /cases/{id}/assign", auth.PermCasesWrite, h.caseAssign)
	private("POST /cases/{id}/transition", auth.PermCasesWrite, h.caseTransition)
	private("POST /cases/{id}/note", auth.PermCasesWrite, h.caseNote)
	private("POST /cases/{id}/update", auth.PermCasesWrite, h.caseUpdate)
	private("POST /customers/{id}/cases", auth.PermCasesWrite, h.createCustomerCase)
	h.webhookRoutes(private)
}

// canLead: leads, the CCO and admins act on many cases at once.
func canLead(ctx context.Context) bool {
	u, ok := auth.UserFrom(ctx)
	return ok && (u.Role == auth.RoleLead || u.Role == auth.RoleCCO || u.Role == auth.RoleAdmin)
}

// caseEnv is what every case page needs once per request: the time of the
// case clock, the SLA calendars, the users by id and the departments.
type caseEnv struct {
	svc   *cases.Service
	now   time.Time
	sla   *cases.SLAConfig
	users map[string]store.User
	list  []store.User
	depts []string
}

func (h *Handler) caseEnv(ctx context.Context) (*caseEnv, error) {
	svc, err := h.cases()
	if err != nil {
		return nil, err
	}
	e := &caseEnv{svc: svc, now: svc.Clock.Now(), users: map[string]store.User{}}
	v, _, err := svc.Config(ctx, cases.ConfigSLA)
	if err != nil {
		return nil, err
	}
	e.sla, _ = v.(*cases.SLAConfig)
	if e.list, err = h.cfg.Store.Users(ctx); err != nil {
		return nil, err
	}
	for _, u := range e.list {
		e.users[u.ID] = u
	}
	ds, err := h.cfg.Store.Departments(ctx)
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		e.depts = append(e.depts, d.Name)
	}
	rv, _, err := svc.Config(ctx, cases.ConfigRouting)
	if err != nil {
		return nil, err
	}
	if rc, ok := rv.(*cases.RoutingConfig); ok {
		e.addDept(rc.DefaultDepartment)
		for _, ru := range rc.Rules {
			e.addDept(ru.Then.Department)
		}
	}
	return e, nil
}

func (e *caseEnv) addDept(d string) {
	if d != "" && !slices.Contains(e.depts, d) {
		e.depts = append(e.depts, d)
		sort.Strings(e.depts)
	}
}

func (e *caseEnv) userName(id string) string {
	if id == "" {
		return ""
	}
	if u, ok := e.users[id]; ok {
		if u.Name != "" {
			return u.Name
		}
		return u.Email
	}
	return id
}

// duration formats business time in hours and minutes ("41 h 05 min"):
// a business day has fewer than 24 hours, so days would mislead.
func duration(l i18n.Lang, d time.Duration) string {
	if d < 0 {
		d = -d
	}
	m := int(d.Round(time.Minute).Minutes())
	return l.T("cases.dur", m/60, m%60)
}

// age formats calendar time: "3 d 4 h" from a day on.
func age(l i18n.Lang, d time.Duration) string {
	m := int(d.Round(time.Minute).Minutes())
	if m >= 24*60 {
		return l.T("cases.durDays", m/(24*60), (m%(24*60))/60)
	}
	return l.T("cases.dur", m/60, m%60)
}

// deadline is a deadline with the business time left (or past).
type deadline struct {
	Label, Due, Left string
	Overdue, Paused  bool
	Warn             bool
}

func (e *caseEnv) deadline(l i18n.Lang, c *cases.Case, label string, due time.Time) deadline {
	d := deadline{Label: label, Due: l.DateTime(due)}
	if cases.Finished(c.Status) {
		return d
	}
	cal := e.sla.CalendarOf(c.Calendar)
	switch {
	case c.Status == cases.StatusWaitingCustomer && label == l.T("cases.resolutionDue"):
		d.Paused, d.Left = true, l.T("cases.paused")
	case e.now.Before(due):
		left := cal.Between(e.now, due)
		d.Left = l.T("cases.left", duration(l, left))
		d.Warn = left <= 2*time.Hour
	default:
		d.Overdue, d.Left = true, l.T("cases.overdueBy", duration(l, cal.Between(due, e.now)))
	}
	return d
}

// caseRow is a case in a list.
type caseRow struct {
	ID, Subject, Who, WhoURL, Type, Priority, Status, StatusKey, Department, Owner string
	Age, Left                                                                      string
	Overdue, Warn, Waiting                                                         bool
	Level                                                                          int
	Created                                                                        string
}

func (e *caseEnv) row(l i18n.Lang, c *cases.Case) caseRow {
	r := caseRow{ID: c.ID, Subject: c.Subject, Type: l.T("cases.type." + c.Type), Priority: c.Priority,
		Status: l.T("cases.status." + c.Status), StatusKey: c.Status, Department: c.Department, Owner: e.userName(c.Owner),
		Level: c.EscalationLevel, Created: l.DateTime(c.CreatedAt)}
	if c.CustomerID != "" {
		r.Who, r.WhoURL = c.CustomerID, "/customers/"+url.PathEscape(c.CustomerID)
	} else {
		r.Who = c.Contact
	}
	r.Age = age(l, e.now.Sub(c.CreatedAt))
	if !cases.Finished(c.Status) {
		due := c.ResolutionDue
		if c.FirstResponseAt.IsZero() && c.FirstResponseDue.Before(due) {
			due = c.FirstResponseDue
		}
		dl := e.deadline(l, c, "", due)
		r.Left, r.Overdue, r.Warn = dl.Left, dl.Overdue, dl.Warn
		if c.Status == cases.StatusWaitingCustomer {
			r.Waiting, r.Left = true, l.T("cases.paused")
		}
	}
	return r
}

// ---- board ----

type tab struct {
	Key, Label, URL string
	Count           int
	Current         bool
}

type boardData struct {
	page
	Dept, View                        string
	Tabs                              []tab
	Rows                              []caseRow
	Total                             int
	Capped                            bool
	Depts                             []option
	Statuses, Types, Priorities, Ages []option
	Owners                            []option
	CanBulk                           bool
	BulkStatuses                      []option
	Message, Error                    string
	Filtered                          bool
}

const boardLimit = 500

func opts(l i18n.Lang, prefix string, values []string, selected string) []option {
	var out []option
	for _, v := range values {
		name := v
		if prefix != "" {
			name = l.T(prefix + v)
		}
		out = append(out, option{Value: v, Name: name, Selected: v == selected})
	}
	return out
}

func (h *Handler) caseBoard(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	env, err := h.caseEnv(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := h.page(r, "cases.board", "cases")
	l := p.L
	q := r.URL.Query()
	u, _ := auth.UserFrom(ctx)
	d := boardData{page: p, View: q.Get("view"), CanBulk: canLead(ctx) && auth.Can(ctx, auth.PermCasesWrite),
		Message: q.Get("msg"), Error: q.Get("err")}
	// The board of the user's own department, unless another is asked for
	// ("" : every department).
	if q.Has("dept") {
		d.Dept = q.Get("dept")
	} else if u.Department != "" && slices.Contains(env.depts, u.Department) {
		d.Dept = u.Department
	}
	if d.Message != "" {
		d.Message = l.T("cases.msg."+d.Message, q.Get("n"))
	}
	if d.Error != "" {
		d.Error = l.T("cases.err."+d.Error) + " " + q.Get("detail")
	}
	switch d.View {
	case "new", "mine", "overdue", "escalated", "open", "all":
	default:
		d.View = "open"
	}
	p.Title = l.T("cases.board")
	if d.Dept != "" {
		p.Title = l.T("cases.boardOf", d.Dept)
	}
	d.page = p
	status, typ, prio, owner, age := q.Get("status"), q.Get("type"), q.Get("priority"), q.Get("owner"), q.Get("age")
	d.Filtered = status != "" || typ != "" || prio != "" || owner != "" || age != ""
	f := store.CaseFilter{Department: d.Dept, Open: d.View != "all", Type: typ, Priority: prio}
	if status != "" && slices.Contains(cases.Statuses, status) {
		f.Statuses, f.Open = []string{status}, false
	}
	if typ != "" && !slices.Contains(cases.Types, typ) {
		f.Type = ""
	}
	if prio != "" && !slices.Contains(cases.Priorities, prio) {
		f.Priority = ""
	}
	switch d.View {
	case "new":
		f.Statuses, f.Open = []string{cases.StatusNew}, false
	case "mine":
		f.Owner = u.ID
	case "escalated":
		f.Escalated = true
	}
	if owner != "" && owner != "none" && d.View != "mine" {
		f.Owner = owner
	}
	f.Limit = boardLimit + 1
	list, err := env.svc.List(ctx, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if len(list) > boardLimit {
		list, d.Capped = list[:boardLimit], true
	}
	for i := range list {
		c := &list[i]
		if d.View == "overdue" && !cases.Overdue(c, env.now) {
			continue
		}
		if owner == "none" && c.Owner != "" {
			continue
		}
		if age != "" && cases.AgeBucket(env.now.Sub(c.CreatedAt)) != age {
			continue
		}
		d.Rows = append(d.Rows, env.row(l, c))
	}
	d.Total = len(d.Rows)
	if d.View == "escalated" {
		sort.SliceStable(d.Rows, func(i, j int) bool { return d.Rows[i].Level > d.Rows[j].Level })
	}
	// The tabs with their counts.
	ov, err := env.svc.Overview(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var sum cases.Overview
	for _, o := range ov {
		env.addDept(o.Department)
		if d.Dept == "" || o.Department == d.Dept {
			sum.Open += o.Open
			sum.New += o.New
			sum.Overdue += o.Overdue
			sum.Escalated += o.Escalated
		}
	}
	mine, err := env.svc.Count(ctx, store.CaseFilter{Department: d.Dept, Open: true, Owner: u.ID})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, t := range []struct {
		key   string
		count int
	}{{"open", sum.Open}, {"new", sum.New}, {"mine", mine}, {"overdue", sum.Overdue}, {"escalated", sum.Escalated}, {"all", -1}} {
		v := url.Values{"dept": {d.Dept}, "view": {t.key}}
		d.Tabs = append(d.Tabs, tab{Key: t.key, Label: l.T("cases.view." + t.key), URL: "/cases?" + v.Encode(), Count: t.count, Current: t.key == d.View})
	}
	d.Depts = append([]option{{Value: "", Name: l.T("cases.allDepts"), Selected: d.Dept == ""}}, opts(l, "", env.depts, d.Dept)...)
	d.Statuses = opts(l, "cases.status.", cases.Statuses, status)
	d.Types = opts(l, "cases.type.", cases.Types, typ)
	d.Priorities = opts(l, "cases.prio.", cases.Priorities, prio)
	d.Ages = opts(l, "cases.age.", cases.AgeBuckets, age)
	d.Owners = append([]option{{Value: "none", Name: l.T("cases.unassigned"), Selected: owner == "none"}}, h.userOptions(env, owner)...)
	d.BulkStatuses = opts(l, "cases.status.", []string{cases.StatusOpen, cases.StatusWaitingCustomer, cases.StatusWaitingDepartment,
		cases.StatusSolved, cases.StatusRejected}, "")
	if r.Header.Get("HX-Request") != "" && r.Header.Get("HX-Target") == "board" {
		// The bulk form returns to the filtered board (htmx pushed its URL).
		d.Here = r.URL.RequestURI()
		h.renderPart(w, r, "cases", "board", d)
		return
	}
	h.render(w, r, http.StatusOK, "cases", d)
}

func (h *Handler) userOptions(env *caseEnv, selected string) []option {
	var out []option
	for _, u := range env.list {
		if u.Disabled {
			continue
		}
		name := env.userName(u.ID)
		if u.Department != "" {
			name += " (" + u.Department + ")"
		}
		out = append(out, option{Value: u.ID, Name: name, Selected: u.ID == selected})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// errKey names the message of a refused change.
func errKey(err error) (string, string) {
	switch {
	case errors.Is(err, store.ErrVersion):
		return "version", ""
	case errors.Is(err, cases.ErrTransition):
		return "transition", err.Error()
	case errors.Is(err, cases.ErrInvalid):
		return "invalid", err.Error()
	}
	return "", ""
}

// caseBulk applies one action to the chosen cases (leads): reassign,
// change the priority or move the status. Each case is changed on its
// own, with its own history entry; a case changed meanwhile is skipped
// and counted.
func (h *Handler) caseBulk(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	back := auth.SafeNext(r.FormValue("back"))
	if !strings.HasPrefix(back, "/cases") {
		back = "/cases"
	}
	redirect := func(kv ...string) {
		u, _ := url.Parse(back)
		q := u.Query()
		q.Del("msg")
		q.Del("err")
		q.Del("n")
		q.Del("detail")
		for i := 0; i+1 < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.String(), http.StatusSeeOther)
	}
	if !canLead(ctx) {
		h.errorPage(w, r, http.StatusForbidden, "error.forbidden")
		return
	}
	svc, err := h.cases()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ids := r.Form["ids"]
	if len(ids) == 0 || len(ids) > boardLimit {
		redirect("err", "noneChosen")
		return
	}
	action := r.FormValue("action")
	reason := strings.TrimSpace(r.FormValue("reason"))
	done, skipped := 0, 0
	var firstErr error
	for _, id := range ids {
		c, err := svc.Get(ctx, id)
		if err != nil {
			skipped++
			continue
		}
		switch action {
		case "assign":
			_, err = svc.Assign(ctx, id, c.Version, r.FormValue("department"), r.FormValue("owner"), reason)
		case "priority":
			pr := r.FormValue("priority")
			_, err = svc.Update(ctx, id, c.Version, cases.Patch{Priority: &pr}, reason)
		case "transition":
			_, err = svc.Transition(ctx, id, cases.Move{Version: c.Version, Status: r.FormValue("status"), Note: reason,
				Resolution: r.FormValue("resolution"), Reason: reason})
		default:
			redirect("err", "action")
			return
		}
		if err != nil {
			if k, _ := errKey(err); k == "" {
				h.fail(w, r, err)
				return
			}
			if firstErr == nil {
				firstErr = err
			}
			skipped++
			continue
		}
		done++
	}
	if firstErr != nil {
		k, detail := errKey(firstErr)
		redirect("msg", "bulkDone", "n", fmt.Sprintf("%d/%d", done, len(ids)), "err", k, "detail", detail)
		return
	}
	redirect("msg", "bulkDone", "n", fmt.Sprintf("%d/%d", done, len(ids)))
}

// ---- overview ----

type overviewRow struct {
	Department, URL                                                 string
	Open, New, Unassigned, Overdue, Escalated, EscalatedTo, Waiting int
}

type overviewData struct {
	page
	Depts     []overviewRow
	Total     overviewRow
	Escalated []caseRow
}

func (h *Handler) caseOverview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	env, err := h.caseEnv(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := h.page(r, "cases.overview", "cases")
	d := overviewData{page: p}
	ov, err := env.svc.Overview(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, o := range ov {
		v := url.Values{"dept": {o.Department}, "view": {"escalated"}}
		row := overviewRow{Department: o.Department, URL: "/cases?" + v.Encode(), Open: o.Open, New: o.New, Unassigned: o.Unassigned,
			Overdue: o.Overdue, Escalated: o.Escalated, EscalatedTo: o.EscalatedTo, Waiting: o.Waiting}
		d.Depts = append(d.Depts, row)
		t := &d.Total
		t.Open, t.New, t.Unassigned, t.Overdue = t.Open+o.Open, t.New+o.New, t.Unassigned+o.Unassigned, t.Overdue+o.Overdue
		t.Escalated, t.EscalatedTo, t.Waiting = t.Escalated+o.Escalated, t.EscalatedTo+o.EscalatedTo, t.Waiting+o.Waiting
	}
	esc, err := env.svc.List(ctx, store.CaseFilter{Open: true, Escalated: true, Limit: boardLimit})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// The CCO's cases first, the longest escalated first.
	sort.SliceStable(esc, func(i, j int) bool {
		if esc[i].EscalationLevel != esc[j].EscalationLevel {
			return esc[i].EscalationLevel > esc[j].EscalationLevel
		}
		return esc[i].EscalatedAt.Before(esc[j].EscalatedAt)
	})
	for i := range esc {
		d.Escalated = append(d.Escalated, env.row(p.L, &esc[i]))
	}
	h.render(w, r, http.StatusOK, "case_overview", d)
}

// ---- the case page ----

type histRow struct {
	At, Actor, Action, Reason, Note string
	Changes                         []histChange
	Public, System                  bool
}

type histChange struct{ Field, Before, After string }

type casePageData struct {
	page
	C                        cases.Case
	Row                      caseRow
	CustomerName             string
	Deadlines                []deadline
	Level                    string
	History                  []histRow
	Allowed                  []option
	Depts, Owners, Prios     []option
	Types                    []option
	CanWrite                 bool
	Message, Error           string
	Suggestions              []store.MergeSuggestion
	Attachments              []store.Attachment
	Finished                 bool
	FirstResponse, Solved    string
	Resolution, RejectReason string
}

var histFieldOrder = []string{"status", "department", "owner", "priority", "type", "subject", "customerId", "contact", "channel",
	"touchpoint", "theme", "resolution", "mergedInto", "escalationLevel", "to", "users", "policy", "firstResponseDue", "resolutionDue",
	"firstResponseAt"}

func (h *Handler) casePage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	env, err := h.caseEnv(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	c, err := env.svc.Get(ctx, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := h.page(r, "cases.case", "cases")
	l := p.L
	p.Title = c.Subject
	q := r.URL.Query()
	d := casePageData{page: p, C: c, Row: env.row(l, &c), CanWrite: auth.Can(ctx, auth.PermCasesWrite), Finished: cases.Finished(c.Status),
		Attachments: c.Attachments, Resolution: c.Resolution, RejectReason: c.RejectReason}
	if m := q.Get("msg"); m != "" {
		d.Message = l.T("cases.msg." + m)
	}
	if e := q.Get("err"); e != "" {
		d.Error = l.T("cases.err."+e) + " " + q.Get("detail")
	}
	if c.CustomerID != "" {
		if prof, err := h.cfg.Store.Customer(ctx, c.CustomerID); err == nil {
			d.CustomerName = prof.Name
			if d.CustomerName == "" {
				d.CustomerName = prof.Email
			}
		}
	}
	if c.FirstResponseAt.IsZero() {
		d.Deadlines = append(d.Deadlines, env.deadline(l, &c, l.T("cases.firstResponseDue"), c.FirstResponseDue))
	} else {
		d.FirstResponse = l.DateTime(c.FirstResponseAt)
	}
	d.Deadlines = append(d.Deadlines, env.deadline(l, &c, l.T("cases.resolutionDue"), c.ResolutionDue))
	if !c.SolvedAt.IsZero() {
		d.Solved = l.DateTime(c.SolvedAt)
	}
	d.Level = l.T(fmt.Sprintf("cases.level.%d", c.EscalationLevel))
	hist, err := env.svc.History(ctx, c.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// Newest first: what happened last matters most.
	for i := len(hist) - 1; i >= 0; i-- {
		d.History = append(d.History, h.histRow(l, env, &hist[i]))
	}
	for _, s := range cases.Allowed(c.Status) {
		d.Allowed = append(d.Allowed, option{Value: s, Name: l.T("cases.status." + s)})
	}
	d.Depts = opts(l, "", env.depts, c.Department)
	if !slices.Contains(env.depts, c.Department) {
		d.Depts = append(d.Depts, option{Value: c.Department, Name: c.Department, Selected: true})
	}
	d.Owners = append([]option{{Value: "", Name: l.T("cases.queue"), Selected: c.Owner == ""}}, h.userOptions(env, c.Owner)...)
	d.Prios = opts(l, "cases.prio.", cases.Priorities, c.Priority)
	d.Types = opts(l, "cases.type.", cases.Types, c.Type)
	if d.Suggestions, err = env.svc.Suggestions(ctx, c.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "case", d)
}

func (h *Handler) histRow(l i18n.Lang, env *caseEnv, ch *cases.Change) histRow {
	hr := histRow{At: l.DateTime(ch.At), Actor: env.userName(ch.Actor), Reason: ch.Reason, Note: ch.Note, Public: ch.Public,
		System: ch.Actor == "system"}
	if hr.System {
		hr.Actor = l.T("cases.system")
	}
	key := "cases.action." + ch.Action
	if i18n.Has(string(l), key) {
		hr.Action = l.T(key)
	} else {
		hr.Action = ch.Action
	}
	fields := map[string]bool{}
	for k := range ch.Before {
		fields[k] = true
	}
	for k := range ch.After {
		fields[k] = true
	}
	var names []string
	for k := range fields {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := slices.Index(histFieldOrder, names[i]), slices.Index(histFieldOrder, names[j])
		if a < 0 {
			a = len(histFieldOrder)
		}
		if b < 0 {
			b = len(histFieldOrder)
		}
		return a < b || a == b && names[i] < names[j]
	})
	for _, k := range names {
		b, a := ch.Before[k], ch.After[k]
		if b == a && (b == "" || ch.Before != nil && ch.After != nil) {
			continue // unchanged (e.g. the department of a new owner in the same department)
		}
		hr.Changes = append(hr.Changes, histChange{Field: fieldName(l, k), Before: h.histValue(l, env, k, b), After: h.histValue(l, env, k, a)})
	}
	return hr
}

func fieldName(l i18n.Lang, k string) string {
	if i18n.Has(string(l), "cases.field."+k) {
		return l.T("cases.field." + k)
	}
	return k
}

func (h *Handler) histValue(l i18n.Lang, env *caseEnv, k, v string) string {
	if v == "" {
		return ""
	}
	switch k {
	case "owner":
		return env.userName(v)
	case "users":
		if strings.HasPrefix(v, "(") {
			return v // "(nobody with role ...)"
		}
		var names []string
		for _, id := range strings.Split(v, ",") {
			names = append(names, env.userName(id))
		}
		return strings.Join(names, ", ")
	case "status":
		return l.T("cases.status." + v)
	case "type":
		return l.T("cases.type." + v)
	case "priority":
		return l.T("cases.prio." + v)
	case "escalationLevel":
		return l.T("cases.level." + v)
	case "firstResponseDue", "resolutionDue", "firstResponseAt", "due":
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return l.DateTime(t)
		}
	}
	return v
}

// caseBack sends the browser back to the case page with a message, or an
// error key and its detail.
func caseBack(w http.ResponseWriter, r *http.Request, id string, kv ...string) {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	u := "/cases/" + url.PathEscape(id)
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
}

// caseChanged answers a change: back to the case page, with the refusal
// if there was one.
func (h *Handler) caseChanged(w http.ResponseWriter, r *http.Request, id, msg string, err error) {
	if err != nil {
		k, detail := errKey(err)
		if k == "" {
			h.fail(w, r, err)
			return
		}
		caseBack(w, r, id, "err", k, "detail", detail)
		return
	}
	caseBack(w, r, id, "msg", msg)
}

func formVersion(r *http.Request) int64 {
	v, err := strconv.ParseInt(r.FormValue("version"), 10, 64)
	if err != nil {
		return -1
	}
	return v
}

func (h *Handler) caseAssign(w http.ResponseWriter, r *http.Request) {
	svc, err := h.cases()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	_, err = svc.Assign(r.Context(), id, formVersion(r), r.FormValue("department"), r.FormValue("owner"), r.FormValue("reason"))
	h.caseChanged(w, r, id, "assigned", err)
}

func (h *Handler) caseTransition(w http.ResponseWriter, r *http.Request) {
	svc, err := h.cases()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	m := cases.Move{Version: formVersion(r), Status: r.FormValue("status"), Note: r.FormValue("note"),
		Resolution: r.FormValue("resolution"), Reason: r.FormValue("reason"), MergeInto: strings.TrimSpace(r.FormValue("merge_into"))}
	_, err = svc.Transition(r.Context(), id, m)
	h.caseChanged(w, r, id, "moved", err)
}

func (h *Handler) caseNote(w http.ResponseWriter, r *http.Request) {
	svc, err := h.cases()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	_, err = svc.AddNote(r.Context(), id, r.FormValue("note"), r.FormValue("public") == "1")
	h.caseChanged(w, r, id, "noted", err)
}

// caseUpdate changes the priority or type, or links the case to a
// customer.
func (h *Handler) caseUpdate(w http.ResponseWriter, r *http.Request) {
	svc, err := h.cases()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	var p cases.Patch
	for _, f := range []struct {
		name string
		dst  **string
	}{{"priority", &p.Priority}, {"type", &p.Type}, {"customer_id", &p.CustomerID}} {
		if r.Form.Has(f.name) {
			v := strings.TrimSpace(r.FormValue(f.name))
			*f.dst = &v
		}
	}
	_, err = svc.Update(r.Context(), id, formVersion(r), p, r.FormValue("reason"))
	h.caseChanged(w, r, id, "updated", err)
}

// ---- the customer page ----

// customerCases is the cases section of the customer page.
type customerCases struct {
	Open     []caseRow
	CanWrite bool
	Types    []option
	Prios    []option
	Channels []option
	Error    string
}

var caseChannels = []string{"phone", "email", "chat", "store", "letter", "social", "web", "other"}

// customerCasesView lists the customer's open cases and prepares the form
// that creates one.
func (h *Handler) customerCasesView(r *http.Request, l i18n.Lang, customerID string) (*customerCases, error) {
	ctx := r.Context()
	if !auth.Can(ctx, auth.PermCasesRead) {
		return nil, nil
	}
	env, err := h.caseEnv(ctx)
	if err != nil {
		return nil, err
	}
	open, err := env.svc.CustomerCases(ctx, customerID, true)
	if err != nil {
		return nil, err
	}
	cc := &customerCases{CanWrite: auth.Can(ctx, auth.PermCasesWrite), Types: opts(l, "cases.type.", cases.Types, cases.TypeComplaint),
		Prios: opts(l, "cases.prio.", cases.Priorities, ""), Channels: opts(l, "cases.channel.", caseChannels, "phone")}
	for i := range open {
		cc.Open = append(cc.Open, env.row(l, &open[i]))
	}
	if e := r.URL.Query().Get("case_err"); e != "" {
		cc.Error = l.T("cases.err."+e) + " " + r.URL.Query().Get("detail")
	}
	return cc, nil
}

// createCustomerCase opens a case for the customer (an agent on the
// phone); routing fills department, owner and priority unless given.
func (h *Handler) createCustomerCase(w http.ResponseWriter, r *http.Request) {
	svc, err := h.cases()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	cust := r.PathValue("id")
	n := cases.NewCase{CustomerID: cust, Type: r.FormValue("type"), Channel: r.FormValue("channel"), Priority: r.FormValue("priority"),
		Touchpoint: r.FormValue("touchpoint"), Subject: r.FormValue("subject"), Description: r.FormValue("description"), Origin: "web"}
	c, err := svc.Create(r.Context(), n)
	if err != nil {
		k, detail := errKey(err)
		if k == "" {
			h.fail(w, r, err)
			return
		}
		q := url.Values{"case_err": {k}, "detail": {detail}}
		http.Redirect(w, r, "/customers/"+url.PathEscape(cust)+"?"+q.Encode()+"#cases", http.StatusSeeOther)
		return
	}
	caseBack(w, r, c.ID, "msg", "created")
}

// ---- figures ----

type figuresData struct {
	page
	From, To, Dept, Interval string
	Depts, Intervals         []option
	Error                    string
	Total                    []figure
	Rows                     []figRow
	Backlog                  []backlogRow
	Ages                     []string
	SeriesChart, BacklogJSON string
	Series                   []figRow
	SeriesTable, DeptTable   figTable
	Customers                string
}

type figTable struct {
	L    i18n.Lang
	ID   string
	Rows []figRow
}

type figRow struct {
	Name, Cases, Open, FirstResponse, Resolution, WithinTarget, FCR, Reopen, Per1000, Escalated string
}

type backlogRow struct {
	Department string
	Open       int
	Overdue    int
	ByAge      []int
}

func casePct(l i18n.Lang, v float64) string { return l.Number(v*100, 1) + " %" }

func (h *Handler) figRow(l i18n.Lang, name string, f cases.Figure) figRow {
	return figRow{Name: name, Cases: strconv.Itoa(f.Cases), Open: strconv.Itoa(f.Open),
		FirstResponse: l.Number(f.FirstResponseHoursMed, 1), Resolution: l.Number(f.ResolutionHoursMed, 1),
		WithinTarget: casePct(l, f.WithinTargetShare), FCR: casePct(l, f.FirstContactShare), Reopen: casePct(l, f.ReopenRate),
		Per1000: l.Number(f.CasesPer1000Customers, 1), Escalated: strconv.Itoa(f.Escalated)}
}

// seriesChart is what assets/cases.js draws: the figures per period.
type seriesChart struct {
	Kind   string      `json:"kind"`
	Labels []string    `json:"labels"`
	Sets   []chartSet  `json:"sets"`
	Axes   chartLabels `json:"axes"`
}

type chartSet struct {
	Label string    `json:"label"`
	Data  []float64 `json:"data"`
	Axis  string    `json:"axis"` // "count", "share", "hours"
	Type  string    `json:"type"` // "bar" or "line"
}

type chartLabels struct {
	Count string `json:"count"`
	Share string `json:"share"`
	Hours string `json:"hours"`
}

func (h *Handler) caseFigures(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	env, err := h.caseEnv(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := h.page(r, "cases.figures", "cases")
	l := p.L
	q := r.URL.Query()
	d := figuresData{page: p, From: q.Get("from"), To: q.Get("to"), Dept: q.Get("dept"), Interval: q.Get("interval")}
	if d.Interval == "" {
		d.Interval = "week"
	}
	loc := h.cfg.Location
	fq := cases.FigureQuery{Department: d.Dept, Interval: d.Interval}
	code := http.StatusOK
	parse := func(s string) (time.Time, bool) {
		if s == "" {
			return time.Time{}, true
		}
		t, err := time.ParseInLocation("2006-01-02", s, loc)
		return t, err == nil
	}
	var ok1, ok2 bool
	fq.From, ok1 = parse(d.From)
	fq.To, ok2 = parse(d.To)
	if !fq.To.IsZero() {
		fq.To = fq.To.AddDate(0, 0, 1) // the "to" day counts
	}
	if fq.To.IsZero() {
		fq.To = env.now
	}
	if fq.From.IsZero() {
		fq.From = fq.To.AddDate(0, -3, 0)
	}
	d.Intervals = opts(l, "cases.interval.", []string{"day", "week", "month"}, d.Interval)
	d.Depts = append([]option{{Value: "", Name: l.T("cases.allDepts"), Selected: d.Dept == ""}}, opts(l, "", env.depts, d.Dept)...)
	d.Ages = cases.AgeBuckets
	var fig cases.Figures
	if !ok1 || !ok2 {
		d.Error, code = l.T("cases.err.dates"), http.StatusUnprocessableEntity
	} else if fig, err = env.svc.Figures(ctx, fq); err != nil {
		k, detail := errKey(err)
		if k == "" {
			h.fail(w, r, err)
			return
		}
		d.Error, code = l.T("cases.err."+k)+" "+detail, http.StatusUnprocessableEntity
	}
	if d.Error == "" {
		if d.From == "" {
			d.From = fq.From.In(loc).Format("2006-01-02")
		}
		if d.To == "" {
			d.To = fq.To.In(loc).Format("2006-01-02")
		}
		d.Customers = l.Number(float64(fig.Customers), 0)
		t := fig.Total
		d.Total = []figure{
			{Label: l.T("cases.fig.cases"), Value: strconv.Itoa(t.Cases)},
			{Label: l.T("cases.fig.firstResponse"), Value: l.Number(t.FirstResponseHoursMed, 1) + " h", Hint: l.T("cases.fig.avg", l.Number(t.FirstResponseHoursAvg, 1))},
			{Label: l.T("cases.fig.resolution"), Value: l.Number(t.ResolutionHoursMed, 1) + " h", Hint: l.T("cases.fig.avg", l.Number(t.ResolutionHoursAvg, 1))},
			{Label: l.T("cases.fig.withinTarget"), Value: casePct(l, t.WithinTargetShare), Hint: l.T("cases.fig.ofSolved", t.SolvedWithinTarget, t.Solved)},
			{Label: l.T("cases.fig.fcr"), Value: casePct(l, t.FirstContactShare), Hint: l.T("cases.fig.ofSolved", t.FirstContactResolved, t.Solved)},
			{Label: l.T("cases.fig.reopen"), Value: casePct(l, t.ReopenRate)},
			{Label: l.T("cases.fig.per1000"), Value: l.Number(t.CasesPer1000Customers, 1), Hint: l.T("cases.fig.customers", d.Customers)},
		}
		for _, df := range fig.Departments {
			d.Rows = append(d.Rows, h.figRow(l, df.Department, df.Figure))
		}
		sc := seriesChart{Kind: "series", Axes: chartLabels{Count: l.T("cases.fig.cases"), Share: l.T("cases.fig.share"), Hours: l.T("cases.fig.hours")}}
		sets := []chartSet{{Label: l.T("cases.fig.cases"), Axis: "count", Type: "bar"}, {Label: l.T("cases.fig.withinTarget"), Axis: "share", Type: "line"},
			{Label: l.T("cases.fig.fcr"), Axis: "share", Type: "line"}, {Label: l.T("cases.fig.reopen"), Axis: "share", Type: "line"},
			{Label: l.T("cases.fig.firstResponse"), Axis: "hours", Type: "line"}, {Label: l.T("cases.fig.resolution"), Axis: "hours", Type: "line"}}
		// Periods start at midnight of the default calendar's zone.
		ploc := env.sla.CalendarOf("default").Location()
		for _, s := range fig.Series {
			label := l.Date(s.Start.In(ploc))
			if d.Interval == "month" {
				label = l.Month(s.Start.In(ploc))
			}
			sc.Labels = append(sc.Labels, label)
			f := s.Figure
			for i, v := range []float64{float64(f.Cases), f.WithinTargetShare * 100, f.FirstContactShare * 100, f.ReopenRate * 100,
				f.FirstResponseHoursMed, f.ResolutionHoursMed} {
				sets[i].Data = append(sets[i].Data, v)
			}
			d.Series = append(d.Series, h.figRow(l, label, f))
		}
		sc.Sets = sets
		if len(sc.Labels) > 0 {
			b, _ := json.Marshal(sc)
			d.SeriesChart = string(b)
		}
		bc := seriesChart{Kind: "backlog", Labels: nil, Axes: chartLabels{Count: l.T("cases.fig.openCases")}}
		for _, a := range cases.AgeBuckets {
			bc.Sets = append(bc.Sets, chartSet{Label: l.T("cases.age." + a), Axis: "count", Type: "bar"})
		}
		for _, b := range fig.Backlog {
			row := backlogRow{Department: b.Department, Open: b.Open, Overdue: b.Overdue}
			bc.Labels = append(bc.Labels, b.Department)
			for i, a := range cases.AgeBuckets {
				row.ByAge = append(row.ByAge, b.ByAge[a])
				bc.Sets[i].Data = append(bc.Sets[i].Data, float64(b.ByAge[a]))
			}
			d.Backlog = append(d.Backlog, row)
		}
		d.SeriesTable = figTable{L: l, ID: "series-table", Rows: d.Series}
		d.DeptTable = figTable{L: l, ID: "dept-table", Rows: d.Rows}
		if len(bc.Labels) > 0 {
			b, _ := json.Marshal(bc)
			d.BacklogJSON = string(b)
		}
	}
	h.render(w, r, code, "case_figures", d)
}
