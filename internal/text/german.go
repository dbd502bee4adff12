package text

import (
	"bufio"
	"strconv"
	"strings"
)

// germanModel builds the German model from the team's own lexicon
// (data/de_lexicon.txt), expanding lemmas into inflected forms by rule.
func germanModel() *model {
	m := &model{
		code:       "de",
		lex:        make(map[string]entry, 12000),
		boost:      map[string]float64{},
		negate:     setOf(deNegate),
		postNeg:    setOf("nicht nie niemals nimmer"),
		contrast:   map[string]float64{"aber": 1.5, "jedoch": 1.5, "allerdings": 1.3, "trotzdem": 1.3, "dennoch": 1.3, "sondern": 1.3},
		phrases:    map[string][]phrase{},
		sepVerbs:   map[string][]sepVerb{},
		amplify:    map[string]float64{},
		damp:       map[string]damper{},
		compounds:  true,
		neutralOK:  0.35,
		questionP:  0.3,
		questionN:  0.8,
		salutation: setOf("liebe lieber liebes hallo hi moin servus"),
		questionV:  map[string]float64{"endlich": -1.6},
		factCap:    -1.3,
		irony:      setOf("danke geil perfekt herrlich fantastisch wow super toll klasse prima spitze großartig grossartig bravo top genial wunderbar herzlichen vielen schön schöne schönen tolle toller tollen super-service"),
	}
	for _, w := range strings.Fields(deIncr) {
		m.boost[w] = bIncr
	}
	for _, w := range strings.Fields(deDecr) {
		m.boost[w] = -bIncr
	}
	for _, w := range strings.Fields(deAmplify) {
		f := strings.Split(w, ":")
		v, _ := strconv.ParseFloat(f[1], 64)
		m.amplify[f[0]] = v
	}
	// "trotz der Verspätung": a concession, the problem counts little.
	m.damp["trotz"] = damper{factor: 0.2, window: 3}
	// Conditions and hopes do not state a fact.
	for _, w := range strings.Fields("ob falls wenn hoffentlich sofern") {
		m.damp[w] = damper{factor: 0.4}
	}
	// Two passes: explicit forms first, so that they win over forms
	// generated from other lemmas.
	for pass := 0; pass < 2; pass++ {
		m.readLexicon(pass)
	}
	return m
}

func (m *model) readLexicon(pass int) {
	sc := bufio.NewScanner(strings.NewReader(readData("de_lexicon.txt")))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 && len(f) != 4 {
			panic("text: de_lexicon.txt: bad line " + strconv.Quote(line))
		}
		v, err := strconv.ParseFloat(f[2], 64)
		if err != nil {
			panic("text: de_lexicon.txt: bad valence in " + strconv.Quote(line))
		}
		fact := len(f) == 4 && f[3] == "f"
		w := strings.ToLower(f[0])
		explicit := f[1] == "w" || f[1] == "vw"
		if explicit != (pass == 0) {
			continue
		}
		switch f[1] {
		case "a":
			for _, form := range adjForms(w) {
				m.addDE(form, entry{v: v, fact: fact})
			}
		case "v":
			for _, form := range verbForms(w) {
				// Participles are also adjectives; "nicht" may follow all forms.
				m.addDE(form, entry{v: v, verb: true, fact: fact})
			}
		case "vw":
			m.addDE(w, entry{v: v, verb: true, fact: fact})
		case "n":
			for _, form := range nounForms(w) {
				m.addDE(form, entry{v: v, fact: fact})
			}
		case "w":
			m.addDE(w, entry{v: v, fact: fact})
		case "p":
			ws := strings.Fields(w)
			for _, vw := range variants(ws[0]) {
				m.phrases[vw] = append(m.phrases[vw], phrase{words: append([]string{vw}, ws[1:]...), v: v, fact: fact})
			}
		case "s":
			ws := strings.Fields(w)
			if len(ws) == 2 {
				m.sepVerbs[ws[0]] = append(m.sepVerbs[ws[0]], sepVerb{particle: ws[1], v: v, fact: fact})
			}
		default:
			panic("text: de_lexicon.txt: unknown class in " + strconv.Quote(line))
		}
	}
}

// addDE adds a form and its spellings without umlauts (ae/oe/ue, ss), as
// typed on foreign keyboards. An explicit entry is not overwritten by a
// generated form of another lemma.
func (m *model) addDE(form string, e entry) {
	for _, f := range variants(form) {
		if _, ok := m.lex[f]; !ok {
			m.lex[f] = e
		}
	}
}

func variants(w string) []string {
	out := []string{w}
	if strings.ContainsAny(w, "äöüß") {
		r := strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss").Replace(w)
		out = append(out, r)
		if strings.Contains(w, "ß") {
			out = append(out, strings.ReplaceAll(w, "ß", "ss"))
		}
	}
	return out
}

var adjEndings = []string{"", "e", "en", "er", "es", "em"}

// adjForms: positive, comparative and superlative with the strong/weak
// endings; "teuer" -> "teure", "dunkel" -> "dunkle".
func adjForms(a string) []string {
	var out []string
	stems := []string{a}
	if n := len(a); n > 4 && (strings.HasSuffix(a, "er") || strings.HasSuffix(a, "el")) && !strings.HasSuffix(a, "ier") {
		stems = append(stems, a[:n-2]+a[n-1:])
	}
	for _, s := range stems {
		for _, e := range adjEndings[1:] {
			out = append(out, s+e)
		}
	}
	out = append(out, a)
	comp := stems[len(stems)-1] + "er"
	sup := a + "st"
	if strings.HasSuffix(a, "e") {
		comp = a + "r"
		sup = a + "st"
	}
	if strings.HasSuffix(a, "t") || strings.HasSuffix(a, "d") || strings.HasSuffix(a, "s") || strings.HasSuffix(a, "ß") ||
		strings.HasSuffix(a, "z") || strings.HasSuffix(a, "sch") {
		sup = a + "est"
	}
	for _, e := range adjEndings {
		out = append(out, comp+e)
		if e != "" {
			out = append(out, sup+e)
		}
	}
	out = append(out, "am "+sup+"en")
	return out
}

var inseparable = []string{"be", "emp", "ent", "er", "ge", "miss", "ver", "zer", "über", "hinter", "wider"}

// verbForms inflects a weak verb given as its infinitive.
func verbForms(inf string) []string {
	var stem string
	switch {
	case strings.HasSuffix(inf, "ern") || strings.HasSuffix(inf, "eln"):
		stem = inf[:len(inf)-1]
	case strings.HasSuffix(inf, "en"):
		stem = inf[:len(inf)-2]
	default:
		return []string{inf}
	}
	out := []string{inf}
	e := ""
	if strings.HasSuffix(stem, "t") || strings.HasSuffix(stem, "d") || strings.HasSuffix(stem, "chn") || strings.HasSuffix(stem, "ffn") {
		e = "e"
	}
	for _, suf := range []string{"e", "st", "t", "en", "te", "test", "ten", "tet"} {
		switch {
		case suf == "en" && strings.HasSuffix(stem, "er"), suf == "en" && strings.HasSuffix(stem, "el"):
			suf = "n"
		case suf != "e" && suf != "en":
			suf = e + suf
		}
		out = append(out, stem+suf)
	}
	part := "ge" + stem + e + "t"
	if strings.HasSuffix(inf, "ieren") {
		part = stem + "t"
	}
	for _, p := range inseparable {
		if strings.HasPrefix(inf, p) {
			part = stem + e + "t"
			break
		}
	}
	for _, end := range adjEndings {
		out = append(out, part+end, stem+"end"+end)
	}
	return out
}

// nounForms: singular and plural forms with case endings. Irregular
// plurals with umlaut are listed separately in the lexicon.
func nounForms(n string) []string {
	out := []string{n}
	switch {
	case strings.HasSuffix(n, "ung") || strings.HasSuffix(n, "heit") || strings.HasSuffix(n, "keit") ||
		strings.HasSuffix(n, "schaft") || strings.HasSuffix(n, "ion") || strings.HasSuffix(n, "tät"):
		out = append(out, n+"en")
	case strings.HasSuffix(n, "e"):
		out = append(out, n+"n")
	case strings.HasSuffix(n, "er") || strings.HasSuffix(n, "el"):
		out = append(out, n+"n", n+"s")
	default:
		out = append(out, n+"s", n+"e", n+"es", n+"en")
	}
	return out
}

const deNegate = `nicht kein keine keinen keinem keiner keines nie niemals ohne nichts nix niemand keiner weder
nirgends nirgendwo kaum`

const deIncr = `sehr total extrem mega voll echt absolut richtig ziemlich so besonders wirklich äußerst
unglaublich unheimlich enorm komplett völlig vollkommen höchst derbe krass übel wahnsinnig sau saumäßig
ultra ganz zu tierisch einfach nur mehr höchst superschnell dermaßen irre`

const deDecr = `etwas bisschen bißchen wenig leicht eher teilweise halbwegs einigermaßen relativ fast
ansatzweise mäßig`

// Repetition makes a complaint: "mal wieder", "schon wieder", "ständig".
const deAmplify = `wieder:0.8 ständig:1.0 dauernd:1.0 jedesmal:1.0 andauernd:1.0 täglich:0.4 immer:0.4 schonwieder:1.0
mehrmals:0.5 dauerhaft:0.5 x-mal:1.0 zigmal:1.0 erneut:0.6`

// Compound prefixes that intensify a known head ("Megaverspätung") and
// prefixes that carry a valence of their own ("Horrorfahrt").
var deIntensPrefix = []string{"mega", "super", "ultra", "riesen", "mords", "hyper", "extrem", "monster", "dauer", "sau", "tierisch", "total"}

var deValPrefix = map[string]float64{
	"horror": -2.2, "scheiß": -2.6, "scheiss": -2.6, "kack": -2.4, "mist": -2.0, "drecks": -2.4, "schrott": -2.2,
	"chaos": -1.8, "katastrophen": -2.4, "pannen": -1.6, "albtraum": -2.4, "alptraum": -2.4, "höllen": -1.8, "sauf": 0,
	"traum": 2.0, "spitzen": 2.0, "klasse": 1.6, "bomben": 1.6, "luxus": 0.8, "wunsch": 0, "lieblings": 1.4,
}

// compound looks an unknown German word up by its head (the longest known
// ending of at least 5 bytes), with an intensifying or valenced first part.
func (m *model) compound(w string) (entry, string, bool) {
	if k := strings.LastIndexByte(w, '-'); k > 0 && k < len(w)-1 {
		// "ICE-Chaos", "Super-Service": the last part is the head.
		head := w[k+1:]
		if e, ok := m.lex[head]; ok {
			if pv, ok := deValPrefix[w[:k]]; ok && pv != 0 {
				e.v += pv * 0.5
			}
			for _, p := range deIntensPrefix {
				if w[:k] == p {
					e.v *= 1.3
				}
			}
			return e, "", true
		}
		if e, _, ok := m.compound(head); ok {
			return e, "", true
		}
		if pv, ok := deValPrefix[w[:k]]; ok && pv != 0 {
			return entry{v: pv}, "", true
		}
		return entry{}, "", false
	}
	if len(w) < 7 {
		return entry{}, "", false
	}
	// An intensifying first part also takes short heads ("supernett").
	for _, ip := range deIntensPrefix {
		if len(w) >= len(ip)+3 && strings.HasPrefix(w, ip) {
			if e, ok := m.lex[w[len(ip):]]; ok && e.v != 0 {
				if e.v > 0 {
					e.v += bIncr * 2
				} else {
					e.v -= bIncr * 2
				}
				e.fact, e.verb = false, false
				return e, "", true
			}
		}
	}
	for p := 3; p <= len(w)-5; p++ {
		if w[p]&0xC0 == 0x80 {
			continue // not a rune start
		}
		head := w[p:]
		e, ok := m.lex[head]
		if !ok || e.v == 0 {
			continue
		}
		// A judging first part makes the word a judgement, not a report.
		pre := strings.TrimSuffix(w[:p], "s") // Fugen-s: "verspätungs"
		if pv, ok := deValPrefix[w[:p]]; ok && pv != 0 {
			e.v += pv * 0.5
			e.fact = false
		} else if pv, ok := m.lex[pre]; ok && pv.v*e.v > 0 {
			e.v += pv.v * 0.3
			e.fact = e.fact && pv.fact
		}
		for _, ip := range deIntensPrefix {
			if w[:p] == ip {
				if e.v > 0 {
					e.v += bIncr * 2
				} else {
					e.v -= bIncr * 2
				}
				e.fact = false
				break
			}
		}
		e.verb = false
		return e, "", true
	}
	for pre, pv := range deValPrefix {
		if pv != 0 && len(w) >= len(pre)+3 && strings.HasPrefix(w, pre) {
			return entry{v: pv}, "", true
		}
	}
	return entry{}, "", false
}
