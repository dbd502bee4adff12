package scoring

import (
	"context"
	"fmt"
	"time"

	"github.com/kunding/kunding/internal/predict"
	"github.com/kunding/kunding/internal/store"
)

// ValidateOptions split the history for validation.
type ValidateOptions struct {
	Options
	// HoldoutEnd is the last day of the holdout; zero: the day of the last order.
	HoldoutEnd time.Time
	// MaxX groups the frequency table: 0 .. MaxX-1 and MaxX or more (default 7).
	MaxX int
}

// ModelReport is how one model did on the holdout.
type ModelReport struct {
	Candidate
	Tracking    []predict.TrackingPoint `json:"tracking"`
	ByFrequency []predict.FrequencyRow  `json:"byFrequency"`
	Holdout     predict.HoldoutEval     `json:"holdout"`
	// ForecastEnd is the cumulative forecast at the last period.
	ForecastEnd float64 `json:"forecastEnd"`
}

// Report is the calibration/holdout comparison of `kunding models validate`.
type Report struct {
	Customers      int           `json:"customers"`
	Start          time.Time     `json:"start"`
	CalibrationEnd time.Time     `json:"calibrationEnd"`
	HoldoutEnd     time.Time     `json:"holdoutEnd"`
	UnitDays       int           `json:"unitDays"`
	Models         []ModelReport `json:"models"`
	// ActualAtCalibrationEnd and ActualEnd are the cumulative repeat
	// transactions at the end of calibration and of the holdout.
	ActualAtCalibrationEnd float64 `json:"actualAtCalibrationEnd"`
	ActualEnd              float64 `json:"actualEnd"`
	// Best is the model with the lowest holdout error per customer (MAE).
	Best string `json:"best"`
}

// Validate fits the models on the orders up to the calibration end and
// compares their forecasts with what customers did in the holdout. It
// changes nothing in the store.
func Validate(ctx context.Context, st store.Store, o ValidateOptions) (Report, error) {
	if err := o.defaults(); err != nil {
		return Report{}, err
	}
	if o.CalibrationEnd.IsZero() {
		return Report{}, fmt.Errorf("validate needs a calibration end date")
	}
	if o.MaxX == 0 {
		o.MaxX = 7
	}
	txs, err := transactions(ctx, st)
	if err != nil {
		return Report{}, err
	}
	holdEnd := o.HoldoutEnd
	if holdEnd.IsZero() {
		for _, t := range txs {
			if t.Time.After(holdEnd) {
				holdEnd = t.Time
			}
		}
	}
	if !holdEnd.After(o.CalibrationEnd) {
		return Report{}, fmt.Errorf("no orders after the calibration end %s to compare with", o.CalibrationEnd.Format(time.DateOnly))
	}
	cohort, err := predict.Summarize(txs, predict.SummaryOptions{CalibrationEnd: o.CalibrationEnd, HoldoutEnd: holdEnd, Unit: o.Unit})
	if err != nil {
		return Report{}, fmt.Errorf("validate: %w", err)
	}
	r := Report{Customers: len(cohort.Customers), Start: cohort.Start, CalibrationEnd: cohort.CalibrationEnd,
		HoldoutEnd: cohort.HoldoutEnd, UnitDays: int(o.Unit / (24 * time.Hour))}
	names := predict.Models
	if o.Model != "auto" {
		names = []string{o.Model}
	}
	bestMAE := 0.0
	for _, name := range names {
		mr := ModelReport{Candidate: Candidate{Name: name}}
		tm, err := predict.FitTransactionModel(name, cohort.Data(), predict.FitOptions{SkipSE: true})
		if err != nil {
			mr.Error = err.Error()
			r.Models = append(r.Models, mr)
			continue
		}
		mr.Params, mr.LogLik, mr.BIC = tm.Params(), tm.Fitted().LogLik, predict.BIC(tm)
		mr.Tracking = predict.CumulativeTracking(tm, cohort)
		if mr.ByFrequency, err = predict.ByFrequency(tm, cohort, o.MaxX); err != nil {
			return Report{}, err
		}
		if mr.Holdout, err = predict.EvaluateHoldout(tm, cohort); err != nil {
			return Report{}, err
		}
		if n := len(mr.Tracking); n > 0 {
			mr.ForecastEnd = mr.Tracking[n-1].Expected
			r.ActualEnd = mr.Tracking[n-1].Actual
			for _, p := range mr.Tracking {
				if !p.Holdout {
					r.ActualAtCalibrationEnd = p.Actual
				}
			}
		}
		if r.Best == "" || mr.Holdout.MAE < bestMAE {
			r.Best, bestMAE = name, mr.Holdout.MAE
		}
		r.Models = append(r.Models, mr)
	}
	if r.Best == "" {
		return r, fmt.Errorf("no model could be fitted on the calibration period")
	}
	return r, nil
}
