package i18n

import (
	"net/http/httptest"
	"regexp"
	"testing"
	"time"
)

// Every message exists in every language, with the same arguments.
func TestCataloguesComplete(t *testing.T) {
	verbs := regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)
	for _, a := range Languages {
		for _, b := range Languages {
			for _, k := range Keys(a) {
				if !Has(b, k) {
					t.Errorf("%q is in %s.json but not in %s.json", k, a, b)
					continue
				}
				va, vb := verbs.FindAllString(catalogue[a][k], -1), verbs.FindAllString(catalogue[b][k], -1)
				if len(va) != len(vb) {
					t.Errorf("%q: %s has arguments %v, %s has %v", k, a, va, b, vb)
				}
			}
		}
		for _, k := range Keys(a) {
			if catalogue[a][k] == "" {
				t.Errorf("%s.json: %q is empty", a, k)
			}
		}
	}
}

func TestNegotiate(t *testing.T) {
	tests := []struct{ header, want string }{
		{"", "en"},
		{"de-DE,de;q=0.9,en;q=0.8", "de"},
		{"en-US,en;q=0.9,de;q=0.8", "en"},
		{"fr-FR,fr;q=0.9,de;q=0.5,en;q=0.4", "de"},
		{"fr", "en"},
		{"DE", "de"},
		{"de;q=0.1, en;q=0.2", "en"},
		{"de;q=bogus, en;q=0.2", "en"},
		{"*", "en"},
	}
	for _, tc := range tests {
		if got := Negotiate(tc.header); string(got) != tc.want {
			t.Errorf("Negotiate(%q) = %s, want %s", tc.header, got, tc.want)
		}
	}
}

func TestFromRequestCookieWins(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Accept-Language", "en")
	r.Header.Set("Cookie", CookieName+"=de")
	if got := FromRequest(r); got != "de" {
		t.Fatalf("cookie de, browser en: got %s", got)
	}
	r.Header.Set("Cookie", CookieName+"=xx")
	if got := FromRequest(r); got != "en" {
		t.Fatalf("unknown cookie: got %s, want the browser's en", got)
	}
}

func TestFormatting(t *testing.T) {
	de, en := Lang("de"), Lang("en")
	tests := []struct{ got, want string }{
		{de.Number(1234567.891, 2), "1.234.567,89"},
		{en.Number(1234567.891, 2), "1,234,567.89"},
		{en.Number(-1234, 0), "-1,234"},
		{en.Number(999, 0), "999"},
		{de.Money(59.9, "EUR"), "59,90 EUR"},
		{en.Money(59.9, "EUR"), "EUR 59.90"},
		{de.DateTime(time.Date(2026, 3, 1, 9, 5, 0, 0, time.UTC)), "01.03.2026 09:05"},
		{en.DateTime(time.Date(2026, 3, 1, 9, 5, 0, 0, time.UTC)), "2026-03-01 09:05"},
		{de.Month(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)), "Mär 2026"},
		{en.T("search.count", 3, "1.5"), "3 found in 1.5 ms."},
		{en.T("no.such.key"), "[no.such.key]"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
