package text

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

type tokKind uint8

const (
	tWord     tokKind = iota // letters/digits, lower-cased in low
	tEmoticon                // ASCII emoticon such as ":-)" (low keeps its case)
	tEmoji                   // one emoji rune
	tPunct                   // . , ; : ! ? (clause boundaries)
)

type token struct {
	s    string // as written
	low  string // lower case (words), as written otherwise
	kind tokKind
	caps bool // a word of at least two letters, all upper case
	p    byte // tPunct: the punctuation character
}

// maxTextBytes bounds the work for one text: longer texts are analysed on
// their first maxTextBytes (cut at a rune boundary). Customer texts are far
// shorter; the bound keeps a pasted book from stalling a pipeline.
const maxTextBytes = 64 << 10

// tokenize splits s into words, emoticons, emojis and clause punctuation.
// URLs and @mentions are dropped; '#' of a hashtag is dropped. It never
// fails: invalid UTF-8 is replaced by spaces first.
func tokenize(s string, toks []token, emoticons map[string]float64) []token {
	if len(s) > maxTextBytes {
		cut := maxTextBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, " ")
	}
	i := 0
	for i < len(s) {
		// Skip white space.
		r, n := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		if isSpace(r) {
			i += n
			continue
		}
		// Find the chunk up to the next white space.
		j := i
		for j < len(s) {
			r2, n2 := rune(s[j]), 1
			if r2 >= utf8.RuneSelf {
				r2, n2 = utf8.DecodeRuneInString(s[j:])
			}
			if isSpace(r2) {
				break
			}
			j += n2
		}
		toks = chunk(s[i:j], toks, emoticons)
		i = j
	}
	return toks
}

func isSpace(r rune) bool {
	if r < utf8.RuneSelf {
		return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f'
	}
	return unicode.IsSpace(r)
}

func chunk(c string, toks []token, emoticons map[string]float64) []token {
	if c[0] == '@' || strings.HasPrefix(c, "http://") || strings.HasPrefix(c, "https://") || strings.HasPrefix(c, "www.") {
		// A mention or an address: no sentiment; keep a trailing clause mark.
		if last := c[len(c)-1]; last == '.' || last == '!' || last == '?' || last == ',' {
			toks = append(toks, token{s: c[len(c)-1:], low: c[len(c)-1:], kind: tPunct, p: last})
		}
		return toks
	}
	if len(c) <= 12 && isEmoticonChunk(c) {
		if _, ok := emoticons[c]; ok {
			return append(toks, token{s: c, low: c, kind: tEmoticon})
		}
		// "xD" and ":-D" come in several cases; also drop trailing clause marks ("ok :)," is rare).
		t := strings.TrimRight(c, ".,!?")
		if _, ok := emoticons[t]; ok && t != "" {
			toks = append(toks, token{s: t, low: t, kind: tEmoticon})
			for k := len(t); k < len(c); k++ {
				toks = append(toks, token{s: c[k : k+1], low: c[k : k+1], kind: tPunct, p: c[k]})
			}
			return toks
		}
	}
	start := -1 // start of the current word
	flush := func(end int) {
		if start < 0 {
			return
		}
		w := c[start:end]
		// Trailing apostrophes and hyphens do not belong to the word.
		for len(w) > 0 && (w[len(w)-1] == '\'' || w[len(w)-1] == '-') {
			w = w[:len(w)-1]
		}
		if strings.HasSuffix(w, "’") {
			w = w[:len(w)-len("’")]
		}
		if w != "" {
			low, caps := lower(w)
			toks = append(toks, token{s: w, low: low, kind: tWord, caps: caps})
		}
		start = -1
	}
	for k := 0; k < len(c); {
		r, n := rune(c[k]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(c[k:])
		}
		switch {
		case r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'):
			if start < 0 {
				start = k
			}
		case r == '\'' || r == '’' || r == '-':
			// Inside a word ("don't", "E-Mail") it belongs to it.
			if start < 0 {
				break
			}
		case r == '.' || r == ',' || r == ';' || r == ':' || r == '!' || r == '?':
			// "z.B." and "3.50": a dot between letters/digits stays in the word.
			if (r == '.' || r == ',') && start >= 0 && k+1 < len(c) && isWordByte(c[k+1]) {
				break
			}
			flush(k)
			toks = append(toks, token{s: c[k : k+1], low: c[k : k+1], kind: tPunct, p: byte(r)})
		case r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r)):
			if start < 0 {
				start = k
			}
		case isEmoji(r):
			flush(k)
			toks = append(toks, token{s: c[k : k+n], low: c[k : k+n], kind: tEmoji})
		case r == '&' && entityLen(c[k:]) > 0:
			// An HTML entity ("&gt;", "&amp;", "&#39;") is no word.
			flush(k)
			k += entityLen(c[k:])
			continue
		case r == 0xFE0F || r == 0x200D || (r >= 0x1F3FB && r <= 0x1F3FF):
			// Variation selector, joiner, skin tone: part of the emoji before.
		default:
			flush(k)
		}
		k += n
	}
	flush(len(c))
	return toks
}

// entityLen is the length of an HTML entity at the start of s, or 0.
func entityLen(s string) int {
	for k := 1; k < len(s) && k <= 10; k++ {
		b := s[k]
		switch {
		case b == ';':
			if k > 1 {
				return k + 1
			}
			return 0
		case b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '#' && k == 1:
		default:
			return 0
		}
	}
	return 0
}

func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b >= utf8.RuneSelf
}

// isEmoticonChunk reports whether c could be an ASCII emoticon: it has at
// least one ASCII punctuation character and no run of three letters.
func isEmoticonChunk(c string) bool {
	punct, letters := false, 0
	for k := 0; k < len(c); k++ {
		b := c[k]
		switch {
		case b >= utf8.RuneSelf:
			return false
		case b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z':
			letters++
			if letters >= 3 {
				return c == "XOXO" || c == "xoxo"
			}
		case b >= '0' && b <= '9':
			letters = 0
		default:
			letters = 0
			punct = true
		}
	}
	return punct || c == "XD" || c == "xD" || c == "xd" || c == "XO" || c == "xo"
}

func isEmoji(r rune) bool {
	return r >= 0x1F000 && r <= 0x1FAFF || r >= 0x2600 && r <= 0x27BF || r >= 0x2190 && r <= 0x21FF ||
		r >= 0x2B00 && r <= 0x2BFF || r == 0x2764 || r == 0x263A || r == 0x2639 || r == 0x2122
}

// lower returns w in lower case (with ’ as ') and whether w is all caps
// with at least two letters. ASCII words without upper case are returned
// without allocation.
func lower(w string) (string, bool) {
	upper, lowerN, ascii := 0, 0, true
	for k := 0; k < len(w); k++ {
		b := w[k]
		switch {
		case b >= utf8.RuneSelf:
			ascii = false
		case b >= 'A' && b <= 'Z':
			upper++
		case b >= 'a' && b <= 'z':
			lowerN++
		}
	}
	if ascii {
		caps := upper >= 2 && lowerN == 0
		if upper == 0 {
			return w, false
		}
		return strings.ToLower(w), caps
	}
	caps := true
	letters := 0
	for _, r := range w {
		if unicode.IsLetter(r) {
			letters++
			if !unicode.IsUpper(r) {
				caps = false
			}
		}
	}
	low := strings.ToLower(w)
	if strings.Contains(low, "’") {
		low = strings.ReplaceAll(low, "’", "'")
	}
	return low, caps && letters >= 2
}
