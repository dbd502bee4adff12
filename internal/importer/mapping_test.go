package importer

import (
	"reflect"
	"testing"
	"time"
)

func TestParseMapping(t *testing.T) {
	cases := []struct {
		name   string
		specs  []string
		cols   map[string]string
		format string
		err    string
	}{
		{name: "cdnow", specs: []string{"user_id=customer_id,date=date:20060102,quantity=number_of_cds,revenue=dollar_value"},
			cols:   map[string]string{"user_id": "customer_id", "date": "date", "quantity": "number_of_cds", "revenue": "dollar_value"},
			format: "20060102"},
		{name: "numbers", specs: []string{"user_id=1,date=2:20060102,revenue=4"},
			cols: map[string]string{"user_id": "1", "date": "2", "revenue": "4"}, format: "20060102"},
		{name: "repeated flag", specs: []string{"user_id=Kunde", "date=Datum:02.01.2006", "revenue=Betrag,currency=Währung"},
			cols: map[string]string{"user_id": "Kunde", "date": "Datum", "revenue": "Betrag", "currency": "Währung"}, format: "02.01.2006"},
		{name: "spellings", specs: []string{"userId=u, timestamp=t, Revenue=r, order-id=o, EMAIL=e"},
			cols: map[string]string{"user_id": "u", "date": "t", "revenue": "r", "order_id": "o", "email": "e"}},
		{name: "comma in date format", specs: []string{"user_id=u,date=d:Jan 2, 2006,revenue=r"},
			cols: map[string]string{"user_id": "u", "date": "d", "revenue": "r"}, format: "Jan 2, 2006"},
		{name: "colon in date format", specs: []string{"date=Order Date:2006-01-02 15:04:05,user_id=Customer ID,revenue=Total (EUR)"},
			cols: map[string]string{"user_id": "Customer ID", "date": "Order Date", "revenue": "Total (EUR)"}, format: "2006-01-02 15:04:05"},
		{name: "strptime", specs: []string{"user_id=u,date=d:%d/%m/%Y %H:%M,revenue=r"},
			cols: map[string]string{"user_id": "u", "date": "d", "revenue": "r"}, format: "%d/%m/%Y %H:%M"},
		{name: "named format", specs: []string{"user_id=u,date=d:unix,revenue=r"},
			cols: map[string]string{"user_id": "u", "date": "d", "revenue": "r"}, format: "unix"},
		{name: "trailing comma", specs: []string{"user_id=u,date=d,revenue=r,"},
			cols: map[string]string{"user_id": "u", "date": "d", "revenue": "r"}},

		{name: "missing revenue", specs: []string{"user_id=u,date=d"}, err: "revenue missing"},
		{name: "missing all", specs: []string{""}, err: "user_id, date, revenue missing"},
		{name: "unknown field", specs: []string{"user_id=u,date=d,revenue=r,price=p"}, err: `unknown field "price"`},
		{name: "no equals", specs: []string{"user_id"}, err: "FIELD=COLUMN"},
		{name: "empty column", specs: []string{"user_id=,date=d,revenue=r"}, err: "column of user_id is empty"},
		{name: "twice", specs: []string{"user_id=a,date=d,revenue=r", "userId=b"}, err: "mapped twice"},
		{name: "format on revenue", specs: []string{"user_id=u,date=d,revenue=r:2"}, err: "only the date takes a format"},
		{name: "empty format", specs: []string{"user_id=u,date=d:,revenue=r"}, err: "empty date format"},
		{name: "format without year", specs: []string{"user_id=u,date=d:YYYYMMDD,revenue=r"}, err: "no year"},
		{name: "bad strptime", specs: []string{"user_id=u,date=d:%Y%Q,revenue=r"}, err: "%Q is not supported"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := ParseMapping(c.specs...)
			if c.err != "" {
				wantErr(t, err, c.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m.Columns, c.cols) || m.DateFormat != c.format {
				t.Fatalf("got %v %q, want %v %q", m.Columns, m.DateFormat, c.cols, c.format)
			}
			again, err := ParseMapping(m.String())
			if err != nil || !reflect.DeepEqual(again, m) {
				t.Fatalf("String %q does not parse back: %v %v", m.String(), again, err)
			}
		})
	}
}

func TestResolveColumns(t *testing.T) {
	header := []string{"customer_id", "Date", " number_of_cds ", "dollar_value", "7"}
	cases := []struct {
		name   string
		spec   string
		header []string
		want   map[string]int
		err    string
	}{
		{name: "by name", spec: "user_id=customer_id,date=Date,revenue=dollar_value,quantity=number_of_cds", header: header,
			want: map[string]int{"user_id": 0, "date": 1, "revenue": 3, "quantity": 2}},
		{name: "ignoring case", spec: "user_id=CUSTOMER_ID,date=date,revenue=Dollar_Value", header: header,
			want: map[string]int{"user_id": 0, "date": 1, "revenue": 3}},
		{name: "number with header", spec: "user_id=1,date=2,revenue=4", header: header,
			want: map[string]int{"user_id": 0, "date": 1, "revenue": 3}},
		{name: "header name wins over number", spec: "user_id=1,date=2,revenue=7", header: header,
			want: map[string]int{"user_id": 0, "date": 1, "revenue": 4}},
		{name: "no header", spec: "user_id=1,date=2,revenue=4", want: map[string]int{"user_id": 0, "date": 1, "revenue": 3}},

		{name: "unknown name", spec: "user_id=cust,date=Date,revenue=dollar_value", header: header, err: `user_id=cust: no such column; the header has "customer_id", "Date"`},
		{name: "name without header", spec: "user_id=cust,date=2,revenue=3", err: "without a header a column is named by its number"},
		{name: "zero", spec: "user_id=0,date=2,revenue=3", err: "column 0 does not exist"},
		{name: "beyond header", spec: "user_id=1,date=2,revenue=9", header: header, err: "column 9 does not exist"},
		{name: "ambiguous", spec: "user_id=a,date=b,revenue=c", header: []string{"a", "b", "c", " c"}, err: `two columns named "c"`},
		{name: "ambiguous ignoring case", spec: "user_id=a,date=b,revenue=rev", header: []string{"a", "b", "Rev", "REV"}, err: `two columns named "rev"`},
		{name: "exact name wins", spec: "user_id=a,date=b,revenue=Rev", header: []string{"a", "b", "Rev", "REV"},
			want: map[string]int{"user_id": 0, "date": 1, "revenue": 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := ParseMapping(c.spec)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.resolve(c.header)
			if c.err != "" {
				wantErr(t, err, c.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestDateFormats(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		berlin = time.FixedZone("CET", 3600) // no tzdata on this machine
	}
	d := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	cases := []struct {
		format, in string
		loc        *time.Location
		want       time.Time
		err        string
	}{
		{"", "1997-01-01", time.UTC, d("1997-01-01T00:00:00Z"), ""},
		{"", "2024-03-05T10:11:12Z", time.UTC, d("2024-03-05T10:11:12Z"), ""},
		{"iso", "2024-03-05T10:11:12.345+02:00", time.UTC, d("2024-03-05T08:11:12.345Z"), ""},
		{"", "2024-03-05 10:11:12", time.UTC, d("2024-03-05T10:11:12Z"), ""},
		{"", "2024-03-05T10:11", time.UTC, d("2024-03-05T10:11:00Z"), ""},
		{"", "2024-01-05 10:00:00", berlin, d("2024-01-05T09:00:00Z"), ""},
		{"", "2024-01-05T10:00:00Z", berlin, d("2024-01-05T10:00:00Z"), ""},
		{"", "05.01.2024", time.UTC, time.Time{}, "not an ISO-8601 date"},
		{"20060102", "19970101", time.UTC, d("1997-01-01T00:00:00Z"), ""},
		{"20060102", "1997-01-01", time.UTC, time.Time{}, `does not match the date format "20060102"`},
		{"02.01.2006 15:04", "05.01.2024 10:00", berlin, d("2024-01-05T09:00:00Z"), ""},
		{"%d/%m/%Y", "31/12/2023", time.UTC, d("2023-12-31T00:00:00Z"), ""},
		{"%Y-%m-%dT%H:%M:%S%z", "2023-12-31T23:00:00+0100", time.UTC, d("2023-12-31T22:00:00Z"), ""},
		{"%b %e, %Y %I:%M %p", "Mar  5, 2024 01:30 PM", time.UTC, d("2024-03-05T13:30:00Z"), ""},
		{"%Y-%m-%d %H:%M:%S.%f", "2024-03-05 10:11:12.123456", time.UTC, d("2024-03-05T10:11:12.123456Z"), ""},
		{"unix", "1700000000", time.UTC, d("2023-11-14T22:13:20Z"), ""},
		{"unix", "1700000000.5", time.UTC, d("2023-11-14T22:13:20.5Z"), ""},
		{"unix-ms", "1700000000123", time.UTC, d("2023-11-14T22:13:20.123Z"), ""},
		{"unix-ms", "1700000000123.5", time.UTC, d("2023-11-14T22:13:20.1235Z"), ""},
		{"unix", "-5", time.UTC, time.Time{}, "not a Unix time"},
		{"unix", "1.2.3", time.UTC, time.Time{}, "not a Unix time"},
		{"unix", "1e9", time.UTC, time.Time{}, "not a Unix time"},
		{"unix", "soon", time.UTC, time.Time{}, "not a Unix time"},
	}
	for _, c := range cases {
		p, err := compileDateFormat(c.format)
		if err != nil {
			t.Fatalf("format %q: %v", c.format, err)
		}
		got, err := p(c.in, c.loc)
		if c.err != "" {
			wantErr(t, err, c.err)
			continue
		}
		if err != nil {
			t.Errorf("%q with %q: %v", c.in, c.format, err)
			continue
		}
		if !got.Equal(c.want) {
			t.Errorf("%q with %q: got %v, want %v", c.in, c.format, got.UTC(), c.want)
		}
	}
}

func TestParseAmount(t *testing.T) {
	cases := []struct {
		in           string
		decimalComma bool
		want         string
		err          string
	}{
		{"11.77", false, "11.77", ""},
		{"0.00", false, "0", ""},
		{"  7 ", false, "7", ""},
		{"007.50", false, "7.5", ""},
		{".5", false, "0.5", ""},
		{"5.", false, "5", ""},
		{"+3", false, "3", ""},
		{"1,234.56", false, "1234.56", ""},
		{"1,234,567", false, "1234567", ""},
		{"$12.00", false, "12", ""},
		{"12.00 €", false, "12", ""},
		{"12,50", true, "12.5", ""},
		{"1.234,50", true, "1234.5", ""},
		{"1.234", true, "1234", ""},
		{"7", true, "7", ""},
		{"12,50", false, "", "--decimal-comma"},
		{"1,23,4", false, "", "not a number"},
		{"1.234.5", false, "", "not a number"},
		{"1e3", false, "", "not a number"},
		{"0x10", false, "", "not a number"},
		{"NaN", false, "", "not a number"},
		{"Inf", false, "", "not a number"},
		{"", false, "", "empty"},
		{"-5.00", false, "", "negative"},
		{"10000000000000", false, "", "too large"},
	}
	for _, c := range cases {
		got, err := parseAmount(c.in, c.decimalComma)
		if c.err != "" {
			wantErr(t, err, c.err)
			continue
		}
		if err != nil || string(got) != c.want {
			t.Errorf("parseAmount(%q, %v) = %q, %v; want %q", c.in, c.decimalComma, got, err, c.want)
		}
	}
}

func TestParseDelimiter(t *testing.T) {
	cases := []struct {
		in    string
		comma rune
		ws    bool
		err   bool
	}{
		{"", ',', false, false}, {",", ',', false, false}, {"tab", '\t', false, false}, {"\t", '\t', false, false},
		{`\t`, '\t', false, false}, {"whitespace", 0, true, false}, {";", ';', false, false}, {"semicolon", ';', false, false},
		{"|", '|', false, false}, {"§", '§', false, false},
		{"::", 0, false, true}, {`"`, 0, false, true}, {"\n", 0, false, true},
	}
	for _, c := range cases {
		comma, ws, err := ParseDelimiter(c.in)
		if (err != nil) != c.err || comma != c.comma || ws != c.ws {
			t.Errorf("ParseDelimiter(%q) = %q, %v, %v", c.in, comma, ws, err)
		}
	}
}
