package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/kunding/kunding/internal/scoring"
	"github.com/kunding/kunding/internal/store"
)

const modelsUsage = `usage: kunding models <fit|score|validate|show> [flags]

  fit       fit the purchase models on all orders, choose one, keep it, and score every customer
  score     score every customer again with the model in use (after a rebuild, or to renew the CLV percentiles)
  validate  split the history at --calibration-end and compare forecasts with what happened (changes nothing)
  show      print the model in use
`

func runModels(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(modelsUsage)
	}
	sub := args[0]
	if sub == "-h" || sub == "--help" || sub == "help" {
		io.WriteString(stderr, modelsUsage)
		return flag.ErrHelp
	}
	fs := flagSet("models "+sub, stderr)
	sf := addStoreFlags(fs)
	var unitDays, horizon *int
	var model, calEnd, holdEnd *string
	var margin, discount *float64
	var asJSON *bool
	var customer *string
	switch sub {
	case "fit", "validate":
		unitDays = fs.Int("unit-days", 7, "time unit of the models in days (7: weeks, as in the literature)")
		model = fs.String("model", "auto", "auto (lowest BIC) or one of bgnbd, mbgnbd, paretonbd")
		calEnd = fs.String("calibration-end", "", "last day of data to fit on, YYYY-MM-DD (fit: default today)")
	case "score":
	case "show":
		customer = fs.String("customer", "", "also show this customer's predictions (customer id or user id)")
	default:
		return fmt.Errorf("unknown subcommand %q\n%s", sub, modelsUsage)
	}
	if sub == "fit" {
		margin = fs.Float64("margin", 0.3, "share of revenue that is profit, for CLV")
		discount = fs.Float64("discount", 0.1, "yearly discount rate of CLV")
		horizon = fs.Int("horizon-days", 365, "how far ahead CLV counts")
	}
	if sub == "validate" {
		holdEnd = fs.String("holdout-end", "", "last day of the holdout, YYYY-MM-DD (default: the day of the last order)")
		asJSON = fs.Bool("json", false, "print the report as JSON")
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	date := func(name, v string) (time.Time, error) {
		if v == "" {
			return time.Time{}, nil
		}
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return t, fmt.Errorf("--%s %q: use YYYY-MM-DD", name, v)
		}
		return t, nil
	}
	switch sub {
	case "show":
		m, err := scoring.Load(ctx, st)
		if err != nil {
			return err
		}
		printModel(stdout, m)
		if *customer == "" {
			return nil
		}
		p, err := st.Customer(ctx, *customer)
		if errors.Is(err, store.ErrNotFound) {
			p, err = st.CustomerByIdentifier(ctx, store.Identifier{Kind: "user", Value: *customer})
		}
		if err != nil {
			return fmt.Errorf("customer %s: %w", *customer, err)
		}
		ps, ok := st.(store.PredictionStore)
		if !ok {
			return errors.New("this store keeps no predictions")
		}
		pr, err := ps.Prediction(ctx, p.CustomerID)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("customer %s has no predictions yet (no orders, or not scored: kunding models score)", p.CustomerID)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\ncustomer %s (%s), computed %s with %s:\n", p.CustomerID, p.Name, pr.ComputedAt.Format(time.RFC3339), pr.Model)
		fmt.Fprintf(stdout, "  expected orders next 90 days %.3f\n  P(alive) %.3f, churn risk %.3f\n  expected order value %.2f\n  CLV %.2f (percentile %.1f)\n",
			pr.Expected90d, pr.PAlive, pr.ChurnRisk, pr.ExpectedSpend, pr.CLV, pr.CLVPercentile)
		return nil
	case "score":
		bar := newProgress(stderr, "score", 0)
		n, err := scoring.ScoreAll(ctx, st, time.Now(), func(done, total int) { bar.total = int64(total); bar.set(int64(done)) })
		bar.done()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "scored %d customers\n", n)
		return nil
	case "fit":
		ce, err := date("calibration-end", *calEnd)
		if err != nil {
			return err
		}
		start := time.Now()
		m, err := scoring.Fit(ctx, st, scoring.Options{Unit: time.Duration(*unitDays) * 24 * time.Hour, Model: *model,
			CalibrationEnd: ce, Margin: *margin, AnnualDiscount: *discount, HorizonDays: *horizon})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "fitted in %v\n", time.Since(start).Round(time.Millisecond))
		printModel(stdout, m)
		bar := newProgress(stderr, "score", 0)
		n, err := scoring.ScoreAll(ctx, st, time.Now(), func(done, total int) { bar.total = int64(total); bar.set(int64(done)) })
		bar.done()
		if err != nil {
			return fmt.Errorf("the model is kept, but scoring failed: %w", err)
		}
		fmt.Fprintf(stdout, "scored %d customers\n", n)
		return nil
	}
	ce, err := date("calibration-end", *calEnd)
	if err != nil {
		return err
	}
	he, err := date("holdout-end", *holdEnd)
	if err != nil {
		return err
	}
	r, err := scoring.Validate(ctx, st, scoring.ValidateOptions{Options: scoring.Options{Unit: time.Duration(*unitDays) * 24 * time.Hour,
		Model: *model, CalibrationEnd: ce}, HoldoutEnd: he})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	printReport(stdout, r)
	return nil
}

func printModel(w io.Writer, m scoring.Model) {
	fmt.Fprintf(w, "model %s fitted %s on %.0f customers (calibration end %s, unit %d days)\n",
		m.Name, m.FittedAt.Format(time.RFC3339), m.Customers, m.CalibrationEnd.Format(time.DateOnly), m.UnitDays)
	for i, n := range m.ParamNames {
		se := "n/a"
		if i < len(m.SE) && m.SE[i] >= 0 {
			se = fmt.Sprintf("%.4g", m.SE[i])
		}
		fmt.Fprintf(w, "  %-6s %10.5g  (SE %s)\n", n, m.Params[i], se)
	}
	fmt.Fprintf(w, "  log-likelihood %.2f, BIC %.2f; chosen by %s\n", m.LogLik, m.BIC, m.ChosenBy)
	for _, c := range m.Candidates {
		switch {
		case c.Error != "":
			fmt.Fprintf(w, "  candidate %-9s failed: %s\n", c.Name, c.Error)
		case c.HoldoutMAE > 0:
			fmt.Fprintf(w, "  candidate %-9s LL %.2f BIC %.2f holdout MAE %.4f\n", c.Name, c.LogLik, c.BIC, c.HoldoutMAE)
		default:
			fmt.Fprintf(w, "  candidate %-9s LL %.2f BIC %.2f\n", c.Name, c.LogLik, c.BIC)
		}
	}
	if m.Spend != nil {
		fmt.Fprintf(w, "spend (Gamma-Gamma) on %d repeat buyers: p %.4g, q %.4g, gamma %.4g\n", m.RepeatBuyers, m.Spend.P, m.Spend.Q, m.Spend.Gamma)
	} else if m.SpendError != "" {
		fmt.Fprintf(w, "spend model not fitted (%s): expected order values are the customers' own means\n", m.SpendError)
	}
	fmt.Fprintf(w, "CLV: margin %.0f%%, discount %.0f%% a year, horizon %d days", m.Margin*100, m.AnnualDiscount*100, m.HorizonDays)
	if m.Scored > 0 {
		fmt.Fprintf(w, "; %d customers scored %s", m.Scored, m.ScoredAt.Format(time.RFC3339))
	}
	fmt.Fprintln(w)
}

func printReport(w io.Writer, r scoring.Report) {
	fmt.Fprintf(w, "%d customers; first purchase from %s; calibration to %s, holdout to %s; unit %d days\n\n",
		r.Customers, r.Start.Format(time.DateOnly), r.CalibrationEnd.Format(time.DateOnly), r.HoldoutEnd.Format(time.DateOnly), r.UnitDays)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "model\tLL\tBIC\tholdout actual\texpected\terror %\tMAE\tforecast at end\tactual at end\t")
	for _, m := range r.Models {
		if m.Error != "" {
			fmt.Fprintf(tw, "%s\tfailed: %s\t\t\t\t\t\t\t\t\n", m.Name, m.Error)
			continue
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.0f\t%.1f\t%+.1f\t%.3f\t%.1f\t%.0f\t\n", m.Name, m.LogLik, m.BIC, m.Holdout.Actual,
			m.Holdout.Expected, m.Holdout.ErrorPct, m.Holdout.MAE, m.ForecastEnd, r.ActualEnd)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nbest by holdout error per customer: %s\n", r.Best)
	for _, m := range r.Models {
		if m.Error != "" {
			continue
		}
		fmt.Fprintf(w, "\n%s: mean holdout transactions by calibration repeat purchases\n", m.Name)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "x\tcustomers\tactual\texpected\t")
		for _, row := range m.ByFrequency {
			x := fmt.Sprint(row.X)
			if row.OrMore {
				x += "+"
			}
			fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t\n", x, row.Customers, row.Actual, row.Expected)
		}
		tw.Flush()
		fmt.Fprintf(w, "\n%s: cumulative repeat transactions by period\n", m.Name)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "period\tend\tactual\tforecast\t\t")
		for _, p := range m.Tracking {
			mark := ""
			if p.Holdout {
				mark = "holdout"
			}
			fmt.Fprintf(tw, "%d\t%s\t%.0f\t%.1f\t%s\t\n", p.Period, p.End.Format(time.DateOnly), p.Actual, p.Expected, mark)
		}
		tw.Flush()
	}
}
