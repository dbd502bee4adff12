package predict

import (
	"bufio"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// cdnowDir holds the reference data shared by every checkout (see its README).
const cdnowDir = "../../../shared/data/cdnow"

// readCSV returns the rows of a CSV file after its header; a missing file
// fails the test: the reference values must be checked, never skipped.
func readCSV(t testing.TB, name string) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(cdnowDir, name))
	if err != nil {
		t.Fatalf("reference data: %v", err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return recs[1:]
}

func atof(t testing.TB, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		t.Fatalf("number %q: %v", s, err)
	}
	return v
}

// cdnowSummary is cdnow_customers_summary.csv: ID, x, t_x, T in weeks.
func cdnowSummary(t testing.TB) []Customer {
	var out []Customer
	for _, r := range readCSV(t, "cdnow_customers_summary.csv") {
		out = append(out, Customer{X: atof(t, r[1]), Tx: atof(t, r[2]), T: atof(t, r[3])})
	}
	if len(out) != 2357 {
		t.Fatalf("cdnow summary: %d customers, want 2357", len(out))
	}
	return out
}

// cdnowSpend is cdnow_customers_summary_with_transactions.csv as (x, zbar).
func cdnowSpend(t testing.TB) []SpendCustomer {
	var out []SpendCustomer
	for _, r := range readCSV(t, "cdnow_customers_summary_with_transactions.csv") {
		out = append(out, SpendCustomer{X: atof(t, r[1]), MeanSpend: atof(t, r[4])})
	}
	return out
}

// donations is donations.csv as BG/BB rows.
func donations(t testing.TB) []Opportunity {
	var out []Opportunity
	for _, r := range readCSV(t, "donations.csv") {
		out = append(out, Opportunity{X: int(atof(t, r[0])), Tx: int(atof(t, r[1])), N: int(atof(t, r[2])), Weight: atof(t, r[3])})
	}
	return out
}

// cdnowTransactions reads CDNOW_master.txt (customer date cds value, with a
// header) or CDNOW_sample.txt (master-id sample-id date cds value).
func cdnowTransactions(t testing.TB, name string) []Transaction {
	t.Helper()
	f, err := os.Open(filepath.Join(cdnowDir, name))
	if err != nil {
		t.Fatalf("reference data: %v", err)
	}
	defer f.Close()
	var out []Transaction
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) == 0 || fs[0] == "customer_id" {
			continue
		}
		if len(fs) == 5 { // the sample: drop the master id
			fs = fs[1:]
		}
		if len(fs) != 4 {
			t.Fatalf("%s: line %q", name, sc.Text())
		}
		day, err := time.Parse("20060102", fs[1])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, Transaction{Customer: fs[0], Time: day, Amount: atof(t, fs[3])})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	cohortOnce  sync.Map // file name -> *cohortResult
	calEnd      = time.Date(1997, 9, 30, 0, 0, 0, 0, time.UTC)
	holdoutEnd  = time.Date(1998, 6, 30, 0, 0, 0, 0, time.UTC)
	weekUnit    = 7 * 24 * time.Hour
	cohortStart = time.Date(1997, 1, 1, 0, 0, 0, 0, time.UTC)
)

type cohortResult struct {
	once sync.Once
	c    *Cohort
	err  error
}

// cdnowCohort summarises a raw CDNOW file with the papers' calibration
// (to 1997-09-30) and holdout (to 1998-06-30) in weeks, once per test run.
func cdnowCohort(t testing.TB, name string) *Cohort {
	t.Helper()
	v, _ := cohortOnce.LoadOrStore(name, &cohortResult{})
	res := v.(*cohortResult)
	res.once.Do(func() {
		res.c, res.err = Summarize(cdnowTransactions(t, name), SummaryOptions{
			CalibrationEnd: calEnd, HoldoutEnd: holdoutEnd, Unit: weekUnit,
		})
	})
	if res.err != nil {
		t.Fatal(res.err)
	}
	return res.c
}

// within reports whether got is within rel (relative) of want.
func within(got, want, rel float64) bool {
	return math.Abs(got-want) <= rel*math.Abs(want)
}

// near reports whether got is within abs of want.
func near(got, want, abs float64) bool {
	return math.Abs(got-want) <= abs
}
