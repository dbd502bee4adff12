package text

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Labels in the order used by reports.
var Labels = []string{Negative, Neutral, Positive}

// ClassScore is precision, recall and F1 of one label.
type ClassScore struct {
	Label     string  `json:"label"`
	Support   int     `json:"support"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
}

// Report is the result of Evaluate.
type Report struct {
	N        int                       `json:"n"`
	Accuracy float64                   `json:"accuracy"`
	MacroF1  float64                   `json:"macroF1"`
	F1PN     float64                   `json:"f1PN"` // mean F1 of positive and negative (SemEval's F1^PN)
	Classes  []ClassScore              `json:"classes"`
	Confused map[string]map[string]int `json:"confusion"` // gold -> predicted -> count
	Language map[string]int            `json:"languages"` // detected language -> count
	Errors   []EvalError               `json:"-"`         // misclassified lines, for error analysis
}

// EvalError is one misclassified line.
type EvalError struct {
	Line       int
	Text, Gold string
	Got        Analysis
}

// Evaluate reads "text TAB label" lines (labels positive, negative,
// neutral; an optional first line "text TAB label" is a header; empty lines
// are skipped), analyses each text with a and compares.
func Evaluate(r io.Reader, a *Analyzer) (*Report, error) {
	if a == nil {
		a = getDefault()
	}
	rep := &Report{Confused: map[string]map[string]int{}, Language: map[string]int{}}
	for _, g := range Labels {
		rep.Confused[g] = map[string]int{}
	}
	br := bufio.NewReader(r)
	line := 0
	for {
		s, err := br.ReadString('\n')
		if s == "" && err != nil {
			if err == io.EOF {
				break
			}
			return nil, fmt.Errorf("line %d: %v", line+1, err)
		}
		line++
		s = strings.TrimRight(s, "\r\n")
		if strings.TrimSpace(s) == "" {
			continue
		}
		tab := strings.LastIndexByte(s, '\t')
		if tab < 0 {
			return nil, fmt.Errorf("line %d: no TAB between text and label: %q", line, clip(s))
		}
		txt, gold := s[:tab], strings.ToLower(strings.TrimSpace(s[tab+1:]))
		if line == 1 && strings.EqualFold(strings.TrimSpace(txt), "text") && gold == "label" {
			continue
		}
		if _, ok := rep.Confused[gold]; !ok {
			return nil, fmt.Errorf("line %d: label %q is not positive, negative or neutral", line, clip(s[tab+1:]))
		}
		got := a.Analyze(txt)
		rep.N++
		rep.Confused[gold][got.Sentiment]++
		rep.Language[got.Language]++
		if got.Sentiment != gold {
			rep.Errors = append(rep.Errors, EvalError{Line: line, Text: txt, Gold: gold, Got: got})
		}
	}
	if rep.N == 0 {
		return nil, fmt.Errorf("no labelled lines")
	}
	correct := 0
	for _, l := range Labels {
		correct += rep.Confused[l][l]
	}
	rep.Accuracy = float64(correct) / float64(rep.N)
	for _, l := range Labels {
		tp := rep.Confused[l][l]
		support, predicted := 0, 0
		for _, g := range Labels {
			support += rep.Confused[l][g]
			predicted += rep.Confused[g][l]
		}
		c := ClassScore{Label: l, Support: support}
		if predicted > 0 {
			c.Precision = float64(tp) / float64(predicted)
		}
		if support > 0 {
			c.Recall = float64(tp) / float64(support)
		}
		if c.Precision+c.Recall > 0 {
			c.F1 = 2 * c.Precision * c.Recall / (c.Precision + c.Recall)
		}
		rep.Classes = append(rep.Classes, c)
		rep.MacroF1 += c.F1 / float64(len(Labels))
		if l != Neutral {
			rep.F1PN += c.F1 / 2
		}
	}
	return rep, nil
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// Write prints the report as a table.
func (r *Report) Write(w io.Writer) {
	fmt.Fprintf(w, "texts     %d\naccuracy  %.3f\nmacro-F1  %.3f\nF1 pos/neg %.3f (mean F1 of positive and negative, SemEval's F1^PN)\n\n", r.N, r.Accuracy, r.MacroF1, r.F1PN)
	fmt.Fprintf(w, "%-9s %8s %9s %7s %6s\n", "label", "support", "precision", "recall", "F1")
	for _, c := range r.Classes {
		fmt.Fprintf(w, "%-9s %8d %9.3f %7.3f %6.3f\n", c.Label, c.Support, c.Precision, c.Recall, c.F1)
	}
	fmt.Fprintf(w, "\nconfusion (rows: gold, columns: predicted)\n%-9s", "")
	for _, p := range Labels {
		fmt.Fprintf(w, " %8s", p)
	}
	fmt.Fprintln(w)
	for _, g := range Labels {
		fmt.Fprintf(w, "%-9s", g)
		for _, p := range Labels {
			fmt.Fprintf(w, " %8d", r.Confused[g][p])
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nlanguages detected: de %d, en %d, unknown %d\n", r.Language["de"], r.Language["en"], r.Language[""])
}
