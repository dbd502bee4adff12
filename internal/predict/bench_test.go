package predict

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
)

// simulateBGNBD draws n customers from a BG/NBD process with the CDNOW
// estimates: first purchases spread over 12 weeks, calibration to day 272.
// With onDays, purchase times are whole days (same-day purchases merged) as
// in real data, which is what makes compression pay.
func simulateBGNBD(n int, seed uint64, onDays bool) []Customer {
	src := rand.NewPCG(seed, 7)
	rnd := rand.New(src)
	lambda := distuv.Gamma{Alpha: 0.2426, Beta: 4.414, Src: src} // per week
	drop := distuv.Beta{Alpha: 0.793, Beta: 2.426, Src: src}
	out := make([]Customer, n)
	for i := range out {
		first := rnd.IntN(84)
		T := float64(272-first) / 7
		rate, p := lambda.Rand(), drop.Rand()
		var x, tx, t float64
		for {
			t += rnd.ExpFloat64() / rate
			if t > T {
				break
			}
			if onDays {
				d := math.Floor(t*7) / 7
				if d == tx || d == 0 {
					continue // same day as the last purchase
				}
				x, tx = x+1, d
			} else {
				x, tx = x+1, t
			}
			if rnd.Float64() < p {
				break
			}
		}
		out[i] = Customer{X: x, Tx: tx, T: T}
	}
	return out
}

// TestBGNBDRecoversSimulatedParameters fits BG/NBD on customers simulated
// from known parameters and expects them back within 3 standard errors,
// which also checks that the standard errors are of the right size.
func TestBGNBDRecoversSimulatedParameters(t *testing.T) {
	m, err := FitBGNBD(simulateBGNBD(20000, 1, false), FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	truth := []float64{0.2426, 4.414, 0.793, 2.426}
	for i, name := range m.ParamNames() {
		if z := (m.Params()[i] - truth[i]) / m.SE[i]; math.Abs(z) > 3 {
			t.Errorf("%s = %.4f ± %.4f, true %.4f (%.1f SE off)", name, m.Params()[i], m.SE[i], truth[i], z)
		}
	}
}

func benchFit(b *testing.B, data []Customer, fit func([]Customer, FitOptions) (TransactionModel, error)) {
	b.ReportAllocs()
	var m TransactionModel
	cpu := cpuTime()
	for b.Loop() {
		var err error
		if m, err = fit(data, FitOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
	f := m.Fitted()
	b.ReportMetric(float64(len(data)), "customers")
	b.ReportMetric(float64(f.Rows), "rows")
	b.ReportMetric(float64(f.Evaluations), "evals")
}

func bgnbdFit(d []Customer, o FitOptions) (TransactionModel, error)  { return FitBGNBD(d, o) }
func paretoFit(d []Customer, o FitOptions) (TransactionModel, error) { return FitParetoNBD(d, o) }

// Targets (issue 5): < 50 ms on the sample, < 300 ms on the master file,
// < 5 s on a million customers; standard errors included.
func BenchmarkFitBGNBDSample(b *testing.B) { benchFit(b, cdnowSummary(b), bgnbdFit) }
func BenchmarkFitBGNBDMaster(b *testing.B) {
	benchFit(b, cdnowCohort(b, "CDNOW_master.txt").Data(), bgnbdFit)
}

func BenchmarkFitBGNBDMillion(b *testing.B) { benchFit(b, simulateBGNBD(1_000_000, 2, true), bgnbdFit) }
func BenchmarkFitParetoNBDSample(b *testing.B) {
	benchFit(b, cdnowSummary(b), paretoFit)
}
func BenchmarkFitParetoNBDMaster(b *testing.B) {
	benchFit(b, cdnowCohort(b, "CDNOW_master.txt").Data(), paretoFit)
}

// BenchmarkCustomerPredictions is what the product computes for one
// customer when an order arrives: P(alive), expected orders in the next 90
// days, expected order value and a one-year CLV discounted monthly.
// Target: < 5 µs.
func BenchmarkCustomerPredictions(b *testing.B) {
	models := []TransactionModel{
		BGNBD{R: 0.2425982, Alpha: 4.4136842, A: 0.7929899, B: 2.4261667},
		MBGNBD{R: 0.525, Alpha: 6.183, A: 0.891, B: 1.614},
		ParetoNBD{R: 0.5533, Alpha: 10.5776, S: 0.6062, Beta: 11.668},
	}
	gg := GammaGamma{P: 6.25, Q: 3.74, Gamma: 15.44}
	c := Customer{X: 4, Tx: 28.5, T: 38.86}
	opts := CLVOptions{Horizon: 52, Period: 52.0 / 12, DiscountRate: 0.01, Margin: 0.3}
	for _, m := range models {
		b.Run(m.Name(), func(b *testing.B) {
			var sink float64
			cpu := cpuTime()
			for b.Loop() {
				p := m.PAlive(c)
				e := m.ConditionalExpected(c, 90.0/7)
				spend := gg.ConditionalExpectedSpend(c.X, 35.2)
				v, err := CLV(m, c, spend, opts)
				if err != nil {
					b.Fatal(err)
				}
				sink += p + e + v
			}
			reportCPU(b, cpu)
			_ = sink
		})
	}
}

func BenchmarkSummarizeMaster(b *testing.B) {
	txs := cdnowTransactions(b, "CDNOW_master.txt")
	b.ReportAllocs()
	cpu := cpuTime()
	defer reportCPU(b, cpu)
	for b.Loop() {
		if _, err := Summarize(txs, SummaryOptions{CalibrationEnd: calEnd, HoldoutEnd: holdoutEnd, Unit: weekUnit}); err != nil {
			b.Fatal(err)
		}
	}
}

// reportCPU adds the CPU time per operation since start (see cpuTime).
func reportCPU(b *testing.B, start time.Duration) {
	if d := cpuTime() - start; d > 0 && b.N > 0 {
		b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
