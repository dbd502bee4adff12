package text

import (
	"math"
	"sort"
	"strings"
)

// model is a VADER-style rule model for one language: a valence lexicon
// plus the words that change valences around them.
type model struct {
	code       string
	lex        map[string]entry
	boost      map[string]float64  // intensifiers (+) and diminishers (-), in VADER's units
	negate     map[string]bool     // words that flip (and dampen) what follows
	postNeg    map[string]bool     // German: negators that follow a verb ("gefällt mir nicht")
	contrast   map[string]float64  // "but"-words: weight of what follows (what precedes gets 0.5)
	phrases    map[string][]phrase // multi-word expressions by their first word
	sepVerbs   map[string][]sepVerb
	amplify    map[string]float64 // "mal wieder": strengthens negative sums
	damp       map[string]damper  // "trotz", "ob": weaken what follows
	questionP  float64            // weight of positive words in a question (0 = no rule)
	questionN  float64            // weight of negative words in a question
	irony      map[string]bool    // praise words read as irony next to a complaint
	questionV  map[string]float64 // valence of a word inside a question ("endlich")
	concede    map[string]bool    // sentence-initial concessions ("although")
	concedeW   float64            // weight of the main clause after a concession
	plain      bool               // English: VADER's rules only (for comparison in tests)
	salutation map[string]bool    // first words that greet ("Liebe ...")
	factCap    float64            // factual problem words together weigh at most this (< 0)
	compounds  bool               // split unknown compounds into known heads
	neutralOK  float64            // |compound| below this is neutral
	shared     *shared
}

type phrase struct {
	words []string // including the first; "#" matches a number or number word
	v     float64
	boost bool // the phrase acts as a booster instead of carrying valence
	fact  bool // a factual problem ("seit 40 minuten"), see entry.fact
}

var numberWords = setOf("ein eine einer einem einen ner nem zwei drei vier fünf sechs sieben acht neun zehn zwanzig dreißig vierzig fünfzig sechzig anderthalb eineinhalb halben halbe paar")

func phraseWordMatch(pw, w string) bool {
	if pw != "#" {
		return pw == w
	}
	if numberWords[w] {
		return true
	}
	for k := 0; k < len(w); k++ {
		if w[k] < '0' || w[k] > '9' {
			return false
		}
	}
	return w != ""
}

// damper weakens the valences after a word: the next window items, or to
// the end of the clause when window is 0.
type damper struct {
	factor float64
	window int
}

// sepVerb is a German separable verb: finite form … particle ("fällt … aus").
type sepVerb struct {
	particle string
	v        float64
	fact     bool
}

// VADER's constants.
const (
	bIncr   = 0.293
	cIncr   = 0.733
	nScalar = -0.74
	alpha   = 15.0
)

// scratch is the per-call working memory, pooled to avoid allocations.
type scratch struct {
	toks    []token
	items   []int     // indexes into toks of words/emoticons/emojis
	clause  []int     // clause number of each item
	sent    []int     // sentence number of each item
	vals    []float64 // valence of each item
	own     []float64 // valence before "but" weighting: the clause's own, for aspects
	label   []string  // driver label of each item ("" = the word itself)
	used    []bool    // item belongs to a phrase (and is no negator)
	fact    []bool    // the valence is a factual problem word ("Verspätung")
	exclaim int
	quest   int
	qsent   []bool // per sentence: ends with '?'
	repeat  bool   // a repetition word ("mal wieder") was seen: a complaint signal
}

type result struct {
	sum     float64
	raw     float64 // sum before the review rules: the evidence when the language is unknown
	drivers []Driver
}

// prepare fills items, clauses and sentences from the tokens.
func (sc *scratch) prepare(m *model) {
	sc.items, sc.clause, sc.sent = sc.items[:0], sc.clause[:0], sc.sent[:0]
	sc.exclaim, sc.quest = 0, 0
	sc.qsent = append(sc.qsent[:0], false)
	cl, se := 0, 0
	for i, t := range sc.toks {
		if t.kind == tPunct {
			switch t.p {
			case '!':
				sc.exclaim++
				if len(sc.items) > 0 && sc.sent[len(sc.sent)-1] == se {
					se++
					sc.qsent = append(sc.qsent, false)
				}
			case '?':
				sc.quest++
				sc.qsent[se] = true
				if len(sc.items) > 0 && sc.sent[len(sc.sent)-1] == se {
					se++
					sc.qsent = append(sc.qsent, false)
				}
			case '.':
				if len(sc.items) > 0 && sc.sent[len(sc.sent)-1] == se {
					se++
					sc.qsent = append(sc.qsent, false)
				}
			}
			cl++
			continue
		}
		if t.kind == tWord && m.contrast != nil {
			if _, ok := m.contrast[t.low]; ok {
				cl++
			}
		}
		sc.items = append(sc.items, i)
		sc.clause = append(sc.clause, cl)
		sc.sent = append(sc.sent, se)
	}
	n := len(sc.items)
	if cap(sc.vals) < n {
		sc.vals = make([]float64, n)
		sc.label = make([]string, n)
		sc.used = make([]bool, n)
		sc.fact = make([]bool, n)
	}
	sc.vals, sc.label, sc.used, sc.fact = sc.vals[:n], sc.label[:n], sc.used[:n], sc.fact[:n]
	for i := range sc.vals {
		sc.vals[i] = 0
		sc.label[i] = ""
		sc.used[i] = false
		sc.fact[i] = false
	}
}

func (sc *scratch) low(i int) string { return sc.toks[sc.items[i]].low }

// valenceOf looks a word up: lexicon, emoticon, emoji, and for unknown
// words hyphen parts and (German) compound heads.
func (m *model) valenceOf(t token) (entry, string, bool) {
	switch t.kind {
	case tEmoticon:
		if v, ok := m.shared.emoticons[t.s]; ok {
			return entry{v: v}, "", true
		}
		if v, ok := m.shared.emoticons[strings.ToLower(t.s)]; ok {
			return entry{v: v}, "", true
		}
		return entry{}, "", false
	case tEmoji:
		v, ok := m.shared.emoji[t.s]
		return entry{v: v}, "", ok
	}
	if e, ok := m.lex[t.low]; ok {
		return e, "", true
	}
	if m.compounds {
		return m.compound(t.low)
	}
	if k := strings.LastIndexByte(t.low, '-'); k > 0 && k < len(t.low)-1 {
		if e, ok := m.lex[t.low[k+1:]]; ok {
			return e, "", true
		}
	}
	return entry{}, "", false
}

// isLex reports whether word w carries valence (VADER skips such words
// when it looks back for boosters and negators).
func (m *model) isLex(w string) bool {
	e, ok := m.lex[w]
	return ok && e.v != 0
}

func (m *model) score(sc *scratch) result {
	n := len(sc.items)
	// VADER's "cap differential": caps emphasise only if not everything is in caps.
	capsN, wordsN := 0, 0
	for _, ti := range sc.items {
		if t := sc.toks[ti]; t.kind == tWord {
			wordsN++
			if t.caps {
				capsN++
			}
		}
	}
	capDiff := capsN > 0 && capsN < wordsN
	amplified, ampl := "", 0.0
	sc.repeat = false
	for i := 0; i < n; i++ {
		t := sc.toks[sc.items[i]]
		w := t.low
		var e entry
		found, skip := false, 0
		label := ""
		if t.kind == tWord {
			for _, p := range m.phrases[w] {
				if i+len(p.words) > n {
					continue
				}
				ok := true
				for k := 1; k < len(p.words); k++ {
					if sc.clause[i+k] != sc.clause[i] || !phraseWordMatch(p.words[k], sc.low(i+k)) {
						ok = false
						break
					}
				}
				if ok {
					for k := 0; k < len(p.words); k++ {
						sc.used[i+k] = true
					}
					if p.boost {
						// A multi-word booster ("kind of"): the next word gets it.
						found = false
					} else {
						e, found = entry{v: p.v, fact: p.fact}, true
						label = strings.Join(p.words, " ")
					}
					skip = len(p.words) - 1
					break
				}
			}
			if skip > 0 && !found {
				i += skip
				continue
			}
			if skip == 0 {
				if m.code == "de" && (w == "gut" || w == "knapp") && i+1 < n && phraseWordMatch("#", sc.low(i+1)) {
					continue // "gut 100 Millionen" means "a good hundred million"
				}
				if m.code == "de" && w == "klasse" && i > 0 && classNoun(sc.low(i-1)) {
					continue // "1. Klasse", "in der zweiten Klasse": the class, not praise
				}
				if m.code == "de" && w == "liebe" && !loveVerb(sc, i) {
					continue // "liebe Bahn": an address, not love
				}
				if i == 0 && m.salutation[w] {
					continue // "Liebe Mitreisende," greets
				}
				if a, ok := m.amplify[w]; ok {
					if a > ampl {
						amplified, ampl = w, a
					}
					sc.repeat = sc.repeat || a >= 0.8
					continue
				}
				if b, ok := m.boost[w]; ok {
					// A booster that is also a word of its own ("super!") counts
					// as that word when no valence word follows in its clause.
					if lv, ok := m.lex[w]; ok && lv.v != 0 && b > 0 && !m.valenceFollows(sc, i) {
						e, found = lv, true
					} else {
						continue
					}
				}
				if !found {
					if svs, ok := m.sepVerbs[w]; ok {
						for _, sv := range svs {
							if j := m.findAhead(sc, i, sv.particle, 8); j > 0 {
								e, found = entry{v: sv.v, verb: true, fact: sv.fact}, true
								label = w + " … " + sv.particle
								break
							}
						}
					}
				}
			}
		}
		if !found {
			var lab string
			e, lab, found = m.valenceOf(t)
			if lab != "" {
				label = lab
			}
		}
		if m.code == "en" && !m.plain && skip == 0 && t.kind == tWord {
			if e2, lab2, ok := m.englishRules(sc, i, t, e, found); ok {
				e, found = e2, true
				if lab2 != "" {
					label = lab2
				}
			} else {
				found = false
			}
		}
		if !found || e.v == 0 {
			i += skip
			continue
		}
		v := e.v
		if m.code == "en" && w == "no" && i+1 < n && m.isLex(sc.low(i+1)) {
			i += skip
			continue // "no" before a valence word is a negator, not a word
		}
		if m.code == "en" && (i > 0 && sc.low(i-1) == "no" || i > 1 && sc.low(i-2) == "no") {
			v = e.v * nScalar
		}
		if t.caps && capDiff {
			if v > 0 {
				v += cIncr
			} else {
				v -= cIncr
			}
		}
		negated := false
		for k := 1; k <= 3 && i-k >= 0; k++ {
			if sc.clause[i-k] != sc.clause[i] {
				break
			}
			pw := sc.low(i - k)
			if m.isLex(pw) {
				if _, isBoost := m.boost[pw]; !isBoost {
					continue
				}
			}
			if b, ok := m.boost[pw]; ok {
				s := b
				if v < 0 {
					s = -s
				}
				if sc.toks[sc.items[i-k]].caps && capDiff {
					if v > 0 {
						s += cIncr
					} else {
						s -= cIncr
					}
				}
				if k == 2 {
					s *= 0.95
				} else if k == 3 {
					s *= 0.9
				}
				v += s
			}
			if !negated && t.kind == tWord && !sc.used[i-k] && m.negatedAt(sc, i, k) {
				v *= m.negScalar(v, e, pw)
				negated = true
			}
		}
		if !negated && e.verb && m.postNeg != nil {
			// "Das gefällt mir nicht": the negation follows the verb.
			for k := 1; k <= 4 && i+k < n; k++ {
				if sc.clause[i+k] != sc.clause[i] {
					break
				}
				nw := sc.low(i + k)
				if m.postNeg[nw] {
					v *= m.negScalar(v, e, nw)
					break
				}
				if m.isLex(nw) {
					break
				}
			}
		}
		if m.code == "en" && i > 0 && sc.low(i-1) == "least" && !(i > 1 && (sc.low(i-2) == "at" || sc.low(i-2) == "very")) {
			v *= nScalar
		}
		sc.vals[i] = v
		sc.label[i] = label
		sc.fact[i] = e.fact
		i += skip
	}
	m.adjust(sc)
	sc.own = append(sc.own[:0], sc.vals...)
	// "but" (VADER): what comes before counts half, what follows more.
	if m.contrast != nil {
		for i := 0; i < n; i++ {
			if w, ok := m.contrast[sc.low(i)]; ok {
				for k := 0; k < n; k++ {
					if k < i {
						sc.vals[k] *= 0.5
					} else if k > i {
						sc.vals[k] *= w
					}
				}
				break
			}
		}
	}
	sum := 0.0
	for _, v := range sc.vals {
		sum += v
	}
	raw := sum
	if m.code == "en" && !m.plain {
		sum = m.reviewAdjust(sc, sum)
	}
	r := result{raw: raw}
	if amplified != "" && sum < 0 {
		sum -= ampl
		r.drivers = append(r.drivers, Driver{Word: amplified, Weight: math.Round(-ampl/4*1000) / 1000})
	}
	if sum != 0 {
		// Exclamation marks (up to 4) and repeated question marks emphasise.
		ep := float64(min(sc.exclaim, 4)) * 0.292
		qm := 0.0
		if sc.quest > 1 {
			qm = math.Min(float64(sc.quest)*0.18, 0.96)
		}
		if sum > 0 {
			sum += ep + qm
		} else {
			sum -= ep + qm
		}
	}
	r.sum = sum
	for i, v := range sc.vals {
		if v == 0 {
			continue
		}
		word := sc.label[i]
		if word == "" {
			word = sc.toks[sc.items[i]].low
		}
		r.drivers = append(r.drivers, Driver{Word: word, Weight: math.Round(v/4*1000) / 1000})
	}
	sort.SliceStable(r.drivers, func(a, b int) bool { return math.Abs(r.drivers[a].Weight) > math.Abs(r.drivers[b].Weight) })
	if len(r.drivers) > 10 {
		r.drivers = r.drivers[:10]
	}
	return r
}

// valenceFollows reports whether a valence word follows item i in its clause
// within two items.
func (m *model) valenceFollows(sc *scratch, i int) bool {
	for k := 1; k <= 2 && i+k < len(sc.items); k++ {
		if sc.clause[i+k] != sc.clause[i] {
			return false
		}
		if e, _, ok := m.valenceOf(sc.toks[sc.items[i+k]]); ok && e.v != 0 {
			return true
		}
	}
	return false
}

func (m *model) findAhead(sc *scratch, i int, w string, max int) int {
	for k := 1; k <= max && i+k < len(sc.items); k++ {
		if sc.clause[i+k] != sc.clause[i] {
			return -1
		}
		if sc.low(i+k) == w {
			return i + k
		}
	}
	return -1
}

// negatedAt applies VADER's negation check for the word k items back.
func (m *model) negatedAt(sc *scratch, i, k int) bool {
	pw := sc.low(i - k)
	if m.code == "de" && k >= 2 && (pw == "nie" || pw == "niemals") && (sc.low(i-k+1) == "so" || sc.low(i-k+1) == "solch") {
		return false // "noch nie so einen freundlichen Kontrolleur" praises (VADER's "never so")
	}
	if m.code == "en" {
		if k >= 2 && sc.low(i-k) == "never" && (sc.low(i-k+1) == "so" || sc.low(i-k+1) == "this") {
			return false // "never so good" emphasises
		}
		if k >= 2 && pw == "without" && sc.low(i-k+1) == "doubt" {
			return false
		}
		if strings.HasSuffix(pw, "n't") {
			return true
		}
		if !m.plain && pw == "from" && k < 3 && i-k-1 >= 0 && sc.low(i-k-1) == "far" {
			return true // "far from fresh"
		}
	}
	return m.negate[pw]
}

// negScalar is the factor a negation applies. VADER uses -0.74 always. In
// German "nicht freundlich" is a complaint as clear as "unfreundlich", while
// "nicht schlecht" is only mildly positive; "nie" is stronger than "nicht";
// and the absence of a factual problem ("ohne Verspätung") is praise.
func (m *model) negScalar(v float64, e entry, negator string) float64 {
	if m.code != "de" {
		return nScalar
	}
	f := -nScalar
	switch {
	case e.fact:
		f = 1.5
	case v > 0:
		f = 1.0
	}
	if negator == "nie" || negator == "niemals" || negator == "nimmer" {
		f *= 1.3
	}
	return -f
}

func normalize(s float64) float64 {
	c := s / math.Sqrt(s*s+alpha)
	if c < -1 {
		return -1
	}
	if c > 1 {
		return 1
	}
	return c
}

func (m *model) label(c float64) string {
	switch {
	case c >= m.neutralOK:
		return Positive
	case c <= -m.neutralOK:
		return Negative
	}
	return Neutral
}

// adjust applies the rules that look at the whole text: dampers
// ("trotz", "ob"), questions and irony.
func (m *model) adjust(sc *scratch) {
	n := len(sc.items)
	if n == 0 {
		return
	}
	if m.factCap < 0 {
		// Factual problem words report, they do not judge: together they
		// weigh at most factCap, so that a news-like "Verspätungen wegen
		// einer Signalstörung" stays neutral without a judging word.
		f := 0.0
		for i := 0; i < n; i++ {
			if sc.fact[i] && sc.vals[i] < 0 {
				f += sc.vals[i]
			}
		}
		if f < m.factCap {
			r := m.factCap / f
			for i := 0; i < n; i++ {
				if sc.fact[i] && sc.vals[i] < 0 {
					sc.vals[i] *= r
				}
			}
		}
	}
	concession := false
	for i := 0; i < n; i++ {
		w := sc.low(i)
		d, ok := m.damp[w]
		if !ok && m.code == "de" && (w == "nur" || w == "lediglich" || w == "bloß") && i+1 < n && phraseWordMatch("#", sc.low(i+1)) {
			d, ok = damper{factor: 0.4, window: 3}, true // "nur 2 Minuten Verspätung"
		}
		if !ok {
			continue
		}
		for k := i + 1; k < n && sc.clause[k] == sc.clause[i] && (d.window == 0 || k-i <= d.window); k++ {
			if d.window > 0 && sc.vals[k] < 0 {
				concession = true
			}
			sc.vals[k] *= d.factor
		}
	}
	if m.concede != nil {
		// "Although it is smart, it never took off": a sentence that opens
		// with a concession counts its first clause half, the rest more.
		for i := 0; i < n; i++ {
			if !m.concede[sc.low(i)] || i > 0 && sc.sent[i-1] == sc.sent[i] {
				continue
			}
			for k := i + 1; k < n && sc.sent[k] == sc.sent[i]; k++ {
				if sc.clause[k] == sc.clause[i] {
					sc.vals[k] *= 0.5
				} else {
					sc.vals[k] *= m.concedeW
				}
			}
		}
	}
	if m.code == "de" && n > 1 && sc.low(n-1) == "nicht" && sc.sent[n-1] != sc.sent[n-2] {
		// "Ich liebe es, wenn der Zug ausfällt. Nicht." inverts.
		for i := 0; i < n-1; i++ {
			if sc.vals[i] > 0 {
				sc.vals[i] = -sc.vals[i]
			}
		}
	}
	if m.questionP > 0 {
		for i := 0; i < n; i++ {
			if s := sc.sent[i]; s < len(sc.qsent) && sc.qsent[s] {
				if v, ok := m.questionV[sc.low(i)]; ok {
					sc.vals[i] = v // "Wann kommt endlich ...?" is impatience
				} else if sc.vals[i] > 0 {
					sc.vals[i] *= m.questionP
				} else {
					sc.vals[i] *= m.questionN
				}
			}
		}
	}
	if m.irony != nil && !concession {
		// "Danke Bahn" or "Toller Service" next to a clear complaint, with
		// no "aber"/"trotz" that would make both true, is ironic.
		neg, judged, pos, contrast := 0.0, 0.0, 0.0, false
		for i := 0; i < n; i++ {
			w := sc.low(i)
			if _, ok := m.contrast[w]; ok {
				contrast = true
			}
			if sc.vals[i] < 0 {
				neg += sc.vals[i]
				if !sc.fact[i] {
					judged += sc.vals[i]
				}
			} else if sc.vals[i] > 0 && !m.irony[w] {
				pos += sc.vals[i]
			}
		}
		// A short last sentence of praise after a complaint ("Super gemacht.")
		// is irony even when the complaint is mild.
		last := sc.sent[n-1]
		tail := 0
		for i := n - 1; i >= 0 && sc.sent[i] == last; i-- {
			tail++
		}
		tailIrony := tail <= 3 && tail < n && sc.sent[0] != last
		if !contrast && pos < 1 && (judged <= -1.0 || neg <= -1.5 || tailIrony && (judged < 0 || sc.repeat)) {
			for i := 0; i < n; i++ {
				if sc.vals[i] > 0 && m.irony[sc.low(i)] {
					sc.vals[i] = -sc.vals[i] * 0.6
					if sc.label[i] == "" {
						sc.label[i] = sc.low(i) + " (ironic)"
					}
				}
			}
		}
	}
}

// englishRules are general additions to VADER for reviews: "like" is a
// verb only after a subject, and "too" before a neutral adjective
// complains ("too long"). ok=false drops the word.
func (m *model) englishRules(sc *scratch, i int, t token, e entry, found bool) (entry, string, bool) {
	w := t.low
	if found && w == "like" {
		if i == 0 || !enLikeSubject[sc.low(i-1)] {
			return entry{}, "", false
		}
	}
	if i > 0 && sc.low(i-1) == "too" && sc.clause[i-1] == sc.clause[i] && (!found && !enTooOK[w] || enTooFast[w]) {
		return entry{v: -1.2}, "too " + w, true
	}
	if found && e.v > 0 && i > 0 && enBarely[sc.low(i-1)] {
		// "barely works", "hardly warms": a complaint, not a weaker praise.
		return entry{v: -0.8 * e.v}, sc.low(i-1) + " " + w, true
	}
	if !found && enFailVerb[w] {
		// "doesn't fit", "won't turn on", "does not even close properly":
		// a negated function of a product is a complaint. The valence is
		// given positive; the negation before it turns it.
		for k := 1; k <= 3 && i-k >= 0 && sc.clause[i-k] == sc.clause[i]; k++ {
			if m.negate[sc.low(i-k)] {
				return entry{v: 2}, "", true
			}
		}
	}
	if found && w == "support" && (i == 0 || enSupportDesk[sc.low(i-1)] || i+1 < len(sc.items) && enSupportDesk[sc.low(i+1)]) {
		return entry{}, "", false // "support has not replied": the desk, not backing
	}
	return e, "", found
}

var enLikeSubject = setOf("i we you they people folks he she who i'd we'd you'd would really did do does don't didn't doesn't")

var enTooFast = setOf("easily quickly fast soon")

var enBarely = setOf("barely hardly scarcely")

var enFailVerb = setOf("work works fit fits close closes open opens charge charges seal seals connect connects turn hold holds stay stays last lasts")

var enSupportDesk = setOf("the customer tech technical their app no has have was is were never didn't did team agent staff replied said told closed refused kept ignored")

var enTooOK = setOf("many much few little the a an and or but to of in on at for with it this that i me you we they is was be been")

// loveVerb reports whether German "liebe" at item i is the verb ("ich liebe
// es"), not the adjective of an address ("Liebe Mitreisende", "liebe Bahn").
func loveVerb(sc *scratch, i int) bool {
	if i > 0 {
		if p := sc.low(i - 1); p == "ich" || p == "wir" {
			return true
		}
	}
	if i+1 < len(sc.items) {
		switch sc.low(i + 1) {
		case "es", "dich", "euch", "das", "den", "die", "diese", "diesen", "dieses", "ihn", "sie":
			return true
		}
	}
	return false
}

// classNoun reports whether the word before "Klasse" makes it the noun.
func classNoun(prev string) bool {
	switch prev {
	case "der", "die", "in", "erste", "ersten", "zweite", "zweiten", "welche", "welcher", "jede", "jeder", "beide", "beiden", "1", "2":
		return true
	}
	return phraseWordMatch("#", prev)
}
