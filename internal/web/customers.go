package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/api"
	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/identity"
	"github.com/kunding/kunding/internal/profile"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/web/i18n"
)

// searchLimit bounds the hits of one search: an agent refines rather than scrolls.
const searchLimit = 25

// timelinePage is the number of events per timeline page.
const timelinePage = 50

type searchData struct {
	page
	Searched bool
	Results  []resultRow
	Elapsed  string
}

type resultRow struct {
	ID, Name, Email, Phone, LastSeen, Revenue string
	Orders                                    int64
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	p := h.page(r, "search.title", "customers")
	p.NoQuickSearch = true
	h.render(w, r, http.StatusOK, "search", searchData{page: p})
}

func (h *Handler) search(w http.ResponseWriter, r *http.Request) {
	p := h.page(r, "search.title", "customers")
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	p.Query, p.NoQuickSearch = q, true
	d := searchData{page: p}
	if q == "" {
		h.render(w, r, http.StatusOK, "search", d)
		return
	}
	start := time.Now()
	ps, err := h.cfg.Store.SearchCustomers(r.Context(), q, searchLimit)
	// Phone numbers are stored normalised; "0171 234" finds "+49171234".
	if err == nil && len(ps) == 0 {
		if n := identity.NormalizePhone(q); n != "" && n != q {
			ps, err = h.cfg.Store.SearchCustomers(r.Context(), n, searchLimit)
		}
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// The search term is not recorded: it is often an e-mail address or a
	// phone number, and the audit log holds no personal data.
	if err := audit.Record(r.Context(), h.cfg.Store, audit.Entry{Action: audit.CustomerSearch, Detail: fmt.Sprintf("web search, %d hits", len(ps))}); err != nil {
		h.fail(w, r, err)
		return
	}
	d.Searched = true
	d.Elapsed = p.L.Number(float64(time.Since(start).Microseconds())/1000, 1)
	for _, c := range ps {
		d.Results = append(d.Results, resultRow{ID: c.CustomerID, Name: c.Name, Email: c.Email, Phone: c.Phone,
			LastSeen: p.L.DateTime(c.LastSeen.In(h.cfg.Location)), Orders: c.Orders, Revenue: h.revenue(p.L, &c)})
	}
	p.Title = p.L.T("search.resultsTitle", q)
	d.page = p
	h.render(w, r, http.StatusOK, "search", d)
}

// revenue shows revenue per currency ("EUR 1,234.00 · USD 12.00").
func (h *Handler) revenue(l i18n.Lang, p *profile.Profile) string {
	if p.Orders == 0 {
		return "–"
	}
	var curs []string
	for c, v := range p.ByCurrency {
		if v != 0 || len(p.ByCurrency) == 1 {
			curs = append(curs, c)
		}
	}
	if len(curs) == 0 {
		return l.Money(p.Revenue(), "")
	}
	sort.Strings(curs)
	parts := make([]string, len(curs))
	for i, c := range curs {
		parts[i] = l.Money(float64(p.ByCurrency[c])/1e6, c)
	}
	return strings.Join(parts, " · ")
}

type customerData struct {
	page
	C          api.Customer
	MergedFrom string
	Figures    []figure
	Identities []kv // kind name, value
	Traits     []kv
	Consent    []kv
	Chart      string // JSON for assets/app.js
	ChartRows  []chartRow
	Timeline   timelineData
	Recent     []timelineItem // the newest campaign touches of the first page
	EraseError string         // a refused erasure (PermGDPR)
	Cases      *customerCases // open cases and the form that opens one (cases.go)
}

type figure struct{ Label, Value, Hint string }

type kv struct{ Key, Value string }

type chartRow struct {
	Month   string
	Orders  int64
	Revenue string
}

type timelineData struct {
	L          i18n.Lang
	CustomerID string
	Items      []timelineItem
	Next       string // cursor of the next page, if any
	Older      bool   // this page does not start at the newest event
}

type timelineItem struct {
	Seq       int64
	Time, ISO string
	Type      string
	Title     string
	Source    string
	Touch     *Touch
	TouchName string
	Details   []kv
	JSON      string
}

func (h *Handler) customer(w http.ResponseWriter, r *http.Request) {
	h.renderCustomer(w, r, http.StatusOK, "")
}

// renderCustomer renders the customer 360 page; eraseErr is a refused
// erasure, shown at its form.
func (h *Handler) renderCustomer(w http.ResponseWriter, r *http.Request, code int, eraseErr string) {
	id := r.PathValue("id")
	prof, err := h.cfg.Store.Customer(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// A merged-away id shows the surviving customer under its own address.
	if prof.CustomerID != id {
		http.Redirect(w, r, "/customers/"+url.PathEscape(prof.CustomerID)+"?merged_from="+url.QueryEscape(id), http.StatusSeeOther)
		return
	}
	before, ok := parseCursor(r.URL.Query().Get("before"))
	if !ok {
		h.errorPage(w, r, http.StatusBadRequest, "error.badCursor")
		return
	}
	now := h.cfg.Now()
	c, err := api.View(r, h.cfg.Store, prof, now)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := h.page(r, "customer.title", "customers")
	if c.Name != "" {
		p.Title = c.Name
	} else if c.Email != "" {
		p.Title = c.Email
	}
	d := customerData{page: p, C: c, MergedFrom: r.URL.Query().Get("merged_from"), EraseError: eraseErr}
	d.Figures = h.figures(p.L, &prof, &c)
	d.Traits, d.Consent = traitRows(p.L, c.Traits)
	if len(prof.Consent) > 0 {
		// The consent model (latest decision per purpose, from traits and
		// from PUT /api/customers/{id}/consent) is what the contact policy
		// uses: show it rather than the raw traits.
		d.Consent = consentRows(p.L, prof.Consent)
	}
	for _, id := range c.Identities {
		d.Identities = append(d.Identities, kv{idKindName(p.L, id.Kind), id.Value})
	}
	orders, err := h.cfg.Store.Orders(r.Context(), prof.CustomerID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Chart, d.ChartRows = h.purchaseChart(p.L, orders)
	if d.Timeline, err = h.timeline(r, p.L, prof.CustomerID, before); err != nil {
		h.fail(w, r, err)
		return
	}
	// What campaigns and mailings reached the customer lately, at the top,
	// so that an agent knows before reading the timeline.
	if !d.Timeline.Older {
		for _, it := range d.Timeline.Items {
			if it.Touch != nil && len(d.Recent) < 3 {
				d.Recent = append(d.Recent, it)
			}
		}
	}
	if d.Cases, err = h.customerCasesView(r, p.L, prof.CustomerID); err != nil {
		h.fail(w, r, err)
		return
	}
	// An access that cannot be audited does not happen.
	if err := audit.Record(r.Context(), h.cfg.Store, audit.Entry{Action: audit.CustomerView, Target: prof.CustomerID}); err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, code, "customer", d)
}

func (h *Handler) figures(l i18n.Lang, prof *profile.Profile, c *api.Customer) []figure {
	loc := h.cfg.Location
	f := []figure{
		{Label: l.T("figure.orders"), Value: l.Number(float64(c.Orders), 0)},
		{Label: l.T("figure.revenue"), Value: h.revenue(l, prof)},
		{Label: l.T("figure.events"), Value: l.Number(float64(c.Events), 0)},
		{Label: l.T("figure.firstSeen"), Value: l.DateTime(c.FirstSeen.In(loc))},
		{Label: l.T("figure.lastSeen"), Value: l.DateTime(c.LastSeen.In(loc))},
	}
	if c.FirstOrder != nil {
		f = append(f,
			figure{Label: l.T("figure.firstOrder"), Value: l.Date(c.FirstOrder.In(loc))},
			figure{Label: l.T("figure.lastOrder"), Value: l.Date(c.LastOrder.In(loc))})
	}
	if c.RFM != nil {
		f = append(f,
			figure{Label: l.T("figure.recency"), Value: l.T("figure.days", l.Number(c.RFM.RecencyDays, 1)), Hint: l.T("figure.recencyHint")},
			figure{Label: l.T("figure.frequency"), Value: l.Number(float64(c.RFM.Frequency), 0), Hint: l.T("figure.frequencyHint")},
			figure{Label: l.T("figure.monetary"), Value: l.Number(c.RFM.Monetary, 2), Hint: l.T("figure.monetaryHint")})
	}
	// Predictions exist once a purchase model is fitted (kunding models fit).
	if pr := c.Predictions; pr != nil {
		f = append(f,
			figure{Label: l.T("figure.churnRisk"), Value: l.Number(pr.ChurnRisk*100, 0) + " %", Hint: l.T("figure.churnRiskHint")},
			figure{Label: l.T("figure.expected90d"), Value: l.Number(pr.Expected90d, 1), Hint: l.T("figure.expected90dHint")},
			figure{Label: l.T("figure.clv"), Value: l.Number(pr.CLV, 2), Hint: l.T("figure.clvHint", l.Number(pr.CLVPercentile, 0))})
	}
	return f
}

// idKindName names a kind of identifier: user, anon, email, phone or
// ext:<type> (an external system's id, named by its type).
func idKindName(l i18n.Lang, kind string) string {
	if ext, ok := strings.CutPrefix(kind, "ext:"); ok {
		return l.T("idkind.ext", ext)
	}
	if i18n.Has(string(l), "idkind."+kind) {
		return l.T("idkind." + kind)
	}
	return kind
}

// consentTraits are the traits shown as consent for a customer whose
// profile has no consent model yet.
var consentTraits = map[string]bool{"consent": true, "consents": true}

// traitRows lists traits sorted, and consent traits apart, flattened one
// level ("consent.email: yes").
func traitRows(l i18n.Lang, traits map[string]json.RawMessage) (rows, consent []kv) {
	keys := make([]string, 0, len(traits))
	for k := range traits {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := traits[k]
		if !consentTraits[strings.ToLower(k)] {
			rows = append(rows, kv{k, showJSON(l, v)})
			continue
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(v, &m) == nil && len(m) > 0 {
			sub := make([]string, 0, len(m))
			for sk := range m {
				sub = append(sub, sk)
			}
			sort.Strings(sub)
			for _, sk := range sub {
				consent = append(consent, kv{sk, showJSON(l, m[sk])})
			}
			continue
		}
		consent = append(consent, kv{k, showJSON(l, v)})
	}
	return rows, consent
}

// consentRows shows the latest decision per purpose: yes or no, and when
// (and where) it was given.
func consentRows(l i18n.Lang, cs map[string]profile.Consent) []kv {
	purposes := make([]string, 0, len(cs))
	for k := range cs {
		purposes = append(purposes, k)
	}
	sort.Strings(purposes)
	out := make([]kv, 0, len(cs))
	for _, k := range purposes {
		c := cs[k]
		v := l.T("no")
		if c.Granted {
			v = l.T("yes")
		}
		var when []string
		if !c.At.IsZero() {
			when = append(when, c.At.UTC().Format("2006-01-02"))
		}
		// "<type> event" is the default source of consent from traits:
		// the date says enough; a source given through the API is shown.
		if c.Source != "" && !strings.HasSuffix(c.Source, " event") {
			when = append(when, c.Source)
		}
		if len(when) > 0 {
			v += " (" + strings.Join(when, ", ") + ")"
		}
		out = append(out, kv{k, v})
	}
	return out
}

// showJSON renders a JSON value for people: strings bare, booleans as
// yes/no, everything else compact JSON.
func showJSON(l i18n.Lang, v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	switch string(v) {
	case "true":
		return l.T("yes")
	case "false":
		return l.T("no")
	case "null":
		return "–"
	}
	var b bytes.Buffer
	if json.Compact(&b, v) == nil {
		return clip(b.String(), 300)
	}
	return clip(string(v), 300)
}

func clip(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// chartData is read by assets/app.js.
type chartData struct {
	Labels       []string  `json:"labels"`
	Orders       []int64   `json:"orders"`
	Revenue      []float64 `json:"revenue"`
	OrdersLabel  string    `json:"ordersLabel"`
	RevenueLabel string    `json:"revenueLabel"`
	Locale       string    `json:"locale"`
}

// purchaseChart counts orders and sums revenue per month, from the first
// order's month to the last's. Revenue is that of the main currency (the one
// with most orders); mixing currencies in one sum would mislead.
func (h *Handler) purchaseChart(l i18n.Lang, orders []store.Order) (string, []chartRow) {
	if len(orders) == 0 {
		return "", nil
	}
	byCur := map[string]int{}
	for _, o := range orders {
		byCur[o.Currency]++
	}
	main, most := "", -1
	for c, n := range byCur {
		if n > most || (n == most && c < main) {
			main, most = c, n
		}
	}
	type bucket struct {
		orders  int64
		revenue int64
	}
	month := func(t time.Time) time.Time {
		t = t.In(h.cfg.Location)
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, h.cfg.Location)
	}
	buckets := map[time.Time]*bucket{}
	first, last := month(orders[0].Timestamp), month(orders[0].Timestamp)
	for _, o := range orders {
		m := month(o.Timestamp)
		if m.Before(first) {
			first = m
		}
		if m.After(last) {
			last = m
		}
		b := buckets[m]
		if b == nil {
			b = &bucket{}
			buckets[m] = b
		}
		b.orders++
		if o.Currency == main {
			b.revenue += o.RevenueMicros
		}
	}
	cd := chartData{OrdersLabel: l.T("chart.orders"), RevenueLabel: l.T("chart.revenue", main), Locale: string(l)}
	if main == "" {
		cd.RevenueLabel = l.T("chart.revenueNoCurrency")
	}
	var rows []chartRow
	for m := first; !m.After(last); m = m.AddDate(0, 1, 0) {
		b := buckets[m]
		if b == nil {
			b = &bucket{}
		}
		rev := float64(b.revenue) / 1e6
		cd.Labels = append(cd.Labels, l.Month(m))
		cd.Orders = append(cd.Orders, b.orders)
		cd.Revenue = append(cd.Revenue, rev)
		if b.orders > 0 {
			rows = append(rows, chartRow{Month: l.Month(m), Orders: b.orders, Revenue: l.Money(rev, main)})
		}
	}
	js, _ := json.Marshal(cd)
	return string(js), rows
}

// parseCursor reads a timeline cursor "millis:seq" ("" is the newest page).
func parseCursor(v string) (store.TimelineCursor, bool) {
	if v == "" {
		return store.TimelineCursor{}, true
	}
	tsPart, seqPart, ok := strings.Cut(v, ":")
	ts, err1 := strconv.ParseInt(tsPart, 10, 64)
	seq, err2 := strconv.ParseInt(seqPart, 10, 64)
	if !ok || err1 != nil || err2 != nil || seq <= 0 {
		return store.TimelineCursor{}, false
	}
	return store.TimelineCursor{Timestamp: time.UnixMilli(ts), Seq: seq}, true
}

func (h *Handler) timeline(r *http.Request, l i18n.Lang, customerID string, before store.TimelineCursor) (timelineData, error) {
	td := timelineData{L: l, CustomerID: customerID, Older: before.Seq != 0}
	es, err := h.cfg.Store.Timeline(r.Context(), customerID, before, timelinePage)
	if err != nil {
		return td, err
	}
	srcs, err := h.cfg.Store.Sources(r.Context())
	if err != nil {
		return td, err
	}
	kinds := map[string]string{}
	for _, s := range srcs {
		kinds[s.ID] = s.Kind
	}
	for _, e := range es {
		td.Items = append(td.Items, h.timelineItem(l, e, kinds[e.SourceID]))
	}
	if len(es) == timelinePage {
		last := es[len(es)-1]
		td.Next = fmt.Sprintf("%d:%d", last.Timestamp.UnixMilli(), last.Seq)
	}
	return td, nil
}

// timelinePart is the next page of a timeline, appended in place by htmx.
func (h *Handler) timelinePart(w http.ResponseWriter, r *http.Request) {
	prof, err := h.cfg.Store.Customer(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	before, ok := parseCursor(r.URL.Query().Get("before"))
	if !ok {
		h.errorPage(w, r, http.StatusBadRequest, "error.badCursor")
		return
	}
	l := i18n.FromRequest(r)
	td, err := h.timeline(r, l, prof.CustomerID, before)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.renderPart(w, r, "customer", "timeline-items", td)
}

func (h *Handler) timelineItem(l i18n.Lang, e store.TimelineEntry, sourceKind string) timelineItem {
	t := e.Timestamp.In(h.cfg.Location)
	it := timelineItem{Seq: e.Seq, Time: l.DateTime(t), ISO: t.Format(time.RFC3339), Type: e.Type, JSON: prettyJSON(e.Body)}
	it.Source = e.SourceName
	if it.Source == "" {
		it.Source = e.SourceID
	}
	if sourceKind != "" {
		it.Source += " (" + l.T("kind."+sourceKind) + ")"
	}
	var body struct {
		Properties map[string]any `json:"properties"`
		Traits     map[string]any `json:"traits"`
		Context    struct {
			Page map[string]any `json:"page"`
		} `json:"context"`
	}
	_ = json.Unmarshal(e.Body, &body)
	switch e.Type {
	case "track":
		it.Title = e.Name
	case "page", "screen":
		what := e.Name
		if what == "" {
			what = firstString(body.Properties, "path", "title", "url")
		}
		if what == "" {
			what = firstString(body.Context.Page, "path", "title", "url")
		}
		it.Title = l.T("type."+e.Type, what)
	default:
		it.Title = l.T("type." + e.Type)
	}
	fields := body.Properties
	if e.Type == "identify" {
		fields = body.Traits
	}
	it.Details = scalarFields(fields, 8)
	if tc, ok := CampaignTouch(e.Type, e.Name, e.Body); ok {
		it.Touch = &tc
		it.TouchName = l.T("touch." + tc.Kind)
	}
	return it
}

// scalarFields lists up to n top-level strings, numbers and booleans of an
// object, sorted by key: the gist of an event without opening its JSON.
func scalarFields(m map[string]any, n int) []kv {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		switch v.(type) {
		case string, float64, bool:
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []kv
	for _, k := range keys {
		if len(out) == n {
			break
		}
		var s string
		switch v := m[k].(type) {
		case string:
			s = v
		case float64:
			s = strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			s = strconv.FormatBool(v)
		}
		out = append(out, kv{k, clip(s, 120)})
	}
	return out
}

// prettyJSON indents an event body for reading, clipped to keep pages small.
func prettyJSON(b []byte) string {
	var buf bytes.Buffer
	if json.Indent(&buf, b, "", "  ") != nil {
		return clip(string(b), 16<<10)
	}
	return clip(buf.String(), 16<<10)
}
