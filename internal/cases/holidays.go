package cases

import (
	"slices"
	"sort"
	"time"
)

// States are the codes of the German federal states.
var States = []string{"BW", "BY", "BE", "BB", "HB", "HH", "HE", "MV", "NI", "NW", "RP", "SL", "SN", "ST", "SH", "TH"}

func validState(s string) bool { return slices.Contains(States, s) }

// Holiday is a public holiday.
type Holiday struct {
	Date time.Time `json:"date"` // midnight UTC of the day
	Name string    `json:"name"`
}

// Easter returns Easter Sunday of a Gregorian year (the anonymous
// Gregorian algorithm of Meeus, Jones and Butcher).
func Easter(year int) time.Time {
	a := year % 19
	b := year / 100
	c := year % 100
	d := b / 4
	e := b % 4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i := c / 4
	k := c % 4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
}

// Holidays returns the public holidays of Germany in a year: the national
// ones, plus those of a federal state if state is one of States. Holidays
// that only some communities of a state keep (Fronleichnam in parts of
// Saxony and Thuringia, Mariä Himmelfahrt in Catholic Bavarian communities,
// the Augsburger Friedensfest) are left out: add them to a calendar's
// extra holidays where they apply.
func Holidays(year int, state string) []Holiday {
	e := Easter(year)
	day := func(m time.Month, d int) time.Time { return time.Date(year, m, d, 0, 0, 0, 0, time.UTC) }
	hs := []Holiday{
		{day(time.January, 1), "Neujahr"},
		{e.AddDate(0, 0, -2), "Karfreitag"},
		{e.AddDate(0, 0, 1), "Ostermontag"},
		{day(time.May, 1), "Tag der Arbeit"},
		{e.AddDate(0, 0, 39), "Christi Himmelfahrt"},
		{e.AddDate(0, 0, 50), "Pfingstmontag"},
		{day(time.October, 3), "Tag der Deutschen Einheit"},
		{day(time.December, 25), "1. Weihnachtstag"},
		{day(time.December, 26), "2. Weihnachtstag"},
	}
	if year == 2017 { // 500 years of the Reformation: once, everywhere
		hs = append(hs, Holiday{day(time.October, 31), "Reformationstag"})
	}
	in := func(states ...string) bool { return slices.Contains(states, state) }
	if in("BW", "BY", "ST") {
		hs = append(hs, Holiday{day(time.January, 6), "Heilige Drei Könige"})
	}
	if state == "BE" && year >= 2019 || state == "MV" && year >= 2023 {
		hs = append(hs, Holiday{day(time.March, 8), "Internationaler Frauentag"})
	}
	if state == "BE" && (year == 2020 || year == 2025) {
		hs = append(hs, Holiday{day(time.May, 8), "Tag der Befreiung"})
	}
	if state == "BB" {
		hs = append(hs, Holiday{e, "Ostersonntag"}, Holiday{e.AddDate(0, 0, 49), "Pfingstsonntag"})
	}
	if in("BW", "BY", "HE", "NW", "RP", "SL") {
		hs = append(hs, Holiday{e.AddDate(0, 0, 60), "Fronleichnam"})
	}
	if state == "SL" {
		hs = append(hs, Holiday{day(time.August, 15), "Mariä Himmelfahrt"})
	}
	if state == "TH" && year >= 2019 {
		hs = append(hs, Holiday{day(time.September, 20), "Weltkindertag"})
	}
	if year != 2017 && (in("BB", "MV", "SN", "ST", "TH") || in("HB", "HH", "NI", "SH") && year >= 2018) {
		hs = append(hs, Holiday{day(time.October, 31), "Reformationstag"})
	}
	if in("BW", "BY", "NW", "RP", "SL") {
		hs = append(hs, Holiday{day(time.November, 1), "Allerheiligen"})
	}
	if state == "SN" {
		// Buß- und Bettag: the Wednesday before 23 November.
		d := day(time.November, 22)
		for d.Weekday() != time.Wednesday {
			d = d.AddDate(0, 0, -1)
		}
		hs = append(hs, Holiday{d, "Buß- und Bettag"})
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i].Date.Before(hs[j].Date) })
	return hs
}
