package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/kunding/kunding/internal/feedback"
	"github.com/kunding/kunding/internal/feeds"
	"github.com/kunding/kunding/internal/store"
)

const feedsUsage = `usage: kunding feeds <list|poll> [flags]

  list   print the configured RSS/Atom feeds with their status
  poll   poll the feeds that are due now (--all: every enabled feed; --feed ID: that one) and print what was stored
`

func runFeeds(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(feedsUsage)
	}
	sub := args[0]
	if sub == "-h" || sub == "--help" || sub == "help" {
		io.WriteString(stderr, feedsUsage)
		return flag.ErrHelp
	}
	fs := flagSet("feeds "+sub, stderr)
	sf := addStoreFlags(fs)
	var all *bool
	var feedID *string
	if sub == "poll" {
		all = fs.Bool("all", false, "poll every enabled feed now, due or not")
		feedID = fs.String("feed", "", "poll only this feed (now, even if switched off)")
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	fst, ok := st.(store.FeedbackStore)
	if !ok {
		return errors.New("this store does not keep feeds")
	}
	switch sub {
	case "list":
		list, err := fst.Feeds(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tPORTAL\tENABLED\tLAST SUCCESS\tFAILURES\tSTORED\tLAST ERROR")
		for _, f := range list {
			ok := "-"
			if f.LastSuccess != nil {
				ok = f.LastSuccess.Local().Format(time.DateTime)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\t%d\t%d\t%s\n", f.ID, f.Name, f.Portal, f.Enabled, ok, f.Failures, f.TotalNew, f.LastError)
		}
		return tw.Flush()
	case "poll":
		host, _ := os.Hostname()
		p := &feeds.Poller{Store: st, Intake: &feedback.Service{Store: st}, Holder: "cli " + host}
		var reps []feeds.Report
		switch {
		case *feedID != "":
			r, err := p.PollFeed(ctx, *feedID, true)
			if err != nil {
				return err
			}
			reps = append(reps, r)
		case *all:
			list, err := fst.Feeds(ctx)
			if err != nil {
				return err
			}
			for _, f := range list {
				if !f.Enabled {
					continue
				}
				r, err := p.PollFeed(ctx, f.ID, true)
				if err != nil {
					return err
				}
				reps = append(reps, r)
			}
		default:
			if reps, err = p.PollDue(ctx); err != nil {
				return err
			}
		}
		failed := 0
		for _, r := range reps {
			switch {
			case !r.Polled:
				fmt.Fprintf(stdout, "%s: not polled (another node is polling it)\n", r.FeedID)
			case r.Error != "":
				failed++
				fmt.Fprintf(stdout, "%s: FAILED: %s\n", r.FeedID, r.Error)
			case r.NotModified:
				fmt.Fprintf(stdout, "%s: not modified\n", r.FeedID)
			default:
				fmt.Fprintf(stdout, "%s: %d items, %d new, %d already stored, %d skipped\n", r.FeedID, r.Items, r.New, r.Duplicates, r.Skipped)
			}
		}
		if len(reps) == 0 {
			fmt.Fprintln(stdout, "no feed is due")
		}
		if failed > 0 {
			return fmt.Errorf("%d feeds failed (their status shows the error)", failed)
		}
		return nil
	}
	return errors.New(feedsUsage)
}
