package text

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"time"
)

// benchTexts are the German development set and the English tweets when
// present (short texts of the kind Kunding analyses).
func benchTexts(b *testing.B) []string {
	var texts []string
	for _, f := range []string{"testdata/de_dev.tsv", "testdata/de_test.tsv", "/work/shared/data/sentiment/data/en_vader_tweets.tsv", "../../../shared/data/sentiment/data/en_vader_tweets.tsv"} {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			if t, _, ok := strings.Cut(sc.Text(), "\t"); ok && t != "text" {
				texts = append(texts, t)
			}
		}
		fh.Close()
	}
	if len(texts) == 0 {
		b.Fatal("no texts")
	}
	return texts
}

// BenchmarkAnalyze reports texts per second on one goroutine
// (run with -cpu 1 for the one-core figure).
func BenchmarkAnalyze(b *testing.B) {
	texts := benchTexts(b)
	Analyze("warm up")
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		Analyze(texts[i%len(texts)])
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "texts/s")
}
