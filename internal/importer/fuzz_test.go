package importer

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/profile"
)

func FuzzParseMapping(f *testing.F) {
	for _, s := range []string{
		cdnowMapping,
		"user_id=1,date=2:20060102,revenue=4",
		"userId=u, timestamp=t:%d/%m/%Y, revenue=r, currency=c,",
		"date=d:Jan 2, 2006,user_id=u,revenue=r",
		"user_id==,date=::,revenue=,,",
		"email=a:b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		m, err := ParseMapping(spec)
		if err != nil {
			return
		}
		again, err := ParseMapping(m.String())
		if err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("%q -> %q does not parse back: %v", spec, m.String(), err)
		}
		// Resolving against any header, or none, must not panic.
		m.resolve(strings.Split(spec, ","))
		m.resolve(nil)
		if p, err := compileDateFormat(m.DateFormat); err == nil {
			p(spec, time.UTC)
		}
	})
}

// FuzzTransactions runs arbitrary file contents through the whole reading
// and conversion of a dry run: no panic, and every event it accepts is an
// order with a revenue that is an exact, non-negative amount.
func FuzzTransactions(f *testing.F) {
	f.Add([]byte("customer_id date number_of_cds dollar_value\r\n 00001 19970101 1 11.77\r\n 00002 19970112 1 12.00\r\n"), true, "%Y%m%d")
	f.Add([]byte("customer_id,date,number_of_cds,dollar_value\n\"a,b\",2024-01-01,2,\"1,234.50\"\n,,,\n"), false, "")
	f.Add([]byte("customer_id,date,number_of_cds,dollar_value\n\"x\"y,1,2,3\nz,1700000000,1,0.5\n"), false, "unix")
	f.Fuzz(func(t *testing.T, data []byte, whitespace bool, dateFormat string) {
		m, err := ParseMapping("user_id=customer_id,quantity=number_of_cds,revenue=dollar_value", "date=date")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := compileDateFormat(dateFormat); err != nil {
			return
		}
		m.DateFormat = dateFormat
		tx := Transactions{Mapping: m, Currency: "USD"}
		if whitespace {
			tx.Delimiter = "whitespace"
		}
		fuzzDryRun(t, data, func(ctx context.Context, opt Options) (Summary, error) { return ImportTransactions(ctx, opt, tx) })
	})
}

func FuzzEvents(f *testing.F) {
	f.Add([]byte(goodLines + badLines))
	f.Add([]byte(`{"type":"track","userId":"u","event":"A","originalTimestamp":"2020-01-01T00:00:00Z","sentAt":"2020-01-01T00:00:05Z"}`))
	f.Add([]byte("{\"type\":\"track\",\"userId\":1,\"event\":\"x\",\"receivedAt\":\"no\"}\r\n\xff\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDryRun(t, data, Events)
	})
}

func fuzzDryRun(t *testing.T, data []byte, imp func(context.Context, Options) (Summary, error)) {
	lines := 0
	opt := Options{
		File:    "fuzz",
		DryRun:  true,
		Open:    func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		OnError: func(le *LineError) { lines++ },
	}
	sum, err := imp(context.Background(), opt)
	if err != nil {
		return
	}
	if sum.Rejected != 0 || lines != 0 {
		t.Fatalf("no error with %d rejected lines", sum.Rejected)
	}
	if sum.Sample == nil {
		return
	}
	var ev event.Event
	if err := json.Unmarshal(sum.Sample, &ev); err != nil {
		t.Fatalf("sample does not decode: %v", err)
	}
	if ev.MessageID == "" {
		t.Fatal("no messageId")
	}
	if o, ok := profile.Order(&ev); ok && bytes.Contains(sum.Sample, []byte(`"dollar_value"`)) == false {
		var p struct {
			Revenue json.Number `json:"revenue"`
		}
		json.Unmarshal(ev.Properties, &p)
		if p.Revenue != "" {
			v, err := strconv.ParseFloat(string(p.Revenue), 64)
			if err != nil || v < 0 || o.RevenueMicros < 0 {
				t.Fatalf("revenue %q, micros %d", p.Revenue, o.RevenueMicros)
			}
		}
	}
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"11.77", "1,234.50", "1.234,50", "12,50", "$3", ".5", "-1", "1e3"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, decimalComma bool) {
		n, err := parseAmount(s, decimalComma)
		if err != nil {
			return
		}
		v, err := strconv.ParseFloat(string(n), 64)
		if err != nil || v < 0 || v > 1e12 {
			t.Fatalf("parseAmount(%q) = %q", s, n)
		}
		if !json.Valid([]byte(n)) {
			t.Fatalf("parseAmount(%q) = %q is not a JSON number", s, n)
		}
		if strconv.FormatFloat(v, 'f', -1, 64) != string(n) {
			t.Fatalf("parseAmount(%q) = %q is not canonical", s, n)
		}
	})
}
