package event

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// The collection API spends most of its CPU on JSON: encoding/json checks a
// batch for validity, copies every event out of it, and then checks and
// decodes each event again, field by field through reflection. The scanner
// below reads a batch and its events in one pass each, validating JSON
// syntax, UTF-8 and NUL escapes as it goes, and takes the object fields
// (properties, traits, context) as slices of the request body without
// copying them.
//
// It is a fast path, not a second decoder with its own rules: whenever the
// input is anything but the common well-formed case (a syntax error, a
// wrong type, a key in another letter case, a duplicate key, an escape in
// an id, a value out of range) it declines, and the encoding/json path
// (parseSlow, decodeBatchSlow) decides and words the error. FuzzFastPath
// checks that where the fast path answers, it answers exactly as the slow
// one does.

// maxDepth bounds the nesting the fast path follows; deeper input goes to
// encoding/json, which has its own limit.
const maxDepth = 512

// plain marks the bytes that can stand in a JSON string without further
// checks: printable ASCII except '"' and '\'.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

type scanner struct {
	b   []byte
	i   int
	nul bool // a string held \u0000
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// str reads a string starting at the quote at s.i and returns the span of
// its content and whether it holds escapes.
func (s *scanner) str() (start, end int, esc, ok bool) {
	b := s.b
	i := s.i + 1
	start = i
	for i < len(b) {
		c := b[i]
		if plain[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			s.i = i + 1
			return start, i, esc, true
		case c == '\\':
			esc = true
			if i+1 >= len(b) {
				return 0, 0, false, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return 0, 0, false, false
				}
				if string(b[i+2:i+6]) == "0000" {
					s.nul = true
				}
				i += 6
			default:
				return 0, 0, false, false
			}
		case c < 0x20:
			return 0, 0, false, false
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return 0, 0, false, false
			}
			i += size
		}
	}
	return 0, 0, false, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// value reads any JSON value at s.i (after white space) and returns its span.
func (s *scanner) value(depth int) (start, end int, ok bool) {
	s.ws()
	if s.i >= len(s.b) || depth > maxDepth {
		return 0, 0, false
	}
	start = s.i
	switch c := s.b[s.i]; c {
	case '{':
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == '}' {
			s.i++
			return start, s.i, true
		}
		for {
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] != '"' {
				return 0, 0, false
			}
			if _, _, _, ok := s.str(); !ok {
				return 0, 0, false
			}
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] != ':' {
				return 0, 0, false
			}
			s.i++
			if _, _, ok := s.value(depth + 1); !ok {
				return 0, 0, false
			}
			s.ws()
			if s.i >= len(s.b) {
				return 0, 0, false
			}
			if s.b[s.i] == '}' {
				s.i++
				return start, s.i, true
			}
			if s.b[s.i] != ',' {
				return 0, 0, false
			}
			s.i++
		}
	case '[':
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			return start, s.i, true
		}
		for {
			if _, _, ok := s.value(depth + 1); !ok {
				return 0, 0, false
			}
			s.ws()
			if s.i >= len(s.b) {
				return 0, 0, false
			}
			if s.b[s.i] == ']' {
				s.i++
				return start, s.i, true
			}
			if s.b[s.i] != ',' {
				return 0, 0, false
			}
			s.i++
		}
	case '"':
		if _, _, _, ok := s.str(); !ok {
			return 0, 0, false
		}
		return start, s.i, true
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		if c == '-' || isDigit(c) {
			return s.number()
		}
		return 0, 0, false
	}
}

func (s *scanner) literal(lit string) (start, end int, ok bool) {
	start = s.i
	if !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		return 0, 0, false
	}
	s.i += len(lit)
	return start, s.i, true
}

// number reads a JSON number (RFC 8259 grammar).
func (s *scanner) number() (start, end int, ok bool) {
	b := s.b
	start = s.i
	i := s.i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return 0, 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return 0, 0, false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return 0, 0, false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	s.i = i
	return start, i, true
}

// members reads the object at s.i; for each member it hands the key to
// each, which must read the value (s.value or its own reading) and may
// decline by returning false. Keys with escapes decline: they would have
// to be decoded to be compared.
func (s *scanner) members(each func(key []byte) bool) bool {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return false
	}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return true
	}
	for {
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return false
		}
		ks, ke, kesc, ok := s.str()
		if !ok || kesc {
			return false
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		if !each(s.b[ks:ke]) {
			return false
		}
		s.ws()
		if s.i >= len(s.b) {
			return false
		}
		if s.b[s.i] == '}' {
			s.i++
			return true
		}
		if s.b[s.i] != ',' {
			return false
		}
		s.i++
	}
}

// next reads the value at s.i and returns it.
func (s *scanner) next() ([]byte, bool) {
	vs, ve, ok := s.value(1)
	if !ok {
		return nil, false
	}
	return s.b[vs:ve], true
}

// field is one member of the wire form as the fast path took it.
type field struct {
	set  bool
	null bool
	kind byte // first byte of the value: '"', '{', '[', digit or '-', 't', 'f'
	raw  []byte
	str  string // the content of a string without escapes, or a number's text
}

// fill takes a value; it declines on a second value for the same key
// (encoding/json keeps the last) and on a string with escapes.
func (f *field) fill(v []byte) bool {
	if f.set {
		return false
	}
	f.set, f.raw, f.kind = true, v, v[0]
	switch v[0] {
	case 'n':
		f.null = true
	case '"':
		if bytes.IndexByte(v, '\\') >= 0 {
			return false
		}
		f.str = string(v[1 : len(v)-1])
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		f.str = string(v)
	}
	return true
}

// text is a *string field of the wire form: a string, or absent/null.
func (f *field) text() (v string, present, ok bool) {
	switch {
	case !f.set || f.null:
		return "", false, true
	case f.kind == '"':
		return f.str, true, true
	}
	return "", false, false
}

// id is a flexString field: a string, a number (its text) or null.
func (f *field) id() (string, bool) {
	switch {
	case !f.set || f.null:
		return "", true
	case f.kind == '"', f.kind == '-', isDigit(f.kind):
		return f.str, true
	}
	return "", false
}

// obj is a raw field that must be an object, or absent/null.
func (f *field) obj() ([]byte, bool) {
	switch {
	case !f.set || f.null:
		return nil, true
	case f.kind == '{':
		return f.raw, true
	}
	return nil, false
}

// unknown reports whether key is none of known, in any letter case
// (encoding/json matches struct fields case-insensitively, with Unicode
// folding: "ſentAt" fills sentAt, so lengths may differ).
func unknown(key []byte, known []string) bool {
	for _, k := range known {
		if strings.EqualFold(k, string(key)) {
			return false
		}
	}
	return true
}

var eventKeys = []string{"type", "messageId", "userId", "anonymousId", "previousId", "groupId",
	"event", "name", "category", "properties", "traits", "context", "integrations",
	"timestamp", "originalTimestamp", "sentAt", "writeKey"}

// eventFields are the slots of one event, in the order of eventKeys.
type eventFields [17]field

func (f *eventFields) take(key []byte) *field {
	switch string(key) {
	case "type":
		return &f[0]
	case "messageId":
		return &f[1]
	case "userId":
		return &f[2]
	case "anonymousId":
		return &f[3]
	case "previousId":
		return &f[4]
	case "groupId":
		return &f[5]
	case "event":
		return &f[6]
	case "name":
		return &f[7]
	case "category":
		return &f[8]
	case "properties":
		return &f[9]
	case "traits":
		return &f[10]
	case "context":
		return &f[11]
	case "integrations":
		return &f[12]
	case "timestamp":
		return &f[13]
	case "originalTimestamp":
		return &f[14]
	case "sentAt":
		return &f[15]
	case "writeKey":
		return &f[16]
	}
	return nil
}

// parseFast is Parse for the common case; ok=false hands the event to
// parseSlow, which also words every error.
func parseFast(raw []byte, typ string, env Envelope, newID func() string) (ev Event, ok bool) {
	if len(raw) > MaxEventBytes {
		return ev, false
	}
	var f eventFields
	s := scanner{b: raw}
	if !s.members(func(key []byte) bool {
		val, ok := s.next()
		if !ok {
			return false
		}
		if p := f.take(key); p != nil {
			return p.fill(val)
		}
		return unknown(key, eventKeys)
	}) {
		return ev, false
	}
	s.ws()
	if s.i != len(raw) || s.nul {
		return ev, false
	}
	if typ == "" {
		t, _, ok := f[0].text()
		if !ok || !IsType(t) {
			return ev, false
		}
		typ = t
	} else if f[0].set && f[0].kind != '"' && !f[0].null {
		// encoding/json refuses a type of the wrong JSON type even when the
		// endpoint sets it.
		return ev, false
	}
	ev.Type = typ
	var okID bool
	ids := [5]*string{&ev.MessageID, &ev.UserID, &ev.AnonymousID, &ev.PreviousID, &ev.GroupID}
	for i, p := range ids {
		if *p, okID = f[1+i].id(); !okID || len(*p) > maxIDLength {
			return ev, false
		}
	}
	names := [3]*string{&ev.Event, &ev.Name, &ev.Category}
	for i, p := range names {
		if *p, _, okID = f[6+i].text(); !okID {
			return ev, false
		}
	}
	objs := [4]*[]byte{(*[]byte)(&ev.Properties), (*[]byte)(&ev.Traits), (*[]byte)(&ev.Context), (*[]byte)(&ev.Integrations)}
	for i, p := range objs {
		if *p, okID = f[9+i].obj(); !okID {
			return ev, false
		}
	}
	if _, _, okID = f[16].text(); !okID {
		return ev, false
	}
	if ev.Context, okID = mergeFast(ev.Context, env.Context); !okID {
		return ev, false
	}
	if ev.Integrations, okID = mergeFast(ev.Integrations, env.Integrations); !okID {
		return ev, false
	}
	switch typ {
	case Alias:
		if ev.UserID == "" || ev.PreviousID == "" {
			return ev, false
		}
	default:
		if ev.UserID == "" && ev.AnonymousID == "" {
			return ev, false
		}
	}
	switch typ {
	case Track:
		if ev.Event == "" {
			return ev, false
		}
	case Group:
		if ev.GroupID == "" {
			return ev, false
		}
	}
	ev.ReceivedAt = env.ReceivedAt.UTC()
	var clientTime *time.Time
	for _, k := range [2]int{14, 13} { // originalTimestamp wins over timestamp
		v, present, ok := f[k].text()
		if !ok {
			return ev, false
		}
		if present && clientTime == nil {
			t, err := parseTime("", v)
			if err != nil {
				return ev, false
			}
			clientTime = &t
		}
	}
	sentAt := env.SentAt
	v, present, ok := f[15].text()
	if !ok {
		return ev, false
	}
	if present {
		t, err := parseTime("", v)
		if err != nil {
			return ev, false
		}
		sentAt = &t
	}
	setTimes(&ev, clientTime, sentAt)
	if ev.MessageID == "" {
		ev.MessageID = newID()
	}
	own(&ev)
	return ev, true
}

// own copies the object fields of an event out of the input they were
// sliced from: callers reuse their buffers (the importer's line buffer,
// a generator's scratch), and an event must not change under them.
func own(ev *Event) {
	raws := [4]*json.RawMessage{&ev.Properties, &ev.Traits, &ev.Context, &ev.Integrations}
	n := 0
	for _, p := range raws {
		n += len(*p)
	}
	if n == 0 {
		return
	}
	buf := make([]byte, 0, n)
	for _, p := range raws {
		if *p != nil {
			start := len(buf)
			buf = append(buf, *p...)
			*p = buf[start:len(buf):len(buf)]
		}
	}
}

// mergeFast is mergeObjects without maps: the members of outer whose keys
// inner lacks are appended to inner. It declines (ok=false) on duplicate
// keys, where encoding/json's last-one-wins would have to be copied.
func mergeFast(inner, outer []byte) ([]byte, bool) {
	if len(outer) == 0 {
		return inner, true
	}
	if len(inner) == 0 {
		return outer, true
	}
	// Keys are compared pairwise; objects with many keys go to
	// encoding/json's maps instead of costing quadratic time.
	const maxKeys = 64
	var keys [][]byte
	s := scanner{b: inner}
	if !s.members(func(key []byte) bool {
		if _, ok := s.next(); !ok || len(keys) == maxKeys || has(keys, key) {
			return false
		}
		keys = append(keys, key)
		return true
	}) {
		return nil, false
	}
	var add [][2][]byte
	var outerKeys [][]byte
	s = scanner{b: outer}
	if !s.members(func(key []byte) bool {
		val, ok := s.next()
		if !ok || len(outerKeys) == maxKeys || has(outerKeys, key) {
			return false
		}
		outerKeys = append(outerKeys, key)
		if !has(keys, key) {
			add = append(add, [2][]byte{key, val})
		}
		return true
	}) {
		return nil, false
	}
	if len(add) == 0 {
		return inner, true
	}
	out := make([]byte, 0, len(inner)+len(outer))
	out = append(out, bytes.TrimRight(inner[:len(inner)-1], " \t\r\n")...)
	sep := len(keys) > 0
	for _, a := range add {
		if sep {
			out = append(out, ',')
		}
		sep = true
		out = append(out, '"')
		out = append(out, a[0]...)
		out = append(out, '"', ':')
		out = append(out, a[1]...)
	}
	return append(out, '}'), true
}

func has(keys [][]byte, key []byte) bool {
	for _, k := range keys {
		if string(k) == string(key) {
			return true
		}
	}
	return false
}

var batchKeys = []string{"batch", "context", "integrations", "sentAt", "writeKey"}

// decodeBatchFast is DecodeBatch for the common case: one pass over the
// body, the events left as slices of it. ok=false hands the body to
// decodeBatchSlow.
func decodeBatchFast(raw []byte, receivedAt time.Time) (b Batch, ok bool) {
	var fb, fc, fi, fs, fw field
	s := scanner{b: raw}
	if !s.members(func(key []byte) bool {
		var f *field
		switch string(key) {
		case "batch":
			if fb.set {
				return false
			}
			fb.set = true
			return s.items(&b.Items)
		case "context":
			f = &fc
		case "integrations":
			f = &fi
		case "sentAt":
			f = &fs
		case "writeKey":
			f = &fw
		}
		val, ok := s.next()
		if !ok {
			return false
		}
		if f == nil {
			return unknown(key, batchKeys)
		}
		return f.fill(val)
	}) {
		return b, false
	}
	s.ws()
	if s.i != len(raw) || s.nul || !fb.set || len(b.Items) > MaxBatchEvents {
		return b, false
	}
	if b.Envelope.Context, ok = fc.obj(); !ok {
		return b, false
	}
	if b.Envelope.Integrations, ok = fi.obj(); !ok {
		return b, false
	}
	if len(b.Envelope.Context) > MaxEventBytes || len(b.Envelope.Integrations) > MaxEventBytes {
		return b, false // refused, with the reason, by decodeBatchSlow
	}
	v, present, ok := fs.text()
	if !ok {
		return b, false
	}
	if present {
		t, err := parseTime("", v)
		if err != nil {
			return b, false
		}
		b.Envelope.SentAt = &t
	}
	if b.Envelope.WriteKey, _, ok = fw.text(); !ok {
		return b, false
	}
	b.Envelope.ReceivedAt = receivedAt
	if b.Items == nil {
		b.Items = []json.RawMessage{}
	}
	return b, true
}

// items reads the array at s.i into out, one slice per element.
func (s *scanner) items(out *[]json.RawMessage) bool {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '[' {
		return false
	}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return true
	}
	// Events of analytics.js run to about a kilobyte.
	*out = make([]json.RawMessage, 0, len(s.b)/800+1)
	for {
		v, ok := s.next()
		if !ok {
			return false
		}
		*out = append(*out, v)
		s.ws()
		if s.i >= len(s.b) {
			return false
		}
		if s.b[s.i] == ']' {
			s.i++
			return true
		}
		if s.b[s.i] != ',' {
			return false
		}
		s.i++
	}
}

var storedKeys = []string{"type", "messageId", "userId", "anonymousId", "previousId", "groupId",
	"event", "name", "category", "properties", "traits", "context", "integrations",
	"timestamp", "originalTimestamp", "sentAt", "receivedAt"}

// Decode reads an event as the log stores it (AppendJSON's encoding), as
// json.Unmarshal into an Event would. The readers of the log (pipeline,
// touchpoints, cases) decode every event.
func Decode(body []byte) (Event, error) {
	if ev, ok := decodeFast(body); ok {
		return ev, nil
	}
	var ev Event
	err := json.Unmarshal(body, &ev)
	return ev, err
}

func decodeFast(body []byte) (ev Event, ok bool) {
	var f [17]field
	s := scanner{b: body}
	if !s.members(func(key []byte) bool {
		val, ok := s.next()
		if !ok {
			return false
		}
		for i, k := range storedKeys {
			if k == string(key) {
				return f[i].fill(val)
			}
		}
		return unknown(key, storedKeys)
	}) {
		return ev, false
	}
	s.ws()
	if s.i != len(body) {
		return ev, false
	}
	strs := [9]*string{&ev.Type, &ev.MessageID, &ev.UserID, &ev.AnonymousID, &ev.PreviousID, &ev.GroupID, &ev.Event, &ev.Name, &ev.Category}
	for i, p := range strs {
		// null leaves a string field as it is, as encoding/json does.
		if f[i].set && !f[i].null {
			if f[i].kind != '"' {
				return ev, false
			}
			*p = f[i].str
		}
	}
	raws := [4]*json.RawMessage{&ev.Properties, &ev.Traits, &ev.Context, &ev.Integrations}
	for i, p := range raws {
		if f[9+i].set {
			*p = f[9+i].raw
		}
	}
	own(&ev)
	times := [4]*time.Time{&ev.Timestamp, nil, nil, &ev.ReceivedAt}
	for i := range times {
		fi := &f[13+i]
		if !fi.set || fi.null {
			continue
		}
		if fi.kind != '"' {
			return ev, false
		}
		var t time.Time
		if t.UnmarshalText([]byte(fi.str)) != nil {
			return ev, false
		}
		switch i {
		case 1:
			ev.OriginalTimestamp = &t
		case 2:
			ev.SentAt = &t
		default:
			*times[i] = t
		}
	}
	return ev, true
}
