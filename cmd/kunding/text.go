package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kunding/kunding/internal/text"
)

const textUsage = `usage: kunding text <eval|analyze> [flags] ARG

  eval FILE.tsv     sentiment quality on labelled texts: one "text TAB label" per line (labels positive,
                    negative, neutral; optional header "text TAB label"); prints accuracy, macro-F1,
                    per-class precision/recall/F1 and the confusion matrix ("-" reads standard input)
  analyze "TEXT"    print the analysis of one text (language, sentiment, drivers, themes, aspects) as JSON
`

func runText(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(textUsage)
	}
	sub := args[0]
	if sub == "-h" || sub == "--help" || sub == "help" {
		io.WriteString(stderr, textUsage)
		return flag.ErrHelp
	}
	fs := flagSet("text "+sub, stderr)
	themes := fs.String("themes", "", "JSON file of themes that add to or replace the built-in ones (see docs/text-analytics.md)")
	var showErrors *bool
	var asJSON *bool
	switch sub {
	case "eval":
		showErrors = fs.Bool("errors", false, "also print every misclassified line (line, gold, predicted, score, drivers, text)")
		asJSON = fs.Bool("json", false, "print the report as JSON")
	case "analyze":
	default:
		return fmt.Errorf("unknown subcommand %q\n%s", sub, textUsage)
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	var extra []text.Theme
	if *themes != "" {
		t, err := text.LoadThemes(*themes)
		if err != nil {
			return err
		}
		extra = t
	}
	a := text.NewAnalyzer(extra)
	switch sub {
	case "analyze":
		if fs.NArg() == 0 {
			return errors.New(`give the text: kunding text analyze "some text"`)
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(a.Analyze(strings.Join(fs.Args(), " ")))
	}
	if fs.NArg() != 1 {
		return errors.New("give one file: kunding text eval FILE.tsv")
	}
	var r io.Reader = os.Stdin
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	rep, err := text.Evaluate(r, a)
	if err != nil {
		return fmt.Errorf("%s: %v", fs.Arg(0), err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	rep.Write(stdout)
	if *showErrors {
		fmt.Fprintln(stdout, "\nmisclassified (line, gold, predicted(score), drivers, text):")
		for _, e := range rep.Errors {
			var d []string
			for _, x := range e.Got.Drivers {
				d = append(d, fmt.Sprintf("%s %+.2f", x.Word, x.Weight))
			}
			fmt.Fprintf(stdout, "%d\t%s\t%s(%+.2f)\t[%s]\t%s\n", e.Line, e.Gold, e.Got.Sentiment, e.Got.Score, strings.Join(d, ", "), e.Text)
		}
	}
	return nil
}
