package text

import (
	"fmt"
	"os"
	"testing"
)

// TestEvalFiles prints reports for the files in KUNDING_TEXT_EVAL (a
// development aid; the CLI does the same).
func TestEvalFiles(t *testing.T) {
	f := os.Getenv("KUNDING_TEXT_EVAL")
	if f == "" {
		t.Skip("set KUNDING_TEXT_EVAL=file.tsv")
	}
	fh, err := os.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	rep, err := Evaluate(fh, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep.Write(os.Stdout)
	if os.Getenv("KUNDING_TEXT_ERRORS") != "" {
		for _, e := range rep.Errors {
			fmt.Printf("%d\t%s\t%s(%.2f)\t%v\t%s\n", e.Line, e.Gold, e.Got.Sentiment, e.Got.Score, e.Got.Drivers, e.Text)
		}
	}
}
