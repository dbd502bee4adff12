package cases

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Span is a stretch of working time within a day, "08:00" to "18:00".
type Span struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Calendar says when the clock of a deadline runs: working hours per
// weekday in a time zone, minus public holidays (the German national ones,
// those of a federal state if State is set, and extra dates).
type Calendar struct {
	Name     string `json:"name"`
	TimeZone string `json:"timeZone"`                   // IANA name; "" means Europe/Berlin
	State    string `json:"state,omitempty"`            // German federal state code (BW, BY, ..., TH); "" national holidays only
	NoPublic bool   `json:"noPublicHolidays,omitempty"` // ignore German public holidays
	// Hours per weekday: "mon", "tue", "wed", "thu", "fri", "sat", "sun".
	Hours map[string][]Span `json:"hours"`
	// Holidays are extra closed days, "2026-12-24".
	Holidays []string `json:"holidays,omitempty"`

	loc   *time.Location
	week  [7][][2]int // minutes from midnight, by time.Weekday
	extra map[civil]bool
	mu    sync.Mutex
	years map[int]map[civil]string // public holidays by year
}

type civil struct {
	y int
	m time.Month
	d int
}

var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// DefaultCalendar is Monday to Friday, 08:00 to 18:00, Europe/Berlin, with
// the German national public holidays.
func DefaultCalendar() *Calendar {
	day := []Span{{"08:00", "18:00"}}
	c := &Calendar{Name: "default", TimeZone: "Europe/Berlin",
		Hours: map[string][]Span{"mon": day, "tue": day, "wed": day, "thu": day, "fri": day}}
	if err := c.compile(); err != nil {
		panic(err) // a constant
	}
	return c
}

func parseClock(s string) (int, error) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("time %q: want HH:MM", s)
	}
	if _, err := fmt.Sscanf(s, "%d:%d", &h, &m); err != nil || h < 0 || h > 24 || m < 0 || m > 59 || h == 24 && m != 0 {
		return 0, fmt.Errorf("time %q: want HH:MM between 00:00 and 24:00", s)
	}
	return h*60 + m, nil
}

// compile checks the calendar and prepares it for use.
func (c *Calendar) compile() error {
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" {
		return invalidf("calendar: name is required")
	}
	if c.TimeZone == "" {
		c.TimeZone = "Europe/Berlin"
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return invalidf("calendar %s: time zone %q: %v", c.Name, c.TimeZone, err)
	}
	c.loc = loc
	c.State = strings.ToUpper(strings.TrimSpace(c.State))
	if c.State != "" && !validState(c.State) {
		return invalidf("calendar %s: state %q: want one of %s", c.Name, c.State, strings.Join(States, ", "))
	}
	total := 0
	for k, spans := range c.Hours {
		wd := -1
		for i, n := range weekdays {
			if n == k {
				wd = i
			}
		}
		if wd < 0 {
			return invalidf("calendar %s: hours: day %q: want mon, tue, wed, thu, fri, sat or sun", c.Name, k)
		}
		var list [][2]int
		for _, sp := range spans {
			a, err := parseClock(sp.Start)
			if err != nil {
				return invalidf("calendar %s: %s: %v", c.Name, k, err)
			}
			b, err := parseClock(sp.End)
			if err != nil {
				return invalidf("calendar %s: %s: %v", c.Name, k, err)
			}
			if b <= a {
				return invalidf("calendar %s: %s: %s-%s ends before it starts", c.Name, k, sp.Start, sp.End)
			}
			list = append(list, [2]int{a, b})
			total += b - a
		}
		sort.Slice(list, func(i, j int) bool { return list[i][0] < list[j][0] })
		for i := 1; i < len(list); i++ {
			if list[i][0] < list[i-1][1] {
				return invalidf("calendar %s: %s: working hours overlap", c.Name, k)
			}
		}
		c.week[wd] = list
	}
	if total == 0 {
		return invalidf("calendar %s: no working hours at all; deadlines would never come", c.Name)
	}
	c.extra = map[civil]bool{}
	for _, d := range c.Holidays {
		t, err := time.Parse("2006-01-02", d)
		if err != nil {
			return invalidf("calendar %s: holiday %q: want YYYY-MM-DD", c.Name, d)
		}
		c.extra[civil{t.Year(), t.Month(), t.Day()}] = true
	}
	c.years = map[int]map[civil]string{}
	return nil
}

// Location is the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// Closed reports whether the whole day is off (a holiday), and which.
func (c *Calendar) Closed(y int, m time.Month, d int) (string, bool) {
	k := civil{y, m, d}
	if c.extra[k] {
		return "closed", true
	}
	if c.NoPublic {
		return "", false
	}
	c.mu.Lock()
	hs, ok := c.years[y]
	if !ok {
		hs = map[civil]string{}
		for _, h := range Holidays(y, c.State) {
			hs[civil{h.Date.Year(), h.Date.Month(), h.Date.Day()}] = h.Name
		}
		c.years[y] = hs
	}
	c.mu.Unlock()
	name, ok := hs[k]
	return name, ok
}

// maxDays bounds the walk through the calendar (ten years of days).
const maxDays = 3660

// spans calls fn with each working stretch from the day of t on, in order,
// until fn returns false.
func (c *Calendar) spans(t time.Time, fn func(s, e time.Time) bool) {
	t = t.In(c.loc)
	y, m, d := t.Date()
	for i := 0; i < maxDays; i++ {
		day := time.Date(y, m, d+i, 0, 0, 0, 0, c.loc)
		dy, dm, dd := day.Date()
		if _, closed := c.Closed(dy, dm, dd); closed {
			continue
		}
		for _, sp := range c.week[day.Weekday()] {
			s := time.Date(dy, dm, dd, sp[0]/60, sp[0]%60, 0, 0, c.loc)
			e := time.Date(dy, dm, dd, sp[1]/60, sp[1]%60, 0, 0, c.loc)
			if !fn(s, e) {
				return
			}
		}
	}
}

// Add returns the moment when d of working time after start has passed.
func (c *Calendar) Add(start time.Time, d time.Duration) time.Time {
	if d < 0 {
		d = 0
	}
	out := time.Time{}
	left := d
	c.spans(start, func(s, e time.Time) bool {
		if !e.After(start) {
			return true
		}
		if s.Before(start) {
			s = start
		}
		if avail := e.Sub(s); left <= avail {
			out = s.Add(left)
			return false
		} else {
			left -= avail
		}
		return true
	})
	if out.IsZero() { // beyond ten years of calendar: far away
		out = start.Add(maxDays * 24 * time.Hour)
	}
	return out.UTC()
}

// Between returns the working time from a to b (0 if b is not after a).
func (c *Calendar) Between(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	var sum time.Duration
	c.spans(a, func(s, e time.Time) bool {
		if !s.Before(b) {
			return false
		}
		if s.Before(a) {
			s = a
		}
		if e.After(b) {
			e = b
		}
		if e.After(s) {
			sum += e.Sub(s)
		}
		return true
	})
	return sum
}
