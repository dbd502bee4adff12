package text

import "math"

// Product reviews (English): a three-star review is rarely without judging
// words; it mixes praise and complaints ("great sound, but the battery
// drains fast") or hedges ("it's okay", "does the job"). VADER calls both
// positive or negative from ±0.05 on. The rules here give such texts a dead
// zone around zero instead, and read explicit ratings ("2/5", "three stars").

// enLukewarm are words that hedge a verdict.
var enLukewarm = setOf("okay ok fine alright decent average acceptable adequate meh so-so mediocre ordinary passable okayish")

// enLukewarmPhrases hedge as a whole ("not bad" is not praise in a review).
var enLukewarmPhrases = [][]string{
	{"not", "bad"}, {"not", "great"}, {"not", "terrible"}, {"not", "the", "best"}, {"not", "the", "worst"},
	{"good", "enough"}, {"does", "the", "job"}, {"did", "the", "job"}, {"does", "its", "job"}, {"did", "its", "job"},
	{"does", "what", "it"}, {"did", "what", "it"}, {"did", "what", "i"}, {"as", "expected"}, {"nothing", "special"},
	{"nothing", "to", "write", "home"}, {"middle", "of", "the", "road"}, {"mixed", "feelings"}, {"get", "what", "you", "pay"},
	{"could", "be", "better"}, {"expected", "more"}, {"expected", "better"}, {"it", "works"}, {"so", "far", "so", "good"},
	{"nothing", "more"}, {"not", "sure"}, {"for", "the", "price"},
}

// Tuned on en_reviews_dev (see docs/text-analytics.md).
// Chosen on en_reviews_dev (docs/text-analytics.md); a length
// normalisation of the sum was tried and changed nothing there.
const (
	hedgeZone = 2.0 // a hedged text needs more than this (VADER units) to be polar
	mixedZone = 1.0 // times the weaker side of a mixed text
)

// reviewAdjust returns the sum after the review rules: an explicit star
// rating decides; a hedge and a mix of praise and complaint each cut a dead
// zone around zero.
func (m *model) reviewAdjust(sc *scratch, sum float64) float64 {
	n := len(sc.items)
	luke := false
	for i := 0; i < n; i++ {
		w := sc.low(i)
		if s, ok := starsAt(sc, i); ok {
			switch {
			case s <= 2:
				return -3 + s*0.4 // 1 → -2.6, 2 → -2.2
			case s >= 4:
				return 1 + s*0.4 // 4 → 2.6, 5 → 3
			}
			return 0
		}
		if enLukewarm[w] && !(i > 0 && sc.low(i-1) == "perfectly") {
			luke = true
			continue
		}
		for _, p := range enLukewarmPhrases {
			if p[0] != w || i+len(p) > n {
				continue
			}
			ok := true
			for k := 1; k < len(p); k++ {
				if sc.low(i+k) != p[k] {
					ok = false
					break
				}
			}
			if ok {
				luke = true
				break
			}
		}
	}
	// Praise and complaint count by clause: a mixed review has clauses of
	// both kinds, while words of both kinds in one clause ("not as bad as")
	// are no mix.
	if !luke {
		luke = praiseThenFact(sc)
	}
	pos, neg, cl, c := 0.0, 0.0, -1, 0.0
	for i := 0; i <= n; i++ {
		if i == n || sc.clause[i] != cl {
			if c > 0 {
				pos += c
			} else {
				neg -= c
			}
			if i == n {
				break
			}
			cl, c = sc.clause[i], 0
		}
		c += sc.own[i]
	}
	zone := 0.0
	if luke {
		zone = hedgeZone
	}
	if pos > 0 && neg > 0 {
		zone += mixedZone * math.Min(pos, neg)
	}
	switch {
	case sum > zone:
		return sum - zone
	case sum < -zone:
		return sum + zone
	}
	return 0
}

var starNumbers = map[string]float64{"0": 0, "zero": 0, "1": 1, "one": 1, "2": 2, "two": 2, "3": 3, "three": 3,
	"4": 4, "four": 4, "5": 5, "five": 5}

// starsAt reads a rating at item i: "3 stars", "two star", "4/5" (the slash
// is no token), "2 out of 5", "7/10". It returns stars of five.
func starsAt(sc *scratch, i int) (float64, bool) {
	w := sc.low(i)
	s, ok := starNumbers[w]
	if !ok {
		if len(w) == 1 && w[0] >= '6' && w[0] <= '9' || w == "10" {
			s = float64(w[0] - '0')
			if w == "10" {
				s = 10
			}
			if i+1 < len(sc.items) && sc.low(i+1) == "10" && sc.clause[i+1] == sc.clause[i] {
				return math.Round(s / 2), true
			}
		}
		return 0, false
	}
	n := len(sc.items)
	next := func(k int) string {
		if i+k < n && sc.clause[i+k] == sc.clause[i] {
			return sc.low(i + k)
		}
		return ""
	}
	switch next(1) {
	case "star", "stars":
		return s, true
	case "5":
		return s, w[0] >= '0' && w[0] <= '5'
	case "10":
		return math.Round(s / 2), w[0] >= '0' && w[0] <= '9'
	case "out":
		if next(2) == "of" {
			switch next(3) {
			case "5", "five":
				return s, true
			case "10", "ten":
				return math.Round(s / 2), true
			}
		}
	}
	return 0, false
}

var enReserve = setOf("but although though however except")

// praiseThenFact reports a reservation without judging words: "Comfortable
// but runs a size large", "The pan is good but the handle gets hot". A
// review that praises and then reserves is lukewarm.
func praiseThenFact(sc *scratch) bool {
	n := len(sc.items)
	for i := 1; i < n-2; i++ {
		if !enReserve[sc.low(i)] {
			continue
		}
		before, after := 0.0, 0.0
		for k := 0; k < i; k++ {
			before += sc.own[k]
		}
		for k := i + 1; k < n; k++ {
			after += sc.own[k]
		}
		return before > 0 && after == 0
	}
	return false
}
