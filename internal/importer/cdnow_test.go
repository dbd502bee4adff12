package importer

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/store"
)

// cdnowPath is the full CDNOW cohort (see shared/data/cdnow/README.md).
const cdnowPath = "../../../shared/data/cdnow/CDNOW_master.txt"

// cdnowMapping is the mapping docs/import.md gives for the file.
const cdnowMapping = "user_id=customer_id,date=date:20060102,quantity=number_of_cds,revenue=dollar_value"

// Published figures of CDNOW_master.txt.
const (
	cdnowRows          = 69659
	cdnowCustomers     = 23570
	cdnowRevenueMicros = 2_500_315_630000 // $2,500,315.63
	cdnowZeroRows      = 80
)

func TestImportCDNOW(t *testing.T) { eachStore(t, testImportCDNOW) }

func testImportCDNOW(t *testing.T, kind string) {
	if _, err := os.Stat(cdnowPath); err != nil {
		t.Fatalf("the CDNOW data set is needed for this test: %v", err)
	}
	ctx := context.Background()
	st, src := newStoreOn(t, kind)
	m, err := ParseMapping(cdnowMapping)
	if err != nil {
		t.Fatal(err)
	}
	tx := Transactions{Mapping: m, Delimiter: "whitespace", Currency: "USD"}

	start := time.Now()
	sum, err := ImportTransactions(ctx, fileOptions(st, src, cdnowPath), tx)
	if err != nil {
		t.Fatal(err)
	}
	appended := time.Since(start)
	if sum.Lines != cdnowRows || sum.New != cdnowRows || sum.Duplicates != 0 || sum.Rejected != 0 {
		t.Fatalf("summary %+v", sum)
	}
	start = time.Now()
	res := process(t, st)
	processed := time.Since(start)
	start = time.Now()
	s := stats(t, st)
	if s.Events != cdnowRows || s.Orders != cdnowRows || s.Customers != cdnowCustomers || s.Rejected != 0 {
		t.Fatalf("stats %+v", s)
	}

	// Revenue and orders summed over the profiles of every customer in the
	// file, and the $0.00 purchases, which are orders all the same.
	ids, zeroIDs := cdnowCustomerIDs(t)
	var mu sync.Mutex
	var revenue, orders, zero int64
	var failed error
	check := func(id string) error {
		p, err := st.CustomerByIdentifier(ctx, store.Identifier{Kind: "user", Value: id})
		if err != nil {
			return fmt.Errorf("customer %s: %v", id, err)
		}
		if p.ByCurrency["USD"] != p.RevenueMicros {
			return fmt.Errorf("customer %s: revenue not all in USD: %v", id, p.ByCurrency)
		}
		var z int64
		if zeroIDs[id] || id == "00001" {
			os, err := st.Orders(ctx, p.CustomerID)
			if err != nil {
				return err
			}
			for _, o := range os {
				if o.RevenueMicros == 0 {
					z++
				}
			}
			if id == "00001" && (len(os) != 1 || os[0].RevenueMicros != 11_770000 || !os[0].Timestamp.Equal(time.Date(1997, 1, 1, 0, 0, 0, 0, time.UTC))) {
				return fmt.Errorf("customer 00001: orders %+v, want one of $11.77 on 1997-01-01", os)
			}
		}
		mu.Lock()
		revenue += p.RevenueMicros
		orders += p.Orders
		zero += z
		mu.Unlock()
		return nil
	}
	// Several readers at once: the check reads 23,570 profiles.
	var wg sync.WaitGroup
	const workers = 4
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(ids); i += workers {
				if err := check(ids[i]); err != nil {
					mu.Lock()
					failed = err
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if failed != nil {
		t.Fatal(failed)
	}
	if revenue != cdnowRevenueMicros || orders != cdnowRows || zero != cdnowZeroRows {
		t.Fatalf("revenue %d micros, %d orders, %d of $0.00; want %d, %d, %d", revenue, orders, zero, cdnowRevenueMicros, cdnowRows, cdnowZeroRows)
	}

	checked := time.Since(start)
	start = time.Now()
	defer func() {
		t.Logf("append %v, pipeline %v (%d events), checks %v, second import %v", appended.Round(time.Millisecond),
			processed.Round(time.Millisecond), res.Events, checked.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	}()

	// A second import adds nothing.
	again, err := ImportTransactions(ctx, fileOptions(st, src, cdnowPath), tx)
	if err != nil {
		t.Fatal(err)
	}
	if again.Lines != cdnowRows || again.New != 0 || again.Duplicates != cdnowRows || again.Rejected != 0 {
		t.Fatalf("second import %+v", again)
	}
	if res := process(t, st); res.Events != 0 {
		t.Fatalf("second import gave the pipeline %d events", res.Events)
	}
	if s2 := stats(t, st); s2 != s {
		t.Fatalf("second import changed the stats from %+v to %+v", s, s2)
	}
}

// cdnowCustomerIDs reads the distinct customer ids of the file directly,
// and those with a purchase of $0.00.
func cdnowCustomerIDs(t *testing.T) ([]string, map[string]bool) {
	t.Helper()
	f, err := os.Open(cdnowPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]bool{}
	zero := map[string]bool{}
	var ids []string
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 4 {
			t.Fatalf("line %q", sc.Text())
		}
		if !seen[fs[0]] {
			seen[fs[0]] = true
			ids = append(ids, fs[0])
		}
		if fs[3] == "0.00" {
			zero[fs[0]] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(ids) != cdnowCustomers {
		t.Fatalf("the file has %d customers, want %d", len(ids), cdnowCustomers)
	}
	return ids, zero
}
