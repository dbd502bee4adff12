package web

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/campaign"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/web/i18n"
)

// The campaign pages: the calendar every user sees (what runs when, for
// whom, across departments), the form by which a department registers a
// campaign, and a campaign's page with its target group, the contact
// policy's report and the delivery's progress. The campaign service audits
// every change; the delivery itself runs in the background job.

var campaignServices sync.Map // *Handler -> *campaign.Service

func (h *Handler) campaigns() *campaign.Service {
	if h.cfg.Campaigns != nil {
		return h.cfg.Campaigns
	}
	v, _ := campaignServices.LoadOrStore(h, &campaign.Service{Store: h.cfg.Store, Log: h.log})
	return v.(*campaign.Service)
}

func (h *Handler) campaignRoutes(private func(string, auth.Permission, http.HandlerFunc)) {
	private("GET /campaigns", auth.PermCampaignsRead, h.campaignCalendar)
	private("GET /campaigns/new", auth.PermCampaignsWrite, h.newCampaignPage)
	private("POST /campaigns", auth.PermCampaignsWrite, h.createCampaign)
	private("GET /campaigns/{id}", auth.PermCampaignsRead, h.campaignPage)
	private("GET /campaigns/{id}/edit", auth.PermCampaignsWrite, h.editCampaignPage)
	private("POST /campaigns/{id}", auth.PermCampaignsWrite, h.updateCampaign)
	private("POST /campaigns/{id}/recipients", auth.PermCampaignsWrite, h.uploadCampaignList)
	private("POST /campaigns/{id}/preview", auth.PermCampaignsRead, h.previewCampaign)
	private("POST /campaigns/{id}/status", auth.PermCampaignsWrite, h.changeCampaignStatus)
}

// calRow is one campaign in the calendar with its bar: left and width in
// percent of the shown period.
type calRow struct {
	campaign.CalendarEntry
	StatusName, ChannelName, TypeName, When string
	Left, Width                             string
	AudienceText                            []string
}

type calTick struct {
	Left, Label string
}

type campaignCalendarData struct {
	page
	Month, Prev, Next, MonthName string
	Rows                         []calRow
	Ticks                        []calTick
	Today                        string // left of today's line, "" outside the month
	Departments, Channels        []option
	Department, Channel          string
	CanWrite                     bool
}

func pct(f float64) string { return strconv.FormatFloat(f*100, 'f', 2, 64) + "%" }

func (h *Handler) campaignCalendar(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d := campaignCalendarData{page: h.page(r, "cmp.calendar.title", "campaigns")}
	l := d.L
	loc := h.cfg.Location
	now := h.cfg.Now().In(loc)
	from := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc)
	if m, err := time.ParseInLocation("2006-01", r.URL.Query().Get("month"), loc); err == nil {
		from = m
	}
	to := from.AddDate(0, 1, 0)
	d.Month, d.MonthName = from.Format("2006-01"), l.T("month."+strconv.Itoa(int(from.Month())))+" "+strconv.Itoa(from.Year())
	d.Department, d.Channel = r.URL.Query().Get("department"), r.URL.Query().Get("channel")
	keep := url.Values{}
	if d.Department != "" {
		keep.Set("department", d.Department)
	}
	if d.Channel != "" {
		keep.Set("channel", d.Channel)
	}
	link := func(t time.Time) string {
		q := url.Values{}
		for k, v := range keep {
			q[k] = v
		}
		q.Set("month", t.Format("2006-01"))
		return "/campaigns?" + q.Encode()
	}
	d.Prev, d.Next = link(from.AddDate(0, -1, 0)), link(to)
	entries, err := h.campaigns().Calendar(ctx, from, to, d.Department, d.Channel)
	if err != nil && !errors.Is(err, campaign.ErrNoCampaigns) {
		h.fail(w, r, err)
		return
	}
	span := float64(to.Sub(from))
	for _, e := range entries {
		s, en := e.Start, e.End
		if s.Before(from) {
			s = from
		}
		if en.After(to) {
			en = to
		}
		d.Rows = append(d.Rows, calRow{CalendarEntry: e, StatusName: l.T("cmp.status." + e.Status), ChannelName: l.T("cmp.channel." + e.Channel),
			TypeName: l.T("cmp.type." + e.Type), When: l.Date(e.Start.In(loc)) + " – " + l.Date(e.End.Add(-time.Millisecond).In(loc)),
			Left: pct(float64(s.Sub(from)) / span), Width: pct(max(float64(en.Sub(s))/span, 0.01))})
		size := e.ListCustomers
		if e.Target.Kind == campaign.TargetList && size == 0 {
			size = -1
		}
		d.Rows[len(d.Rows)-1].AudienceText = audience(l, e.Target, size)
	}
	for day := from; day.Before(to); day = day.AddDate(0, 0, 1) {
		if day.Weekday() == time.Monday {
			d.Ticks = append(d.Ticks, calTick{Left: pct(float64(day.Sub(from)) / span), Label: strconv.Itoa(day.Day())})
		}
	}
	if !now.Before(from) && now.Before(to) {
		d.Today = pct(float64(now.Sub(from)) / span)
	}
	deps, err := h.cfg.Store.Departments(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Departments = []option{{Value: "", Name: l.T("cmp.allDepartments"), Selected: d.Department == ""}}
	for _, x := range deps {
		d.Departments = append(d.Departments, option{Value: x.Name, Name: x.Name, Selected: x.Name == d.Department})
	}
	d.Channels = append([]option{{Value: "", Name: l.T("cmp.allChannels"), Selected: d.Channel == ""}}, opts(l, "cmp.channel.", campaign.Channels, d.Channel)...)
	d.CanWrite = auth.Can(ctx, auth.PermCampaignsWrite)
	h.render(w, r, http.StatusOK, "campaigns", d)
}

// condRow is one row of the form's target conditions.
type condRow struct {
	N                  int
	Field, Op, Value   string
	FieldOpts, OpsOpts []option
}

type campaignFormData struct {
	page
	EditID                       string // the campaign being changed; "" for a new one
	Form                         map[string]string
	Conds                        []condRow
	Departments, Channels, Types []option
	Touchpoints                  []string
	Error                        string
}

var condFields = []string{"trait", "orders", "revenue", "lastOrder", "firstSeen", "lastSeen", "tier", "valueTier", "clv", "churnRisk", "nps", "email", "phone", "consent"}
var condOps = []string{"eq", "ne", "contains", "exists", "missing", "gte", "lte", "gt", "lt", "before", "after"}

func (h *Handler) newCampaignPage(w http.ResponseWriter, r *http.Request) {
	h.renderCampaignForm(w, r, http.StatusOK, campaignFormData{})
}

func (h *Handler) renderCampaignForm(w http.ResponseWriter, r *http.Request, code int, d campaignFormData) {
	ctx := r.Context()
	d.page = h.page(r, "cmp.new.title", "campaigns")
	if d.EditID != "" {
		d.Title = d.L.T("cmp.edit.heading")
	}
	l := d.L
	if d.Form == nil {
		today := h.cfg.Now().In(h.cfg.Location)
		d.Form = map[string]string{"start": today.Format("2006-01-02"), "end": today.AddDate(0, 0, 14).Format("2006-01-02"), "target": "filter",
			"channel": "email", "type": campaign.TypePromotional}
		if u, ok := auth.UserFrom(ctx); ok {
			d.Form["department"] = u.Department
		}
	}
	deps, err := h.cfg.Store.Departments(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, x := range deps {
		d.Departments = append(d.Departments, option{Value: x.Name, Name: x.Name, Selected: x.Name == d.Form["department"]})
	}
	d.Channels = opts(l, "cmp.channel.", campaign.Channels, d.Form["channel"])
	d.Types = opts(l, "cmp.type.", campaign.Types, d.Form["type"])
	if ts, ok := h.cfg.Store.(store.TouchpointStore); ok {
		if list, err := ts.Touchpoints(ctx); err == nil {
			for _, t := range list {
				d.Touchpoints = append(d.Touchpoints, t.Name)
			}
		}
	}
	for i := 0; i < 3; i++ {
		n := strconv.Itoa(i)
		c := condRow{N: i, Field: d.Form["field"+n], Op: d.Form["op"+n], Value: d.Form["value"+n]}
		c.FieldOpts = append([]option{{Value: "", Name: "–", Selected: c.Field == ""}}, opts(l, "cmp.field.", condFields, c.Field)...)
		c.OpsOpts = opts(l, "cmp.op.", condOps, c.Op)
		d.Conds = append(d.Conds, c)
	}
	h.render(w, r, code, "campaign_new", d)
}

// campaignInput reads the form; the target's conditions come from up to
// three rows (field, name for traits and purposes, operator, value).
func campaignInput(r *http.Request) (campaign.Input, map[string]string) {
	form := map[string]string{}
	for _, k := range []string{"name", "department", "channel", "touchpoint", "type", "subject", "message", "offer", "start", "end", "expected", "target"} {
		form[k] = r.PostFormValue(k)
	}
	in := campaign.Input{Name: ptr(form["name"]), Department: ptr(form["department"]), Channel: ptr(form["channel"]), Touchpoint: ptr(form["touchpoint"]),
		Type: ptr(form["type"]), Subject: ptr(form["subject"]), Message: ptr(form["message"]), Offer: ptr(form["offer"]),
		Start: ptr(form["start"]), End: ptr(form["end"])}
	if v := strings.TrimSpace(form["expected"]); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			n = -1 // refused by the service with its message
		}
		in.ExpectedVolume = &n
	}
	t := store.Target{Kind: form["target"]}
	if t.Kind != campaign.TargetList {
		t.Kind = campaign.TargetFilter
		for i := 0; i < 3; i++ {
			n := strconv.Itoa(i)
			f, op, v, arg := r.PostFormValue("field"+n), r.PostFormValue("op"+n), r.PostFormValue("value"+n), strings.TrimSpace(r.PostFormValue("arg"+n))
			form["field"+n], form["op"+n], form["value"+n], form["arg"+n] = f, op, v, arg
			if f == "" {
				continue
			}
			if f == "trait" || f == "consent" {
				f += ":" + arg
			}
			t.Conditions = append(t.Conditions, store.Condition{Field: f, Op: op, Value: v})
		}
	}
	in.Target = &t
	return in, form
}

func ptr[T any](v T) *T { return &v }

func (h *Handler) editCampaignPage(w http.ResponseWriter, r *http.Request) {
	c, err := h.campaigns().Get(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	loc := h.cfg.Location
	form := map[string]string{"name": c.Name, "department": c.Department, "channel": c.Channel, "touchpoint": c.Touchpoint, "type": c.Type,
		"subject": c.Subject, "message": c.Message, "offer": c.Offer, "start": c.Start.In(loc).Format("2006-01-02"),
		"end": c.End.Add(-time.Millisecond).In(loc).Format("2006-01-02"), "expected": strconv.FormatInt(c.ExpectedVolume, 10), "target": c.Target.Kind}
	if ts, ok := h.cfg.Store.(store.TouchpointStore); ok && c.Touchpoint != "" {
		if t, err := ts.TouchpointByID(r.Context(), c.Touchpoint); err == nil {
			form["touchpoint"] = t.Name
		}
	}
	for i, cond := range c.Target.Conditions {
		if i == 3 {
			break
		}
		n := strconv.Itoa(i)
		base, arg, _ := strings.Cut(cond.Field, ":")
		form["field"+n], form["arg"+n], form["op"+n], form["value"+n] = base, arg, cond.Op, cond.Value
	}
	h.renderCampaignForm(w, r, http.StatusOK, campaignFormData{Form: form, EditID: c.ID})
}

func (h *Handler) updateCampaign(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	in, form := campaignInput(r)
	if _, err := h.campaigns().Update(r.Context(), id, in); err != nil {
		if errors.Is(err, campaign.ErrInvalid) || errors.Is(err, campaign.ErrForbidden) || errors.Is(err, store.ErrConflict) {
			h.renderCampaignForm(w, r, http.StatusBadRequest, campaignFormData{Form: form, EditID: id, Error: err.Error()})
			return
		}
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/campaigns/"+id+"?msg=updated", http.StatusSeeOther)
}

func (h *Handler) createCampaign(w http.ResponseWriter, r *http.Request) {
	in, form := campaignInput(r)
	c, err := h.campaigns().Create(r.Context(), in)
	if err != nil {
		if errors.Is(err, campaign.ErrInvalid) || errors.Is(err, campaign.ErrForbidden) {
			h.renderCampaignForm(w, r, http.StatusBadRequest, campaignFormData{Form: form, Error: err.Error()})
			return
		}
		h.fail(w, r, err)
		return
	}
	// A list campaign goes on to its upload; a filter campaign to its page.
	http.Redirect(w, r, "/campaigns/"+c.ID+"?msg=created", http.StatusSeeOther)
}

type cmpReasonRow struct {
	Reason, Name string
	Count        string
	Samples      []string
}

type cmpReport struct {
	L                                     i18n.Lang
	ID                                    string
	Scanned, Matched, Delivered, HeldBack string
	Reasons                               []cmpReasonRow
}

func cmpReportOf(l i18n.Lang, id string, d store.CampaignDelivery) cmpReport {
	v := cmpReport{L: l, ID: id, Scanned: l.Number(float64(d.Scanned), 0), Matched: l.Number(float64(d.Matched), 0),
		Delivered: l.Number(float64(d.Delivered), 0), HeldBack: l.Number(float64(d.HeldBack), 0)}
	for _, r := range campaign.Reasons {
		if n := d.Reasons[r]; n > 0 {
			v.Reasons = append(v.Reasons, cmpReasonRow{Reason: r, Name: l.T("cmp.reason." + r), Count: l.Number(float64(n), 0), Samples: d.Samples[r]})
		}
	}
	return v
}

type campaignPageData struct {
	page
	C                                       store.Campaign
	StatusName, ChannelName, TypeName, When string
	Audience                                []string
	Touchpoint, TouchpointID                string
	Created, SentAt, DoneAt                 string
	Report                                  cmpReport
	Preview                                 *cmpReport
	ProgressMax, ProgressValue              int64
	Editable, CanSend, CanCancel, CanWrite  bool
	Sending                                 bool
	Message, Error                          string
}

func (h *Handler) campaignPage(w http.ResponseWriter, r *http.Request) {
	h.renderCampaign(w, r, http.StatusOK, campaignPageData{Message: r.URL.Query().Get("msg")})
}

func (h *Handler) renderCampaign(w http.ResponseWriter, r *http.Request, code int, d campaignPageData) {
	ctx := r.Context()
	c, err := h.campaigns().Get(ctx, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.page = h.page(r, "cmp.page.title", "campaigns")
	d.Title = c.Name + " · " + d.Title
	l := d.L
	loc := h.cfg.Location
	if d.Message != "" {
		d.Message = l.T("cmp.msg." + d.Message)
	}
	d.C = c
	d.StatusName, d.ChannelName, d.TypeName = l.T("cmp.status."+c.Status), l.T("cmp.channel."+c.Channel), l.T("cmp.type."+c.Type)
	d.When = l.DateTime(c.Start.In(loc)) + " – " + l.DateTime(c.End.In(loc))
	d.Created = l.DateTime(c.CreatedAt.In(loc))
	if !c.Delivery.SentAt.IsZero() {
		d.SentAt = l.DateTime(c.Delivery.SentAt.In(loc))
	}
	if !c.Delivery.DoneAt.IsZero() {
		d.DoneAt = l.DateTime(c.Delivery.DoneAt.In(loc))
	}
	d.Touchpoint = c.Touchpoint
	if ts, ok := h.cfg.Store.(store.TouchpointStore); ok && c.Touchpoint != "" {
		if t, err := ts.TouchpointByID(ctx, c.Touchpoint); err == nil {
			d.Touchpoint, d.TouchpointID = t.Name, t.ID
		}
	}
	var listSize int64 = -1
	if c.List != nil {
		listSize = c.List.Customers
	}
	d.Audience = audience(l, c.Target, listSize)
	d.Report = cmpReportOf(l, "delivery-report", c.Delivery)
	d.Sending = c.Status == campaign.StatusSending
	d.ProgressValue = c.Delivery.Scanned
	if c.Target.Kind == campaign.TargetList && c.List != nil {
		d.ProgressMax = c.List.Customers
	} else if st, err := h.cfg.Store.Stats(ctx); err == nil {
		d.ProgressMax = st.Customers
	}
	d.ProgressMax = max(d.ProgressMax, d.ProgressValue, 1)
	d.CanWrite = auth.Can(ctx, auth.PermCampaignsWrite)
	d.Editable = c.Status == campaign.StatusDraft || c.Status == campaign.StatusScheduled
	d.CanSend = d.CanWrite && d.Editable
	d.CanCancel = d.CanWrite && (d.Editable || d.Sending)
	h.render(w, r, code, "campaign", d)
}

// audience says a target group in words, one line per condition;
// listSize is the size of an uploaded list (-1: none uploaded).
func audience(l i18n.Lang, t store.Target, listSize int64) []string {
	switch {
	case t.Kind == campaign.TargetList && listSize < 0:
		return []string{l.T("cmp.audience.noList")}
	case t.Kind == campaign.TargetList:
		return []string{l.T("cmp.audience.list", l.Number(float64(listSize), 0))}
	case len(t.Conditions) == 0:
		return []string{l.T("cmp.audience.all")}
	}
	var out []string
	for _, cond := range t.Conditions {
		base, arg, _ := strings.Cut(cond.Field, ":")
		f := l.T("cmp.field." + base)
		if arg != "" {
			f += " " + arg
		}
		out = append(out, strings.TrimSpace(f+" "+l.T("cmp.op."+cond.Op)+" "+cond.Value))
	}
	return out
}

func (h *Handler) campaignError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, campaign.ErrInvalid) || errors.Is(err, campaign.ErrForbidden) || errors.Is(err, store.ErrConflict) {
		code := http.StatusBadRequest
		if errors.Is(err, campaign.ErrForbidden) {
			code = http.StatusForbidden
		} else if errors.Is(err, store.ErrConflict) {
			code = http.StatusConflict
		}
		h.renderCampaign(w, r, code, campaignPageData{Error: err.Error()})
		return
	}
	h.fail(w, r, err)
}

func (h *Handler) uploadCampaignList(w http.ResponseWriter, r *http.Request) {
	// A file (multipart) or pasted identifiers (the text area).
	var text string
	if err := r.ParseMultipartForm(campaign.MaxListBytes); err == nil {
		if f, _, err := r.FormFile("file"); err == nil {
			defer f.Close()
			b, err := io.ReadAll(io.LimitReader(f, campaign.MaxListBytes+1))
			if err != nil {
				h.fail(w, r, err)
				return
			}
			text = string(b)
		}
	}
	if strings.TrimSpace(text) == "" {
		text = r.FormValue("ids")
	}
	if _, err := h.campaigns().Upload(r.Context(), r.PathValue("id"), strings.NewReader(text)); err != nil {
		h.campaignError(w, r, err)
		return
	}
	http.Redirect(w, r, "/campaigns/"+r.PathValue("id")+"?msg=uploaded#list", http.StatusSeeOther)
}

func (h *Handler) previewCampaign(w http.ResponseWriter, r *http.Request) {
	rep, err := h.campaigns().Preview(r.Context(), r.PathValue("id"))
	if err != nil {
		h.campaignError(w, r, err)
		return
	}
	v := cmpReportOf(i18n.FromRequest(r), "preview-report", rep)
	h.renderCampaign(w, r, http.StatusOK, campaignPageData{Preview: &v})
}

func (h *Handler) changeCampaignStatus(w http.ResponseWriter, r *http.Request) {
	s, id := h.campaigns(), r.PathValue("id")
	var err error
	action := r.PostFormValue("action")
	switch action {
	case "send":
		_, err = s.Send(r.Context(), id)
	case "schedule":
		_, err = s.Schedule(r.Context(), id)
	case "cancel":
		_, err = s.Cancel(r.Context(), id)
	default:
		h.errorPage(w, r, http.StatusBadRequest, "cmp.badAction")
		return
	}
	if err != nil {
		h.campaignError(w, r, err)
		return
	}
	http.Redirect(w, r, "/campaigns/"+id+"?msg="+action, http.StatusSeeOther)
}

// campaignKeys are the message keys the campaign pages build at run time.
func campaignKeys() []string {
	var out []string
	for _, s := range campaign.Statuses {
		out = append(out, "cmp.status."+s)
	}
	for _, c := range campaign.Channels {
		out = append(out, "cmp.channel."+c)
	}
	for _, t := range campaign.Types {
		out = append(out, "cmp.type."+t)
	}
	for _, r := range campaign.Reasons {
		out = append(out, "cmp.reason."+r)
	}
	for _, f := range condFields {
		out = append(out, "cmp.field."+f)
	}
	for _, o := range condOps {
		out = append(out, "cmp.op."+o)
	}
	for _, m := range []string{"created", "updated", "uploaded", "send", "schedule", "cancel"} {
		out = append(out, "cmp.msg."+m)
	}
	for m := 1; m <= 12; m++ {
		out = append(out, "month."+strconv.Itoa(m))
	}
	return slices.Clip(out)
}
