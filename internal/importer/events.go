package importer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/kunding/kunding/internal/event"
)

// Events imports Segment-shaped events, one JSON object per line, each with
// its "type". A line without messageId gets one from MessageID.
func Events(ctx context.Context, opt Options) (Summary, error) {
	return run(ctx, opt, jsonLines{})
}

type jsonLines struct{}

func (jsonLines) rows(r io.Reader) (rowReader, error) {
	return &jsonLineReader{lr: newLineReader(r)}, nil
}

type jsonLineReader struct{ lr *lineReader }

func (j *jsonLineReader) next() (row, error) {
	for {
		line, n, tooLong, err := j.lr.next()
		if err != nil {
			return row{}, err
		}
		trimmed := bytes.TrimSpace(line)
		if len(trimmed) == 0 && !tooLong {
			continue
		}
		r := row{line: n, raw: line, content: string(trimmed)}
		switch {
		case tooLong:
			r.err = fmt.Errorf("line longer than %d bytes", maxLine)
		default:
			r.err = checkUTF8(trimmed)
		}
		return r, nil
	}
}

func (*jsonLineReader) event(r *row, now time.Time, id string) (event.Event, error) {
	raw := []byte(r.content)
	env := event.Envelope{ReceivedAt: now}
	fromSentAt := false
	// Exported events carry sentAt from long ago; correcting clock skew
	// against the time of the import would move them all to today. Their own
	// receivedAt, if they have one, is the right reference; without it,
	// sentAt itself is, which leaves the client's timestamp as it is.
	if bytes.Contains(raw, []byte(`"sentAt"`)) || bytes.Contains(raw, []byte(`"receivedAt"`)) {
		var w struct {
			SentAt     *string `json:"sentAt"`
			ReceivedAt *string `json:"receivedAt"`
		}
		if json.Unmarshal(raw, &w) == nil {
			switch {
			case w.ReceivedAt != nil:
				t, err := event.ParseTime(*w.ReceivedAt)
				if err != nil {
					return event.Event{}, fmt.Errorf("receivedAt: %q is not an ISO-8601 date-time", *w.ReceivedAt)
				}
				env.ReceivedAt = t
			case w.SentAt != nil:
				if t, err := event.ParseTime(*w.SentAt); err == nil {
					env.ReceivedAt, fromSentAt = t, true
				}
			}
		}
	}
	ev, err := event.Parse(raw, "", env, func() string { return id })
	if err == nil && fromSentAt {
		ev.ReceivedAt = now
	}
	return ev, err
}
