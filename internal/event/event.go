// Package event holds the event envelope of the Segment Tracking API spec
// (identify, track, page, screen, group, alias), its validation, the limits
// of the HTTP API and the correction of client clock skew.
package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of the Segment HTTP Tracking API.
const (
	MaxEventBytes  = 32 * 1024
	MaxBatchBytes  = 500 * 1024
	MaxBatchEvents = 2500
	maxIDLength    = 512
)

// Types of the Segment spec.
const (
	Identify = "identify"
	Track    = "track"
	Page     = "page"
	Screen   = "screen"
	Group    = "group"
	Alias    = "alias"
)

// OrderCompleted is the Segment e-commerce spec event that counts as an order.
const OrderCompleted = "Order Completed"

// IsType reports whether t is one of the six event types of the spec.
func IsType(t string) bool {
	switch t {
	case Identify, Track, Page, Screen, Group, Alias:
		return true
	}
	return false
}

// Event is one call of the Segment spec after decoding. Fields that the spec
// defines as free objects stay raw JSON: Kunding stores them as sent.
type Event struct {
	Type              string          `json:"type"`
	MessageID         string          `json:"messageId"`
	UserID            string          `json:"userId,omitempty"`
	AnonymousID       string          `json:"anonymousId,omitempty"`
	PreviousID        string          `json:"previousId,omitempty"`
	GroupID           string          `json:"groupId,omitempty"`
	Event             string          `json:"event,omitempty"`
	Name              string          `json:"name,omitempty"`
	Category          string          `json:"category,omitempty"`
	Properties        json.RawMessage `json:"properties,omitempty"`
	Traits            json.RawMessage `json:"traits,omitempty"`
	Context           json.RawMessage `json:"context,omitempty"`
	Integrations      json.RawMessage `json:"integrations,omitempty"`
	Timestamp         time.Time       `json:"timestamp"`
	OriginalTimestamp *time.Time      `json:"originalTimestamp,omitempty"`
	SentAt            *time.Time      `json:"sentAt,omitempty"`
	ReceivedAt        time.Time       `json:"receivedAt"`
}

// wire is the shape a client sends. IDs are flexible because SDKs in loosely
// typed languages send numeric user ids.
type wire struct {
	Type              string          `json:"type"`
	MessageID         flexString      `json:"messageId"`
	UserID            flexString      `json:"userId"`
	AnonymousID       flexString      `json:"anonymousId"`
	PreviousID        flexString      `json:"previousId"`
	GroupID           flexString      `json:"groupId"`
	Event             *string         `json:"event"`
	Name              *string         `json:"name"`
	Category          *string         `json:"category"`
	Properties        json.RawMessage `json:"properties"`
	Traits            json.RawMessage `json:"traits"`
	Context           json.RawMessage `json:"context"`
	Integrations      json.RawMessage `json:"integrations"`
	Timestamp         *string         `json:"timestamp"`
	OriginalTimestamp *string         `json:"originalTimestamp"`
	SentAt            *string         `json:"sentAt"`
	WriteKey          *string         `json:"writeKey"`
}

// flexString accepts a JSON string or number (as text) and null.
type flexString string

var stringType = reflect.TypeFor[string]()

func (f *flexString) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || string(b) == "null" {
		*f = ""
		return nil
	}
	switch {
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		// The decoder has already checked that this is a JSON number; its
		// text is the id, however large (12345678901234567890 stays exact).
		*f = flexString(b)
		return nil
	}
	// An UnmarshalTypeError gets the field name added by encoding/json, so
	// the client learns which id is wrong.
	return &json.UnmarshalTypeError{Value: jsonKind(b[0]), Type: stringType}
}

func jsonKind(c byte) string {
	switch c {
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	}
	return "value"
}

// Envelope is what a request carries besides the events themselves.
type Envelope struct {
	WriteKey     string
	SentAt       *time.Time
	Context      json.RawMessage // batch-level, merged into each event
	Integrations json.RawMessage
	ReceivedAt   time.Time
}

// Error is a validation error of one event, with the field it concerns.
type Error struct {
	Field string
	Msg   string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

func fieldErr(field, format string, args ...any) error {
	return &Error{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Parse decodes and validates one event. typ, when not empty, is the type the
// endpoint implies (/v1/track) and wins over the body. env carries the
// request-level values. newID makes a messageId when the client sent none.
func Parse(raw []byte, typ string, env Envelope, newID func() string) (Event, error) {
	if ev, ok := parseFast(raw, typ, env, newID); ok {
		return ev, nil
	}
	return parseSlow(raw, typ, env, newID)
}

// parseSlow is Parse with encoding/json: the reference for parseFast and
// the path of every event the fast one declines (and so of every error).
func parseSlow(raw []byte, typ string, env Envelope, newID func() string) (Event, error) {
	var ev Event
	if len(raw) > MaxEventBytes {
		return ev, fieldErr("", "event is %d bytes, the limit is %d", len(raw), MaxEventBytes)
	}
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return ev, fieldErr("", "the event must be a JSON object, not null")
	}
	// JSON is UTF-8 (RFC 8259); bytes that are not would be stored as sent in
	// properties and traits and break every reader downstream.
	if !utf8.Valid(raw) {
		return ev, fieldErr("", "the event is not valid UTF-8")
	}
	var w wire
	if err := strictUnmarshal(raw, &w); err != nil {
		return ev, err
	}
	if typ == "" {
		typ = w.Type
		if typ == "" {
			return ev, fieldErr("type", "missing; one of identify, track, page, screen, group, alias")
		}
		if !IsType(typ) {
			return ev, fieldErr("type", "%q is not one of identify, track, page, screen, group, alias", typ)
		}
	}
	ev.Type = typ
	ev.MessageID = string(w.MessageID)
	ev.UserID = string(w.UserID)
	ev.AnonymousID = string(w.AnonymousID)
	ev.PreviousID = string(w.PreviousID)
	ev.GroupID = string(w.GroupID)
	if w.Event != nil {
		ev.Event = *w.Event
	}
	if w.Name != nil {
		ev.Name = *w.Name
	}
	if w.Category != nil {
		ev.Category = *w.Category
	}
	for i, f := range []struct{ name, v string }{
		{"messageId", ev.MessageID}, {"userId", ev.UserID}, {"anonymousId", ev.AnonymousID},
		{"previousId", ev.PreviousID}, {"groupId", ev.GroupID},
		{"event", ev.Event}, {"name", ev.Name}, {"category", ev.Category},
	} {
		if i < 5 && len(f.v) > maxIDLength {
			return ev, fieldErr(f.name, "longer than %d characters", maxIDLength)
		}
		// Ids and names become columns and identifiers; PostgreSQL text
		// cannot hold NUL, and one such event would fail a whole group commit.
		if strings.IndexByte(f.v, 0) >= 0 {
			return ev, fieldErr(f.name, "contains a NUL character")
		}
	}
	if hasNUL(raw) {
		return ev, fieldErr("", `contains a NUL character (\u0000), which Kunding does not store`)
	}
	var err error
	if ev.Properties, err = object("properties", w.Properties); err != nil {
		return ev, err
	}
	if ev.Traits, err = object("traits", w.Traits); err != nil {
		return ev, err
	}
	if ev.Context, err = object("context", w.Context); err != nil {
		return ev, err
	}
	if ev.Integrations, err = object("integrations", w.Integrations); err != nil {
		return ev, err
	}
	if ev.Context, err = mergeObjects(ev.Context, env.Context); err != nil {
		return ev, fieldErr("context", "%v", err)
	}
	if ev.Integrations, err = mergeObjects(ev.Integrations, env.Integrations); err != nil {
		return ev, fieldErr("integrations", "%v", err)
	}

	switch typ {
	case Alias:
		if ev.UserID == "" {
			return ev, fieldErr("userId", "required for alias")
		}
		if ev.PreviousID == "" {
			return ev, fieldErr("previousId", "required for alias")
		}
	default:
		if ev.UserID == "" && ev.AnonymousID == "" {
			return ev, fieldErr("userId", "userId or anonymousId is required")
		}
	}
	switch typ {
	case Track:
		if ev.Event == "" {
			return ev, fieldErr("event", "the event name is required for track")
		}
	case Group:
		if ev.GroupID == "" {
			return ev, fieldErr("groupId", "required for group")
		}
	}

	ev.ReceivedAt = env.ReceivedAt.UTC()
	var clientTime *time.Time
	if w.OriginalTimestamp != nil {
		t, err := parseTime("originalTimestamp", *w.OriginalTimestamp)
		if err != nil {
			return ev, err
		}
		clientTime = &t
	} else if w.Timestamp != nil {
		t, err := parseTime("timestamp", *w.Timestamp)
		if err != nil {
			return ev, err
		}
		clientTime = &t
	}
	sentAt := env.SentAt
	if w.SentAt != nil {
		t, err := parseTime("sentAt", *w.SentAt)
		if err != nil {
			return ev, err
		}
		sentAt = &t
	}
	setTimes(&ev, clientTime, sentAt)
	if ev.MessageID == "" {
		ev.MessageID = newID()
	}
	return ev, nil
}

// setTimes sets the event time: the client's own time of the call,
// corrected by how far the client clock is off (sentAt against our
// receivedAt), as Segment does.
func setTimes(ev *Event, clientTime, sentAt *time.Time) {
	ev.SentAt = sentAt
	ev.OriginalTimestamp = clientTime
	switch {
	case clientTime != nil && sentAt != nil:
		ev.Timestamp = ev.ReceivedAt.Add(-sentAt.Sub(*clientTime))
	case clientTime != nil:
		ev.Timestamp = *clientTime
	default:
		ev.Timestamp = ev.ReceivedAt
	}
	ev.Timestamp = ev.Timestamp.UTC().Truncate(time.Millisecond)
}

// WriteKeyOf returns the writeKey field of a single event body, if any.
func WriteKeyOf(raw []byte) string {
	var w struct {
		WriteKey *string `json:"writeKey"`
	}
	if json.Unmarshal(raw, &w) != nil || w.WriteKey == nil {
		return ""
	}
	return *w.WriteKey
}

// hasNUL reports whether valid JSON holds the escape of a NUL character.
// Traits and properties feed text columns (names, e-mail, order ids), and
// PostgreSQL text cannot hold NUL: such an event would stop the pipeline.
func hasNUL(raw []byte) bool {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		// Backslashes occur only in strings, each starting an escape.
		if i+5 < len(raw) && raw[i+1] == 'u' && string(raw[i+2:i+6]) == "0000" {
			return true
		}
		i++
	}
	return false
}

// MessageIDOf returns the messageId of an event body as far as it can be
// read, so that a refused event can be named to the client that sent it.
func MessageIDOf(raw []byte) string {
	var w struct {
		MessageID json.RawMessage `json:"messageId"`
	}
	if json.Unmarshal(raw, &w) != nil {
		return ""
	}
	var id flexString
	if id.UnmarshalJSON(bytes.TrimSpace(w.MessageID)) != nil || len(id) > maxIDLength || !utf8.ValidString(string(id)) || strings.IndexByte(string(id), 0) >= 0 {
		return ""
	}
	return string(id)
}

func object(field string, raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, fieldErr(field, "must be a JSON object")
	}
	return raw, nil
}

// mergeObjects adds the keys of outer that inner lacks; the event's own
// values win over batch-level ones.
func mergeObjects(inner, outer json.RawMessage) (json.RawMessage, error) {
	if len(outer) == 0 {
		return inner, nil
	}
	if len(inner) == 0 {
		return outer, nil
	}
	var a, b map[string]json.RawMessage
	if err := json.Unmarshal(inner, &a); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(outer, &b); err != nil {
		return nil, err
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			a[k] = v
		}
	}
	return json.Marshal(a)
}

// timeLayouts are the ISO-8601 forms accepted, most common first. The
// single-digit month and day forms accept what Segment's own documentation
// sends ("2015-2-02T00:30:08.276Z"); a missing zone means UTC.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02",
	"2006-1-2T15:04:05.999999999Z07:00",
	"2006-1-2T15:04:05.999999999Z0700",
	"2006-1-2T15:04:05.999999999",
	"2006-1-2",
}

func parseTime(field, s string) (time.Time, error) {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			if t.Year() < 1970 || t.Year() > 9999 {
				return time.Time{}, fieldErr(field, "%q is out of range", s)
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, fieldErr(field, "%q is not an ISO-8601 date-time", s)
}

// ParseTime parses an ISO-8601 time as the collection API accepts it.
func ParseTime(s string) (time.Time, error) { return parseTime("time", s) }

func strictUnmarshal(raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			if te.Field == "" {
				return fieldErr("", "must be a JSON object, not JSON %s", te.Value)
			}
			return fieldErr(te.Field, "must be %s, not JSON %s", kindName(te.Type.Kind().String()), te.Value)
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fieldErr("", "invalid JSON at byte %d: %v", se.Offset, se)
		}
		var fe interface{ Unwrap() error }
		if errors.As(err, &fe) {
			return fieldErr("", "%v", err)
		}
		return fieldErr("", "invalid event: %v", err)
	}
	return nil
}

func kindName(k string) string {
	switch k {
	case "ptr", "string":
		return "a string"
	case "slice":
		return "an array"
	case "map", "struct":
		return "an object"
	}
	return k
}
