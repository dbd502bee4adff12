// Package i18n is the message catalogue of the web app: every text a person
// reads, in German and English, and the choice of language for a request.
// Messages live in de.json and en.json (flat key -> text; fmt verbs for
// arguments) so that translators edit data, not Go code.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed de.json en.json
var files embed.FS

// Languages are the supported languages; the first is the default for a
// browser that asks for none of them.
var Languages = []string{"en", "de"}

// CookieName holds a language chosen with the switch on every page.
const CookieName = "kunding_lang"

var catalogue = map[string]map[string]string{}

func init() {
	for _, lang := range Languages {
		b, err := files.ReadFile(lang + ".json")
		if err != nil {
			panic("i18n: " + err.Error()) // embedded: cannot happen in a built binary
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			panic(fmt.Sprintf("i18n: %s.json: %v", lang, err)) // a broken catalogue must not ship; tests catch it
		}
		catalogue[lang] = m
	}
}

// Keys returns the message keys of a language, sorted.
func Keys(lang string) []string {
	var out []string
	for k := range catalogue[lang] {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Has reports whether lang has a message for key.
func Has(lang, key string) bool {
	_, ok := catalogue[lang][key]
	return ok
}

// Supported reports whether lang is one of Languages.
func Supported(lang string) bool {
	_, ok := catalogue[lang]
	return ok
}

// Lang is the language of one request with its formatting rules.
type Lang string

// T returns the message key in the language, formatted with args. A missing
// key shows itself in brackets, so that it is noticed rather than hidden
// (a test proves every key used exists).
func (l Lang) T(key string, args ...any) string {
	m, ok := catalogue[string(l)][key]
	if !ok {
		m, ok = catalogue[Languages[0]][key]
	}
	if !ok {
		return "[" + key + "]"
	}
	if len(args) == 0 {
		return m
	}
	return fmt.Sprintf(m, args...)
}

// FromRequest chooses the language: the cookie set by the switch, else the
// best of the browser's Accept-Language, else the default.
func FromRequest(r *http.Request) Lang {
	if c, err := r.Cookie(CookieName); err == nil && Supported(c.Value) {
		return Lang(c.Value)
	}
	return Negotiate(r.Header.Get("Accept-Language"))
}

// Negotiate picks the supported language with the highest q-value from an
// Accept-Language header ("de-DE,de;q=0.9,en;q=0.8").
func Negotiate(header string) Lang {
	best, bestQ := "", 0.0
	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if Supported(primary) && q > bestQ {
			best, bestQ = primary, q
		}
	}
	if best == "" {
		return Lang(Languages[0])
	}
	return Lang(best)
}

// Number formats a number with the language's separators and decimals.
func (l Lang) Number(v float64, decimals int) string {
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	thousands, point := ",", "."
	if l == "de" {
		thousands, point = ".", ","
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteString(thousands)
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString(point)
		b.WriteString(frac)
	}
	return b.String()
}

// Money formats an amount with its currency code in the language's order.
func (l Lang) Money(v float64, currency string) string {
	n := l.Number(v, 2)
	if currency == "" {
		return n
	}
	if l == "de" {
		return n + " " + currency
	}
	return currency + " " + n
}

// DateTime formats a moment to the minute.
func (l Lang) DateTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	if l == "de" {
		return t.Format("02.01.2006 15:04")
	}
	return t.Format("2006-01-02 15:04")
}

// Date formats a day.
func (l Lang) Date(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	if l == "de" {
		return t.Format("02.01.2006")
	}
	return t.Format("2006-01-02")
}

// Clock formats a time of day to the second (the live debugger).
func (l Lang) Clock(t time.Time) string { return t.Format("15:04:05") }

// Month names a month for chart labels ("Mär 2026", "Mar 2026").
func (l Lang) Month(t time.Time) string {
	return l.T("month."+strconv.Itoa(int(t.Month()))) + " " + strconv.Itoa(t.Year())
}
