// Package predict holds the "buy till you die" models of customer-base
// analysis and customer lifetime value: BG/NBD, MBG/NBD and Pareto/NBD for
// repeat transactions in continuous time, BG/BB for discrete transaction
// opportunities, the Gamma-Gamma model of spend, and CLV built from them.
//
// It is pure computation: no storage, no HTTP. The product summarises a
// customer's dated transactions into (x, t_x, T) with Summarize, fits a model
// with FitBGNBD, FitMBGNBD or FitParetoNBD (all TransactionModel), fits
// FitGammaGamma on the repeat buyers' mean spend, and asks the fitted models
// for each customer's predictions. Calibration/holdout validation
// (ByFrequency, CumulativeTracking, EvaluateHoldout) checks a model against
// what happened after the calibration period.
//
// Formulas, their sources and the published results this package reproduces
// are in docs/models.md.
package predict
