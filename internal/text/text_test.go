package text

import "testing"

func TestAnalyzeSimple(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"This is great, I love it", Positive},
		{"Terrible service, I hate it", Negative},
		{"The parcel arrived on Tuesday", Neutral},
		{"", Neutral},
	} {
		if got := Analyze(c.in); got.Sentiment != c.want {
			t.Errorf("Analyze(%q) = %+v, want %s", c.in, got, c.want)
		}
	}
}
