package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress draws a one-line progress bar on a terminal, and a line every few
// seconds when the output is a file or pipe.
type progress struct {
	w     io.Writer
	label string
	total int64
	cur   int64
	start time.Time
	last  time.Time
	tty   bool
}

func newProgress(w io.Writer, label string, total int64) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progress{w: w, label: label, total: total, start: time.Now(), tty: tty}
}

func (p *progress) set(n int64) {
	p.cur = n
	every := 200 * time.Millisecond
	if !p.tty {
		every = 5 * time.Second
	}
	if time.Since(p.last) < every {
		return
	}
	p.last = time.Now()
	p.draw()
}

func (p *progress) draw() {
	el := time.Since(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(p.cur) / el
	}
	line := fmt.Sprintf("%s %d", p.label, p.cur)
	if p.total > 0 {
		frac := min(float64(p.cur)/float64(p.total), 1)
		const width = 30
		fill := int(frac * width)
		line = fmt.Sprintf("%s [%s%s] %5.1f%% %d/%d", p.label, strings.Repeat("=", fill), strings.Repeat(" ", width-fill), frac*100, p.cur, p.total)
	}
	if el >= 1 { // a rate over a few milliseconds means nothing
		line += fmt.Sprintf("  %.0f/s", rate)
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r%s\x1b[K", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
}

func (p *progress) done() {
	p.draw()
	if p.tty {
		fmt.Fprintln(p.w)
	}
}
