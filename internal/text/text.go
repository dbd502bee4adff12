// Package text analyses short customer texts (survey comments, reviews,
// forum and social-media posts) in German and English: language, sentiment
// with the words that drove it, and business themes (aspects) with the
// sentiment of the clause they occur in. Everything is rule- and
// lexicon-based so that it is fast, explainable and needs no model files.
package text

// Analysis is the result of Analyze.
type Analysis struct {
	Language  string   `json:"language"`          // "de", "en" or "" (unknown)
	Sentiment string   `json:"sentiment"`         // "positive", "negative", "neutral"
	Score     float64  `json:"score"`             // -1 .. +1
	Drivers   []Driver `json:"drivers,omitempty"` // the words that drove the sentiment, strongest first
	Themes    []string `json:"themes,omitempty"`  // theme ids, e.g. "delivery", "price"
	Aspects   []Aspect `json:"aspects,omitempty"` // per matched theme term: theme, term, sentiment of its clause
}

// Driver is a word (or emoji, or phrase) that contributed to the sentiment.
// Weight is its signed contribution after negation and intensifiers.
type Driver struct {
	Word   string  `json:"word"`
	Weight float64 `json:"weight"`
}

// Aspect is one theme term found in the text and the sentiment of its clause.
type Aspect struct {
	Theme     string  `json:"theme"`
	Term      string  `json:"term"`
	Sentiment string  `json:"sentiment"`
	Score     float64 `json:"score"`
}

// Sentiment labels.
const (
	Positive = "positive"
	Negative = "negative"
	Neutral  = "neutral"
)
