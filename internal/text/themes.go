package text

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"unicode/utf8"
)

// Theme is a business topic and the words that point to it. Terms are
// lower-case words or short phrases (up to four words); they match
// inflected forms and compounds: "lieferung" matches "Lieferungen" and
// "Paketlieferung", "preis" matches "Preiserhöhung".
type Theme struct {
	ID    string              `json:"id"`
	Names map[string]string   `json:"names,omitempty"` // language -> display name, e.g. {"de": "Lieferung", "en": "Delivery"}
	Terms map[string][]string `json:"terms"`           // language -> terms
}

// themesFile is the configuration file format: {"themes": [Theme, ...]}.
type themesFile struct {
	Themes []Theme `json:"themes"`
}

// LoadThemes reads a JSON themes file ({"themes": [...]}; see
// docs/text-analytics.md) and checks it.
func LoadThemes(path string) ([]Theme, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseThemes(b)
}

// ParseThemes parses and checks the themes file format.
func ParseThemes(b []byte) ([]Theme, error) {
	var f themesFile
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("themes: %v", err)
	}
	if f.Themes == nil {
		return nil, fmt.Errorf(`themes: no "themes" list`)
	}
	seen := map[string]bool{}
	for i, t := range f.Themes {
		if t.ID == "" || strings.ContainsAny(t.ID, " \t\n") {
			return nil, fmt.Errorf("themes: theme %d: id %q must be a non-empty word", i+1, t.ID)
		}
		if seen[t.ID] {
			return nil, fmt.Errorf("themes: theme %q appears twice", t.ID)
		}
		seen[t.ID] = true
		for lang, terms := range t.Terms {
			for _, term := range terms {
				if strings.TrimSpace(term) == "" || len(strings.Fields(term)) > 4 {
					return nil, fmt.Errorf("themes: theme %q: %s term %q must have 1 to 4 words", t.ID, lang, term)
				}
			}
		}
	}
	return f.Themes, nil
}

// MergeThemes returns base with extra added; an extra theme with the id of
// a base theme replaces it (a theme without terms thus switches one off).
func MergeThemes(base, extra []Theme) []Theme {
	out := make([]Theme, 0, len(base)+len(extra))
	idx := map[string]int{}
	for _, t := range base {
		idx[t.ID] = len(out)
		out = append(out, t)
	}
	for _, t := range extra {
		if i, ok := idx[t.ID]; ok {
			out[i] = t
			continue
		}
		idx[t.ID] = len(out)
		out = append(out, t)
	}
	return out
}

type themeTerm struct {
	theme string
	words []string // for phrases: all words
}

type themeIndex struct {
	single  map[string][]string    // normalised word -> theme ids
	phrases map[string][]themeTerm // first word -> phrases
	order   map[string]int         // theme id -> position (stable output order)
}

func buildThemeIndex(themes []Theme) *themeIndex {
	ix := &themeIndex{single: map[string][]string{}, phrases: map[string][]themeTerm{}, order: map[string]int{}}
	add := func(key, id string) {
		for _, x := range ix.single[key] {
			if x == id {
				return
			}
		}
		ix.single[key] = append(ix.single[key], id)
	}
	for i, t := range themes {
		ix.order[t.ID] = i
		for _, terms := range t.Terms {
			for _, term := range terms {
				ws := strings.Fields(strings.ToLower(term))
				if len(ws) == 0 {
					continue
				}
				if len(ws) > 1 {
					ix.phrases[ws[0]] = append(ix.phrases[ws[0]], themeTerm{theme: t.ID, words: ws})
					continue
				}
				add(ws[0], t.ID)
				if s := stem(ws[0]); s != ws[0] && utf8.RuneCountInString(s) >= 3 {
					add(s, t.ID)
				}
			}
		}
	}
	return ix
}

// stem strips common German and English inflection endings.
func stem(w string) string {
	n := len(w)
	for _, suf := range stemSuffixes {
		if n-len(suf) >= 4 && w[n-len(suf):] == suf {
			return w[:n-len(suf)]
		}
	}
	return w
}

var stemSuffixes = []string{"ungen", "ies", "en", "er", "es", "em", "e", "n", "s"}

// lookup finds the themes of one word: exact, stemmed, then as the head or
// (for longer terms) the first part of a compound.
func (ix *themeIndex) lookup(w string) []string {
	if ids, ok := ix.single[w]; ok {
		return ids
	}
	if ids, ok := ix.single[stem(w)]; ok {
		return ids
	}
	if len(w) < 7 {
		return nil
	}
	// Compound head: the longest known ending of at least 4 bytes, after a
	// first part of at least 3 ("Zugausfall" -> "ausfall").
	for p := 3; p <= len(w)-4; p++ {
		if !utf8.RuneStart(w[p]) {
			continue
		}
		h := w[p:]
		if ids, ok := ix.single[h]; ok {
			return ids
		}
		if s := stem(h); s != h && len(s) >= 4 {
			if ids, ok := ix.single[s]; ok {
				return ids
			}
		}
	}
	// Compound first part of at least 5 bytes ("Preiserhöhung" -> "preis").
	for p := len(w) - 4; p >= 5; p-- {
		if !utf8.RuneStart(w[p]) {
			continue
		}
		if ids, ok := ix.single[w[:p]]; ok {
			return ids
		}
	}
	return nil
}

// match adds themes and aspects (with the sentiment of their clause, or
// of their sentence when the clause has none) to out.
func (ix *themeIndex) match(sc *scratch, m *model, out *Analysis) {
	n := len(sc.items)
	type hit struct {
		theme, term string
		i           int
	}
	var hits []hit
	for i := 0; i < n; i++ {
		t := sc.toks[sc.items[i]]
		if t.kind != tWord {
			continue
		}
		for _, ph := range ix.phrases[t.low] {
			if i+len(ph.words) > n {
				continue
			}
			ok := true
			for k := 1; k < len(ph.words); k++ {
				if sc.low(i+k) != ph.words[k] {
					ok = false
					break
				}
			}
			if ok {
				hits = append(hits, hit{ph.theme, strings.Join(ph.words, " "), i})
			}
		}
		for _, id := range ix.lookup(t.low) {
			hits = append(hits, hit{id, t.low, i})
		}
	}
	if len(hits) == 0 {
		return
	}
	seenTheme := map[string]bool{}
	seenAspect := map[string]bool{}
	for _, h := range hits {
		if !seenTheme[h.theme] {
			seenTheme[h.theme] = true
			out.Themes = append(out.Themes, h.theme)
		}
		key := h.theme + "\x00" + h.term
		if seenAspect[key] {
			continue
		}
		seenAspect[key] = true
		s := 0.0
		for k := 0; k < n; k++ {
			if sc.clause[k] == sc.clause[h.i] {
				s += sc.own[k]
			}
		}
		if s == 0 {
			for k := 0; k < n; k++ {
				if sc.sent[k] == sc.sent[h.i] {
					s += sc.own[k]
				}
			}
		}
		// A clause is short: one clearly judging word decides it, so the
		// neutral band is narrower than for a whole text.
		c := normalize(s)
		label := Neutral
		if t := math.Min(m.neutralOK, 0.2); c >= t {
			label = Positive
		} else if c <= -t {
			label = Negative
		}
		out.Aspects = append(out.Aspects, Aspect{Theme: h.theme, Term: h.term, Sentiment: label, Score: math.Round(c*1000) / 1000})
	}
	sort.SliceStable(out.Themes, func(a, b int) bool { return ix.order[out.Themes[a]] < ix.order[out.Themes[b]] })
}
