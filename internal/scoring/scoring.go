// Package scoring puts the buy-till-you-die models of package predict to
// work on the store: it fits them on every customer's orders, keeps the
// chosen model with its date, scores customers (expected orders, P(alive),
// churn risk, expected order value, CLV and its percentile) and validates a
// model on a calibration/holdout split. The models themselves stay pure
// computation in package predict.
package scoring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/kunding/kunding/internal/predict"
	"github.com/kunding/kunding/internal/store"
)

// SettingKey is where the fitted model is kept (JSON in the settings table).
const SettingKey = "prediction.model"

// Options configure fitting and scoring.
type Options struct {
	// Unit is the time unit of the models (default 7 days: weeks, as in the
	// papers). A whole number of days.
	Unit time.Duration
	// Model is "auto" (default: the lowest BIC of predict.Models) or one name.
	Model string
	// CalibrationEnd is the last day of data the fit uses; zero: today.
	CalibrationEnd time.Time
	// Margin is the share of revenue that is profit (default 0.3).
	Margin float64
	// AnnualDiscount is the yearly discount rate of CLV (default 0.1).
	AnnualDiscount float64
	// HorizonDays is how far ahead CLV counts (default 365).
	HorizonDays int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (o *Options) defaults() error {
	if o.Unit == 0 {
		o.Unit = 7 * 24 * time.Hour
	}
	if o.Unit < 24*time.Hour || o.Unit%(24*time.Hour) != 0 {
		return fmt.Errorf("time unit %v must be a whole number of days", o.Unit)
	}
	if o.Model == "" {
		o.Model = "auto"
	}
	if o.Model != "auto" {
		ok := false
		for _, n := range predict.Models {
			ok = ok || n == o.Model
		}
		if !ok {
			return fmt.Errorf("model %q: use auto or one of %v", o.Model, predict.Models)
		}
	}
	if o.Margin == 0 {
		o.Margin = 0.3
	}
	if !(o.Margin > 0 && o.Margin <= 1) {
		return fmt.Errorf("margin %v must be in (0, 1]", o.Margin)
	}
	if o.AnnualDiscount == 0 {
		o.AnnualDiscount = 0.1
	}
	if !(o.AnnualDiscount > -1) || o.AnnualDiscount > 10 {
		return fmt.Errorf("annual discount rate %v must be between -1 and 10", o.AnnualDiscount)
	}
	if o.HorizonDays == 0 {
		o.HorizonDays = 365
	}
	if o.HorizonDays < 1 || o.HorizonDays > 36500 {
		return fmt.Errorf("horizon of %d days must be from 1 to 36500", o.HorizonDays)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// Candidate is one model tried in a fit.
type Candidate struct {
	Name   string    `json:"name"`
	Params []float64 `json:"params,omitempty"`
	LogLik float64   `json:"logLik,omitempty"`
	BIC    float64   `json:"bic,omitempty"`
	// HoldoutMAE is the mean absolute error per customer when fitted on the
	// first three quarters of the history and checked on the last quarter.
	HoldoutMAE float64 `json:"holdoutMAE,omitempty"`
	Error      string  `json:"error,omitempty"`
}

// Spend are the Gamma-Gamma parameters.
type Spend struct {
	P, Q, Gamma float64
	LogLik      float64 `json:"logLik"`
	Customers   float64 `json:"customers"`
}

// Model is a fitted model as kept in the store.
type Model struct {
	Name           string      `json:"name"`
	ParamNames     []string    `json:"paramNames"`
	Params         []float64   `json:"params"`
	SE             []float64   `json:"se,omitempty"`
	LogLik         float64     `json:"logLik"`
	BIC            float64     `json:"bic"`
	Customers      float64     `json:"customers"`
	RepeatBuyers   int         `json:"repeatBuyers"`
	Spend          *Spend      `json:"spend,omitempty"`
	SpendError     string      `json:"spendError,omitempty"`
	UnitDays       int         `json:"unitDays"`
	CalibrationEnd time.Time   `json:"calibrationEnd"`
	FittedAt       time.Time   `json:"fittedAt"`
	Candidates     []Candidate `json:"candidates"`
	// ChosenBy says how the model was chosen: "holdout" (lowest holdout
	// error), "bic" (lowest BIC, when no holdout check was possible) or
	// "option" (named by --model).
	ChosenBy       string  `json:"chosenBy"`
	Margin         float64 `json:"margin"`
	AnnualDiscount float64 `json:"annualDiscount"`
	HorizonDays    int     `json:"horizonDays"`
	// CLVCuts are the 0th..100th percentiles of CLV at the last full
	// scoring, so that one customer's percentile can be placed at once.
	CLVCuts  []float64 `json:"clvCuts,omitempty"`
	ScoredAt time.Time `json:"scoredAt,omitempty"`
	Scored   int       `json:"scored,omitempty"`
}

// ErrNoModel means no model has been fitted yet.
var ErrNoModel = errors.New("no model fitted yet: run kunding models fit")

func predictionStore(st store.Store) (store.PredictionStore, error) {
	ps, ok := st.(store.PredictionStore)
	if !ok {
		return nil, fmt.Errorf("the store keeps no predictions")
	}
	return ps, nil
}

// transactions reads every order of every customer as model input.
func transactions(ctx context.Context, st store.Store) ([]predict.Transaction, error) {
	ps, err := predictionStore(st)
	if err != nil {
		return nil, err
	}
	var txs []predict.Transaction
	err = ps.EachOrder(ctx, func(o store.Order) error {
		if o.RevenueMicros < 0 {
			return fmt.Errorf("customer %s order %d (seq %d) has a negative amount %.2f: refunds are not orders",
				o.CustomerID, len(txs), o.Seq, float64(o.RevenueMicros)/1e6)
		}
		txs = append(txs, predict.Transaction{Customer: o.CustomerID, Time: o.Timestamp, Amount: float64(o.RevenueMicros) / 1e6})
		return nil
	})
	return txs, err
}

// Fit fits the models on all orders up to the calibration end, chooses one,
// fits the spend model and keeps the result. On any error the model in use
// stays as it was.
func Fit(ctx context.Context, st store.Store, o Options) (Model, error) {
	if err := o.defaults(); err != nil {
		return Model{}, err
	}
	txs, err := transactions(ctx, st)
	if err != nil {
		return Model{}, err
	}
	calEnd := o.CalibrationEnd
	if calEnd.IsZero() {
		calEnd = o.Now()
	}
	cohort, err := predict.Summarize(txs, predict.SummaryOptions{CalibrationEnd: calEnd, Unit: o.Unit})
	if err != nil {
		return Model{}, fmt.Errorf("fit: %w", err)
	}
	var holdout map[string]float64
	if o.Model == "auto" {
		holdout = holdoutErrors(txs, cohort, calEnd, o.Unit)
	}
	m, err := fitCohort(cohort, o, holdout)
	if err != nil {
		return Model{}, err
	}
	m.FittedAt = o.Now().UTC()
	if err := save(ctx, st, m); err != nil {
		return Model{}, err
	}
	return m, nil
}

// holdoutErrors fits every model on the first three quarters of the
// history and returns each one's mean absolute error per customer on the
// last quarter; nil when the history is too short or nothing could be fitted.
func holdoutErrors(txs []predict.Transaction, full *predict.Cohort, calEnd time.Time, unit time.Duration) map[string]float64 {
	span := calEnd.Sub(full.Start)
	split := full.Start.Add(span * 3 / 4).Truncate(24 * time.Hour)
	if span < 8*unit || !split.After(full.Start) {
		return nil
	}
	hc, err := predict.Summarize(txs, predict.SummaryOptions{CalibrationEnd: split, HoldoutEnd: calEnd, Unit: unit})
	if err != nil {
		return nil
	}
	out := map[string]float64{}
	for _, name := range predict.Models {
		tm, err := predict.FitTransactionModel(name, hc.Data(), predict.FitOptions{SkipSE: true})
		if err != nil {
			continue
		}
		if e, err := predict.EvaluateHoldout(tm, hc); err == nil && !math.IsNaN(e.MAE) {
			out[name] = e.MAE
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// fitCohort fits the candidate models and the spend model on a cohort, and
// chooses the one with the lowest holdout error (holdout, when given) or
// else the lowest BIC.
func fitCohort(cohort *predict.Cohort, o Options, holdout map[string]float64) (Model, error) {
	data := cohort.Data()
	names := predict.Models
	if o.Model != "auto" {
		names = []string{o.Model}
	}
	var best predict.TransactionModel
	var cands []Candidate
	var errs []string
	for _, name := range names {
		tm, err := predict.FitTransactionModel(name, data, predict.FitOptions{})
		if err != nil {
			cands = append(cands, Candidate{Name: name, Error: err.Error()})
			errs = append(errs, name+": "+err.Error())
			continue
		}
		cands = append(cands, Candidate{Name: name, Params: tm.Params(), LogLik: tm.Fitted().LogLik, BIC: predict.BIC(tm), HoldoutMAE: holdout[name]})
		if best == nil || better(tm, best, holdout) {
			best = tm
		}
	}
	chosenBy := "bic"
	switch {
	case o.Model != "auto":
		chosenBy = "option"
	case best != nil && holdout[best.Name()] > 0:
		chosenBy = "holdout"
	}
	if best == nil {
		return Model{}, fmt.Errorf("fit failed, the previous model stays in use: %v", errs)
	}
	f := best.Fitted()
	m := Model{Name: best.Name(), ParamNames: best.ParamNames(), Params: best.Params(), SE: f.SE, LogLik: f.LogLik,
		BIC: predict.BIC(best), Customers: f.N, UnitDays: int(o.Unit / (24 * time.Hour)), CalibrationEnd: cohort.CalibrationEnd,
		Candidates: cands, ChosenBy: chosenBy, Margin: o.Margin, AnnualDiscount: o.AnnualDiscount, HorizonDays: o.HorizonDays}
	// The spend model needs positive mean spend: repeat buyers whose repeat
	// orders were all free carry no information on spend.
	var spend []predict.SpendCustomer
	for _, s := range cohort.SpendData() {
		if s.X > 0 && s.MeanSpend > 0 {
			spend = append(spend, s)
			m.RepeatBuyers++
		}
	}
	gg, err := predict.FitGammaGamma(spend, predict.FitOptions{})
	if err != nil {
		m.SpendError = err.Error()
	} else {
		m.Spend = &Spend{P: gg.P, Q: gg.Q, Gamma: gg.Gamma, LogLik: gg.Fit.LogLik, Customers: gg.Fit.N}
	}
	for i, se := range m.SE {
		if math.IsNaN(se) || math.IsInf(se, 0) {
			m.SE[i] = -1 // JSON has no NaN; -1 says "not determined"
		}
	}
	return m, nil
}

// better prefers the lower holdout error where both have one, else the
// lower BIC.
func better(a, b predict.TransactionModel, holdout map[string]float64) bool {
	ea, oka := holdout[a.Name()]
	eb, okb := holdout[b.Name()]
	if oka && okb {
		return ea < eb
	}
	if oka != okb {
		return oka
	}
	return predict.BIC(a) < predict.BIC(b)
}

func save(ctx context.Context, st store.Store, m Model) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return st.SetSetting(ctx, SettingKey, string(b))
}

// Load reads the model in use.
func Load(ctx context.Context, st store.Store) (Model, error) {
	v, err := st.Setting(ctx, SettingKey)
	if errors.Is(err, store.ErrNotFound) {
		return Model{}, ErrNoModel
	}
	if err != nil {
		return Model{}, err
	}
	var m Model
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return Model{}, fmt.Errorf("stored model: %w", err)
	}
	return m, nil
}

// scorer computes predictions with one model.
type scorer struct {
	m   Model
	tm  predict.TransactionModel
	gg  *predict.GammaGamma
	clv predict.CLVOptions
	day float64 // days per unit
}

func newScorer(m Model) (*scorer, error) {
	tm, err := predict.NewTransactionModel(m.Name, m.Params)
	if err != nil {
		return nil, err
	}
	s := &scorer{m: m, tm: tm, day: float64(m.UnitDays)}
	if m.Spend != nil {
		s.gg = &predict.GammaGamma{P: m.Spend.P, Q: m.Spend.Q, Gamma: m.Spend.Gamma}
	}
	month := 365.25 / 12 / s.day
	s.clv = predict.CLVOptions{Horizon: float64(m.HorizonDays) / s.day, Period: month,
		DiscountRate: math.Pow(1+m.AnnualDiscount, 1.0/12) - 1, Margin: m.Margin}
	return s, nil
}

// score predicts one customer from their summary at the scoring moment.
func (s *scorer) score(cs predict.CustomerSummary, now time.Time) (store.Prediction, error) {
	c := cs.Customer
	p := store.Prediction{CustomerID: cs.ID, Model: s.m.Name, ComputedAt: now.UTC().Truncate(time.Millisecond)}
	p.Expected90d = s.tm.ConditionalExpected(c, 90/s.day)
	p.PAlive = s.tm.PAlive(c)
	p.ChurnRisk = 1 - p.PAlive
	switch {
	case s.gg != nil && c.X > 0 && cs.MeanSpend > 0:
		p.ExpectedSpend = s.gg.ConditionalExpectedSpend(c.X, cs.MeanSpend)
	case s.gg != nil:
		p.ExpectedSpend = s.gg.ExpectedSpend()
	case cs.MeanSpend > 0:
		p.ExpectedSpend = cs.MeanSpend
	default:
		p.ExpectedSpend = cs.FirstSpend
	}
	clv, err := predict.CLV(s.tm, c, p.ExpectedSpend, s.clv)
	if err != nil {
		return p, err
	}
	p.CLV = clv
	p.CLVPercentile = percentile(s.m.CLVCuts, clv)
	for _, v := range []float64{p.Expected90d, p.PAlive, p.ExpectedSpend, p.CLV} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return p, fmt.Errorf("customer %s: the model gives a non-finite prediction", cs.ID)
		}
	}
	return p, nil
}

// percentile places v among the cut points (0..100th percentiles).
func percentile(cuts []float64, v float64) float64 {
	if len(cuts) < 2 {
		return 0
	}
	i := sort.SearchFloat64s(cuts, v)
	return math.Round(float64(i)*100/float64(len(cuts)-1)*10) / 10
}

// summaries turns one customer's orders into the model input at now.
func summarize(txs []predict.Transaction, now time.Time, unit time.Duration) (*predict.Cohort, error) {
	return predict.Summarize(txs, predict.SummaryOptions{CalibrationEnd: now, Unit: unit})
}

// Scorer keeps the model in use and scores customers when they order.
type Scorer struct {
	Store store.Store
	Now   func() time.Time

	mu       sync.Mutex
	cached   *scorer
	loadedAt time.Time
}

// reloadEvery bounds how long a node keeps a model after another node refit.
const reloadEvery = 30 * time.Second

func (s *Scorer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scorer) model(ctx context.Context) (*scorer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cached != nil && time.Since(s.loadedAt) < reloadEvery {
		return s.cached, nil
	}
	m, err := Load(ctx, s.Store)
	if err != nil {
		return nil, err
	}
	sc, err := newScorer(m)
	if err != nil {
		return nil, err
	}
	s.cached, s.loadedAt = sc, time.Now()
	return sc, nil
}

// Forget drops the cached model (after a refit on this node).
func (s *Scorer) Forget() {
	s.mu.Lock()
	s.cached = nil
	s.mu.Unlock()
}

// Score recomputes the predictions of the given customers. Without a
// fitted model it does nothing.
func (s *Scorer) Score(ctx context.Context, customerIDs []string) error {
	if len(customerIDs) == 0 {
		return nil
	}
	sc, err := s.model(ctx)
	if errors.Is(err, ErrNoModel) {
		return nil
	}
	if err != nil {
		return err
	}
	ps, err := predictionStore(s.Store)
	if err != nil {
		return err
	}
	now := s.now()
	unit := time.Duration(sc.m.UnitDays) * 24 * time.Hour
	var out []store.Prediction
	for _, id := range customerIDs {
		orders, err := s.Store.Orders(ctx, id)
		if err != nil {
			return err
		}
		txs := make([]predict.Transaction, 0, len(orders))
		for _, o := range orders {
			if o.RevenueMicros < 0 {
				continue // a refund is not a purchase
			}
			txs = append(txs, predict.Transaction{Customer: id, Time: o.Timestamp, Amount: float64(o.RevenueMicros) / 1e6})
		}
		if len(txs) == 0 {
			continue
		}
		cohort, err := summarize(txs, now, unit)
		if err != nil {
			continue // e.g. orders dated in the future: nothing to predict yet
		}
		p, err := sc.score(cohort.Customers[0], now)
		if err != nil {
			return err
		}
		out = append(out, p)
	}
	return ps.SavePredictions(ctx, out)
}

// ScoreAll scores every customer with orders, renews the CLV percentiles
// and keeps them with the model. progress, if set, gets (done, total).
func ScoreAll(ctx context.Context, st store.Store, now time.Time, progress func(done, total int)) (int, error) {
	m, err := Load(ctx, st)
	if err != nil {
		return 0, err
	}
	sc, err := newScorer(m)
	if err != nil {
		return 0, err
	}
	ps, err := predictionStore(st)
	if err != nil {
		return 0, err
	}
	txs, err := transactions(ctx, st)
	if err != nil {
		return 0, err
	}
	unit := time.Duration(m.UnitDays) * 24 * time.Hour
	// Orders after now (clock skew) would make a customer unscorable: leave
	// them out of this scoring.
	kept := txs[:0]
	for _, t := range txs {
		if !t.Time.After(now) {
			kept = append(kept, t)
		}
	}
	cohort, err := summarize(kept, now, unit)
	if err != nil {
		return 0, err
	}
	preds := make([]store.Prediction, 0, len(cohort.Customers))
	for _, cs := range cohort.Customers {
		p, err := sc.score(cs, now)
		if err != nil {
			return 0, err
		}
		preds = append(preds, p)
	}
	clvs := make([]float64, len(preds))
	for i, p := range preds {
		clvs[i] = p.CLV
	}
	sort.Float64s(clvs)
	cuts := make([]float64, 101)
	for k := range cuts {
		cuts[k] = clvs[min(len(clvs)-1, k*(len(clvs)-1)/100)]
	}
	for i := range preds {
		preds[i].CLVPercentile = percentile(cuts, preds[i].CLV)
	}
	if err := ps.DeletePredictions(ctx); err != nil {
		return 0, err
	}
	const chunk = 5000
	for i := 0; i < len(preds); i += chunk {
		if err := ps.SavePredictions(ctx, preds[i:min(i+chunk, len(preds))]); err != nil {
			return 0, err
		}
		if progress != nil {
			progress(min(i+chunk, len(preds)), len(preds))
		}
	}
	m.CLVCuts, m.ScoredAt, m.Scored = cuts, now.UTC(), len(preds)
	return len(preds), save(ctx, st, m)
}
