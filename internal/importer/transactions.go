package importer

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/identity"
)

// Transactions describes a CSV file of purchases; each row becomes a track
// event "Order Completed".
type Transactions struct {
	Mapping Mapping
	// Delimiter is one character, "tab", or "whitespace" (runs of spaces
	// and tabs, as in fixed-width exports; no quoting).
	Delimiter string
	NoHeader  bool
	// Currency is the ISO 4217 code of rows without a currency column or cell.
	Currency string
	// Location is the time zone of dates without one (default UTC).
	Location *time.Location
	// DecimalComma reads 12,50 and 1.234,50 as amounts.
	DecimalComma bool
}

// ImportTransactions imports a CSV file of purchases.
func ImportTransactions(ctx context.Context, opt Options, t Transactions) (Summary, error) {
	f, err := newCSVFormat(t)
	if err != nil {
		return Summary{}, err
	}
	return run(ctx, opt, f)
}

// Validate checks the options that do not depend on the file.
func (t Transactions) Validate() error {
	_, err := newCSVFormat(t)
	return err
}

type csvFormat struct {
	t          Transactions
	whitespace bool
	comma      rune
	date       dateParser
}

// ParseDelimiter checks a --delimiter value.
func ParseDelimiter(d string) (comma rune, whitespace bool, err error) {
	switch strings.ToLower(d) {
	case "", ",", "comma":
		return ',', false, nil
	case "tab", `\t`, "\t":
		return '\t', false, nil
	case "whitespace", "space", "spaces":
		return 0, true, nil
	case "semicolon":
		return ';', false, nil
	case "pipe":
		return '|', false, nil
	}
	r, size := utf8.DecodeRuneInString(d)
	if size != len(d) || r == utf8.RuneError || r == '"' || r == '\r' || r == '\n' {
		return 0, false, fmt.Errorf("delimiter %q: use one character (',' ';' '|'), tab or whitespace", d)
	}
	return r, false, nil
}

func newCSVFormat(t Transactions) (*csvFormat, error) {
	if t.Mapping.Columns == nil {
		return nil, errors.New("no mapping: --map is required")
	}
	f := &csvFormat{t: t}
	var err error
	if f.comma, f.whitespace, err = ParseDelimiter(t.Delimiter); err != nil {
		return nil, err
	}
	if f.date, err = compileDateFormat(t.Mapping.DateFormat); err != nil {
		return nil, err
	}
	if f.t.Location == nil {
		f.t.Location = time.UTC
	}
	if t.Currency != "" {
		c, err := parseCurrency(t.Currency)
		if err != nil {
			return nil, err
		}
		f.t.Currency = c
	}
	return f, nil
}

// columns is the mapping resolved against a file: the position of each
// field (-1 if not mapped) and a label for messages.
type columns struct {
	idx   map[string]int
	label map[string]string
	need  int // cells a row needs for the mapped columns
}

type csvRows struct {
	f      *csvFormat
	cr     *csv.Reader // nil for whitespace-separated
	lr     *lineReader
	header []string
	cols   *columns
}

func (f *csvFormat) rows(r io.Reader) (rowReader, error) {
	rr := &csvRows{f: f}
	if f.whitespace {
		rr.lr = newLineReader(r)
	} else {
		rr.cr = csv.NewReader(stripBOM(r))
		rr.cr.Comma = f.comma
		rr.cr.FieldsPerRecord = -1
	}
	if !f.t.NoHeader {
		h, err := rr.next()
		if err == io.EOF {
			return nil, errors.New("the file is empty; expected a header line (or use --no-header)")
		}
		if err != nil {
			return nil, err
		}
		if h.err != nil {
			return nil, fmt.Errorf("line %d (header): %v", h.line, h.err)
		}
		rr.header = h.fields
	}
	var err error
	if rr.cols, err = f.columns(rr.header); err != nil {
		return nil, err
	}
	return rr, nil
}

// stripBOM drops a UTF-8 byte order mark, which spreadsheet programs write
// and which would otherwise become part of the first header name.
func stripBOM(r io.Reader) io.Reader {
	var bom [3]byte
	n, _ := io.ReadFull(r, bom[:])
	if n == 3 && bytes.Equal(bom[:], []byte("\xef\xbb\xbf")) {
		return r
	}
	return io.MultiReader(bytes.NewReader(bom[:n]), r)
}

func (f *csvFormat) columns(header []string) (*columns, error) {
	idx, err := f.t.Mapping.resolve(header)
	if err != nil {
		return nil, err
	}
	c := &columns{idx: idx, label: map[string]string{}}
	for fld, i := range idx {
		c.need = max(c.need, i+1)
		if header != nil {
			c.label[fld] = fmt.Sprintf("column %d %q", i+1, strings.TrimSpace(header[i]))
		} else {
			c.label[fld] = fmt.Sprintf("column %d", i+1)
		}
	}
	return c, nil
}

func (rr *csvRows) next() (row, error) {
	if rr.lr != nil {
		for {
			line, n, tooLong, err := rr.lr.next()
			if err != nil {
				return row{}, err
			}
			fields := strings.Fields(string(line))
			if len(fields) == 0 && !tooLong {
				continue
			}
			r := row{line: n, raw: line, fields: fields, content: strings.Join(fields, "\x1f")}
			if tooLong {
				r.err = fmt.Errorf("line longer than %d bytes", maxLine)
			} else {
				r.err = checkUTF8(line)
			}
			return r, nil
		}
	}
	for {
		rec, err := rr.cr.Read()
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return row{line: pe.StartLine, err: fmt.Errorf("CSV: %v", pe.Err), raw: []byte(strings.Join(rec, string(rr.f.comma)))}, nil
		}
		if err != nil {
			return row{}, err
		}
		line, _ := rr.cr.FieldPos(0)
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		if len(rec) == 1 && rec[0] == "" {
			continue // a line of blanks
		}
		r := row{line: line, fields: rec, content: strings.Join(rec, "\x1f"), raw: csvLine(rec, rr.f.comma)}
		r.err = checkUTF8([]byte(r.content))
		return r, nil
	}
}

func csvLine(rec []string, comma rune) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Comma = comma
	w.Write(rec)
	w.Flush()
	return bytes.TrimRight(b.Bytes(), "\r\n")
}

// orderEvent is the Segment track call a row becomes.
type orderEvent struct {
	Type       string        `json:"type"`
	Event      string        `json:"event"`
	UserID     string        `json:"userId"`
	Timestamp  string        `json:"timestamp"`
	Properties orderProps    `json:"properties"`
	Context    *orderContext `json:"context,omitempty"`
}

type orderProps struct {
	Revenue  json.Number `json:"revenue"`
	Currency string      `json:"currency,omitempty"`
	Quantity json.Number `json:"quantity,omitempty"`
	OrderID  string      `json:"order_id,omitempty"`
}

// orderContext carries the e-mail as a context trait: identity resolution
// then joins the buyer with other events of that address.
type orderContext struct {
	Traits struct {
		Email string `json:"email"`
	} `json:"traits"`
}

func (rr *csvRows) event(r *row, now time.Time, id string) (event.Event, error) {
	raw, err := rr.f.orderJSON(rr.cols, r.fields)
	if err != nil {
		return event.Event{}, err
	}
	return event.Parse(raw, event.Track, event.Envelope{ReceivedAt: now}, func() string { return id })
}

// orderJSON converts the cells of one row into the JSON of a Segment track
// "Order Completed" call, using the column positions of cols.
func (f *csvFormat) orderJSON(cols *columns, cells []string) ([]byte, error) {
	if len(cells) < cols.need {
		return nil, fmt.Errorf("%d cells, but the mapping needs %d", len(cells), cols.need)
	}
	cell := func(fld string) (string, bool) {
		i, ok := cols.idx[fld]
		if !ok {
			return "", false
		}
		return cells[i], true
	}
	bad := func(fld string, err error) error {
		return fmt.Errorf("%s (%s): %v", fld, cols.label[fld], err)
	}
	ev := orderEvent{Type: event.Track, Event: event.OrderCompleted, Properties: orderProps{Currency: f.t.Currency}}
	ev.UserID, _ = cell(FieldUserID)
	if ev.UserID == "" {
		return nil, bad(FieldUserID, errors.New("empty"))
	}
	ds, _ := cell(FieldDate)
	if ds == "" {
		return nil, bad(FieldDate, errors.New("empty"))
	}
	t, err := f.date(ds, f.t.Location)
	if err != nil {
		return nil, bad(FieldDate, err)
	}
	if y := t.UTC().Year(); y < 1970 || y > 9999 {
		return nil, bad(FieldDate, fmt.Errorf("%q is outside the years 1970 to 9999", ds))
	}
	ev.Timestamp = t.UTC().Format(time.RFC3339Nano)
	rs, _ := cell(FieldRevenue)
	rev, err := parseAmount(rs, f.t.DecimalComma)
	if err != nil {
		return nil, bad(FieldRevenue, err)
	}
	ev.Properties.Revenue = rev
	if qs, ok := cell(FieldQuantity); ok && qs != "" {
		if ev.Properties.Quantity, err = parseAmount(qs, f.t.DecimalComma); err != nil {
			return nil, bad(FieldQuantity, err)
		}
	}
	if cs, ok := cell(FieldCurrency); ok && cs != "" {
		if ev.Properties.Currency, err = parseCurrency(cs); err != nil {
			return nil, bad(FieldCurrency, err)
		}
	}
	ev.Properties.OrderID, _ = cell(FieldOrderID)
	if es, ok := cell(FieldEmail); ok && es != "" {
		if identity.NormalizeEmail(es) == "" {
			return nil, bad(FieldEmail, fmt.Errorf("%q is not an e-mail address", es))
		}
		ev.Context = &orderContext{}
		ev.Context.Traits.Email = es
	}
	return json.Marshal(ev)
}

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

func parseCurrency(s string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(s))
	if !currencyRE.MatchString(c) {
		return "", fmt.Errorf("currency %q: use an ISO 4217 code such as USD or EUR", s)
	}
	return c, nil
}

var (
	plainNumber = regexp.MustCompile(`^[+-]?(\d+(\.\d*)?|\.\d+)$`)
	groupedDot  = regexp.MustCompile(`^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$`)   // 1,234.50
	groupedComa = regexp.MustCompile(`^[+-]?\d{1,3}(\.\d{3})+(,\d*)?$`)   // 1.234,50
	plainComma  = regexp.MustCompile(`^[+-]?(\d+(,\d*)?|,\d+)$`)          // 12,50
	symbols     = strings.NewReplacer("$", "", "€", "", "£", "", "¥", "") // a currency sign in the cell
)

// parseAmount reads a non-negative amount and returns it as a JSON number
// that parses back to the same float64, so revenue in micros is exact.
func parseAmount(s string, decimalComma bool) (json.Number, error) {
	v := strings.TrimSpace(symbols.Replace(s))
	if v == "" {
		return "", errors.New("empty")
	}
	switch {
	case !decimalComma && plainNumber.MatchString(v):
	case !decimalComma && groupedDot.MatchString(v):
		v = strings.ReplaceAll(v, ",", "")
	case decimalComma && (plainComma.MatchString(v) || groupedComa.MatchString(v)):
		v = strings.ReplaceAll(strings.ReplaceAll(v, ".", ""), ",", ".")
	case !decimalComma && plainComma.MatchString(v):
		return "", fmt.Errorf("%q is not a number; for a decimal comma use --decimal-comma", s)
	default:
		return "", fmt.Errorf("%q is not a number", s)
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return "", fmt.Errorf("%q is not a number", s)
	}
	if x < 0 {
		return "", fmt.Errorf("%q is negative; import refunds as their own events", s)
	}
	if x > 1e12 {
		return "", fmt.Errorf("%q is too large", s)
	}
	return json.Number(strconv.FormatFloat(x, 'f', -1, 64)), nil
}
