package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/satisfaction"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/survey"
	"github.com/kunding/kunding/internal/web/i18n"
)

// surveyRoutes adds the hosted survey pages (public: the token is the
// credential) and the management pages (private).
func (h *Handler) surveyRoutes(mux *http.ServeMux, private func(string, auth.Permission, http.HandlerFunc)) {
	h.surveys = h.cfg.Surveys
	if h.surveys == nil {
		h.surveys = &survey.Service{Store: h.cfg.Store}
	}
	mux.HandleFunc("GET /s/{token}", h.hostedSurvey)
	// The form works without JavaScript and without a login; CheckCSRF
	// refuses cross-origin posts of browsers (and checks the token of a
	// session if the respondent happens to be logged in).
	mux.Handle("POST /s/{token}", h.cfg.Auth.CheckCSRF(http.HandlerFunc(h.answerSurvey)))
	private("GET /surveys", auth.PermSurveysRead, h.surveyList)
	private("POST /surveys", auth.PermSurveysWrite, h.createSurvey)
	private("GET /surveys/{id}", auth.PermSurveysRead, h.surveyPage)
	private("POST /surveys/{id}/status", auth.PermSurveysWrite, h.surveyStatus)
	private("POST /surveys/{id}/links", auth.PermSurveysSend, h.surveyLink)
}

// ---- The hosted page ----

type hostedData struct {
	L          i18n.Lang
	Title      string
	Here       string
	Langs      []langLink
	CSRF       string
	Action     string
	Survey     store.Survey
	Question   string
	CommentQ   string
	Scale      []scaleOption
	LowLabel   string
	HighLabel  string
	Free       bool
	Comment    string
	Error      string
	ErrorField string // score or comment
	State      string // form, thanks, answered, error
	Message    string
	MaxComment int
}

type scaleOption struct {
	Value   int
	Label   string // shown under the number (CSAT, CES)
	Checked bool
}

// hostedLang is the language of the hosted page: ?lang=, then the
// language cookie or Accept-Language.
func hostedLang(r *http.Request) i18n.Lang {
	if v := r.URL.Query().Get("lang"); i18n.Supported(v) {
		return i18n.Lang(v)
	}
	if v := r.PostFormValue("lang"); i18n.Supported(v) {
		return i18n.Lang(v)
	}
	return i18n.FromRequest(r)
}

func (h *Handler) hostedBase(r *http.Request, token string) hostedData {
	l := hostedLang(r)
	d := hostedData{L: l, Title: l.T("survey.hosted.title"), CSRF: auth.CSRFToken(r), Action: survey.HostedPath(token) + "?lang=" + string(l),
		MaxComment: survey.MaxComment, State: "form"}
	for _, code := range i18n.Languages {
		d.Langs = append(d.Langs, langLink{Code: code, Name: i18n.Lang(code).T("lang.name"), Current: code == string(l)})
	}
	d.Here = survey.HostedPath(token)
	return d
}

func (h *Handler) renderHosted(w http.ResponseWriter, r *http.Request, code int, d hostedData) {
	// The page must not leak its token to other sites through the Referer.
	w.Header().Set("Referrer-Policy", "no-referrer")
	h.execute(w, r, code, "survey_public", "hosted", d)
}

// hostedError renders an error page of the hosted survey.
func (h *Handler) hostedError(w http.ResponseWriter, r *http.Request, d hostedData, err error) {
	code, key := http.StatusServiceUnavailable, "survey.hosted.unavailable"
	switch {
	case errors.Is(err, survey.ErrAnswered):
		code, key = http.StatusConflict, "survey.hosted.answered"
	case errors.Is(err, survey.ErrBadToken):
		code, key = http.StatusBadRequest, "survey.hosted.badToken"
	case errors.Is(err, survey.ErrExpired):
		code, key = http.StatusForbidden, "survey.hosted.expired"
	case errors.Is(err, survey.ErrClosed):
		code, key = http.StatusGone, "survey.hosted.closed"
	case errors.Is(err, survey.ErrGone), errors.Is(err, store.ErrNotFound):
		code, key = http.StatusGone, "survey.hosted.gone"
	case errors.Is(err, survey.ErrLimited):
		code, key = http.StatusTooManyRequests, "survey.hosted.limited"
		w.Header().Set("Retry-After", "3600")
	default:
		h.log.Error("web: hosted survey", "err", err)
		w.Header().Set("Retry-After", "5")
	}
	d.State = "error"
	if code == http.StatusConflict {
		d.State = "answered"
	}
	d.Message = d.L.T(key)
	h.renderHosted(w, r, code, d)
}

// loadHosted checks the token and loads its survey.
func (h *Handler) loadHosted(r *http.Request, token string) (survey.Link, store.Survey, error) {
	l, err := h.surveys.Parse(r.Context(), token)
	if err != nil {
		return l, store.Survey{}, err
	}
	ss, err := h.surveys.Surveys()
	if err != nil {
		return l, store.Survey{}, err
	}
	v, err := ss.SurveyByID(r.Context(), l.SurveyID)
	if err != nil {
		return l, v, err
	}
	if v.Status != "active" {
		return l, v, survey.ErrClosed
	}
	return l, v, nil
}

func (h *Handler) fillHosted(d *hostedData, v store.Survey, score *int) {
	d.Survey = v
	if d.L == "de" {
		d.Question, d.CommentQ = v.QuestionDE, v.CommentDE
	} else {
		d.Question, d.CommentQ = v.QuestionEN, v.CommentEN
	}
	k := satisfaction.Kind(v.Type)
	d.Free = k == satisfaction.Free
	lo, hi := satisfaction.Range(k)
	for s := lo; s <= hi; s++ {
		o := scaleOption{Value: s, Checked: score != nil && *score == s}
		if k != satisfaction.NPS {
			o.Label = d.L.T(fmt.Sprintf("survey.scale.%s.%d", v.Type, s))
		}
		d.Scale = append(d.Scale, o)
	}
	if k == satisfaction.NPS {
		d.LowLabel, d.HighLabel = d.L.T("survey.scale.nps.low"), d.L.T("survey.scale.nps.high")
	}
}

func (h *Handler) hostedSurvey(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	d := h.hostedBase(r, token)
	l, v, err := h.loadHosted(r, token)
	if err != nil {
		h.hostedError(w, r, d, err)
		return
	}
	// A personal link answered before says so at once.
	if l.Personal() {
		if ss, err := h.surveys.Surveys(); err == nil {
			if _, err := ss.SurveyResponse(r.Context(), survey.ResponseIDOf(l)); err == nil {
				h.hostedError(w, r, d, survey.ErrAnswered)
				return
			}
		}
	}
	var score *int
	if s, err := strconv.Atoi(r.URL.Query().Get("score")); err == nil {
		score = &s // a pre-selected score, e.g. from a button in an e-mail
	}
	h.fillHosted(&d, v, score)
	h.renderHosted(w, r, http.StatusOK, d)
}

func (h *Handler) answerSurvey(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	token := r.PathValue("token")
	if err := r.ParseForm(); err != nil {
		d := h.hostedBase(r, token)
		d.State, d.Message = "error", d.L.T("survey.err.comment.long")
		h.renderHosted(w, r, http.StatusRequestEntityTooLarge, d)
		return
	}
	d := h.hostedBase(r, token)
	l, v, err := h.loadHosted(r, token)
	if err != nil {
		h.hostedError(w, r, d, err)
		return
	}
	sub := survey.Submission{Comment: r.PostFormValue("comment"), Language: string(d.L), Link: &l}
	if s := strings.TrimSpace(r.PostFormValue("score")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			n = math.MinInt32 // not a number: out of range
		}
		sub.Score = &n
	}
	if !l.Personal() {
		if ca, ok := h.cfg.Auth.(interface{ ClientIP(*http.Request) string }); ok {
			sub.ClientAddr = ca.ClientIP(r)
		} else {
			sub.ClientAddr = r.RemoteAddr
		}
	}
	_, err = h.surveys.Answer(r.Context(), v, sub)
	var ie *survey.InputError
	if errors.As(err, &ie) {
		h.fillHosted(&d, v, sub.Score)
		d.Comment = sub.Comment
		if len([]rune(d.Comment)) > survey.MaxComment+100 {
			d.Comment = string([]rune(d.Comment)[:survey.MaxComment+100])
		}
		key := "survey.err." + ie.Code
		if !i18n.Has(string(d.L), key) {
			key = "survey.err.invalid"
		}
		d.Error = d.L.T(key)
		d.ErrorField = "score"
		if strings.HasPrefix(ie.Code, "comment") {
			d.ErrorField = "comment"
		}
		h.renderHosted(w, r, http.StatusUnprocessableEntity, d)
		return
	}
	if err != nil {
		h.hostedError(w, r, d, err)
		return
	}
	d.State, d.Message = "thanks", d.L.T("survey.hosted.thanks")
	h.renderHosted(w, r, http.StatusOK, d)
}

// ---- Management ----

type surveyListData struct {
	page
	Surveys  []surveyRow
	CanWrite bool
	Types    []option
	Form     map[string]string
	Error    string
	Depts    []string
}

type surveyRow struct {
	store.Survey
	TypeName string
	Created  string
}

func (h *Handler) surveyList(w http.ResponseWriter, r *http.Request) {
	h.renderSurveyList(w, r, http.StatusOK, nil, "")
}

func (h *Handler) renderSurveyList(w http.ResponseWriter, r *http.Request, code int, form map[string]string, errMsg string) {
	p := h.page(r, "survey.list.title", "surveys")
	d := surveyListData{page: p, CanWrite: auth.Can(r.Context(), auth.PermSurveysWrite), Form: form, Error: errMsg}
	if d.Form == nil {
		d.Form = map[string]string{"type": "nps"}
	}
	ss, err := h.surveys.Surveys()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	list, err := ss.Surveys(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, v := range list {
		d.Surveys = append(d.Surveys, surveyRow{Survey: v, TypeName: p.L.T("survey.type." + v.Type), Created: p.L.Date(v.CreatedAt.In(h.cfg.Location))})
	}
	for _, t := range []string{"nps", "csat", "ces", "free"} {
		d.Types = append(d.Types, option{Value: t, Name: p.L.T("survey.type." + t), Selected: d.Form["type"] == t})
	}
	if deps, err := h.cfg.Store.Departments(r.Context()); err == nil {
		for _, x := range deps {
			d.Depts = append(d.Depts, x.Name)
		}
	}
	h.render(w, r, code, "surveys", d)
}

func (h *Handler) createSurvey(w http.ResponseWriter, r *http.Request) {
	form := map[string]string{}
	for _, k := range []string{"name", "type", "questionDe", "questionEn", "commentDe", "commentEn", "department", "touchpoint"} {
		form[k] = r.PostFormValue(k)
	}
	in := survey.Input{Name: ptrTo(form["name"]), Type: ptrTo(form["type"]), QuestionDE: ptrTo(form["questionDe"]), QuestionEN: ptrTo(form["questionEn"]),
		CommentDE: ptrTo(form["commentDe"]), CommentEN: ptrTo(form["commentEn"]), Department: ptrTo(form["department"]), Touchpoint: ptrTo(form["touchpoint"])}
	u, _ := auth.UserFrom(r.Context())
	v, err := h.surveys.Create(r.Context(), in, "user:"+u.ID)
	if errors.Is(err, survey.ErrInvalid) {
		// The service's message names the field; it is English. The page
		// says in the user's language that the form needs a look.
		l := i18n.FromRequest(r)
		h.renderSurveyList(w, r, http.StatusUnprocessableEntity, form, l.T("survey.form.invalid", err.Error()))
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := audit.Record(r.Context(), h.cfg.Store, audit.Entry{Action: survey.AuditCreate, Target: v.ID, Detail: v.Type}); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/surveys/"+v.ID, http.StatusSeeOther)
}

func ptrTo(s string) *string { return &s }

type surveyPageData struct {
	page
	S             store.Survey
	TypeName      string
	AnonymousLink string
	CanWrite      bool
	CanSend       bool
	NewLink       string
	LinkError     string
	LinkForm      map[string]string
	Stats         *survey.Stats
	StatsError    string
	Q             map[string]string // the statistics form
	Summary       []kv
	Interval      string
	TrendChart    string
	DistChart     string
	TrendRows     []statRow
	Groups        []statRow
	Dist          []kv
	Comparison    []kv
	Significant   string
	Periods       []option
	Groupings     []option
	Scored        bool
	Sentiments    []kv
}

type statRow struct {
	Key, N, Value, Interval string
}

func (h *Handler) surveyPage(w http.ResponseWriter, r *http.Request) {
	h.renderSurveyPage(w, r, http.StatusOK, "", "", nil)
}

func (h *Handler) renderSurveyPage(w http.ResponseWriter, r *http.Request, code int, newLink, linkErr string, linkForm map[string]string) {
	ss, err := h.surveys.Surveys()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v, err := ss.SurveyByID(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := h.page(r, "survey.page.title", "surveys")
	p.Title = v.Name
	l := p.L
	d := surveyPageData{page: p, S: v, TypeName: l.T("survey.type." + v.Type), CanWrite: auth.Can(r.Context(), auth.PermSurveysWrite),
		CanSend: auth.Can(r.Context(), auth.PermSurveysSend), NewLink: newLink, LinkError: linkErr, LinkForm: linkForm,
		Scored: v.Type != "free"}
	if d.LinkForm == nil {
		d.LinkForm = map[string]string{}
	}
	tok, err := h.surveys.AnonymousLink(r.Context(), v)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.AnonymousLink = absURL(r, survey.HostedPath(tok))

	q := r.URL.Query()
	d.Q = map[string]string{}
	for _, k := range []string{"from", "to", "by", "group", "compareFrom", "compareTo"} {
		d.Q[k] = strings.TrimSpace(q.Get(k))
	}
	if d.Q["by"] == "" {
		d.Q["by"] = "week"
	}
	for _, x := range []string{"week", "month"} {
		d.Periods = append(d.Periods, option{Value: x, Name: l.T("survey.stats.by." + x), Selected: d.Q["by"] == x})
	}
	for _, x := range []string{"", survey.ByTouchpoint, survey.BySource, survey.ByDepartment, survey.BySegment} {
		name := l.T("survey.stats.group.none")
		if x != "" {
			name = l.T("survey.stats.group." + x)
		}
		d.Groupings = append(d.Groupings, option{Value: x, Name: name, Selected: d.Q["group"] == x})
	}
	sq := survey.Query{By: satisfaction.Period(d.Q["by"]), Group: d.Q["group"]}
	var perr error
	day := func(s string, end bool) time.Time {
		if s == "" || perr != nil {
			return time.Time{}
		}
		t, err := time.ParseInLocation("2006-01-02", s, time.UTC)
		if err != nil {
			perr = err
			return time.Time{}
		}
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return t
	}
	sq.FromT, sq.ToT = day(d.Q["from"], false), day(d.Q["to"], true)
	sq.CompareFrom, sq.CompareTo = day(d.Q["compareFrom"], false), day(d.Q["compareTo"], true)
	if perr != nil {
		d.StatsError = l.T("survey.stats.badDate")
		code = http.StatusUnprocessableEntity
	} else {
		st, err := h.surveys.Stats(r.Context(), v, sq)
		switch {
		case errors.Is(err, survey.ErrInvalid):
			d.StatsError = l.T("survey.form.invalid", err.Error())
			code = http.StatusUnprocessableEntity
		case err != nil:
			h.fail(w, r, err)
			return
		default:
			d.Stats = &st
			h.viewStats(l, &d, &st)
		}
	}
	h.render(w, r, code, "survey", d)
}

// fmtFigure formats a figure of a kind: NPS in points, CSAT in %, CES mean.
func fmtFigure(l i18n.Lang, k satisfaction.Kind, n satisfaction.Num) string {
	if !n.Defined() {
		return "–"
	}
	switch k {
	case satisfaction.CSAT:
		return l.Number(float64(n), 1) + " %"
	case satisfaction.CES:
		return l.Number(float64(n), 2)
	}
	return l.Number(float64(n), 1)
}

func fmtInterval(l i18n.Lang, k satisfaction.Kind, lo, hi satisfaction.Num) string {
	if !lo.Defined() || !hi.Defined() {
		return "–"
	}
	return fmtFigure(l, k, lo) + " … " + fmtFigure(l, k, hi)
}

// surveyChart is what assets/surveys.js draws.
type surveyChart struct {
	Kind   string     `json:"kind"` // trend, dist
	Locale string     `json:"locale"`
	Labels []string   `json:"labels"`
	Value  []*float64 `json:"value"`
	Low    []*float64 `json:"low,omitempty"`
	High   []*float64 `json:"high,omitempty"`
	Label  string     `json:"label"`
	Band   string     `json:"band,omitempty"`
	YMin   *float64   `json:"yMin,omitempty"`
	YMax   *float64   `json:"yMax,omitempty"`
}

func numPtr(n satisfaction.Num) *float64 {
	if !n.Defined() {
		return nil
	}
	f := math.Round(float64(n)*100) / 100
	return &f
}

func (h *Handler) viewStats(l i18n.Lang, d *surveyPageData, st *survey.Stats) {
	k := satisfaction.Kind(st.Type)
	s := st.Summary
	d.Summary = append(d.Summary, kv{l.T("survey.stats.n"), l.Number(float64(s.N), 0)})
	for key, n := range st.Sentiments {
		d.Sentiments = append(d.Sentiments, kv{l.T("survey.sentiment." + key), l.Number(float64(n), 0)})
	}
	if k == satisfaction.Free {
		return
	}
	d.Summary = append(d.Summary, kv{l.T("survey.stats.value." + st.Type), fmtFigure(l, k, s.Value)},
		kv{l.T("survey.stats.interval"), fmtInterval(l, k, s.Low, s.High)})
	switch k {
	case satisfaction.NPS:
		d.Summary = append(d.Summary, kv{l.T("survey.stats.promoters"), l.Number(float64(s.Promoters), 0)},
			kv{l.T("survey.stats.passives"), l.Number(float64(s.Passives), 0)}, kv{l.T("survey.stats.detractors"), l.Number(float64(s.Detractors), 0)})
	case satisfaction.CSAT:
		d.Summary = append(d.Summary, kv{l.T("survey.stats.satisfied"), l.Number(float64(s.Satisfied), 0)})
	case satisfaction.CES:
		d.Summary = append(d.Summary, kv{l.T("survey.stats.sd"), fmtFigure(l, k, s.SD)})
	}
	tc := surveyChart{Kind: "trend", Locale: string(l), Label: l.T("survey.stats.value." + st.Type), Band: l.T("survey.stats.interval")}
	for _, p := range st.Trend {
		tc.Labels = append(tc.Labels, p.Key)
		tc.Value = append(tc.Value, numPtr(p.Value))
		tc.Low = append(tc.Low, numPtr(p.Low))
		tc.High = append(tc.High, numPtr(p.High))
		d.TrendRows = append(d.TrendRows, statRow{Key: p.Key, N: l.Number(float64(p.N), 0), Value: fmtFigure(l, k, p.Value), Interval: fmtInterval(l, k, p.Low, p.High)})
	}
	lo, hi := satisfaction.Range(k)
	switch k {
	case satisfaction.NPS:
		a, b := -100.0, 100.0
		tc.YMin, tc.YMax = &a, &b
	case satisfaction.CSAT:
		a, b := 0.0, 100.0
		tc.YMin, tc.YMax = &a, &b
	case satisfaction.CES:
		a, b := float64(lo), float64(hi)
		tc.YMin, tc.YMax = &a, &b
	}
	if len(st.Trend) > 0 {
		b, _ := json.Marshal(tc)
		d.TrendChart = string(b)
	}
	dc := surveyChart{Kind: "dist", Locale: string(l), Label: l.T("survey.stats.answers")}
	for i, n := range s.Distribution {
		f := float64(n)
		dc.Labels = append(dc.Labels, strconv.Itoa(lo+i))
		dc.Value = append(dc.Value, &f)
		d.Dist = append(d.Dist, kv{strconv.Itoa(lo + i), l.Number(f, 0)})
	}
	if s.N > 0 {
		b, _ := json.Marshal(dc)
		d.DistChart = string(b)
	}
	for _, g := range st.Groups {
		key := g.Key
		if key == "" {
			key = l.T("survey.stats.none")
		}
		d.Groups = append(d.Groups, statRow{Key: key, N: l.Number(float64(g.N), 0), Value: fmtFigure(l, k, g.Value), Interval: fmtInterval(l, k, g.Low, g.High)})
	}
	if c := st.Comparison; c != nil {
		d.Comparison = []kv{
			{l.T("survey.stats.periodA"), fmtFigure(l, k, c.A.Value) + " (n = " + l.Number(float64(c.A.N), 0) + ")"},
			{l.T("survey.stats.periodB"), fmtFigure(l, k, c.B.Value) + " (n = " + l.Number(float64(c.B.N), 0) + ")"},
			{l.T("survey.stats.diff"), fmtFigure(l, k, c.Diff)},
			{l.T("survey.stats.diffInterval"), fmtInterval(l, k, c.Low, c.High)},
			{l.T("survey.stats.p"), pValue(l, c.P)},
		}
		switch {
		case !c.P.Defined():
			d.Significant = l.T("survey.stats.noTest")
		case c.Significant:
			d.Significant = l.T("survey.stats.significant")
		default:
			d.Significant = l.T("survey.stats.notSignificant")
		}
	}
}

func pValue(l i18n.Lang, p satisfaction.Num) string {
	if !p.Defined() {
		return "–"
	}
	if float64(p) < 0.001 {
		return "< " + l.Number(0.001, 3)
	}
	return l.Number(float64(p), 3)
}

// absURL makes a link absolute with the host the user reached Kunding at.
func absURL(r *http.Request, path string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return (&url.URL{Scheme: scheme, Host: r.Host}).String() + path
}

func (h *Handler) surveyStatus(w http.ResponseWriter, r *http.Request) {
	st := r.PostFormValue("status")
	v, err := h.surveys.Update(r.Context(), r.PathValue("id"), survey.Input{Status: &st})
	if errors.Is(err, survey.ErrInvalid) {
		h.errorPage(w, r, http.StatusBadRequest, "survey.err.invalid")
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := audit.Record(r.Context(), h.cfg.Store, audit.Entry{Action: survey.AuditUpdate, Target: v.ID, Detail: "status " + v.Status}); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/surveys/"+v.ID, http.StatusSeeOther)
}

func (h *Handler) surveyLink(w http.ResponseWriter, r *http.Request) {
	ss, err := h.surveys.Surveys()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v, err := ss.SurveyByID(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	l := i18n.FromRequest(r)
	form := map[string]string{"customer": strings.TrimSpace(r.PostFormValue("customer")), "touchpoint": r.PostFormValue("touchpoint"), "trigger": r.PostFormValue("trigger")}
	var c survey.Customer
	switch x := form["customer"]; {
	case strings.Contains(x, "@"):
		c.Email = x
	default:
		c.CustomerID = x
	}
	if v.Status != "active" {
		h.renderSurveyPage(w, r, http.StatusConflict, "", l.T("survey.hosted.closed"), form)
		return
	}
	if form["customer"] == "" {
		h.renderSurveyPage(w, r, http.StatusUnprocessableEntity, "", l.T("survey.links.noCustomer"), form)
		return
	}
	lk, tok, err := h.surveys.PersonalLink(r.Context(), v, survey.LinkRequest{Customer: c, Touchpoint: form["touchpoint"], Trigger: form["trigger"]})
	switch {
	case errors.Is(err, store.ErrNotFound):
		h.renderSurveyPage(w, r, http.StatusUnprocessableEntity, "", l.T("survey.links.unknownCustomer"), form)
		return
	case errors.Is(err, survey.ErrInvalid), errors.Is(err, survey.ErrGone):
		h.renderSurveyPage(w, r, http.StatusUnprocessableEntity, "", l.T("survey.form.invalid", err.Error()), form)
		return
	case err != nil:
		h.fail(w, r, err)
		return
	}
	if err := audit.Record(r.Context(), h.cfg.Store, audit.Entry{Action: survey.AuditLink, Target: v.ID, Detail: "customer " + lk.CustomerID}); err != nil {
		h.fail(w, r, err)
		return
	}
	h.renderSurveyPage(w, r, http.StatusOK, absURL(r, survey.HostedPath(tok)), "", nil)
}
