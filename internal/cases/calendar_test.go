package cases

import (
	"testing"
	"time"
)

var berlin, _ = time.LoadLocation("Europe/Berlin")

func at(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, berlin)
}

func TestEaster(t *testing.T) {
	for year, want := range map[int]string{2000: "2000-04-23", 2008: "2008-03-23", 2019: "2019-04-21", 2024: "2024-03-31",
		2025: "2025-04-20", 2026: "2026-04-05", 2027: "2027-03-28", 2038: "2038-04-25"} {
		if got := Easter(year).Format("2006-01-02"); got != want {
			t.Errorf("Easter %d = %s, want %s", year, got, want)
		}
	}
}

func TestHolidays(t *testing.T) {
	names := func(year int, state string) map[string]string {
		m := map[string]string{}
		for _, h := range Holidays(year, state) {
			m[h.Date.Format("2006-01-02")] = h.Name
		}
		return m
	}
	nat := names(2026, "")
	if len(nat) != 9 {
		t.Errorf("2026 national: %d holidays, want 9: %v", len(nat), nat)
	}
	for d, n := range map[string]string{"2026-01-01": "Neujahr", "2026-04-03": "Karfreitag", "2026-04-06": "Ostermontag",
		"2026-05-01": "Tag der Arbeit", "2026-05-14": "Christi Himmelfahrt", "2026-05-25": "Pfingstmontag",
		"2026-10-03": "Tag der Deutschen Einheit", "2026-12-25": "1. Weihnachtstag", "2026-12-26": "2. Weihnachtstag"} {
		if nat[d] != n {
			t.Errorf("2026 national %s = %q, want %q", d, nat[d], n)
		}
	}
	cases := []struct {
		year  int
		state string
		date  string
		want  string // "" : not a holiday there
	}{
		{2026, "NW", "2026-06-04", "Fronleichnam"},
		{2026, "BE", "2026-06-04", ""},
		{2026, "NW", "2026-11-01", "Allerheiligen"},
		{2026, "BY", "2026-01-06", "Heilige Drei Könige"},
		{2026, "HH", "2026-01-06", ""},
		{2026, "SN", "2026-11-18", "Buß- und Bettag"},
		{2025, "SN", "2025-11-19", "Buß- und Bettag"},
		{2026, "BE", "2026-03-08", "Internationaler Frauentag"},
		{2018, "BE", "2018-03-08", ""},
		{2026, "MV", "2026-03-08", "Internationaler Frauentag"},
		{2026, "TH", "2026-09-20", "Weltkindertag"},
		{2026, "HH", "2026-10-31", "Reformationstag"},
		{2017, "HH", "2017-10-31", "Reformationstag"},
		{2017, "BY", "2017-10-31", "Reformationstag"},
		{2016, "HH", "2016-10-31", ""},
		{2026, "BW", "2026-10-31", ""},
		{2026, "SL", "2026-08-15", "Mariä Himmelfahrt"},
		{2026, "BB", "2026-04-05", "Ostersonntag"},
	}
	for _, c := range cases {
		if got := names(c.year, c.state)[c.date]; got != c.want {
			t.Errorf("%s %s = %q, want %q", c.state, c.date, got, c.want)
		}
	}
}

// The deadlines below are computed by hand from the default calendar
// (Monday to Friday 08:00-18:00, Europe/Berlin).
func TestCalendarAdd(t *testing.T) {
	def := DefaultCalendar()
	nw := &Calendar{Name: "nrw", State: "NW", Hours: def.Hours}
	if err := nw.compile(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		cal   *Calendar
		start time.Time
		add   time.Duration
		want  time.Time
	}{
		{"within a day", def, at(2026, 3, 16, 9, 0), 4 * time.Hour, at(2026, 3, 16, 13, 0)},
		{"ends exactly at closing", def, at(2026, 3, 16, 8, 0), 10 * time.Hour, at(2026, 3, 16, 18, 0)},
		// Friday 17:00: 1 h on Friday, then Monday from 08:00: 2 h more.
		{"across a weekend", def, at(2026, 3, 20, 17, 0), 3 * time.Hour, at(2026, 3, 23, 10, 0)},
		// Saturday: starts Monday 08:00.
		{"start on a Saturday", def, at(2026, 3, 21, 11, 0), time.Hour, at(2026, 3, 23, 9, 0)},
		// Before opening: starts at 08:00.
		{"start before opening", def, at(2026, 3, 17, 6, 30), 90 * time.Minute, at(2026, 3, 17, 9, 30)},
		// Thursday 2 April 2026 16:00: 2 h on Thursday; Good Friday (3rd),
		// the weekend and Easter Monday (6th) are closed; 2 h more on
		// Tuesday 7 April: 10:00.
		{"across Easter", def, at(2026, 4, 2, 16, 0), 4 * time.Hour, at(2026, 4, 7, 10, 0)},
		// 40 business hours from Wednesday 1 April 2026 12:00: Wed 6 h,
		// Thu 10 h (16), Fri-Mon closed, Tue 10 h (26), Wed 10 h (36),
		// Thu 9 April 4 h: 12:00.
		{"resolution target across Easter", def, at(2026, 4, 1, 12, 0), 40 * time.Hour, at(2026, 4, 9, 12, 0)},
		// Fronleichnam (Thursday 4 June 2026) is closed in NRW only.
		{"state holiday NW", nw, at(2026, 6, 3, 17, 0), 2 * time.Hour, at(2026, 6, 5, 9, 0)},
		{"no state holiday nationally", def, at(2026, 6, 3, 17, 0), 2 * time.Hour, at(2026, 6, 4, 9, 0)},
		// Across the switch to summer time (Sunday 29 March 2026).
		{"across DST", def, at(2026, 3, 27, 17, 0), 2 * time.Hour, at(2026, 3, 30, 9, 0)},
		// Christmas 2026: Thu 24 open, Fri 25 and Sat 26 closed.
		{"Christmas", def, at(2026, 12, 24, 17, 0), 2 * time.Hour, at(2026, 12, 28, 9, 0)},
	}
	for _, tc := range tests {
		got := tc.cal.Add(tc.start, tc.add)
		if !got.Equal(tc.want) {
			t.Errorf("%s: Add(%s, %s) = %s, want %s", tc.name, tc.start, tc.add, got.In(berlin), tc.want)
		}
		if b := tc.cal.Between(tc.start, got); b != tc.add {
			t.Errorf("%s: Between(start, deadline) = %s, want %s", tc.name, b, tc.add)
		}
	}
	if b := def.Between(at(2026, 3, 23, 10, 0), at(2026, 3, 20, 17, 0)); b != 0 {
		t.Errorf("Between backwards = %s, want 0", b)
	}
	// Extra closed days and a calendar without public holidays.
	x := &Calendar{Name: "x", Hours: def.Hours, Holidays: []string{"2026-03-23"}, NoPublic: true}
	if err := x.compile(); err != nil {
		t.Fatal(err)
	}
	if got, want := x.Add(at(2026, 3, 20, 17, 0), 3*time.Hour), at(2026, 3, 24, 10, 0); !got.Equal(want) {
		t.Errorf("extra holiday: %s, want %s", got.In(berlin), want)
	}
	if got, want := x.Add(at(2026, 4, 2, 16, 0), 4*time.Hour), at(2026, 4, 3, 10, 0); !got.Equal(want) {
		t.Errorf("no public holidays: %s, want %s", got.In(berlin), want)
	}
}

func TestCalendarInvalid(t *testing.T) {
	for _, c := range []*Calendar{
		{Name: "", Hours: map[string][]Span{"mon": {{"08:00", "18:00"}}}},
		{Name: "a", Hours: map[string][]Span{}},
		{Name: "a", Hours: map[string][]Span{"monday": {{"08:00", "18:00"}}}},
		{Name: "a", Hours: map[string][]Span{"mon": {{"18:00", "08:00"}}}},
		{Name: "a", Hours: map[string][]Span{"mon": {{"8:00", "18:00"}}}},
		{Name: "a", Hours: map[string][]Span{"mon": {{"08:00", "12:00"}, {"11:00", "13:00"}}}},
		{Name: "a", TimeZone: "Mars/Olympus", Hours: map[string][]Span{"mon": {{"08:00", "18:00"}}}},
		{Name: "a", State: "XX", Hours: map[string][]Span{"mon": {{"08:00", "18:00"}}}},
		{Name: "a", Holidays: []string{"24.12.2026"}, Hours: map[string][]Span{"mon": {{"08:00", "18:00"}}}},
	} {
		if err := c.compile(); err == nil {
			t.Errorf("calendar %+v accepted", c)
		}
	}
}
