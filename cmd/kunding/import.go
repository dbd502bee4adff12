package main

import (
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/kunding/kunding/internal/importer"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/store"
)

const importUsage = `Usage:
  kunding import events FILE.jsonl --source NAME [flags]
  kunding import transactions FILE.csv --source NAME --map MAPPING [flags]

Appends the lines of FILE to the event log of the source and then processes
them into customers and profiles. Importing a file again stores nothing twice.
FILE may end in .gz; "-" reads standard input. Flags may come before or after FILE.
See docs/import.md.`

const eventsUsage = `
events: one Segment event per line, a JSON object with "type" (identify,
track, page, screen, group, alias). A line without messageId gets one derived
from the source, the line and how often the same line came before.
`

const transactionsUsage = `
transactions: one purchase per row, imported as a track "Order Completed".

--map names the column of each field as FIELD=COLUMN, separated by commas (or
give --map several times). COLUMN is a header name, or a number (1 = first)
with --no-header. Fields:
  user_id   required  the customer's id
  date      required  date or time of the purchase; a format may follow a colon:
                      date=day:20060102 (Go layout), date=day:%d.%m.%Y (strptime),
                      date=ts:unix, date=ts:unix-ms; default ISO-8601
                      (2006-01-02, 2006-01-02T15:04:05Z, 2006-01-02 15:04:05)
  revenue   required  amount, e.g. 12.50 or 1,234.50 (12,50 with --decimal-comma)
  quantity            number of items
  order_id            the shop's order number
  email               the buyer's e-mail (joins the customer with other events)
  currency            ISO 4217 code per row (else --currency)

Example (CDNOW):
  kunding import transactions CDNOW_master.txt --source CDNOW --create-source \
    --delimiter whitespace --currency USD \
    --map user_id=customer_id,date=date:20060102,quantity=number_of_cds,revenue=dollar_value
`

// stringList is a flag that may be given more than once.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, " ") }
func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}

func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "events" && args[0] != "transactions") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			io.WriteString(stderr, importUsage+"\n"+eventsUsage+transactionsUsage)
			return flag.ErrHelp
		}
		return errors.New("usage: kunding import events FILE.jsonl --source NAME | kunding import transactions FILE.csv --source NAME --map MAPPING (-h for help)")
	}
	kind := args[0]
	fs := flagSet("import "+kind, stderr)
	sf := addStoreFlags(fs)
	srcName := fs.String("source", "", "name of the source the events belong to (required)")
	create := fs.Bool("create-source", false, "create the source (kind import) if it does not exist")
	strict := fs.Bool("strict", false, "store nothing unless every line is valid")
	dryRun := fs.Bool("dry-run", false, "check the file and show the first event; store nothing")
	maxErrors := fs.Int("max-errors", 1000, "stop after this many bad lines (0: no limit)")
	var maps stringList
	var delimiter, currency, tz *string
	var noHeader, decimalComma *bool
	if kind == "transactions" {
		fs.Var(&maps, "map", "column mapping FIELD=COLUMN[,...] (required; may be repeated)")
		delimiter = fs.String("delimiter", ",", "cell separator: one character (, ; |), tab or whitespace")
		noHeader = fs.Bool("no-header", false, "the file has no header line; name columns by number")
		currency = fs.String("currency", "", "ISO 4217 currency of the amounts, e.g. USD or EUR")
		tz = fs.String("tz", "UTC", "time zone of dates without one, e.g. Europe/Berlin")
		decimalComma = fs.Bool("decimal-comma", false, "amounts use a decimal comma: 12,50 and 1.234,50")
	}
	fs.Usage = func() {
		io.WriteString(stderr, importUsage+"\n")
		if kind == "events" {
			io.WriteString(stderr, eventsUsage)
		} else {
			io.WriteString(stderr, transactionsUsage)
		}
		fmt.Fprintln(stderr, "\nFlags (each also as KUNDING_<FLAG> in the environment):")
		fs.PrintDefaults()
	}
	files, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return fmt.Errorf("give exactly one file (got %d); see 'kunding import %s -h'", len(files), kind)
	}
	if *srcName == "" {
		return errors.New("--source NAME is required: the source the imported events belong to")
	}

	var tx importer.Transactions
	if kind == "transactions" {
		if len(maps) == 0 {
			return errors.New("--map is required, e.g. --map user_id=customer_id,date=date:20060102,revenue=amount; see -h")
		}
		m, err := importer.ParseMapping(maps...)
		if err != nil {
			return err
		}
		loc, err := time.LoadLocation(*tz)
		if err != nil {
			return fmt.Errorf("--tz %q: %v", *tz, err)
		}
		tx = importer.Transactions{Mapping: m, Delimiter: *delimiter, NoHeader: *noHeader, Currency: *currency,
			Location: loc, DecimalComma: *decimalComma}
		if err := tx.Validate(); err != nil {
			return err
		}
	}

	file := files[0]
	name := file
	if file == "-" {
		// Strict and progress need two passes, so standard input is spooled.
		tmp, err := spool(os.Stdin)
		if err != nil {
			return err
		}
		defer os.Remove(tmp)
		file, name = tmp, "stdin"
	}
	if _, err := os.Stat(file); err != nil {
		return fmt.Errorf("input file: %w", err)
	}

	bars := &progressBars{w: stderr}
	shown := 0
	opt := importer.Options{
		File:      name,
		Open:      func() (io.ReadCloser, error) { return openInput(file) },
		Strict:    *strict,
		DryRun:    *dryRun,
		MaxErrors: *maxErrors,
		Progress:  bars.update,
		OnError: func(le *importer.LineError) {
			shown++
			if shown <= 20 {
				bars.println(stderr, le.Error())
			} else if shown == 21 {
				bars.println(stderr, "(more bad lines are not shown)")
			}
		},
	}

	var st store.Store
	var srcID string
	if !*dryRun {
		if _, err := os.Stat(*sf.data); err != nil && !*create && *sf.db == "" {
			return fmt.Errorf("data directory %s: %w (pass --data, start 'kunding serve --data %s' once, or add --create-source to start a new one)", *sf.data, err, *sf.data)
		}
		st, err = sf.open(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		src, err := st.SourceByName(ctx, *srcName)
		srcID = src.ID
		if errors.Is(err, store.ErrNotFound) {
			if !*create {
				return fmt.Errorf("source %q does not exist; create it with 'kunding sources create --name %q --kind import', or add --create-source", *srcName, *srcName)
			}
			opt.CreateSource = func(ctx context.Context) (store.Source, error) {
				src, err := source.Create(ctx, st, *srcName, "import")
				if err != nil {
					return src, fmt.Errorf("create source: %w", err)
				}
				srcID = src.ID
				bars.println(stdout, fmt.Sprintf("created source %s (%s, %s)", src.Name, src.Kind, src.ID))
				return src, nil
			}
		} else if err != nil {
			return err
		}
		opt.Store, opt.Source = st, src
	}

	start := time.Now()
	var sum importer.Summary
	if kind == "events" {
		sum, err = importer.Events(ctx, opt)
	} else {
		sum, err = importer.ImportTransactions(ctx, opt, tx)
	}
	bars.finish()
	verb := "new"
	if *dryRun || (*strict && errors.Is(err, importer.ErrInvalid)) {
		verb = "valid"
		sum.New = sum.Lines - sum.Rejected
	}
	if err == nil || sum.Lines > 0 {
		fmt.Fprintf(stdout, "%s: %d lines read, %d events %s, %d duplicates, %d rejected (%.1fs)\n",
			name, sum.Lines, sum.New, verb, sum.Duplicates, sum.Rejected, time.Since(start).Seconds())
	}
	if *dryRun && sum.Sample != nil {
		fmt.Fprintf(stdout, "first event as it would be stored:\n%s\n", sum.Sample)
	}
	if *dryRun || ctx.Err() != nil || (err != nil && (errors.Is(err, importer.ErrInvalid) || sum.New+sum.Duplicates == 0)) {
		return err
	}

	// Process what was appended even after an error, so that the valid part
	// of a stopped import shows up in profiles like a complete one.
	host, _ := os.Hostname()
	holder := fmt.Sprintf("import-%s-%d", host, os.Getpid())
	pstart := time.Now()
	res, perr := importer.Process(ctx, st, holder, func(done, total int64) {
		if done > 0 || total > 0 {
			bars.update(importer.StagePipeline, done, total)
		}
	})
	bars.finish()
	switch {
	case perr != nil:
		perr = fmt.Errorf("processing the events into profiles: %w (a running server or 'kunding rebuild' will finish it)", perr)
	case res.Busy:
		fmt.Fprintln(stdout, "a running server holds the pipeline; it processes the new events into customers and profiles")
	default:
		stats, serr := st.Stats(ctx)
		if serr != nil {
			perr = serr
			break
		}
		fmt.Fprintf(stdout, "processed %d events (%.1fs): %d customers, %d orders in the store\n",
			res.Events, time.Since(pstart).Seconds(), stats.Customers, stats.Orders)
	}
	if err != nil {
		return errors.Join(err, perr)
	}
	if perr != nil {
		return perr
	}
	if sum.Rejected > 0 {
		return fmt.Errorf("%d lines rejected (the valid lines were imported; the rejected ones are kept under GET /api/sources/%s/rejected)", sum.Rejected, srcID)
	}
	return nil
}

// parseInterleaved parses flags that may stand before and after positional
// arguments (the flag package stops at the first positional one), then fills
// flags not given from the environment.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	return pos, parse(fs, nil)
}

// openInput opens a file, decompressing it if its name ends in .gz.
func openInput(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(strings.ToLower(path), ".gz") {
		return f, nil
	}
	gz, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: not valid gzip: %w", path, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{gz, closeBoth{gz, f}}, nil
}

type closeBoth struct{ a, b io.Closer }

func (c closeBoth) Close() error { return errors.Join(c.a.Close(), c.b.Close()) }

func spool(r io.Reader) (string, error) {
	f, err := os.CreateTemp("", "kunding-import-*")
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("read standard input: %w", err)
	}
	return f.Name(), f.Close()
}

// progressBars shows one bar per stage of an import.
type progressBars struct {
	w     io.Writer
	stage string
	bar   *progress
}

var stageLabels = map[string]string{
	importer.StageValidate: "checking  ",
	importer.StageImport:   "importing ",
	importer.StagePipeline: "processing",
}

func (b *progressBars) update(stage string, done, total int64) {
	if stage != b.stage {
		b.finish()
		b.stage = stage
		b.bar = newProgress(b.w, stageLabels[stage], total)
	}
	b.bar.set(done)
}

func (b *progressBars) finish() {
	if b.bar != nil {
		b.bar.done()
	}
	b.bar, b.stage = nil, ""
}

// println prints a message line to w without tearing a bar drawn in place.
func (b *progressBars) println(w io.Writer, s string) {
	if b.bar != nil && b.bar.tty {
		fmt.Fprint(b.w, "\r\x1b[K")
	}
	fmt.Fprintln(w, s)
}
