package store

import (
	"context"
	"time"
)

// Prediction is what the transaction and spend models expect of one
// customer, computed at a moment.
type Prediction struct {
	CustomerID    string    `json:"-"`
	Model         string    `json:"model"`
	Expected90d   float64   `json:"expectedOrders90d"`
	PAlive        float64   `json:"pAlive"`
	ChurnRisk     float64   `json:"churnRisk"`
	ExpectedSpend float64   `json:"expectedOrderValue"`
	CLV           float64   `json:"clv"`
	CLVPercentile float64   `json:"clvPercentile"` // share of scored customers with a lower CLV, 0..100
	ComputedAt    time.Time `json:"computedAt"`
}

// PredictionStore keeps predictions and gives the models their input.
type PredictionStore interface {
	// EachOrder calls fn for every order of every live customer, ordered by
	// customer.
	EachOrder(ctx context.Context, fn func(o Order) error) error
	SavePredictions(ctx context.Context, ps []Prediction) error
	Prediction(ctx context.Context, customerID string) (Prediction, error)
	// DeletePredictions removes all predictions (before a full rescoring).
	DeletePredictions(ctx context.Context) error
}
