package satisfaction

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

func near(t *testing.T, what string, got Num, want, tol float64) {
	t.Helper()
	if math.IsNaN(float64(got)) || math.Abs(float64(got)-want) > tol {
		t.Errorf("%s = %v, want %v (±%v)", what, float64(got), want, tol)
	}
}

// npsA: 10 answers, 5 promoters (10,10,9,9,9), 2 passives (8,7), 3
// detractors (6,5,0).
var npsA = []int{10, 10, 9, 9, 9, 8, 7, 6, 5, 0}

func TestNPSAdjustedWald(t *testing.T) {
	s := Summarize(NPS, npsA)
	// NPS = 100·(5−3)/10 = 20.
	// n' = 13, p' = 5.75/13 = 0.442308, d' = 3.75/13 = 0.288462,
	// NPS' = 2/13 = 0.153846,
	// Var = (0.442308+0.288462−0.153846²)/13 = (0.730769−0.023669)/13 = 0.054392,
	// half = 1.96·√0.054392 = 1.96·0.233222 = 0.457106,
	// CI = 0.153846 ± 0.457106 = [−0.303260, 0.610952] → [−30.33, 61.10] points.
	if s.N != 10 || s.Promoters != 5 || s.Passives != 2 || s.Detractors != 3 {
		t.Fatalf("counts %+v", s)
	}
	near(t, "NPS", s.Value, 20, 1e-9)
	near(t, "NPS'", s.Adjusted, 100*2.0/13, 1e-9)
	near(t, "low", s.Low, -30.3260, 1e-3)
	near(t, "high", s.High, 61.0952, 1e-3)
	if got := s.Distribution; got[0] != 1 || got[5] != 1 || got[6] != 1 || got[9] != 3 || got[10] != 2 {
		t.Errorf("distribution %v", got)
	}
	// All promoters, n = 2: n' = 5, p' = 2.75/5 = 0.55, d' = 0.15,
	// NPS' = 0.4, Var = (0.7−0.16)/5 = 0.108, half = 1.96·0.328634 = 0.644121;
	// the upper bound 1.044 is clipped to 100.
	s = Summarize(NPS, []int{10, 9})
	near(t, "NPS all promoters", s.Value, 100, 1e-9)
	near(t, "low", s.Low, 100*(0.4-1.959963984540054*math.Sqrt(0.108)), 1e-9)
	near(t, "high", s.High, 100, 1e-9)
}

func TestCSATAdjustedWald(t *testing.T) {
	// 8 answers, 5 of them 4 or 5: CSAT = 62.5%.
	// z² = 3.841459, n' = 11.841459, p' = (5+1.920729)/11.841459 = 0.584449,
	// half = 1.96·√(0.584449·0.415551/11.841459) = 1.96·0.143213 = 0.280693,
	// CI = [0.303756, 0.865142].
	s := Summarize(CSAT, []int{5, 5, 4, 4, 4, 3, 2, 1})
	if s.N != 8 || s.Satisfied != 5 {
		t.Fatalf("counts %+v", s)
	}
	near(t, "CSAT", s.Value, 62.5, 1e-9)
	near(t, "p'", s.Adjusted, 58.4449, 1e-3)
	near(t, "low", s.Low, 30.3756, 1e-3)
	near(t, "high", s.High, 86.5142, 1e-3)
}

func TestCESMeanT(t *testing.T) {
	// 7,6,5,5,2: mean 5, deviations 2,1,0,0,−3, SS = 14, s² = 14/4 = 3.5,
	// s = 1.870829, SE = √(3.5/5) = 0.836660, t(0.975, 4) = 2.776445,
	// half = 2.776445·0.836660 = 2.322941, CI = [2.677059, 7.322941].
	s := Summarize(CES, []int{7, 6, 5, 5, 2})
	near(t, "mean", s.Value, 5, 1e-12)
	near(t, "sd", s.SD, 1.870829, 1e-6)
	near(t, "low", s.Low, 2.677059, 1e-5)
	near(t, "high", s.High, 7.322941, 1e-5)
	// One answer has no interval.
	s = Summarize(CES, []int{4})
	if float64(s.Value) != 4 || s.Low.Defined() || s.High.Defined() {
		t.Errorf("one answer: %+v", s)
	}
}

func TestStudentQuantiles(t *testing.T) {
	// Table values of t(0.975, df).
	for df, want := range map[float64]float64{1: 12.706205, 4: 2.776445, 9: 2.262157, 29: 2.045230, 1000: 1.962339} {
		if got := studentQuantile975(df); math.Abs(got-want) > 1e-5 {
			t.Errorf("t(0.975, %v) = %v, want %v", df, got, want)
		}
	}
}

func TestCompareNPS(t *testing.T) {
	// A = npsA: NPS' = 0.153846, Var = 0.054392.
	// B: 20 answers, 14 promoters, 4 passives, 2 detractors: NPS = 60;
	// n' = 23, p' = 14.75/23 = 0.641304, d' = 2.75/23 = 0.119565,
	// NPS' = 12/23 = 0.521739, Var = (0.760870−0.272212)/23 = 0.021246.
	// diff' = 0.367893, SE = √(0.054392+0.021246) = 0.275024,
	// z = 1.337675, p = erfc(1.337675/√2) = 0.181003 (not significant),
	// CI = 0.367893 ± 1.96·0.275024 = [−0.171145, 0.906931].
	b := []int{}
	for i := 0; i < 14; i++ {
		b = append(b, 9+i%2)
	}
	b = append(b, 7, 8, 7, 8, 3, 6)
	c := Compare(NPS, npsA, b)
	near(t, "diff", c.Diff, 40, 1e-9)
	near(t, "z", c.Statistic, 1.337675, 1e-5)
	near(t, "p", c.P, 0.181003, 1e-5)
	near(t, "low", c.Low, -17.1145, 1e-3)
	near(t, "high", c.High, 90.6931, 1e-3)
	if c.Significant {
		t.Error("not significant at 95%")
	}
}

func TestCompareCSAT(t *testing.T) {
	// A: 40 of 100 satisfied, B: 55 of 100. Pooled p = 95/200 = 0.475,
	// SE = √(0.475·0.525·(1/100+1/100)) = 0.070622, z = 0.15/0.070622 =
	// 2.123977, p = 0.033672: significant.
	// Agresti–Caffo: qa = 41/102, qb = 56/102, SE = √(qa(1−qa)/102 +
	// qb(1−qb)/102) = 0.069167, CI = 0.147059 ± 0.135566 = [0.011493, 0.282625].
	mk := func(sat int) []int {
		var s []int
		for i := 0; i < 100; i++ {
			if i < sat {
				s = append(s, 4+i%2)
			} else {
				s = append(s, 1+i%3)
			}
		}
		return s
	}
	c := Compare(CSAT, mk(40), mk(55))
	near(t, "diff", c.Diff, 15, 1e-9)
	near(t, "z", c.Statistic, 2.123977, 1e-5)
	near(t, "p", c.P, 0.033672, 1e-5)
	near(t, "low", c.Low, 1.1493, 1e-3)
	near(t, "high", c.High, 28.2625, 1e-3)
	if !c.Significant {
		t.Error("significant at 95%")
	}
}

func TestCompareCESWelch(t *testing.T) {
	// A: 7,6,5,5,2 (mean 5, s² = 3.5, n 5); B: 3,3,4,2,3,3 (mean 3, SS = 2,
	// s² = 0.4, n 6). va = 3.5/5 = 0.7, vb = 0.4/6 = 0.066667,
	// SE = √0.766667 = 0.875595, t = −2/0.875595 = −2.284161,
	// df = 0.766667²/(0.7²/4 + 0.066667²/5) = 0.587778/0.123389 = 4.763620,
	// p = 2·P(T_4.76 > 2.284161) = 0.07378 (numerical integration of the t
	// density): not significant at 95%.
	c := Compare(CES, []int{7, 6, 5, 5, 2}, []int{3, 3, 4, 2, 3, 3})
	near(t, "diff", c.Diff, -2, 1e-12)
	near(t, "t", c.Statistic, -2.284161, 1e-5)
	near(t, "df", c.DF, 4.763620, 1e-5)
	near(t, "p", c.P, 0.07378, 1e-4)
	if c.Significant || !(float64(c.Low) < -2 && float64(c.High) > 0) {
		t.Errorf("CI [%v, %v] should contain 0 and −2", c.Low, c.High)
	}
}

func TestTrendAndBreakdown(t *testing.T) {
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	as := []Answer{
		// 2024-12-30 (Monday) belongs to ISO week 2025-W01; 2024-12-29 (Sunday) to 2024-W52.
		{Score: 10, At: at("2024-12-29T23:00:00Z"), Group: "shop"},
		{Score: 0, At: at("2024-12-30T08:00:00Z"), Group: "shop"},
		{Score: 9, At: at("2025-01-05T23:59:59Z"), Group: "app"},
		{Score: 8, At: at("2025-01-06T00:00:00Z"), Group: ""},
	}
	w := Trend(NPS, as, Week)
	if len(w) != 3 || w[0].Key != "2024-W52" || w[1].Key != "2025-W01" || w[2].Key != "2025-W02" {
		t.Fatalf("weeks %+v", w)
	}
	// 2025-W01: a 0 and a 9: NPS = (1−1)/2 = 0.
	if w[1].N != 2 || float64(w[1].Value) != 0 || !w[1].Start.Equal(at("2024-12-30T00:00:00Z")) {
		t.Errorf("week 1: %+v", w[1])
	}
	m := Trend(NPS, as, Month)
	if len(m) != 2 || m[0].Key != "2024-12" || m[0].N != 2 || m[1].Key != "2025-01" || m[1].N != 2 {
		t.Fatalf("months %+v", m)
	}
	// December: 10 and 0: NPS 0; January: 9 and 8: NPS 50.
	if float64(m[1].Value) != 50 {
		t.Errorf("January NPS %v", m[1].Value)
	}
	b := Breakdown(NPS, as)
	if len(b) != 3 || b[0].Key != "shop" || b[0].N != 2 || b[1].Key != "" || b[2].Key != "app" {
		t.Fatalf("breakdown %+v", b)
	}
}

func TestEmptyAndJSON(t *testing.T) {
	s := Summarize(NPS, nil)
	if s.N != 0 || s.Value.Defined() || s.Low.Defined() {
		t.Errorf("empty: %+v", s)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	json.Unmarshal(b, &back)
	if back["value"] != nil || back["n"].(float64) != 0 {
		t.Errorf("json %s", b)
	}
	c := Compare(CES, nil, []int{1, 2})
	if c.P.Defined() || c.Significant {
		t.Errorf("compare with an empty period: %+v", c)
	}
	if Category(9) != "promoter" || Category(7) != "passive" || Category(6) != "detractor" || Category(0) != "detractor" {
		t.Error("categories")
	}
}
