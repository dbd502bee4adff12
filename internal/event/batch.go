package event

import (
	"bytes"
	"encoding/json"
	"time"
	"unicode/utf8"
)

// Batch is a decoded /v1/batch (or /v1/import) body before its events are
// parsed one by one, so that one bad event does not reject its neighbours.
type Batch struct {
	Items    []json.RawMessage
	Envelope Envelope
}

type batchWire struct {
	Batch        []json.RawMessage `json:"batch"`
	Context      json.RawMessage   `json:"context"`
	Integrations json.RawMessage   `json:"integrations"`
	SentAt       *string           `json:"sentAt"`
	WriteKey     *string           `json:"writeKey"`
}

// DecodeBatch checks the shape of a batch body: a JSON object with an array
// "batch" of at most MaxBatchEvents objects. The items may share memory
// with raw.
func DecodeBatch(raw []byte, receivedAt time.Time) (Batch, error) {
	if b, ok := decodeBatchFast(raw, receivedAt); ok {
		return b, nil
	}
	return decodeBatchSlow(raw, receivedAt)
}

// decodeBatchSlow is DecodeBatch with encoding/json (see parseSlow).
func decodeBatchSlow(raw []byte, receivedAt time.Time) (Batch, error) {
	var b Batch
	var w batchWire
	if err := strictUnmarshal(raw, &w); err != nil {
		return b, err
	}
	if w.Batch == nil {
		return b, fieldErr("batch", "missing: the body must hold an array \"batch\" of events")
	}
	if len(w.Batch) > MaxBatchEvents {
		return b, fieldErr("batch", "%d events, the limit is %d per batch", len(w.Batch), MaxBatchEvents)
	}
	var err error
	if b.Envelope.Context, err = object("context", w.Context); err != nil {
		return b, err
	}
	if b.Envelope.Integrations, err = object("integrations", w.Integrations); err != nil {
		return b, err
	}
	// They are copied into every event of the batch: a large one would
	// multiply a 500 KB request into gigabytes.
	if n := len(b.Envelope.Context); n > MaxEventBytes {
		return b, fieldErr("context", "the batch-level context is %d bytes, the limit is %d", n, MaxEventBytes)
	}
	if n := len(b.Envelope.Integrations); n > MaxEventBytes {
		return b, fieldErr("integrations", "the batch-level integrations are %d bytes, the limit is %d", n, MaxEventBytes)
	}
	// They are merged into every event: bytes that are not UTF-8 would be
	// stored with each of them.
	if !utf8.Valid(b.Envelope.Context) {
		return b, fieldErr("context", "not valid UTF-8")
	}
	if !utf8.Valid(b.Envelope.Integrations) {
		return b, fieldErr("integrations", "not valid UTF-8")
	}
	if hasNUL(b.Envelope.Context) {
		return b, fieldErr("context", `contains a NUL character (\u0000), which Kunding does not store`)
	}
	if hasNUL(b.Envelope.Integrations) {
		return b, fieldErr("integrations", `contains a NUL character (\u0000), which Kunding does not store`)
	}
	if w.SentAt != nil {
		t, err := parseTime("sentAt", *w.SentAt)
		if err != nil {
			return b, err
		}
		b.Envelope.SentAt = &t
	}
	if w.WriteKey != nil {
		b.Envelope.WriteKey = *w.WriteKey
	}
	b.Envelope.ReceivedAt = receivedAt
	for i, it := range w.Batch {
		w.Batch[i] = bytes.TrimSpace(it)
	}
	b.Items = w.Batch
	return b, nil
}
