package importer

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/profile"
	"github.com/kunding/kunding/internal/store"
)

// convertRow runs one row through the conversion a file import uses.
func convertRow(t *testing.T, tx Transactions, header, cells []string) (event.Event, error) {
	t.Helper()
	f, err := newCSVFormat(tx)
	if err != nil {
		return event.Event{}, err
	}
	cols, err := f.columns(header)
	if err != nil {
		return event.Event{}, err
	}
	rr := &csvRows{f: f, cols: cols}
	return rr.event(&row{fields: cells}, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), "id-1")
}

func TestConvertRow(t *testing.T) {
	header := []string{"customer", "day", "amount", "items", "order", "mail", "cur"}
	full := "user_id=customer,date=day:20060102,revenue=amount,quantity=items,order_id=order,email=mail,currency=cur"
	basic := "user_id=customer,date=day:20060102,revenue=amount"
	cases := []struct {
		name     string
		mapping  string
		currency string
		cells    []string
		userID   string
		ts       string
		props    string // JSON of the properties
		email    string
		err      string
	}{
		{name: "all fields", mapping: full, currency: "USD",
			cells:  []string{"00042", "19970105", "29.33", "2", "A-17", "Ann@Example.com", "eur"},
			userID: "00042", ts: "1997-01-05T00:00:00Z", email: "Ann@Example.com",
			props: `{"revenue":29.33,"currency":"EUR","quantity":2,"order_id":"A-17"}`},
		{name: "currency from the flag", mapping: full, currency: "USD",
			cells:  []string{"7", "19970105", "0.00", "1", "", "", ""},
			userID: "7", ts: "1997-01-05T00:00:00Z", props: `{"revenue":0,"currency":"USD","quantity":1}`},
		{name: "no currency at all", mapping: basic,
			cells:  []string{"7", "19970105", "1,000.10"},
			userID: "7", ts: "1997-01-05T00:00:00Z", props: `{"revenue":1000.1}`},
		{name: "empty user", mapping: basic, cells: []string{"", "19970105", "1"}, err: `user_id (column 1 "customer"): empty`},
		{name: "empty date", mapping: basic, cells: []string{"7", "", "1"}, err: `date (column 2 "day"): empty`},
		{name: "bad date", mapping: basic, cells: []string{"7", "1997-01-05", "1"}, err: `date (column 2 "day"): "1997-01-05" does not match the date format "20060102"`},
		{name: "date before 1970", mapping: basic, cells: []string{"7", "19691231", "1"}, err: "outside the years 1970 to 9999"},
		{name: "bad revenue", mapping: basic, cells: []string{"7", "19970105", "12 USD"}, err: `revenue (column 3 "amount"): "12 USD" is not a number`},
		{name: "negative revenue", mapping: basic, cells: []string{"7", "19970105", "-1"}, err: "negative"},
		{name: "bad quantity", mapping: full, cells: []string{"7", "19970105", "1", "two", "", "", ""}, err: `quantity (column 4 "items")`},
		{name: "bad currency", mapping: full, cells: []string{"7", "19970105", "1", "1", "", "", "dollars"}, err: `currency (column 7 "cur"): currency "dollars"`},
		{name: "bad email", mapping: full, cells: []string{"7", "19970105", "1", "1", "", "nobody", ""}, err: `email (column 6 "mail"): "nobody" is not an e-mail address`},
		{name: "too few cells", mapping: full, cells: []string{"7", "19970105", "1"}, err: "3 cells, but the mapping needs 7"},
		{name: "user id too long", mapping: basic, cells: []string{strings.Repeat("x", 600), "19970105", "1"}, err: "userId: longer than 512"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := ParseMapping(c.mapping)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := convertRow(t, Transactions{Mapping: m, Currency: c.currency}, header, c.cells)
			if c.err != "" {
				wantErr(t, err, c.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ev.Type != event.Track || ev.Event != event.OrderCompleted || ev.UserID != c.userID || ev.MessageID != "id-1" {
				t.Fatalf("event %+v", ev)
			}
			if got := ev.Timestamp.Format(time.RFC3339); got != c.ts {
				t.Fatalf("timestamp %s, want %s", got, c.ts)
			}
			if string(ev.Properties) != c.props {
				t.Fatalf("properties %s, want %s", ev.Properties, c.props)
			}
			traits := profile.TraitsOf(&ev)
			if got := string(traits["email"]); c.email != "" && got != `"`+c.email+`"` {
				t.Fatalf("email trait %s, want %s", got, c.email)
			}
			if _, ok := profile.Order(&ev); !ok {
				t.Fatal("not an order")
			}
		})
	}
}

func TestConvertRowOptions(t *testing.T) {
	m, err := ParseMapping("user_id=1,date=2:02.01.2006 15:04,revenue=3")
	if err != nil {
		t.Fatal(err)
	}
	loc := time.FixedZone("CET", 3600)
	ev, err := convertRow(t, Transactions{Mapping: m, NoHeader: true, DecimalComma: true, Location: loc, Currency: "eur"},
		nil, []string{"K-1", "05.01.2024 10:00", "1.234,50 €"})
	if err != nil {
		t.Fatal(err)
	}
	if !ev.Timestamp.Equal(time.Date(2024, 1, 5, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("timestamp %v", ev.Timestamp)
	}
	o, _ := profile.Order(&ev)
	if o.RevenueMicros != 1234_500000 || o.Currency != "EUR" {
		t.Fatalf("order %+v", o)
	}
	if _, err := convertRow(t, Transactions{Mapping: m, Currency: "dollars"}, nil, nil); err == nil {
		t.Fatal("bad --currency accepted")
	}
	if _, err := convertRow(t, Transactions{Mapping: m, Delimiter: "ab"}, nil, nil); err == nil {
		t.Fatal("bad delimiter accepted")
	}
}

func TestImportCSV(t *testing.T) { eachStore(t, testImportCSV) }

func testImportCSV(t *testing.T, kind string) {
	ctx := context.Background()
	st, src := newStoreOn(t, kind)
	// A BOM, CRLF, a quoted cell with the delimiter, a blank line, the same
	// purchase twice (two purchases, both kept) and two bad rows.
	content := "\ufeffOrder ID,Customer,Date,Total,E-Mail\r\n" +
		"1001,alice,2024-01-05,\"1,250.00\",alice@example.com\r\n" +
		"1002,bob,2024-01-06,20.00,\r\n" +
		"\r\n" +
		",bob,2024-01-07,5.00,\r\n" +
		",bob,2024-01-07,5.00,\r\n" +
		"1003,carol,05.01.2024,7.00,\r\n" +
		"1004,dave,2024-01-08,\r\n" +
		"  1005 , alice , 2024-01-09 , 3.50 , ALICE@example.com \r\n"
	path := writeFile(t, "orders.csv", content)
	m, err := ParseMapping("order_id=Order ID,user_id=Customer,date=Date,revenue=Total,email=E-Mail")
	if err != nil {
		t.Fatal(err)
	}
	tx := Transactions{Mapping: m, Currency: "EUR"}
	var errs []string
	opt := fileOptions(st, src, path)
	opt.OnError = func(le *LineError) { errs = append(errs, le.Error()) }
	sum, err := ImportTransactions(ctx, opt, tx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Lines != 7 || sum.New != 5 || sum.Duplicates != 0 || sum.Rejected != 2 {
		t.Fatalf("summary %+v", sum)
	}
	wantErrs := []string{
		`orders.csv:7: date (column 3 "Date"): "05.01.2024" is not an ISO-8601 date`,
		`orders.csv:8: 4 cells, but the mapping needs 5`,
	}
	for i, w := range wantErrs {
		if i >= len(errs) || !strings.HasPrefix(errs[i], w) {
			t.Fatalf("errors %q, want %q", errs, wantErrs)
		}
	}
	rej, err := st.RejectedEvents(ctx, src.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rej) != 2 || !strings.HasPrefix(rej[0].Reason, "orders.csv:8: ") || rej[1].Body != "1003,carol,05.01.2024,7.00," {
		t.Fatalf("rejected %+v", rej)
	}
	process(t, st)
	s := stats(t, st)
	if s.Customers != 2 || s.Orders != 5 {
		t.Fatalf("stats %+v", s)
	}
	alice, err := st.CustomerByIdentifier(ctx, store.Identifier{Kind: "email", Value: "alice@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if alice.Orders != 2 || alice.RevenueMicros != 1253_500000 || alice.Email == "" {
		t.Fatalf("alice %+v", alice)
	}
	bob, err := st.CustomerByIdentifier(ctx, store.Identifier{Kind: "user", Value: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	if bob.Orders != 3 || bob.RevenueMicros != 30_000000 {
		t.Fatalf("bob %+v", bob)
	}
	orders, err := st.Orders(ctx, alice.CustomerID)
	if err != nil {
		t.Fatal(err)
	}
	if len(orders) != 2 || orders[0].OrderID != "1001" || orders[0].Currency != "EUR" {
		t.Fatalf("orders %+v", orders)
	}

	// Again: nothing new, the rejected rows are rejected again.
	again, err := ImportTransactions(ctx, fileOptions(st, src, path), tx)
	if err != nil {
		t.Fatal(err)
	}
	if again.New != 0 || again.Duplicates != 5 || again.Rejected != 2 {
		t.Fatalf("second import %+v", again)
	}
	// The same rows written differently (tab-separated, LF, no quotes) are
	// the same purchases.
	tabbed := "Order ID\tCustomer\tDate\tTotal\tE-Mail\n1002\tbob\t2024-01-06\t20.00\t\n\tbob\t2024-01-07\t5.00\t\n\tbob\t2024-01-07\t5.00\t\n\tbob\t2024-01-07\t5.00\t\n"
	tx.Delimiter = "tab"
	third, err := ImportTransactions(ctx, fileOptions(st, src, writeFile(t, "orders.tsv", tabbed)), tx)
	if err != nil {
		t.Fatal(err)
	}
	if third.New != 1 || third.Duplicates != 3 {
		t.Fatalf("tab-separated import %+v (a third equal purchase is new, the others are not)", third)
	}
	process(t, st)
	if s := stats(t, st); s.Orders != 6 {
		t.Fatalf("stats %+v", s)
	}
}

func TestImportCSVFileErrors(t *testing.T) { eachStore(t, testImportCSVFileErrors) }

func testImportCSVFileErrors(t *testing.T, kind string) {
	ctx := context.Background()
	st, src := newStoreOn(t, kind)
	m, _ := ParseMapping("user_id=customer,date=day,revenue=amount")
	cases := []struct {
		name, content string
		tx            Transactions
		err           string
	}{
		{"empty", "", Transactions{Mapping: m}, "orders.csv: the file is empty; expected a header line"},
		{"unknown column", "customer,date,amount\n", Transactions{Mapping: m}, `mapping date=day: no such column; the header has "customer", "date", "amount"`},
		{"names without header", "a,b,c\n", Transactions{Mapping: m, NoHeader: true}, "without a header a column is named by its number"},
		{"no mapping", "a\n", Transactions{}, "no mapping"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ImportTransactions(ctx, fileOptions(st, src, writeFile(t, "orders.csv", c.content)), c.tx)
			wantErr(t, err, c.err)
		})
	}
	if s := stats(t, st); s.Events != 0 || s.Rejected != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestImportCSVBadQuoting(t *testing.T) { eachStore(t, testImportCSVBadQuoting) }

func testImportCSVBadQuoting(t *testing.T, kind string) {
	ctx := context.Background()
	st, src := newStoreOn(t, kind)
	m, _ := ParseMapping("user_id=1,date=2,revenue=3")
	content := "a,2024-01-01,1\nb,2024-01-01,\"2\"x\nc,2024-01-01,3\n"
	var errs []string
	opt := fileOptions(st, src, writeFile(t, "q.csv", content))
	opt.OnError = func(le *LineError) { errs = append(errs, le.Error()) }
	sum, err := ImportTransactions(ctx, opt, Transactions{Mapping: m, NoHeader: true})
	if err != nil {
		t.Fatal(err)
	}
	if sum.New != 2 || sum.Rejected != 1 || len(errs) != 1 || !strings.HasPrefix(errs[0], "q.csv:2: CSV: ") {
		t.Fatalf("summary %+v, errors %q", sum, errs)
	}
}

func TestImportCSVStrictAndMaxErrors(t *testing.T) { eachStore(t, testImportCSVStrictAndMaxErrors) }

func testImportCSVStrictAndMaxErrors(t *testing.T, kind string) {
	ctx := context.Background()
	st, src := newStoreOn(t, kind)
	m, _ := ParseMapping("user_id=1,date=2,revenue=3")
	tx := Transactions{Mapping: m, NoHeader: true}
	path := writeFile(t, "o.csv", "a,2024-01-01,1\nb,2024-13-01,2\nc,2024-01-01,x\nd,2024-01-01,4\n")

	opt := fileOptions(st, src, path)
	opt.Strict = true
	sum, err := ImportTransactions(ctx, opt, tx)
	if !errors.Is(err, ErrInvalid) || sum.Rejected != 2 || sum.Lines != 4 {
		t.Fatalf("strict: %+v %v", sum, err)
	}
	if s := stats(t, st); s.Events != 0 || s.Rejected != 0 {
		t.Fatalf("strict import stored something: %+v", s)
	}

	opt = fileOptions(st, src, path)
	opt.DryRun = true
	sum, err = ImportTransactions(ctx, opt, tx)
	if !errors.Is(err, ErrInvalid) || sum.Rejected != 2 || sum.Sample == nil {
		t.Fatalf("dry run: %+v %v", sum, err)
	}

	opt = fileOptions(st, src, path)
	opt.MaxErrors = 1
	sum, err = ImportTransactions(ctx, opt, tx)
	if !errors.Is(err, ErrTooManyErrors) || sum.New != 1 || sum.Rejected != 1 {
		t.Fatalf("max errors: %+v %v", sum, err)
	}
	wantErr(t, err, "stopped at o.csv:2")
	if s := stats(t, st); s.Events != 1 || s.Rejected != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestSampleIsStoredBody(t *testing.T) { eachStore(t, testSampleIsStoredBody) }

func testSampleIsStoredBody(t *testing.T, kind string) {
	st, src := newStoreOn(t, kind)
	m, _ := ParseMapping("user_id=1,date=2:20060102,revenue=4,quantity=3")
	opt := fileOptions(st, src, writeFile(t, "s.txt", " 00001 19970101 1 11.77\r\n"))
	opt.DryRun = true
	sum, err := ImportTransactions(context.Background(), opt, Transactions{Mapping: m, NoHeader: true, Delimiter: "whitespace", Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(sum.Sample, &ev); err != nil {
		t.Fatal(err)
	}
	if ev["userId"] != "00001" || ev["timestamp"] != "1997-01-01T00:00:00Z" || ev["event"] != "Order Completed" {
		t.Fatalf("sample %s", sum.Sample)
	}
	if s := stats(t, st); s.Events != 0 {
		t.Fatalf("dry run stored %+v", s)
	}
}
