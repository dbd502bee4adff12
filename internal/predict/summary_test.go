package predict

import (
	"errors"
	"math"
	"strconv"
	"testing"
	"time"
)

// TestSummarizeCDNOWSample rebuilds the published summary files from the raw
// sample transactions: every customer's x, t_x, T (weeks, rounded to 2
// decimals in the files) and mean repeat spend.
func TestSummarizeCDNOWSample(t *testing.T) {
	c := cdnowCohort(t, "CDNOW_sample.txt")
	if len(c.Customers) != 2357 || c.Late != 0 {
		t.Fatalf("%d customers (%d late), want 2357", len(c.Customers), c.Late)
	}
	if !c.Start.Equal(cohortStart) {
		t.Errorf("start %v, want 1997-01-01", c.Start)
	}
	if c.HoldoutLength() != 39 {
		t.Errorf("holdout %v weeks, want 39", c.HoldoutLength())
	}
	want := map[int][]string{}
	for _, r := range readCSV(t, "cdnow_customers_summary_with_transactions.csv") {
		id, _ := strconv.Atoi(r[0])
		want[id] = r
	}
	round2 := func(v float64) float64 { return math.Round(v*100) / 100 }
	var sumX, mismatches int
	for _, s := range c.Customers {
		id, err := strconv.Atoi(s.ID)
		if err != nil {
			t.Fatal(err)
		}
		w, ok := want[id]
		if !ok {
			t.Fatalf("customer %s not in the summary file", s.ID)
		}
		sumX += int(s.X)
		if s.X != atof(t, w[1]) || round2(s.Tx) != atof(t, w[2]) || round2(s.T) != atof(t, w[3]) ||
			!near(s.MeanSpend, atof(t, w[4]), 0.0051) {
			if mismatches++; mismatches < 5 {
				t.Errorf("customer %d: x %v t_x %.4f T %.4f zbar %.4f, file %v", id, s.X, s.Tx, s.T, s.MeanSpend, w[1:])
			}
		}
	}
	if mismatches > 0 {
		t.Errorf("%d customers differ from the summary file", mismatches)
	}
	if sumX != 2457 {
		t.Errorf("Σ x = %d, want 2457", sumX)
	}
}

// TestTrackingCDNOWSample reproduces the tracking figures of Fader, Hardie
// & Lee (2005) on the 2,357 sample customers through the summary builder.
func TestTrackingCDNOWSample(t *testing.T) {
	c := cdnowCohort(t, "CDNOW_sample.txt")
	m, err := FitBGNBD(c.Data(), FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("BG/NBD on exact weeks: r %.7f alpha %.7f a %.7f b %.7f LL %.4f", m.R, m.Alpha, m.A, m.B, m.LogLik)
	// BTYD on the exact weekly data.
	checkParams(t, m, []float64{0.2425982, 4.4136842, 0.7929899, 2.4261667}, 0.005)
	if !near(m.LogLik, -9582.429, 0.01) {
		t.Errorf("LL = %.4f, want -9582.429", m.LogLik)
	}
	tr := CumulativeTracking(m, c)
	if len(tr) != 78 {
		t.Fatalf("%d weeks tracked, want 78", len(tr))
	}
	w39, w78 := tr[38], tr[77]
	t.Logf("week 39: actual %v forecast %.1f; week 78: actual %v forecast %.1f", w39.Actual, w39.Expected, w78.Actual, w78.Expected)
	if w39.Actual != 2457 || w78.Actual != 4339 {
		t.Errorf("actual cumulative repeat transactions %v at week 39, %v at week 78, want 2457 and 4339", w39.Actual, w78.Actual)
	}
	if !within(w78.Expected, 4160.6, 0.005) {
		t.Errorf("BG/NBD forecast at week 78 %.1f, want 4160.6 ± 0.5%%", w78.Expected)
	}
	if w39.Holdout || !tr[39].Holdout || !w78.End.Equal(holdoutEnd) || !w39.End.Equal(calEnd) {
		t.Errorf("week 39 ends %v (holdout %v), week 78 ends %v", w39.End, w39.Holdout, w78.End)
	}
	ev, err := EvaluateHoldout(m, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("holdout: actual %v expected %.1f (%.1f%%), MAE %.3f RMSE %.3f", ev.Actual, ev.Expected, ev.ErrorPct, ev.MAE, ev.RMSE)
	if ev.Actual != 1882 {
		t.Errorf("holdout repeat transactions %v, want 1882", ev.Actual)
	}
	rows, err := ByFrequency(m, c, 7)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, r := range rows {
		n += r.Customers
		t.Logf("x %d%s: %d customers, actual %.3f, expected %.3f", r.X, map[bool]string{true: "+"}[r.OrMore], r.Customers, r.Actual, r.Expected)
	}
	if n != 2357 || rows[0].Customers != 1411 {
		t.Errorf("%d customers by frequency, %d with x = 0; want 2357 and 1411", n, rows[0].Customers)
	}
}

// TestCDNOWMaster reproduces the fits and tracking on all 23,570 customers.
func TestCDNOWMaster(t *testing.T) {
	c := cdnowCohort(t, "CDNOW_master.txt")
	if len(c.Customers) != 23570 {
		t.Fatalf("%d customers, want 23570", len(c.Customers))
	}
	data := c.Data()
	bg, err := FitBGNBD(data, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pn, err := FitParetoNBD(data, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("BG/NBD r %.5f alpha %.5f a %.5f b %.5f LL %.2f (%d rows, %v)", bg.R, bg.Alpha, bg.A, bg.B, bg.LogLik, bg.Rows, bg.Duration)
	t.Logf("Pareto/NBD r %.5f alpha %.5f s %.5f beta %.5f LL %.2f (%v)", pn.R, pn.Alpha, pn.S, pn.Beta, pn.LogLik, pn.Duration)
	checkParams(t, bg, []float64{0.25162, 4.78894, 0.72343, 2.16109}, 0.005)
	if !near(bg.LogLik, -95368.44, 0.01) {
		t.Errorf("BG/NBD LL %.2f, want -95368.44", bg.LogLik)
	}
	checkParams(t, pn, []float64{0.59742, 11.58566, 0.52219, 8.82777}, 0.005)

	for _, tt := range []struct {
		m                 TransactionModel
		week78, condition float64
	}{
		{bg, 41301, 16874},
		{pn, 42116, 17153},
	} {
		tr := CumulativeTracking(tt.m, c)
		if len(tr) != 78 {
			t.Fatalf("%d weeks tracked, want 78", len(tr))
		}
		if tr[38].Actual != 24337 || tr[77].Actual != 44021 {
			t.Errorf("actual %v at week 39, %v at week 78; want 24337 and 44021", tr[38].Actual, tr[77].Actual)
		}
		ev, err := EvaluateHoldout(tt.m, c)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: forecast at week 78 %.1f; weeks 40-78 Σ E[Y|x,t_x,T] %.1f against %v actual", tt.m.Name(), tr[77].Expected, ev.Expected, ev.Actual)
		if !within(tr[77].Expected, tt.week78, 0.005) {
			t.Errorf("%s: forecast at week 78 %.1f, want %v ± 0.5%%", tt.m.Name(), tr[77].Expected, tt.week78)
		}
		if !within(ev.Expected, tt.condition, 0.005) || ev.Actual != 19684 {
			t.Errorf("%s: holdout Σ conditional expectations %.1f (want %v ± 0.5%%), actual %v (want 19684)", tt.m.Name(), ev.Expected, tt.condition, ev.Actual)
		}
	}
}

func TestSummarizeRules(t *testing.T) {
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	txs := []Transaction{
		{"b", day("2024-01-10"), 5},
		{"a", day("2024-01-01").Add(9 * time.Hour), 10},
		{"a", day("2024-01-01").Add(20 * time.Hour), 5}, // same day: one transaction
		{"a", day("2024-01-08"), 20},
		{"a", day("2024-01-15"), 40},
		{"a", day("2024-01-29"), 7}, // holdout
		{"a", day("2024-03-01"), 7}, // after the holdout: ignored
		{"c", day("2024-01-20"), 1}, // first purchase after calibration: late
	}
	c, err := Summarize(txs, SummaryOptions{CalibrationEnd: day("2024-01-15"), HoldoutEnd: day("2024-01-29"), Unit: 7 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Customers) != 2 || c.Late != 1 {
		t.Fatalf("customers %+v, late %d", c.Customers, c.Late)
	}
	a, b := c.Customers[0], c.Customers[1]
	if a.ID != "a" || a.X != 2 || a.Tx != 2 || a.T != 2 || a.FirstSpend != 15 || a.MeanSpend != 30 || a.HoldoutX != 1 || a.HoldoutSpend != 7 {
		t.Errorf("a: %+v", a)
	}
	if b.ID != "b" || b.X != 0 || b.Tx != 0 || b.T != 5.0/7 || b.MeanSpend != 0 {
		t.Errorf("b: %+v", b)
	}
	if c.HoldoutLength() != 2 {
		t.Errorf("holdout %v units, want 2", c.HoldoutLength())
	}

	bad := []struct {
		name string
		txs  []Transaction
		opts SummaryOptions
	}{
		{"negative amount", []Transaction{{"a", day("2024-01-01"), -1}}, SummaryOptions{CalibrationEnd: day("2024-02-01"), Unit: 24 * time.Hour}},
		{"no customer", []Transaction{{"", day("2024-01-01"), 1}}, SummaryOptions{CalibrationEnd: day("2024-02-01"), Unit: 24 * time.Hour}},
		{"no date", []Transaction{{"a", time.Time{}, 1}}, SummaryOptions{CalibrationEnd: day("2024-02-01"), Unit: 24 * time.Hour}},
		{"NaN amount", []Transaction{{"a", day("2024-01-01"), math.NaN()}}, SummaryOptions{CalibrationEnd: day("2024-02-01"), Unit: 24 * time.Hour}},
		{"unit of hours", txs, SummaryOptions{CalibrationEnd: day("2024-02-01"), Unit: time.Hour}},
		{"holdout before calibration end", txs, SummaryOptions{CalibrationEnd: day("2024-02-01"), HoldoutEnd: day("2024-01-01"), Unit: 24 * time.Hour}},
		{"no calibration end", txs, SummaryOptions{Unit: 24 * time.Hour}},
	}
	for _, tt := range bad {
		if _, err := Summarize(tt.txs, tt.opts); !errors.Is(err, ErrBadInput) {
			t.Errorf("%s: err = %v, want ErrBadInput", tt.name, err)
		}
	}
	if _, err := Summarize(txs, SummaryOptions{CalibrationEnd: day("2023-01-01"), Unit: 24 * time.Hour}); !errors.Is(err, ErrTooFewCustomers) {
		t.Errorf("everyone late: err = %v", err)
	}
}
