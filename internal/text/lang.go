package text

import "unicode/utf8"

// Function words are the surest sign of a language in a short text.
var deFunction = setOf(`der die das den dem des und ist nicht ich ein eine einen einem einer eines zu mit auf für von
im am auch es sie wir ihr sind war wird werden wurde schon noch wieder mal aber oder wie was warum wieso weshalb wo wann
heute kein keine keinen mir mich mein meine meinen uns euch bei nach aus um nur sehr dass daß ob jemand hat haben habe
hab bin bist gibt kann können man zum zur vom beim ins seit immer jetzt echt doch halt nix nichts leider danke bitte
gestern morgen ab fährt kommt geht weiß weiss wer diese dieser dieses sich hier da dann denn weil wenn als bis ja nein
gut alles viel viele schön toll super geil mega voll minuten stunde stunden zug bahn`)

var enFunction = setOf(`the and is not i a of to on for with it this that was are be have has had my me you we
they but or what why where when today no very just at from can your our there been would could should don't
it's i'm didn't doesn't isn't wasn't can't won't thanks thank please again all any some get got good great bad
really love like would who how than then because if as by its his her their them were do does did here yes yet
minutes hour hours train delayed late`)

// Words of both languages ("in", "was", "so", "will", "an") are evidence for
// neither.
func init() {
	for w := range deFunction {
		if enFunction[w] {
			delete(deFunction, w)
			delete(enFunction, w)
		}
	}
}

func setOf(s string) map[string]bool {
	m := map[string]bool{}
	start := -1
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' || s[i] == '\n' || s[i] == '\t' {
			if start >= 0 {
				m[s[start:i]] = true
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	return m
}

// detect guesses the language of the words in toks: "de", "en" or "" when
// the evidence is too weak or balanced.
func detect(toks []token) string {
	de, en := 0.0, 0.0
	for _, t := range toks {
		if t.kind != tWord {
			continue
		}
		w := t.low
		if deFunction[w] {
			de++
		}
		if enFunction[w] {
			en++
		}
		// Umlauts and ß are German; typical endings and letter groups help
		// with texts of content words only.
		for k := 0; k < len(w); k++ {
			if w[k] >= utf8.RuneSelf {
				r, _ := utf8.DecodeRuneInString(w[k:])
				if r == 'ä' || r == 'ö' || r == 'ü' || r == 'ß' {
					de += 0.7
				}
			}
		}
		switch {
		case hasSuffix(w, "ung"), hasSuffix(w, "ungen"), hasSuffix(w, "keit"), hasSuffix(w, "heit"), hasSuffix(w, "lich"),
			hasSuffix(w, "isch"), hasSuffix(w, "chen"), hasSuffix(w, "icht"), hasSuffix(w, "ieren"), hasSuffix(w, "iert"):
			de += 0.4
		case hasSuffix(w, "ing") && len(w) > 4, hasSuffix(w, "tion") && !hasSuffix(w, "ation"), hasSuffix(w, "ly"),
			hasSuffix(w, "ness"), hasSuffix(w, "ed") && len(w) > 4, hasSuffix(w, "ful"):
			en += 0.4
		}
		if len(w) > 2 && (w[0] == 't' && w[1] == 'h' || w[0] == 'w' && w[1] == 'h') {
			en += 0.3
		}
		if containsSch(w) {
			de += 0.3
		}
		// A sentiment word known in one lexicon only ("Frechheit", "awesome").
		_, inDE := german.lex[w]
		_, inEN := english.lex[w]
		if inDE && !inEN {
			de += 0.5
		} else if inEN && !inDE {
			en += 0.5
		}
	}
	switch {
	case de >= 0.7 && de > en*1.5:
		return "de"
	case en >= 0.7 && en > de*1.5:
		return "en"
	}
	return ""
}

func hasSuffix(w, s string) bool { return len(w) > len(s) && w[len(w)-len(s):] == s }

func containsSch(w string) bool {
	for k := 0; k+2 < len(w); k++ {
		if w[k] == 's' && w[k+1] == 'c' && w[k+2] == 'h' {
			return true
		}
	}
	return false
}
