package text

import (
	"bufio"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time: on a shared, busy machine
// texts per CPU-second is steadier than texts per wall-clock second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

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

// BenchmarkAnalyze reports texts per second on one goroutine (run with
// -cpu 1 for the one-core figure), by wall clock and by CPU time.
func BenchmarkAnalyze(b *testing.B) {
	texts := benchTexts(b)
	Analyze("warm up")
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime()
	for i := 0; i < b.N; i++ {
		Analyze(texts[i%len(texts)])
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "texts/s")
	if c := cpuTime() - cpu; c > 0 {
		b.ReportMetric(float64(b.N)/c.Seconds(), "texts/cpu-s")
	}
}
