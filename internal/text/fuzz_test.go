package text

import (
	"testing"
	"unicode/utf8"
)

// FuzzAnalyze: any input gives a valid analysis and no panic. The seeds
// run as a normal test; `go test -fuzz FuzzAnalyze` explores further.
func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{"", "Nicht schlecht!", "Zugausfall :( #fail @db https://x.y", "\xff\xfe", "😀😡👍🏽‍♀️",
		"nur 2", "Liebe", "mal wieder", "too", "no", "least", "kein-", "-nicht", "Super-", "a.b.c", "seit # minuten",
		"Ich liebe es. Nicht.", "zu", "ob", "trotz", "aber", "but", "Although", "far from"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a := Analyze(s)
		if a.Score < -1 || a.Score > 1 || (a.Sentiment != Positive && a.Sentiment != Negative && a.Sentiment != Neutral) {
			t.Fatalf("Analyze(%q) = %+v", s, a)
		}
		if a.Language != "" && a.Language != "de" && a.Language != "en" {
			t.Fatalf("language %q", a.Language)
		}
		for _, d := range a.Drivers {
			if !utf8.ValidString(d.Word) {
				t.Fatalf("driver %q", d.Word)
			}
		}
		for _, asp := range a.Aspects {
			if asp.Score < -1 || asp.Score > 1 || !utf8.ValidString(asp.Term) {
				t.Fatalf("aspect %+v", asp)
			}
		}
	})
}
