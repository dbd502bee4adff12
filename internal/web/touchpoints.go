package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/satisfaction"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/touchpoint"
	"github.com/kunding/kunding/internal/web/i18n"
)

// The touchpoint pages (issue 8): the catalogue with the proposals, one
// touchpoint with its figures, and the matrix with the journey view.

func (h *Handler) touchpointRoutes(private func(string, auth.Permission, http.HandlerFunc)) {
	private("GET /touchpoints", auth.PermTouchpointsRead, h.touchpointList)
	private("POST /touchpoints", auth.PermTouchpointsAdmin, h.createTouchpoint)
	private("GET /touchpoints/matrix", auth.PermTouchpointsRead, h.touchpointMatrix)
	private("POST /touchpoints/rebuild", auth.PermTouchpointsAdmin, h.rebuildTouchpoints)
	private("POST /touchpoints/proposals", auth.PermTouchpointsAdmin, h.decideProposal)
	private("GET /touchpoints/{id}", auth.PermTouchpointsRead, h.touchpointPage)
	private("POST /touchpoints/{id}", auth.PermTouchpointsAdmin, h.updateTouchpoint)
	private("POST /touchpoints/{id}/delete", auth.PermTouchpointsAdmin, h.deleteTouchpoint)
}

func (h *Handler) tps() *touchpoint.Service { return &touchpoint.Service{Store: h.cfg.Store} }

type tpOption struct {
	Value, Name string
	Selected    bool
}

func tpOptions(l i18n.Lang, prefix string, values []string, cur string) []tpOption {
	out := make([]tpOption, len(values))
	for i, v := range values {
		out[i] = tpOption{Value: v, Name: l.T(prefix + v), Selected: v == cur}
	}
	return out
}

// tpForm is the create/edit form, with what the user entered.
type tpForm struct {
	ID, Name, Description, Department, Cost, Currency, Priority, Rules, ImportanceSurvey, Version string
	Channels, Stages, Media, Statuses, Bases                                                      []tpOption
}

func tpNewTPForm(l i18n.Lang, t store.Touchpoint) tpForm {
	rules, _ := json.MarshalIndent(t.Rules, "", "  ")
	if len(t.Rules) == 0 {
		rules = []byte("[]")
	}
	f := tpForm{ID: t.ID, Name: t.Name, Description: t.Description, Department: t.Department, Currency: t.Currency,
		Priority: strconv.Itoa(t.Priority), Rules: string(rules), ImportanceSurvey: t.ImportanceSurvey, Version: strconv.FormatInt(t.Version, 10)}
	if t.CostMicros > 0 {
		f.Cost = strconv.FormatFloat(float64(t.CostMicros)/1e6, 'f', -1, 64)
	}
	f.options(l, t.Channel, t.Stage, t.Media, t.Status, t.CostBasis)
	return f
}

func (f *tpForm) options(l i18n.Lang, channel, stage, media, status, basis string) {
	f.Channels = tpOptions(l, "tp.channel.", touchpoint.Channels, channel)
	f.Stages = tpOptions(l, "tp.stage.", touchpoint.Stages, stage)
	f.Media = tpOptions(l, "tp.media.", touchpoint.Media, media)
	f.Statuses = tpOptions(l, "tp.status.", touchpoint.Statuses, status)
	f.Bases = tpOptions(l, "tp.basis.", touchpoint.Bases, basis)
}

// tpFormInput reads the form into an Input (and keeps it for a re-render).
func tpFormInput(l i18n.Lang, r *http.Request) (touchpoint.Input, tpForm, error) {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	f := tpForm{ID: r.PathValue("id"), Name: v("name"), Description: v("description"), Department: v("department"), Cost: v("cost"),
		Currency: v("currency"), Priority: v("priority"), Rules: v("rules"), ImportanceSurvey: v("importanceSurvey"), Version: v("version")}
	f.options(l, v("channel"), v("stage"), v("media"), v("status"), v("costBasis"))
	in := touchpoint.Input{Name: ptrTo(f.Name), Description: ptrTo(f.Description), Department: ptrTo(f.Department),
		Currency: ptrTo(f.Currency), ImportanceSurvey: ptrTo(f.ImportanceSurvey)}
	for _, p := range []struct {
		k   string
		dst **string
	}{{"channel", &in.Channel}, {"stage", &in.Stage}, {"media", &in.Media}, {"status", &in.Status}, {"costBasis", &in.CostBasis}} {
		if s := v(p.k); s != "" {
			*p.dst = ptrTo(s)
		}
	}
	if f.Cost != "" {
		c, err := strconv.ParseFloat(strings.Replace(f.Cost, ",", ".", 1), 64)
		if err != nil {
			return in, f, fmt.Errorf("cost %q: a number", f.Cost)
		}
		in.Cost = &c
	} else {
		zero := 0.0
		in.Cost = &zero
	}
	if f.Priority != "" {
		p, err := strconv.Atoi(f.Priority)
		if err != nil {
			return in, f, fmt.Errorf("priority %q: a whole number", f.Priority)
		}
		in.Priority = &p
	}
	if f.Rules != "" {
		var rules []store.TouchpointRule
		dec := json.NewDecoder(strings.NewReader(f.Rules))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rules); err != nil {
			return in, f, fmt.Errorf("rules: %v", err)
		}
		in.Rules = &rules
	}
	if f.Version != "" {
		in.Version, _ = strconv.ParseInt(f.Version, 10, 64)
	}
	return in, f, nil
}

type tpRow struct {
	store.Touchpoint
	ChannelName, StageName, MediaName, StatusName string
	RuleText                                      []string
}

type tpProposalRow struct {
	touchpoint.Proposal
	KindName, RuleText, FirstSeen, LastSeen string
}

type touchpointsData struct {
	page
	CanAdmin   bool
	Rows       []tpRow
	Proposals  []tpProposalRow
	Form       tpForm
	Error      string
	Progress   touchpoint.Progress
	ProgressPc string
}

func tpRuleText(l i18n.Lang, r store.TouchpointRule) string {
	var parts []string
	add := func(key, v string) {
		if v != "" {
			parts = append(parts, l.T("tp.rule."+key)+" "+v)
		}
	}
	add("source", r.Source)
	add("type", r.Type)
	add("event", r.Event)
	add("pathPrefix", r.PathPrefix)
	add("pathPattern", r.PathPattern)
	add("campaign", r.Campaign)
	if r.Property != "" {
		add("property", r.Property+" = "+r.Equals)
	}
	return strings.Join(parts, " · ")
}

func (h *Handler) touchpointList(w http.ResponseWriter, r *http.Request) {
	l := i18n.FromRequest(r)
	h.renderTouchpoints(w, r, http.StatusOK, tpNewTPForm(l, store.Touchpoint{}), "")
}

func (h *Handler) renderTouchpoints(w http.ResponseWriter, r *http.Request, code int, form tpForm, errMsg string) {
	p := h.page(r, "tp.title", "touchpoints")
	l := p.L
	d := touchpointsData{page: p, CanAdmin: auth.Can(r.Context(), auth.PermTouchpointsAdmin), Form: form, Error: errMsg}
	svc := h.tps()
	list, err := svc.List(r.Context())
	if errors.Is(err, touchpoint.ErrNoTouchpoints) {
		h.errorPage(w, r, http.StatusNotFound, "error.notFound")
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	srcName := map[string]string{}
	if srcs, err := h.cfg.Store.Sources(r.Context()); err == nil {
		for _, s := range srcs {
			srcName[s.ID] = s.Name
		}
	}
	for _, t := range list {
		row := tpRow{Touchpoint: t, ChannelName: l.T("tp.channel." + t.Channel), StageName: l.T("tp.stage." + t.Stage),
			MediaName: l.T("tp.media." + t.Media), StatusName: l.T("tp.status." + t.Status)}
		for _, ru := range t.Rules {
			if n, ok := srcName[ru.Source]; ok {
				ru.Source = n
			}
			row.RuleText = append(row.RuleText, tpRuleText(l, ru))
		}
		d.Rows = append(d.Rows, row)
	}
	ps, err := svc.Proposals(r.Context(), 50)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, pr := range ps {
		ru := pr.Rule
		if n, ok := srcName[ru.Source]; ok {
			ru.Source = n
		}
		d.Proposals = append(d.Proposals, tpProposalRow{Proposal: pr, KindName: l.T("tp.group." + pr.Kind), RuleText: tpRuleText(l, ru),
			FirstSeen: l.Date(pr.FirstSeen.In(h.cfg.Location)), LastSeen: l.Date(pr.LastSeen.In(h.cfg.Location))})
	}
	if d.Progress, err = svc.Progress(r.Context()); err != nil {
		h.fail(w, r, err)
		return
	}
	d.ProgressPc = l.Number(d.Progress.Percent, 0)
	h.render(w, r, code, "touchpoints", d)
}

func (h *Handler) createTouchpoint(w http.ResponseWriter, r *http.Request) {
	l := i18n.FromRequest(r)
	in, form, err := tpFormInput(l, r)
	if err != nil {
		h.renderTouchpoints(w, r, http.StatusUnprocessableEntity, form, l.T("tp.invalid", err.Error()))
		return
	}
	u, _ := auth.UserFrom(r.Context())
	t, err := h.tps().Create(r.Context(), in, "user:"+u.ID)
	if errors.Is(err, touchpoint.ErrInvalid) || errors.Is(err, store.ErrConflict) {
		h.renderTouchpoints(w, r, http.StatusUnprocessableEntity, form, l.T("tp.invalid", err.Error()))
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := audit.Record(r.Context(), h.cfg.Store, audit.Entry{Action: touchpoint.AuditCreate, Target: t.ID, Detail: t.Name}); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/touchpoints/"+url.PathEscape(t.ID), http.StatusSeeOther)
}

// decideProposal accepts, merges or ignores a proposal (action).
func (h *Handler) decideProposal(w http.ResponseWriter, r *http.Request) {
	l := i18n.FromRequest(r)
	key := r.PostFormValue("key")
	u, _ := auth.UserFrom(r.Context())
	svc := h.tps()
	var err error
	var action, target string
	next := "/touchpoints"
	switch r.PostFormValue("action") {
	case "accept":
		var t store.Touchpoint
		in := touchpoint.Input{}
		if n := strings.TrimSpace(r.PostFormValue("name")); n != "" {
			in.Name = &n
		}
		t, err = svc.Accept(r.Context(), key, in, "user:"+u.ID)
		action, target, next = touchpoint.AuditAccept, t.ID, "/touchpoints/"+url.PathEscape(t.ID)
	case "merge":
		var t store.Touchpoint
		t, err = svc.Merge(r.Context(), key, r.PostFormValue("touchpoint"))
		action, target = touchpoint.AuditMerge, t.ID
	case "ignore":
		err = svc.Ignore(r.Context(), key, "user:"+u.ID)
		action, target = touchpoint.AuditIgnore, "proposal"
	default:
		err = fmt.Errorf("action: accept, merge or ignore: %w", touchpoint.ErrInvalid)
	}
	if errors.Is(err, touchpoint.ErrInvalid) || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		h.renderTouchpoints(w, r, http.StatusUnprocessableEntity, tpNewTPForm(l, store.Touchpoint{}), l.T("tp.invalid", err.Error()))
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := audit.Record(r.Context(), h.cfg.Store, audit.Entry{Action: action, Target: target, Detail: key}); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *Handler) rebuildTouchpoints(w http.ResponseWriter, r *http.Request) {
	g, err := h.tps().Rebuild(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := audit.Record(r.Context(), h.cfg.Store, audit.Entry{Action: touchpoint.AuditRebuild, Target: "touchpoints", Detail: fmt.Sprintf("generation %d", g)}); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/touchpoints", http.StatusSeeOther)
}

type tpFigRow struct{ Key, Value string }

type touchpointData struct {
	page
	T        tpRow
	CanAdmin bool
	Form     tpForm
	Error    string
	Q        tpPeriodForm
	Figures  []tpFigRow
	Events   []tpEventRow
	// The period form's choices.
	Segments, Importance []tpOption
}

type tpEventRow struct{ Seq, Type, Name, When string }

// tpPeriodForm is the period, segment and comparison of the figure pages.
type tpPeriodForm struct {
	From, To, Segment, Importance, CompareFrom, CompareTo string
	Error                                                 string
}

func tpParsePeriod(r *http.Request, now time.Time) (tpPeriodForm, touchpoint.Query, time.Time, time.Time) {
	q := r.URL.Query()
	pf := tpPeriodForm{From: q.Get("from"), To: q.Get("to"), Segment: q.Get("segment"), Importance: q.Get("importance"),
		CompareFrom: q.Get("compareFrom"), CompareTo: q.Get("compareTo")}
	today := now.UTC().Truncate(24 * time.Hour)
	day := func(s string, def time.Time) time.Time {
		if t, err := time.Parse("2006-01-02", strings.TrimSpace(s)); err == nil {
			return t
		}
		if s != "" {
			pf.Error = s
		}
		return def
	}
	to := day(pf.To, today)
	from := day(pf.From, to.AddDate(0, 0, -89))
	if !from.Before(to.AddDate(0, 0, 1)) {
		from = to.AddDate(0, 0, -89)
	}
	pf.From, pf.To = from.Format("2006-01-02"), to.Format("2006-01-02")
	if pf.Segment == "" {
		pf.Segment = "all"
	}
	var cf, ct time.Time
	if pf.CompareFrom != "" && pf.CompareTo != "" {
		cf, ct = day(pf.CompareFrom, time.Time{}), day(pf.CompareTo, time.Time{})
		if !cf.IsZero() && !ct.IsZero() {
			ct = ct.AddDate(0, 0, 1)
		}
	}
	return pf, touchpoint.Query{From: from, To: to.AddDate(0, 0, 1), Segment: strings.ToLower(pf.Segment)}, cf, ct
}

func tpFmtNum(l i18n.Lang, n satisfaction.Num, dec int) string {
	if !n.Defined() {
		return "–"
	}
	return l.Number(float64(n), dec)
}

func (h *Handler) touchpointPage(w http.ResponseWriter, r *http.Request) {
	t, err := h.tps().Get(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	l := i18n.FromRequest(r)
	h.renderTouchpoint(w, r, http.StatusOK, t, tpNewTPForm(l, t), "")
}

func (h *Handler) renderTouchpoint(w http.ResponseWriter, r *http.Request, code int, t store.Touchpoint, form tpForm, errMsg string) {
	p := h.page(r, "tp.title", "touchpoints")
	l := p.L
	p.Title = t.Name
	d := touchpointData{page: p, CanAdmin: auth.Can(r.Context(), auth.PermTouchpointsAdmin), Form: form, Error: errMsg,
		T: tpRow{Touchpoint: t, ChannelName: l.T("tp.channel." + t.Channel), StageName: l.T("tp.stage." + t.Stage),
			MediaName: l.T("tp.media." + t.Media), StatusName: l.T("tp.status." + t.Status)}}
	for _, ru := range t.Rules {
		d.T.RuleText = append(d.T.RuleText, tpRuleText(l, ru))
	}
	var q touchpoint.Query
	d.Q, q, _, _ = tpParsePeriod(r, h.cfg.Now())
	d.Segments = h.segmentOptions(l, d.Q.Segment)
	d.Importance = tpOptions(l, "tp.importance.", []string{"derived", "stated"}, d.Q.Importance)
	figs, err := h.tps().AllFigures(r.Context(), q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, f := range figs {
		if f.ID != t.ID {
			continue
		}
		add := func(key, v string) { d.Figures = append(d.Figures, tpFigRow{Key: l.T("tp.fig." + key), Value: v}) }
		add("reach", l.Number(float64(f.Reach), 0))
		add("contacts", l.Number(float64(f.Contacts), 0))
		add("performance", tpFmtNum(l, f.Performance, 1)+" ("+l.T("tp.basis."+f.PerformanceBasis)+")")
		add("nps", tpFmtNum(l, f.NPS, 0)+" (n = "+strconv.FormatInt(f.NPSN, 10)+")")
		add("csat", tpFmtNum(l, f.CSAT, 1)+" % (n = "+strconv.FormatInt(f.CSATN, 10)+")")
		add("ces", tpFmtNum(l, f.CES, 2)+" (n = "+strconv.FormatInt(f.CESN, 10)+")")
		add("sentiment", tpFmtNum(l, f.Sentiment, 2)+" (n = "+strconv.FormatInt(f.SentimentN, 10)+", "+tpFmtNum(l, f.NegativeShare, 0)+" % "+l.T("tp.fig.negative")+")")
		add("complaints", l.Number(float64(f.Complaints), 0)+" ("+tpFmtNum(l, f.ComplaintRate, 1)+" ‰)")
		add("conversion", tpFmtNum(l, f.Conversion, 1)+" % ("+l.T("tp.fig.within", f.ConversionDays)+")")
		add("stated", tpFmtNum(l, f.StatedImportance, 1)+" (n = "+strconv.FormatInt(f.StatedN, 10)+")")
		kd := f.KeyDriver
		sig := l.T("tp.fig.notSignificant")
		if kd.Significant {
			sig = l.T("tp.fig.significant")
		}
		add("keyDriver", "r = "+tpFmtNum(l, kd.R, 2)+", p = "+tpFmtNum(l, kd.P, 4)+", n = "+strconv.Itoa(kd.N)+" — "+sig)
		add("costPerContact", tpFmtNum(l, f.CostPerContact, 2)+" "+f.Currency)
		add("cost", tpFmtNum(l, f.Cost, 2)+" "+f.Currency)
	}
	if ts, ok := h.cfg.Store.(store.TouchpointStore); ok {
		seqs, _ := ts.TouchpointEvents(r.Context(), t.ID, 10)
		for _, s := range seqs {
			if e, err := h.cfg.Store.EventBySeq(r.Context(), s); err == nil {
				d.Events = append(d.Events, tpEventRow{Seq: strconv.FormatInt(e.Seq, 10), Type: e.Type, Name: e.Name, When: l.DateTime(e.Timestamp.In(h.cfg.Location))})
			}
		}
	}
	h.render(w, r, code, "touchpoint", d)
}

func (h *Handler) updateTouchpoint(w http.ResponseWriter, r *http.Request) {
	l := i18n.FromRequest(r)
	t, err := h.tps().Get(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	in, form, err := tpFormInput(l, r)
	if err == nil {
		var nt store.Touchpoint
		nt, err = h.tps().Update(r.Context(), t.ID, in)
		if err == nil {
			if err := audit.Record(r.Context(), h.cfg.Store, audit.Entry{Action: touchpoint.AuditUpdate, Target: t.ID, Detail: nt.Name + " status " + nt.Status}); err != nil {
				h.fail(w, r, err)
				return
			}
			http.Redirect(w, r, "/touchpoints/"+url.PathEscape(t.ID), http.StatusSeeOther)
			return
		}
	}
	if errors.Is(err, touchpoint.ErrInvalid) || errors.Is(err, store.ErrConflict) || !errors.Is(err, store.ErrUnavailable) {
		h.renderTouchpoint(w, r, http.StatusUnprocessableEntity, t, form, l.T("tp.invalid", err.Error()))
		return
	}
	h.fail(w, r, err)
}

func (h *Handler) deleteTouchpoint(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := h.tps().Delete(r.Context(), id); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := audit.Record(r.Context(), h.cfg.Store, audit.Entry{Action: touchpoint.AuditDelete, Target: id}); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/touchpoints", http.StatusSeeOther)
}

// ---- The matrix ----

type tpMatrixRow struct {
	touchpoint.Point
	QuadrantName, Advice, Importance, Performance, Change string
}

type tpJourneyRow struct {
	Stage string
	Cells []tpJourneyCell
}

type tpJourneyCell struct {
	Has                                  bool
	Names, Reach, Performance, Sentiment string
	Mood                                 string // good, mixed, bad, none
}

type tpMatrixData struct {
	page
	Q          tpPeriodForm
	Error      string
	Rows       []tpMatrixRow
	Unplaced   []touchpoint.Unplaced
	Chart      string
	Channels   []string
	Journey    []tpJourneyRow
	Segments   []tpOption
	ImpMean    string
	PerfMean   string
	Comparing  bool
	Importance []tpOption
}

// tpMatrixChart is what assets/touchpoints.js draws.
type tpMatrixChart struct {
	Locale   string         `json:"locale"`
	XLabel   string         `json:"xLabel"`
	YLabel   string         `json:"yLabel"`
	XMean    float64        `json:"xMean"`
	YMean    float64        `json:"yMean"`
	Quadrant []string       `json:"quadrants"` // names: concentrate, keep up, low priority, overkill
	Previous string         `json:"previousLabel"`
	Points   []tpChartPoint `json:"points"`
}

type tpChartPoint struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	X        float64   `json:"x"` // performance
	Y        float64   `json:"y"` // importance
	Quadrant string    `json:"quadrant"`
	Advice   string    `json:"advice"`
	Prev     []float64 `json:"prev,omitempty"`
}

func (h *Handler) touchpointMatrix(w http.ResponseWriter, r *http.Request) {
	p := h.page(r, "tp.matrix.title", "touchpoints")
	l := p.L
	d := tpMatrixData{page: p}
	var q touchpoint.Query
	var cf, ct time.Time
	d.Q, q, cf, ct = tpParsePeriod(r, h.cfg.Now())
	if d.Q.Error != "" {
		d.Error = l.T("tp.badDate", d.Q.Error)
	}
	d.Segments = h.segmentOptions(l, d.Q.Segment)
	d.Importance = tpOptions(l, "tp.importance.", []string{"derived", "stated"}, d.Q.Importance)
	m, err := h.tps().Matrix(r.Context(), touchpoint.MatrixQuery{Query: q, Importance: d.Q.Importance, CompareFrom: cf, CompareTo: ct})
	if errors.Is(err, touchpoint.ErrInvalid) {
		d.Error = l.T("tp.invalid", err.Error())
		m, err = h.tps().Matrix(r.Context(), touchpoint.MatrixQuery{Query: q})
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Comparing = m.CompareFrom != nil
	d.ImpMean, d.PerfMean = l.Number(m.ImportanceMean, 2), l.Number(m.PerformanceMean, 1)
	ch := tpMatrixChart{Locale: string(l), XLabel: l.T("tp.matrix.performance"), YLabel: l.T("tp.matrix.importance." + m.Importance),
		XMean: m.PerformanceMean, YMean: m.ImportanceMean, Previous: l.T("tp.matrix.previous"),
		Quadrant: []string{l.T("tp.q.concentrate"), l.T("tp.q.keep_up"), l.T("tp.q.low_priority"), l.T("tp.q.overkill")}}
	for _, pt := range m.Points {
		row := tpMatrixRow{Point: pt, QuadrantName: l.T("tp.q." + pt.Quadrant), Advice: l.T("tp.advice." + pt.Quadrant),
			Importance: l.Number(pt.Importance, 2), Performance: l.Number(pt.Performance, 1)}
		if pt.RetireCandidate {
			row.Advice = l.T("tp.advice.retire")
		}
		cp := tpChartPoint{ID: pt.ID, Name: pt.Name, X: pt.Performance, Y: pt.Importance, Quadrant: row.QuadrantName, Advice: row.Advice}
		if pt.Previous != nil {
			cp.Prev = []float64{pt.Previous.Performance, pt.Previous.Importance}
			row.Change = l.T("tp.q."+pt.Previous.Quadrant) + " → " + row.QuadrantName
		}
		d.Rows = append(d.Rows, row)
		ch.Points = append(ch.Points, cp)
	}
	for _, u := range m.Unplaced {
		u.Reason = l.T("tp.unplaced." + u.Reason)
		d.Unplaced = append(d.Unplaced, u)
	}
	b, _ := json.Marshal(ch)
	d.Chart = string(b)
	j, err := h.tps().Journey(r.Context(), q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, c := range j.Channels {
		d.Channels = append(d.Channels, l.T("tp.channel."+c))
	}
	cells := map[[2]string]touchpoint.Cell{}
	for _, c := range j.Cells {
		cells[[2]string{c.Stage, c.Channel}] = c
	}
	for _, st := range j.Stages {
		row := tpJourneyRow{Stage: l.T("tp.stage." + st)}
		for _, chn := range j.Channels {
			c, ok := cells[[2]string{st, chn}]
			jc := tpJourneyCell{Has: ok, Mood: "none"}
			if ok {
				jc.Names = strings.Join(c.Touchpoints, ", ")
				jc.Reach = l.Number(float64(c.Reach), 0)
				jc.Performance = tpFmtNum(l, c.Performance, 0)
				jc.Sentiment = tpFmtNum(l, c.Sentiment, 2)
				switch v := float64(c.Performance); {
				case !c.Performance.Defined():
				case v >= 70:
					jc.Mood = "good"
				case v >= 50:
					jc.Mood = "mixed"
				default:
					jc.Mood = "bad"
				}
			}
			row.Cells = append(row.Cells, jc)
		}
		d.Journey = append(d.Journey, row)
	}
	h.render(w, r, http.StatusOK, "touchpoint_matrix", d)
}

// segmentOptions offers all, the value tiers and the segment traits.
func (h *Handler) segmentOptions(l i18n.Lang, cur string) []tpOption {
	out := []tpOption{{Value: "all", Name: l.T("tp.segment.all")}}
	for _, t := range []string{"high", "mid", "low", "none"} {
		out = append(out, tpOption{Value: "tier:" + t, Name: l.T("tp.segment.tier." + t)})
	}
	found := false
	for i := range out {
		if out[i].Value == cur {
			out[i].Selected, found = true, true
		}
	}
	if !found && cur != "" {
		out = append(out, tpOption{Value: cur, Name: cur, Selected: true})
	}
	return out
}
