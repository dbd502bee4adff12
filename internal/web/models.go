package web

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/predict"
	"github.com/kunding/kunding/internal/scoring"
	"github.com/kunding/kunding/internal/web/i18n"
)

// modelsData is the page of the purchase models: the model in use and a
// calibration/holdout validation (`kunding models validate` in the browser).
type modelsData struct {
	page
	Model   *modelView
	NoModel bool
	// The validation form, with what the user entered.
	CalEnd, HoldEnd string
	Choices         []option
	Ran             bool   // a validation was asked for
	Error           string // why it could not run
	Report          *reportView
}

type option struct {
	Value, Name string
	Selected    bool
}

type kvRow struct{ Key, Value, SE string }

type modelView struct {
	Name, Fitted, CalibrationEnd, Customers, LogLik, BIC, Unit string
	Params                                                     []kvRow
	Candidates                                                 []candidateRow
	Spend                                                      []kvRow
	SpendError                                                 string
	CLV                                                        string
	Scored                                                     string
}

type candidateRow struct {
	Name, LogLik, BIC, Error string
	Chosen                   bool
}

type reportView struct {
	Summary    string
	Best       string
	Holdout    []holdoutRow
	Freq       []freqTable
	Chart      string // JSON for assets/app.js
	ModelNames []string
	Tracking   []trackRow
}

type holdoutRow struct {
	Name, Actual, Expected, ErrorPct, MAE, ForecastEnd, Error string
	Best                                                      bool
}

type freqTable struct {
	Name string
	Rows []freqRow
}

type freqRow struct{ X, Customers, Actual, Expected string }

type trackRow struct {
	Period, End, Actual string
	Forecasts           []string
	Holdout             bool
}

// trackingChart is what assets/app.js draws: cumulative repeat
// transactions per period, the actual line and one forecast per model.
type trackingChart struct {
	Kind        string        `json:"kind"`
	Locale      string        `json:"locale"`
	Labels      []int         `json:"labels"`
	XLabel      string        `json:"xLabel"`
	YLabel      string        `json:"yLabel"`
	Calibration int           `json:"calibrationIndex"` // the last calibration period's index in Labels
	CalLabel    string        `json:"calibrationLabel"`
	Series      []chartSeries `json:"series"`
}

type chartSeries struct {
	Label  string    `json:"label"`
	Actual bool      `json:"actual"`
	Data   []float64 `json:"data"`
}

// modelName is a model's display name ("bgnbd": "BG/NBD").
func modelName(l i18n.Lang, name string) string {
	if !i18n.Has(string(l), "models.name."+name) {
		return name
	}
	return l.T("models.name." + name)
}

func (h *Handler) models(w http.ResponseWriter, r *http.Request) {
	p := h.page(r, "models.title", "models")
	l := p.L
	d := modelsData{page: p}
	m, err := scoring.Load(r.Context(), h.cfg.Store)
	switch {
	case errors.Is(err, scoring.ErrNoModel):
		d.NoModel = true
	case err != nil:
		h.fail(w, r, err)
		return
	default:
		d.Model = viewModel(l, m)
	}
	q := r.URL.Query()
	d.CalEnd, d.HoldEnd = strings.TrimSpace(q.Get("calibration_end")), strings.TrimSpace(q.Get("holdout_end"))
	choice := q.Get("model")
	if choice == "" {
		choice = "auto"
	}
	valid := false
	for _, n := range append([]string{"auto"}, predict.Models...) {
		d.Choices = append(d.Choices, option{Value: n, Name: modelName(l, n), Selected: n == choice})
		valid = valid || n == choice
	}
	d.Ran = q.Has("calibration_end")
	if d.Ran {
		d.Report, d.Error = h.validate(r, l, d.CalEnd, d.HoldEnd, choice, valid)
	}
	code := http.StatusOK
	if d.Error != "" {
		code = http.StatusUnprocessableEntity
	}
	h.render(w, r, code, "models", d)
}

// validate runs scoring.Validate on the form's values; it returns the
// report, or a message for the user.
func (h *Handler) validate(r *http.Request, l i18n.Lang, calS, holdS, choice string, valid bool) (*reportView, string) {
	if !valid {
		return nil, l.T("models.err.model")
	}
	if calS == "" {
		return nil, l.T("models.err.noCalEnd")
	}
	cal, err := time.Parse(time.DateOnly, calS)
	if err != nil {
		return nil, l.T("models.err.date", calS)
	}
	var hold time.Time
	if holdS != "" {
		if hold, err = time.Parse(time.DateOnly, holdS); err != nil {
			return nil, l.T("models.err.date", holdS)
		}
		if !hold.After(cal) {
			return nil, l.T("models.err.holdBeforeCal")
		}
	}
	rep, err := scoring.Validate(r.Context(), h.cfg.Store, scoring.ValidateOptions{
		Options: scoring.Options{CalibrationEnd: cal, Model: choice}, HoldoutEnd: hold})
	if err != nil {
		if r.Context().Err() != nil {
			return nil, l.T("error.unavailable")
		}
		h.log.Info("web: models validate", "err", err)
		if strings.Contains(err.Error(), "no orders after") {
			return nil, l.T("models.err.noHoldout")
		}
		return nil, l.T("models.err.failed", err.Error())
	}
	return viewReport(l, rep), ""
}

func num(l i18n.Lang, v float64, decimals int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return l.Number(v, decimals)
}

func viewModel(l i18n.Lang, m scoring.Model) *modelView {
	v := &modelView{Name: modelName(l, m.Name), Fitted: l.DateTime(m.FittedAt), CalibrationEnd: l.Date(m.CalibrationEnd),
		Customers: num(l, m.Customers, 0), LogLik: num(l, m.LogLik, 2), BIC: num(l, m.BIC, 2), Unit: l.T("models.unitDays", m.UnitDays),
		SpendError: m.SpendError,
		CLV:        l.T("models.clvText", num(l, m.Margin*100, 0), num(l, m.AnnualDiscount*100, 0), m.HorizonDays)}
	for i, n := range m.ParamNames {
		row := kvRow{Key: n, SE: "–"}
		if i < len(m.Params) {
			row.Value = num(l, m.Params[i], 4)
		}
		if i < len(m.SE) && m.SE[i] >= 0 {
			row.SE = num(l, m.SE[i], 4)
		}
		v.Params = append(v.Params, row)
	}
	for _, c := range m.Candidates {
		row := candidateRow{Name: modelName(l, c.Name), Error: c.Error, Chosen: c.Name == m.Name}
		if c.Error == "" {
			row.LogLik, row.BIC = num(l, c.LogLik, 2), num(l, c.BIC, 2)
		}
		v.Candidates = append(v.Candidates, row)
	}
	if m.Spend != nil {
		v.Spend = []kvRow{{Key: "p", Value: num(l, m.Spend.P, 4)}, {Key: "q", Value: num(l, m.Spend.Q, 4)},
			{Key: "γ", Value: num(l, m.Spend.Gamma, 4)}, {Key: l.T("models.repeatBuyers"), Value: strconv.Itoa(m.RepeatBuyers)}}
	}
	if m.Scored > 0 {
		v.Scored = l.T("models.scoredText", num(l, float64(m.Scored), 0), l.DateTime(m.ScoredAt))
	}
	return v
}

func round1(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return math.Round(v*10) / 10
}

func viewReport(l i18n.Lang, r scoring.Report) *reportView {
	v := &reportView{Best: modelName(l, r.Best), Summary: l.T("models.summary", num(l, float64(r.Customers), 0),
		l.Date(r.Start), l.Date(r.CalibrationEnd), l.Date(r.HoldoutEnd), r.UnitDays)}
	cd := trackingChart{Kind: "tracking", Locale: string(l), XLabel: l.T("models.period"), YLabel: l.T("models.cumulative"),
		CalLabel: l.T("models.calEndMark"), Calibration: -1}
	var fitted []scoring.ModelReport
	for _, m := range r.Models {
		row := holdoutRow{Name: modelName(l, m.Name), Error: m.Error, Best: m.Name == r.Best}
		if m.Error == "" {
			row.Actual, row.Expected = num(l, m.Holdout.Actual, 0), num(l, m.Holdout.Expected, 1)
			row.ErrorPct, row.MAE = num(l, m.Holdout.ErrorPct, 1), num(l, m.Holdout.MAE, 3)
			row.ForecastEnd = num(l, m.ForecastEnd, 1)
			if m.Holdout.ErrorPct > 0 {
				row.ErrorPct = "+" + row.ErrorPct
			}
			fitted = append(fitted, m)
			ft := freqTable{Name: modelName(l, m.Name)}
			for _, f := range m.ByFrequency {
				x := strconv.Itoa(f.X)
				if f.OrMore {
					x += "+"
				}
				ft.Rows = append(ft.Rows, freqRow{X: x, Customers: num(l, float64(f.Customers), 0),
					Actual: num(l, f.Actual, 3), Expected: num(l, f.Expected, 3)})
			}
			v.Freq = append(v.Freq, ft)
		}
		v.Holdout = append(v.Holdout, row)
	}
	if len(fitted) == 0 {
		return v
	}
	actual := chartSeries{Label: l.T("models.actual"), Actual: true}
	for i, p := range fitted[0].Tracking {
		cd.Labels = append(cd.Labels, p.Period)
		actual.Data = append(actual.Data, round1(p.Actual))
		if !p.Holdout {
			cd.Calibration = i
		}
		row := trackRow{Period: strconv.Itoa(p.Period), End: l.Date(p.End), Actual: num(l, p.Actual, 0), Holdout: p.Holdout}
		for _, m := range fitted {
			f := "–"
			if i < len(m.Tracking) {
				f = num(l, m.Tracking[i].Expected, 1)
			}
			row.Forecasts = append(row.Forecasts, f)
		}
		v.Tracking = append(v.Tracking, row)
	}
	cd.Series = append(cd.Series, actual)
	for _, m := range fitted {
		s := chartSeries{Label: l.T("models.forecast", modelName(l, m.Name))}
		for _, p := range m.Tracking {
			s.Data = append(s.Data, round1(p.Expected))
		}
		cd.Series = append(cd.Series, s)
		v.ModelNames = append(v.ModelNames, modelName(l, m.Name))
	}
	js, _ := json.Marshal(cd)
	v.Chart = string(js)
	return v
}
