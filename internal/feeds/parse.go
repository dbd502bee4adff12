// Package feeds polls RSS 2.0 and Atom 1.0 feeds of review portals and
// forums and hands each new item to package feedback, which stores it once.
package feeds

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Item is one entry of a feed, as plain text.
type Item struct {
	ID        string
	Title     string
	Text      string
	Link      string
	Author    string
	Published time.Time // zero if absent or unreadable
	// DateError says why a present date could not be read.
	DateError string
}

// rssDoc and atomDoc are the parts of RSS 2.0 (with the content and
// Dublin Core modules) and Atom 1.0 that Kunding reads. encoding/xml
// matches local names when a tag gives no namespace, and content:encoded
// is told apart from an Atom <content> by its namespace.
type rssDoc struct {
	XMLName xml.Name  `xml:"rss"`
	Items   []rssItem `xml:"channel>item"`
}

type rssItem struct {
	Title       string `xml:"title"`
	Link        string `xml:"link"`
	Description string `xml:"description"`
	Encoded     string `xml:"http://purl.org/rss/1.0/modules/content/ encoded"`
	GUID        string `xml:"guid"`
	PubDate     string `xml:"pubDate"`
	DCDate      string `xml:"http://purl.org/dc/elements/1.1/ date"`
	Author      string `xml:"author"`
	Creator     string `xml:"http://purl.org/dc/elements/1.1/ creator"`
}

type atomDoc struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Entries []atomEntry `xml:"http://www.w3.org/2005/Atom entry"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",innerxml"`
}

type atomEntry struct {
	ID        string     `xml:"http://www.w3.org/2005/Atom id"`
	Title     atomText   `xml:"http://www.w3.org/2005/Atom title"`
	Content   atomText   `xml:"http://www.w3.org/2005/Atom content"`
	Summary   atomText   `xml:"http://www.w3.org/2005/Atom summary"`
	Links     []atomLink `xml:"http://www.w3.org/2005/Atom link"`
	Published string     `xml:"http://www.w3.org/2005/Atom published"`
	Updated   string     `xml:"http://www.w3.org/2005/Atom updated"`
	Authors   []struct {
		Name string `xml:"http://www.w3.org/2005/Atom name"`
	} `xml:"http://www.w3.org/2005/Atom author"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Href string `xml:"href,attr"`
}

// ErrNotAFeed is returned for XML that is neither RSS nor Atom.
var ErrNotAFeed = errors.New("neither an RSS 2.0 nor an Atom 1.0 feed")

// Parse reads an RSS 2.0 or Atom 1.0 document.
func Parse(data []byte) ([]Item, error) {
	root, err := rootName(data)
	if err != nil {
		return nil, err
	}
	switch {
	case root.Local == "rss":
		var d rssDoc
		if err := decode(data, &d); err != nil {
			return nil, err
		}
		items := make([]Item, 0, len(d.Items))
		for _, it := range d.Items {
			items = append(items, rssToItem(it))
		}
		return items, nil
	case root.Local == "feed" && root.Space == "http://www.w3.org/2005/Atom":
		var d atomDoc
		if err := decode(data, &d); err != nil {
			return nil, err
		}
		items := make([]Item, 0, len(d.Entries))
		for _, e := range d.Entries {
			items = append(items, atomToItem(e))
		}
		return items, nil
	}
	return nil, fmt.Errorf("%w (root element <%s>)", ErrNotAFeed, root.Local)
}

func newDecoder(data []byte) *xml.Decoder {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.CharsetReader = charsetReader
	// Feeds in the wild use HTML entities (&nbsp;, &auml;) undeclared.
	d.Strict = true
	d.Entity = xml.HTMLEntity
	return d
}

func rootName(data []byte) (xml.Name, error) {
	d := newDecoder(data)
	for {
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				return xml.Name{}, fmt.Errorf("invalid XML: no root element")
			}
			return xml.Name{}, fmt.Errorf("invalid XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name, nil
		}
	}
}

func decode(data []byte, v any) error {
	if err := newDecoder(data).Decode(v); err != nil {
		return fmt.Errorf("invalid XML: %v", err)
	}
	return nil
}

func rssToItem(it rssItem) Item {
	body := it.Encoded
	if strings.TrimSpace(body) == "" {
		body = it.Description
	}
	out := Item{
		Title:  PlainText(it.Title),
		Text:   PlainText(body),
		Link:   strings.TrimSpace(it.Link),
		Author: strings.TrimSpace(firstNonEmpty(it.Creator, it.Author)),
	}
	out.ID = strings.TrimSpace(firstNonEmpty(it.GUID, out.Link))
	date := strings.TrimSpace(firstNonEmpty(it.PubDate, it.DCDate))
	out.Published, out.DateError = readDate(date)
	if out.ID == "" {
		out.ID = contentID(out)
	}
	return out
}

func atomToItem(e atomEntry) Item {
	body := e.Content
	if strings.TrimSpace(body.Body) == "" {
		body = e.Summary
	}
	out := Item{
		Title: atomPlain(e.Title),
		Text:  atomPlain(body),
	}
	for _, l := range e.Links {
		if l.Rel == "" || l.Rel == "alternate" {
			out.Link = strings.TrimSpace(l.Href)
			break
		}
	}
	if out.Link == "" && len(e.Links) > 0 {
		out.Link = strings.TrimSpace(e.Links[0].Href)
	}
	if len(e.Authors) > 0 {
		out.Author = strings.TrimSpace(e.Authors[0].Name)
	}
	out.ID = strings.TrimSpace(firstNonEmpty(e.ID, out.Link))
	out.Published, out.DateError = readDate(strings.TrimSpace(firstNonEmpty(e.Published, e.Updated)))
	if out.ID == "" {
		out.ID = contentID(out)
	}
	return out
}

// atomPlain reads an Atom text construct: text (escaped once in the XML),
// html (escaped markup) or xhtml (inline markup).
func atomPlain(t atomText) string {
	inner := t.Body
	// innerxml keeps CDATA sections and entities as written.
	var b strings.Builder
	d := xml.NewDecoder(strings.NewReader("<x>" + inner + "</x>"))
	d.Strict = false
	d.Entity = xml.HTMLEntity
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch v := tok.(type) {
		case xml.CharData:
			b.Write(v)
		case xml.StartElement:
			if v.Name.Local != "x" {
				// xhtml: keep the markup for PlainText to flatten.
				b.WriteString("<" + v.Name.Local + ">")
			}
		case xml.EndElement:
			if v.Name.Local != "x" {
				b.WriteString("</" + v.Name.Local + ">")
			}
		}
	}
	s := b.String()
	if t.Type == "" || t.Type == "text" {
		return PlainText(html.EscapeString(s))
	}
	return PlainText(s)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// contentID names an item that has neither id, guid nor link.
func contentID(it Item) string {
	h := sha256.Sum256([]byte(it.Title + "\x00" + it.Text + "\x00" + it.Author))
	return "sha256:" + hex.EncodeToString(h[:16])
}

// PlainText turns HTML (as found in descriptions) into plain text: tags
// are dropped (block tags become line breaks), script and style contents
// are dropped, entities decoded and white space collapsed.
func PlainText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return collapse(s)
	}
	var b strings.Builder
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(html.UnescapeString(s))
			break
		}
		b.WriteString(html.UnescapeString(s[:i]))
		s = s[i:]
		if strings.HasPrefix(s, "<!--") {
			end := strings.Index(s, "-->")
			if end < 0 {
				break
			}
			s = s[end+3:]
			continue
		}
		end := strings.IndexByte(s, '>')
		if end < 0 || len(s) < 2 || !isTagStart(s[1]) {
			// A "<" that starts no tag is text ("3 < 5").
			b.WriteByte('<')
			s = s[1:]
			continue
		}
		tag := strings.ToLower(strings.TrimLeft(s[1:end], "/"))
		if f := strings.IndexAny(tag, " \t\r\n/"); f >= 0 {
			tag = tag[:f]
		}
		s = s[end+1:]
		if tag == "script" || tag == "style" {
			if k := strings.Index(strings.ToLower(s), "</"+tag); k >= 0 {
				s = s[k:]
				if e := strings.IndexByte(s, '>'); e >= 0 {
					s = s[e+1:]
				}
			}
			continue
		}
		switch tag {
		case "br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "table":
			b.WriteByte('\n')
		case "a", "b", "i", "u", "s", "em", "strong", "span", "font", "small", "big", "code", "mark", "sub", "sup", "abbr", "q", "cite", "del", "ins":
			// Inline markup inside a word or next to punctuation.
		default:
			b.WriteByte(' ')
		}
	}
	return collapse(b.String())
}

func isTagStart(c byte) bool {
	return c == '/' || c == '!' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// collapse trims every line, collapses runs of spaces and drops empty
// lines: short texts read best as lines.
func collapse(s string) string {
	s = strings.ReplaceAll(s, "\u00a0", " ")
	lines := strings.Split(strings.ReplaceAll(s, "\r", ""), "\n")
	out := lines[:0]
	for _, l := range lines {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// charsetReader decodes the single-byte encodings that feeds still use;
// UTF-8 needs none.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return in, nil
	case "iso-8859-1", "latin1", "latin-1", "iso8859-1", "windows-1252", "cp1252", "iso-8859-15":
		data, err := io.ReadAll(in)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		for _, c := range data {
			if c >= 0x80 && c < 0xa0 {
				b.WriteRune(cp1252[c-0x80])
			} else {
				b.WriteRune(rune(c))
			}
		}
		return &b, nil
	}
	return nil, fmt.Errorf("unsupported encoding %q (UTF-8, ISO-8859-1 and Windows-1252 are read)", label)
}

// cp1252 maps 0x80..0x9f of Windows-1252 (a superset of ISO-8859-1 that
// mislabelled feeds use).
var cp1252 = [32]rune{
	'€', utf8.RuneError, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', utf8.RuneError, 'Ž', utf8.RuneError,
	utf8.RuneError, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', utf8.RuneError, 'ž', 'Ÿ',
}

// layouts are the date forms found in feeds: RFC 822/1123 with and
// without weekday and seconds, numeric or named zones; RFC 3339 and ISO
// forms without zone (read as UTC).
var layouts = []string{
	time.RFC1123Z, time.RFC1123,
	"Mon, 2 Jan 2006 15:04:05 -0700", "Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04 -0700", "Mon, 2 Jan 2006 15:04 MST",
	"2 Jan 2006 15:04:05 -0700", "2 Jan 2006 15:04:05 MST", "2 Jan 2006 15:04 -0700", "2 Jan 2006 15:04 MST",
	"Mon, 2 January 2006 15:04:05 -0700", "Monday, 2 Jan 2006 15:04:05 -0700", "Monday, 02-Jan-06 15:04:05 MST",
	"Mon, 2 Jan 06 15:04:05 -0700", "Mon, 2 Jan 06 15:04:05 MST",
	"Mon Jan _2 15:04:05 MST 2006", "Mon Jan _2 15:04:05 -0700 2006",
	time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05", "2006-01-02",
}

// zones are the named zones of RFC 822 and a few common in feeds; Go's
// parser knows a zone name's offset only for the local zone.
var zones = map[string]string{
	"UT": "+0000", "UTC": "+0000", "GMT": "+0000", "Z": "+0000",
	"EST": "-0500", "EDT": "-0400", "CST": "-0600", "CDT": "-0500", "MST": "-0700", "MDT": "-0600", "PST": "-0800", "PDT": "-0700",
	"CET": "+0100", "CEST": "+0200", "MEZ": "+0100", "MESZ": "+0200", "BST": "+0100", "WET": "+0000", "WEST": "+0100", "EET": "+0200", "EEST": "+0300",
}

// ParseDate reads a feed date in any of the common forms.
func ParseDate(s string) (time.Time, error) {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return time.Time{}, errors.New("empty")
	}
	// A named zone at the end becomes its numeric offset.
	if i := strings.LastIndexByte(s, ' '); i > 0 {
		if off, ok := zones[strings.ToUpper(s[i+1:])]; ok {
			s = s[:i+1] + off
		}
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unreadable date %q", s)
}

func readDate(s string) (time.Time, string) {
	if s == "" {
		return time.Time{}, ""
	}
	t, err := ParseDate(s)
	if err != nil {
		return time.Time{}, err.Error()
	}
	return t, ""
}
