package importer

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Fields of an order that a mapping can name, in the order Mapping.String
// writes them.
const (
	FieldUserID   = "user_id"
	FieldDate     = "date"
	FieldRevenue  = "revenue"
	FieldQuantity = "quantity"
	FieldOrderID  = "order_id"
	FieldEmail    = "email"
	FieldCurrency = "currency"
)

// Fields lists the fields a mapping may name.
var Fields = []string{FieldUserID, FieldDate, FieldRevenue, FieldQuantity, FieldOrderID, FieldEmail, FieldCurrency}

var requiredFields = []string{FieldUserID, FieldDate, FieldRevenue}

// fieldName accepts the spellings users write (userId, user-id) and
// timestamp for date.
func fieldName(s string) (string, bool) {
	k := strings.ToLower(strings.TrimSpace(s))
	k = strings.NewReplacer("_", "", "-", "", " ", "").Replace(k)
	switch k {
	case "userid":
		return FieldUserID, true
	case "date", "timestamp":
		return FieldDate, true
	case "revenue":
		return FieldRevenue, true
	case "quantity":
		return FieldQuantity, true
	case "orderid":
		return FieldOrderID, true
	case "email":
		return FieldEmail, true
	case "currency":
		return FieldCurrency, true
	}
	return "", false
}

// Mapping says which column of a transactions file holds which field of an
// order. It is written as FIELD=COLUMN pairs separated by commas, the date
// optionally with a format after a colon:
//
//	user_id=customer_id,date=date:20060102,revenue=dollar_value
//
// A COLUMN is a header name or a 1-based column number.
type Mapping struct {
	Columns    map[string]string // field -> column as written
	DateFormat string            // as written; "" means ISO-8601
}

// ParseMapping parses one or more mapping specs (the --map flag may be
// repeated). A comma ends a pair only where a known field name and "="
// follow, so that date formats such as "Jan 2, 2006" need no quoting.
func ParseMapping(specs ...string) (Mapping, error) {
	m := Mapping{Columns: map[string]string{}}
	for _, spec := range specs {
		for _, pair := range splitPairs(spec) {
			pair = strings.TrimSpace(pair)
			if pair == "" {
				continue
			}
			k, v, ok := strings.Cut(pair, "=")
			if !ok {
				return Mapping{}, fmt.Errorf("mapping %q: write FIELD=COLUMN, e.g. revenue=dollar_value", pair)
			}
			f, known := fieldName(k)
			if !known {
				return Mapping{}, fmt.Errorf("mapping %q: unknown field %q; fields are %s", pair, strings.TrimSpace(k), strings.Join(Fields, ", "))
			}
			if _, dup := m.Columns[f]; dup {
				return Mapping{}, fmt.Errorf("mapping: field %s is mapped twice", f)
			}
			col, format, hasFormat := strings.Cut(v, ":")
			col = strings.TrimSpace(col)
			if col == "" {
				return Mapping{}, fmt.Errorf("mapping %q: the column of %s is empty", pair, f)
			}
			if hasFormat {
				if f != FieldDate {
					return Mapping{}, fmt.Errorf("mapping %q: only the date takes a format (after a colon)", pair)
				}
				format = strings.TrimSpace(format)
				if format == "" {
					return Mapping{}, fmt.Errorf("mapping %q: empty date format after the colon", pair)
				}
				if _, err := compileDateFormat(format); err != nil {
					return Mapping{}, err
				}
				m.DateFormat = format
			}
			m.Columns[f] = col
		}
	}
	var missing []string
	for _, f := range requiredFields {
		if _, ok := m.Columns[f]; !ok {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return Mapping{}, fmt.Errorf("mapping: %s missing; %s are required (e.g. --map user_id=customer,date=day,revenue=amount)",
			strings.Join(missing, ", "), strings.Join(requiredFields, ", "))
	}
	return m, nil
}

// splitPairs splits at commas that end the input or are followed by a
// name and "=", so a comma inside a date format or column name stays.
func splitPairs(spec string) []string {
	var out []string
	start := 0
	for i := 0; i < len(spec); i++ {
		if spec[i] != ',' {
			continue
		}
		rest := spec[i+1:]
		k, _, ok := strings.Cut(rest, "=")
		if strings.TrimSpace(rest) == "" || (ok && isName(strings.TrimSpace(k))) {
			out = append(out, spec[start:i])
			start = i + 1
		}
	}
	return append(out, spec[start:])
}

func isName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		letter := (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !letter && (i == 0 || !(r >= '0' && r <= '9' || r == '_' || r == '-')) {
			return false
		}
	}
	return true
}

// String writes the mapping in the syntax ParseMapping reads.
func (m Mapping) String() string {
	var parts []string
	for _, f := range Fields {
		c, ok := m.Columns[f]
		if !ok {
			continue
		}
		if f == FieldDate && m.DateFormat != "" {
			c += ":" + m.DateFormat
		}
		parts = append(parts, f+"="+c)
	}
	return strings.Join(parts, ",")
}

// resolve finds each mapped column's 0-based position. With a header a
// column is found by name (exactly, else ignoring case); a number that is no
// header name counts as a position.
func (m Mapping) resolve(header []string) (map[string]int, error) {
	idx := map[string]int{}
	for _, f := range Fields {
		col, ok := m.Columns[f]
		if !ok {
			continue
		}
		i, err := findColumn(col, header)
		if err != nil {
			return nil, fmt.Errorf("mapping %s=%s: %w", f, col, err)
		}
		idx[f] = i
	}
	return idx, nil
}

func findColumn(col string, header []string) (int, error) {
	if header != nil {
		found := -1
		for pass := 0; pass < 2 && found < 0; pass++ {
			for i, h := range header {
				h = strings.TrimSpace(h)
				if (pass == 0 && h == col) || (pass == 1 && strings.EqualFold(h, col)) {
					if found >= 0 {
						return 0, fmt.Errorf("the header has two columns named %q; name it by number instead", col)
					}
					found = i
				}
			}
		}
		if found >= 0 {
			return found, nil
		}
	}
	n, err := strconv.Atoi(col)
	if err != nil {
		if header == nil {
			return 0, errors.New("without a header a column is named by its number (1 is the first)")
		}
		hint := ""
		if len(header) == 1 && strings.ContainsAny(header[0], " \t;,|") {
			hint = " (one column only: is --delimiter right?)"
		}
		return 0, fmt.Errorf("no such column; the header has %s%s", quoteList(header), hint)
	}
	if n < 1 || (header != nil && n > len(header)) {
		return 0, fmt.Errorf("column %d does not exist (1 is the first)", n)
	}
	return n - 1, nil
}

func quoteList(h []string) string {
	q := make([]string, len(h))
	for i, s := range h {
		q[i] = strconv.Quote(strings.TrimSpace(s))
	}
	return strings.Join(q, ", ")
}

// dateParser parses a cell in loc (used when the cell has no zone).
type dateParser func(s string, loc *time.Location) (time.Time, error)

// isoLayouts are the ISO-8601 forms accepted by default; a space may stand
// for the T, as spreadsheets write it.
var isoLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999Z07",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02",
}

// compileDateFormat turns a format as written in the mapping into a parser.
// Named formats: iso (the default), unix (seconds), unix-ms. A format with %
// is strptime-like; anything else is a Go layout.
func compileDateFormat(f string) (dateParser, error) {
	switch strings.ToLower(f) {
	case "", "iso", "iso8601", "iso-8601", "rfc3339":
		return parseISO, nil
	case "unix", "epoch":
		return unixParser(1), nil
	case "unix-ms", "unixms", "epoch-ms":
		return unixParser(1000), nil
	}
	layout := f
	if strings.Contains(f, "%") {
		var err error
		if layout, err = strptimeLayout(f); err != nil {
			return nil, err
		}
	}
	if !strings.Contains(layout, "06") {
		return nil, fmt.Errorf("date format %q: no year; write a Go layout (20060102, 02.01.2006 15:04), a strptime format (%%Y%%m%%d) or one of iso, unix, unix-ms", f)
	}
	ref := time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)
	if _, err := time.Parse(layout, ref.Format(layout)); err != nil {
		return nil, fmt.Errorf("date format %q: not a usable layout: %v", f, err)
	}
	return func(s string, loc *time.Location) (time.Time, error) {
		t, err := time.ParseInLocation(layout, s, loc)
		if err != nil {
			return t, fmt.Errorf("%q does not match the date format %q", s, f)
		}
		return t, nil
	}, nil
}

func parseISO(s string, loc *time.Location) (time.Time, error) {
	v := s
	if len(v) > 10 && v[10] == ' ' {
		v = v[:10] + "T" + v[11:]
	}
	for _, l := range isoLayouts {
		if t, err := time.ParseInLocation(l, v, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO-8601 date (2006-01-02 or 2006-01-02T15:04:05Z); give the format in the mapping, e.g. date=COLUMN:02.01.2006", s)
}

// unixParser reads whole or fractional Unix time in units per second,
// without float rounding (1700000000123 ms is exactly .123 s).
func unixParser(perSecond int64) dateParser {
	return func(s string, _ *time.Location) (time.Time, error) {
		bad := fmt.Errorf("%q is not a Unix time", s)
		whole, frac, _ := strings.Cut(s, ".")
		n, err := strconv.ParseInt(whole, 10, 64)
		if err != nil || n < 0 || n/perSecond > 253402300799 || len(frac) > 9 || strings.Trim(frac, "0123456789") != "" {
			return time.Time{}, bad
		}
		f, _ := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
		nanos := (n%perSecond)*(1e9/perSecond) + f/perSecond
		return time.Unix(n/perSecond, nanos).UTC(), nil
	}
}

// strptimeLayout translates strptime directives into a Go layout.
func strptimeLayout(f string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(f) {
			return "", fmt.Errorf("date format %q: ends with a lone %%", f)
		}
		i++
		var s string
		switch f[i] {
		case 'Y':
			s = "2006"
		case 'y':
			s = "06"
		case 'm':
			s = "01"
		case 'd':
			s = "02"
		case 'e':
			s = "_2"
		case 'j':
			s = "002"
		case 'H':
			s = "15"
		case 'I':
			s = "03"
		case 'M':
			s = "04"
		case 'S':
			s = "05"
		case 'f':
			s = "999999999"
		case 'p':
			s = "PM"
		case 'b', 'h':
			s = "Jan"
		case 'B':
			s = "January"
		case 'a':
			s = "Mon"
		case 'A':
			s = "Monday"
		case 'z':
			s = "-0700"
		case 'Z':
			s = "MST"
		case 'F':
			s = "2006-01-02"
		case 'T':
			s = "15:04:05"
		case 'D':
			s = "01/02/06"
		case '%':
			s = "%"
		default:
			return "", fmt.Errorf("date format %q: %%%c is not supported", f, f[i])
		}
		b.WriteString(s)
	}
	return b.String(), nil
}
