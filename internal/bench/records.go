package bench

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/store"
)

// Records returns n generated events of sourceID as the collection API
// stores them: decoded, validated and encoded again (collect.record).
func (g *Generator) Records(n int, sourceID string, at time.Time) ([]store.Record, error) {
	body := g.Batch(make([]byte, 0, n*1100), n, at)
	return RecordsOf(body, sourceID, at)
}

// RecordsOf decodes a batch body into records.
func RecordsOf(body []byte, sourceID string, at time.Time) ([]store.Record, error) {
	b, err := event.DecodeBatch(body, at)
	if err != nil {
		return nil, err
	}
	recs := make([]store.Record, 0, len(b.Items))
	for i, raw := range b.Items {
		ev, err := event.Parse(raw, "", b.Envelope, func() string { return "gen-" + strconv.Itoa(i) })
		if err != nil {
			return nil, fmt.Errorf("generated event %d: %w\n%s", i, err, raw)
		}
		body, err := json.Marshal(ev)
		if err != nil {
			return nil, err
		}
		recs = append(recs, store.Record{SourceID: sourceID, Event: ev, Body: body})
	}
	return recs, nil
}
