package text

import (
	"math"
	"sync"
	"sync/atomic"
)

// Analyzer analyses texts with the built-in lexicons and a set of themes.
// It is safe for concurrent use.
type Analyzer struct {
	themes *themeIndex
	list   []Theme
}

// NewAnalyzer returns an Analyzer with the built-in themes, to which the
// given themes are added; a theme with the id of a built-in one replaces it.
func NewAnalyzer(extra []Theme) *Analyzer {
	load()
	list := MergeThemes(BuiltinThemes(), extra)
	return &Analyzer{themes: buildThemeIndex(list), list: list}
}

// Themes returns the themes the Analyzer matches (built-ins and extras).
func (a *Analyzer) Themes() []Theme { return append([]Theme(nil), a.list...) }

// Themes returns the themes Analyze matches: the built-in ones and those
// set by SetThemes, e.g. to show their names.
func Themes() []Theme { return getDefault().Themes() }

var (
	defaultMu       sync.Mutex
	defaultAnalyzer atomic.Pointer[Analyzer]
)

func getDefault() *Analyzer {
	if a := defaultAnalyzer.Load(); a != nil {
		return a
	}
	defaultMu.Lock()
	defer defaultMu.Unlock()
	if a := defaultAnalyzer.Load(); a != nil {
		return a
	}
	a := NewAnalyzer(nil)
	defaultAnalyzer.Store(a)
	return a
}

// SetThemes makes Analyze use the built-in themes plus extra (a theme with
// a built-in id replaces the built-in one). Call it at start-up, e.g. with
// the result of LoadThemes; SetThemes(nil) restores the built-ins.
func SetThemes(extra []Theme) {
	a := NewAnalyzer(extra)
	defaultMu.Lock()
	defaultAnalyzer.Store(a)
	defaultMu.Unlock()
}

// Analyze analyses s with the built-in lexicons and the themes set by
// SetThemes (the built-in ones by default). It is safe for concurrent use
// and never fails: an empty or unreadable text is neutral.
func Analyze(s string) Analysis { return getDefault().Analyze(s) }

var scratchPool = sync.Pool{New: func() any { return &scratch{toks: make([]token, 0, 64)} }}

// Analyze analyses s; see the package function Analyze.
func (a *Analyzer) Analyze(s string) Analysis {
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	sc.toks = tokenize(s, sc.toks[:0], emo.emoticons)
	out := Analysis{Language: detect(sc.toks), Sentiment: Neutral}
	m := german
	var r result
	switch out.Language {
	case "en":
		m = english
		sc.prepare(m)
		r = m.score(sc)
	case "de":
		sc.prepare(m)
		r = m.score(sc)
	default:
		// Unknown: score with both and keep the stronger evidence.
		sc.prepare(english)
		re := english.score(sc)
		sc.prepare(german)
		rd := german.score(sc)
		r = rd
		// The evidence before the review rules: a hedged English text
		// ("Nice design, average performance") is English and neutral; on a
		// tie (a word of both lexicons) English, whose review rules see more.
		if math.Abs(re.raw) >= math.Abs(rd.raw) && re.raw != 0 {
			m, r = english, re
			sc.prepare(m)
			m.score(sc) // leave the English clause valences for the aspects
		}
	}
	c := normalize(r.sum)
	out.Score = math.Round(c*1000) / 1000
	out.Sentiment = m.label(c)
	out.Drivers = r.drivers
	if a.themes != nil {
		a.themes.match(sc, m, &out)
	}
	return out
}
