// Package metrics holds Kunding's Prometheus metrics, served at /metrics.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the collectors of one server.
type Metrics struct {
	Registry *prometheus.Registry
	Received prometheus.Counter
	Accepted prometheus.Counter
	Rejected *prometheus.CounterVec
	// JournalBacklog and JournalBacklogBytes: acknowledged, not yet in the log.
	JournalBacklog      prometheus.Gauge
	JournalBacklogBytes prometheus.Gauge
	Deduplicated        prometheus.Counter
	Overloaded          prometheus.Counter
	RequestSeconds      *prometheus.HistogramVec
	CommitSeconds       prometheus.Histogram
	CommitEvents        prometheus.Histogram
	Processed           prometheus.Counter
	PipelineLag         prometheus.Gauge
}

// New creates and registers the collectors.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Received: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kunding_events_received_total", Help: "Events received by the collection API and imports, valid or not."}),
		Accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kunding_events_accepted_total", Help: "Events durably appended to the event log (new messageIds)."}),
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kunding_events_rejected_total", Help: "Events refused, by reason class."}, []string{"reason"}),
		Deduplicated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kunding_events_deduplicated_total", Help: "Events whose messageId was already stored (client retries)."}),
		Overloaded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kunding_requests_overloaded_total", Help: "Collection requests answered 503 because the write queue was full."}),
		RequestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kunding_http_request_duration_seconds", Help: "HTTP request latency by route and status code.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}, []string{"route", "code"}),
		CommitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "kunding_log_commit_duration_seconds", Help: "Time of one group commit to the event log.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}}),
		CommitEvents: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "kunding_log_commit_events", Help: "Events per group commit.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8)}),
		Processed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kunding_pipeline_events_processed_total", Help: "Events processed by the pipeline (identity, profile)."}),
		PipelineLag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kunding_pipeline_lag_events", Help: "Events in the log not yet processed by the pipeline."}),
		JournalBacklog: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kunding_journal_backlog_events", Help: "Events acknowledged into the journal, not yet loaded into the event log."}),
		JournalBacklogBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kunding_journal_backlog_bytes", Help: "Bytes of the journal not yet loaded into the event log."}),
	}
	m.Registry.MustRegister(m.Received, m.Accepted, m.Rejected, m.Deduplicated, m.Overloaded, m.RequestSeconds,
		m.CommitSeconds, m.CommitEvents, m.Processed, m.PipelineLag, m.JournalBacklog, m.JournalBacklogBytes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
