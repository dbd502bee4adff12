package text

import (
	"strings"
	"unicode"
)

// First simple implementation: a tiny word list, replaced by the lexicon
// models. Kept only so that callers can compile and test against the API.
var simpleWords = map[string]float64{
	"good": 1, "great": 1, "excellent": 1, "love": 1, "thanks": 0.5,
	"bad": -1, "terrible": -1, "awful": -1, "hate": -1,
	"gut": 1, "super": 1, "toll": 1, "danke": 0.5, "prima": 1,
	"schlecht": -1, "schrecklich": -1, "furchtbar": -1, "verspätung": -1, "ärgerlich": -1,
}

var germanHints = map[string]bool{"der": true, "die": true, "das": true, "und": true, "ist": true, "nicht": true, "ich": true}
var englishHints = map[string]bool{"the": true, "and": true, "is": true, "not": true, "i": true, "was": true}

// Analyze analyses s with the built-in lexicons and themes. It is safe for
// concurrent use and never fails: an empty or unreadable text is neutral.
func Analyze(s string) Analysis {
	a := Analysis{Sentiment: Neutral}
	words := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) })
	de, en := 0, 0
	sum := 0.0
	for _, w := range words {
		if germanHints[w] {
			de++
		}
		if englishHints[w] {
			en++
		}
		if v, ok := simpleWords[w]; ok {
			sum += v
			a.Drivers = append(a.Drivers, Driver{Word: w, Weight: v})
		}
	}
	switch {
	case de > en:
		a.Language = "de"
	case en > de:
		a.Language = "en"
	}
	if sum != 0 {
		a.Score = sum / (abs(sum) + 1)
	}
	switch {
	case a.Score > 0.2:
		a.Sentiment = Positive
	case a.Score < -0.2:
		a.Sentiment = Negative
	}
	return a
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
