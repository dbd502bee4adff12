package scoring_test

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/importer"
	"github.com/kunding/kunding/internal/predict"
	"github.com/kunding/kunding/internal/scoring"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/storetest"
)

const cdnowDir = "../../../shared/data/cdnow/"

// eachStore runs a test on SQLite and on PostgreSQL.
func eachStore(t *testing.T, fn func(t *testing.T, st store.Store)) { storetest.EachStore(t, fn) }

// load imports a CDNOW file through the product's importer and pipeline.
func load(t *testing.T, st store.Store, file, mapping string, header bool) {
	t.Helper()
	ctx := context.Background()
	path := cdnowDir + file
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the CDNOW data is needed: %v", err)
	}
	src, err := source.Create(ctx, st, "CDNOW", "import")
	if err != nil {
		t.Fatal(err)
	}
	m, err := importer.ParseMapping(mapping)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := importer.ImportTransactions(ctx, importer.Options{Store: st, Source: src, File: file,
		Open: func() (io.ReadCloser, error) { return os.Open(path) }},
		importer.Transactions{Mapping: m, Delimiter: "whitespace", NoHeader: !header, Currency: "USD"})
	if err != nil || sum.Rejected != 0 {
		t.Fatalf("import: %+v %v", sum, err)
	}
	if _, err := importer.Process(ctx, st, "test", nil); err != nil {
		t.Fatal(err)
	}
}

func near(t *testing.T, what string, got, want, rel float64) {
	t.Helper()
	if math.Abs(got-want) > rel*math.Abs(want) {
		t.Errorf("%s = %.6g, want %.6g (±%.2g%%)", what, got, want, rel*100)
	}
}

func week(r scoring.Report, m scoring.ModelReport, k int) predict.TrackingPoint {
	for _, p := range m.Tracking {
		if p.Period == k {
			return p
		}
	}
	return predict.TrackingPoint{}
}

var weeks = scoring.Options{Unit: 7 * 24 * time.Hour}

func calEnd() time.Time { return time.Date(1997, 9, 30, 0, 0, 0, 0, time.UTC) }

// TestValidateSample reproduces the published tracking of the 1/10 sample
// through import, pipeline and `models validate`.
func TestValidateSample(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		load(t, st, "CDNOW_sample.txt", "user_id=1,date=3:20060102,quantity=4,revenue=5", false)
		o := weeks
		o.Model = "bgnbd"
		o.CalibrationEnd = calEnd()
		r, err := scoring.Validate(context.Background(), st, scoring.ValidateOptions{Options: o})
		if err != nil {
			t.Fatal(err)
		}
		if r.Customers != 2357 {
			t.Fatalf("customers = %d", r.Customers)
		}
		bg := r.Models[0]
		near(t, "actual at week 39", week(r, bg, 39).Actual, 2457, 0.005)
		near(t, "actual at week 78", week(r, bg, 78).Actual, 4339, 0.005)
		near(t, "BG/NBD forecast at week 78", week(r, bg, 78).Expected, 4160.6, 0.005)
		near(t, "BG/NBD r", bg.Params[0], 0.2426, 0.005)
	})
}

// TestValidateMaster reproduces the figures on all 23,570 customers.
func TestValidateMaster(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		load(t, st, "CDNOW_master.txt", "user_id=customer_id,date=date:20060102,quantity=number_of_cds,revenue=dollar_value", true)
		o := weeks
		o.CalibrationEnd = calEnd()
		r, err := scoring.Validate(context.Background(), st, scoring.ValidateOptions{Options: o})
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]scoring.ModelReport{}
		for _, m := range r.Models {
			if m.Error != "" {
				t.Fatalf("%s: %s", m.Name, m.Error)
			}
			byName[m.Name] = m
		}
		bg, pnbd := byName["bgnbd"], byName["paretonbd"]
		for i, want := range []float64{0.25162, 4.78894, 0.72343, 2.16109} {
			near(t, "BG/NBD "+[]string{"r", "alpha", "a", "b"}[i], bg.Params[i], want, 0.005)
		}
		near(t, "BG/NBD LL", bg.LogLik, -95368.44, 0.005)
		for i, want := range []float64{0.59742, 11.58566, 0.52219, 8.82777} {
			near(t, "Pareto/NBD "+[]string{"r", "alpha", "s", "beta"}[i], pnbd.Params[i], want, 0.005)
		}
		near(t, "actual at week 39", week(r, bg, 39).Actual, 24337, 0.005)
		near(t, "actual at week 78", week(r, bg, 78).Actual, 44021, 0.005)
		near(t, "BG/NBD forecast at week 78", week(r, bg, 78).Expected, 41301, 0.005)
		near(t, "Pareto/NBD forecast at week 78", week(r, pnbd, 78).Expected, 42116, 0.005)
		near(t, "holdout actual", bg.Holdout.Actual, 19684, 0.005)
		near(t, "BG/NBD conditional expectations weeks 40-78", bg.Holdout.Expected, 16874, 0.005)
		near(t, "Pareto/NBD conditional expectations weeks 40-78", pnbd.Holdout.Expected, 17153, 0.005)
	})
}

// TestFitScoreAndBadInput fits on the sample, scores everyone, and checks
// that a failing fit leaves the model in use as it was.
func TestFitScoreAndBadInput(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		// Too few customers: a clear error, and no model.
		empty := weeks
		if _, err := scoring.Fit(ctx, st, empty); err == nil {
			t.Fatal("fit on an empty store succeeded")
		}
		if _, err := scoring.Load(ctx, st); !errors.Is(err, scoring.ErrNoModel) {
			t.Fatalf("a failed fit left a model: %v", err)
		}
		load(t, st, "CDNOW_sample.txt", "user_id=1,date=3:20060102,quantity=4,revenue=5", false)
		o := weeks
		o.CalibrationEnd = time.Date(1998, 6, 30, 0, 0, 0, 0, time.UTC)
		m, err := scoring.Fit(ctx, st, o)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Candidates) != 3 || m.Spend == nil || m.Customers != 2357 {
			t.Fatalf("model = %+v", m)
		}
		// auto chooses by the error on the last quarter of the history.
		if m.ChosenBy != "holdout" {
			t.Fatalf("chosen by %q, want holdout", m.ChosenBy)
		}
		for _, c := range m.Candidates {
			if c.HoldoutMAE <= 0 || (c.Name != m.Name && c.HoldoutMAE < holdoutOf(m)) {
				t.Fatalf("candidate %+v against chosen %s (MAE %v)", c, m.Name, holdoutOf(m))
			}
		}
		now := time.Date(1998, 7, 1, 0, 0, 0, 0, time.UTC)
		n, err := scoring.ScoreAll(ctx, st, now, nil)
		if err != nil || n != 2357 {
			t.Fatalf("scored %d, %v", n, err)
		}
		ps := st.(store.PredictionStore)
		// Master id 00004 is the first customer of the sample.
		c, err := st.CustomerByIdentifier(ctx, store.Identifier{Kind: "user", Value: "00004"})
		if err != nil {
			t.Fatal(err)
		}
		p, err := ps.Prediction(ctx, c.CustomerID)
		if err != nil {
			t.Fatal(err)
		}
		if p.Model != m.Name || !(p.PAlive > 0 && p.PAlive <= 1) || math.Abs(p.ChurnRisk-(1-p.PAlive)) > 1e-12 ||
			p.ExpectedSpend <= 0 || p.CLV < 0 || p.CLVPercentile < 0 || p.CLVPercentile > 100 {
			t.Fatalf("prediction = %+v", p)
		}
		// A refit that cannot work keeps the model in use.
		bad := weeks
		bad.CalibrationEnd = time.Date(1996, 1, 1, 0, 0, 0, 0, time.UTC) // before any purchase
		if _, err := scoring.Fit(ctx, st, bad); err == nil {
			t.Fatal("fit before the first purchase succeeded")
		}
		kept, err := scoring.Load(ctx, st)
		if err != nil || kept.FittedAt != m.FittedAt.UTC() || kept.Scored != 2357 {
			t.Fatalf("model after a failed refit: %+v %v", kept, err)
		}
		for _, bad := range []scoring.Options{{Model: "magic"}, {Margin: 2}, {Unit: 36 * time.Hour}, {HorizonDays: -1}} {
			if _, err := scoring.Fit(ctx, st, bad); err == nil {
				t.Errorf("options %+v accepted", bad)
			}
		}
	})
}

func holdoutOf(m scoring.Model) float64 {
	for _, c := range m.Candidates {
		if c.Name == m.Name {
			return c.HoldoutMAE
		}
	}
	return 0
}
