package text

import "strings"

// englishModel is VADER (Hutto & Gilbert 2014) with its lexicon, boosters,
// negations and idioms, plus a few general additions (see below).
func englishModel() *model {
	return newEnglish(false)
}

// newEnglish builds the English model; plain leaves out our additions to
// VADER (extra words, rules), to measure what they change.
func newEnglish(plain bool) *model {
	lex, _ := loadVADER()
	for w, v := range enExtra {
		if _, ok := lex[w]; !ok && !plain {
			lex[w] = entry{v: v}
		}
	}
	m := &model{
		code:      "en",
		lex:       lex,
		boost:     map[string]float64{},
		negate:    map[string]bool{},
		contrast:  map[string]float64{"but": 1.5, "however": 1.5, "yet": 1.2},
		phrases:   map[string][]phrase{},
		concede:   setOf("although though while despite whilst"),
		concedeW:  1.5,
		neutralOK: 0.05,
	}
	for _, w := range strings.Fields(enIncr) {
		m.boost[w] = bIncr
	}
	for _, w := range strings.Fields(enDecr) {
		m.boost[w] = -bIncr
	}
	for _, w := range strings.Fields(enNegate) {
		m.negate[w] = true
	}
	if plain {
		m.plain, m.concede = true, nil
		m.contrast = map[string]float64{"but": 1.5}
		m.boost = map[string]float64{}
		for _, w := range strings.Fields(enIncr) {
			if w != "too" && w != "super" {
				m.boost[w] = bIncr
			}
		}
		for _, w := range strings.Fields(enDecr) {
			m.boost[w] = -bIncr
		}
		for _, w := range strings.Fields(enNegate) {
			if w == "lacks" || w == "lacking" {
				delete(m.negate, w)
			}
		}
	}
	for p, v := range enIdioms {
		if plain && !vaderIdioms[p] {
			continue
		}
		ws := strings.Fields(p)
		m.phrases[ws[0]] = append(m.phrases[ws[0]], phrase{words: ws, v: v})
	}
	for _, p := range []string{"kind of", "sort of", "just enough"} {
		ws := strings.Fields(p)
		m.phrases[ws[0]] = append(m.phrases[ws[0]], phrase{words: ws, boost: true})
	}
	return m
}

const enIncr = `absolutely amazingly awfully completely considerable considerably decidedly deeply effing enormous
enormously entirely especially exceptional exceptionally extreme extremely fabulously flipping flippin frackin fracking
fricking frickin frigging friggin fully fuckin fucking fuggin fugging greatly hella highly hugely incredible incredibly
intensely major majorly more most particularly purely quite really remarkably so substantially thoroughly total totally
tremendous tremendously uber unbelievably unusually utter utterly very too super`

const enDecr = `almost barely hardly kinda kindof kind-of less little marginal marginally occasional occasionally partly
scarce scarcely slight slightly somewhat sorta sortof sort-of`

const enNegate = `aint arent cannot cant couldnt darent didnt doesnt ain't aren't can't couldn't daren't didn't doesn't
dont hadnt hasnt havent isnt mightnt mustnt neither don't hadn't hasn't haven't isn't mightn't mustn't neednt needn't
never none nope nor not nothing nowhere oughtnt shant shouldnt uhuh wasnt werent oughtn't shan't shouldn't uh-uh
wasn't weren't without wont wouldnt won't wouldn't rarely seldom despite lacks lacking`

var enIdioms = map[string]float64{
	"cut the mustard": 2, "hand to mouth": -2, "back handed": -2, "blow smoke": -2, "blowing smoke": -2,
	"upper hand": 1, "break a leg": 2, "cooking with gas": 2, "in the black": 2, "in the red": -2,
	"on the ball": 2, "under the weather": -2, "the shit": 3, "the bomb": 3, "bad ass": 1.5, "yeah right": -2,
	"kiss of death": -1.5, "to die for": 3, "beating heart": 3.1, "broken heart": -2.9,
	// Customer service.
	"on time": 1.2, "never again": -2.5, "waste of money": -3, "waste of time": -3, "not worth": -1.8,
	"fell apart": -2, "stopped working": -2.2, "no longer works": -2, "does not work": -2, "doesn't work": -2,
	"money back": -0.5, "well done": 2, "as described": 1.2, "high quality": 1.8, "low quality": -1.8,
	"customer service": 0, "falls flat": -2, "fall flat": -2, "fell flat": -2,
	// Product reviews.
	"do not buy": -2.5, "don't buy": -2.5, "dont buy": -2.5, "five stars": 2.5, "5 stars": 2.5, "one star": -2,
	"1 star": -2, "zero stars": -2.5, "cheaply made": -2, "poorly made": -2, "well made": 2, "returned it": -1.2,
	"sent it back": -1.4, "works fine": 1.0, "works perfectly": 2.2, "never answered": -1.5, "never arrived": -2,
	"never received": -2, "not as described": -2, "nothing special": -1.0, "as advertised": 1.2,
	"don't waste your money": -2.5, "dont waste your money": -2.5, "do not waste your money": -2.5,
	"waste your money": -2.5, "returning it": -1.2, "gone downhill": -1.8, "went downhill": -1.8,
	"gave up": -1.0, "without warning": -1.0, "no refund": -1.5, "must have": 2.0, "must-have": 2.0,
	"above and beyond": 2.5, "works like a charm": 2.5, "game changer": 2.2, "worth every penny": 2.5,
	"worth it": 1.5, "exceeded my expectations": 2.5, "buy again": 1.8, "buy it again": 1.8, "order again": 1.8,
	"can't recommend this enough": 3, "can't recommend it enough": 3, "cannot recommend this enough": 3,
	"cannot recommend it enough": 3, "no issues": 1.2, "no problems": 1.2, "is a joke": -2, "was a joke": -2,
	"customer support": 0, "tech support": 0, "support team": 0,
}

var vaderIdioms = setOf("x")

func init() {
	for _, p := range []string{"cut the mustard", "hand to mouth", "back handed", "blow smoke", "blowing smoke",
		"upper hand", "break a leg", "cooking with gas", "in the black", "in the red", "on the ball", "under the weather",
		"the shit", "the bomb", "bad ass", "yeah right", "kiss of death", "to die for", "beating heart", "broken heart"} {
		vaderIdioms[p] = true
	}
}

// enExtra adds everyday customer words that VADER's lexicon lacks.
var enExtra = map[string]float64{
	"delayed": -1.2, "delay": -1, "delays": -1.2, "cancelled": -1.3, "canceled": -1.3, "broken": -1.8, "overcrowded": -1.8,
	"crowded": -0.8, "rude": -2, "unfriendly": -1.8, "dirty": -1.8, "filthy": -2.3, "overpriced": -1.8, "refund": -0.3,
	"punctual": 1.5, "reliable": 1.6, "unreliable": -1.8, "friendly": 1.8, "helpful": 1.8, "unhelpful": -1.8,
	"clean": 1.2, "recommend": 1.5, "recommended": 1.5, "faulty": -1.8, "defective": -2, "slow": -1, "fast": 0.8,
	"quick": 0.8, "late": -0.8, "missing": -1, "damaged": -1.8, "useless": -2.2, "mediocre": -1.5, "bland": -1.2,
	"tedious": -1.8, "dull": -1.7, "boring": -1.8, "pointless": -1.8, "predictable": -1, "clichéd": -1.5, "cliched": -1.5,
	"unfunny": -1.8, "forgettable": -1.5, "lifeless": -1.8, "flat": -0.6, "mess": -1.8, "tiresome": -1.8, "overlong": -1.2,
	"uneven": -0.8, "superb": 3.0, "gripping": 1.6, "engrossing": 1.6, "compelling": 1.5, "touching": 1.4, "moving": 0.8,
	"wonderfully": 2.4, "beautifully": 2.2, "thoughtful": 1.6, "witty": 1.6, "charming": 2.2, "heartfelt": 1.8,
	"refreshing": 1.6, "pretentious": -1.6, "contrived": -1.6, "shallow": -1.4, "clumsy": -1.4, "sloppy": -1.6,
	"lame": -1.7, "stale": -1.4, "muddled": -1.4, "incoherent": -1.6, "inept": -2, "bore": -1.5, "drags": -1.3,
	"formulaic": -1.4, "intelligent": 1.8, "smart": 1.4, "memorable": 1.6, "fresh": 1.2, "solid": 1.0, "wasted": -1.8,
	"unwatchable": -2.5, "overwrought": -1.4, "schmaltzy": -1.3, "hackneyed": -1.6, "derivative": -1.2, "insightful": 1.8,
	"poignant": 1.4, "subtle": 0.8, "masterful": 2.6, "masterpiece": 3.0, "enjoyable": 2.0, "entertaining": 1.8,
	"funny": 1.9, "hilarious": 2.5, "flimsy": -1.8, "junk": -2.2, "crap": -2.5, "sharp": 0.8, "disappointing": -2.2, "disappoints": -2.0, "misses": -0.8,
	// Product reviews: defects, food, apps, and British spellings.
	"soggy": -1.5, "spilled": -0.8, "typos": -1.0, "squeaks": -0.8, "squeaky": -0.8, "blisters": -1.2,
	"chipping": -1.0, "chipped": -1.2, "burnt": -1.3, "faded": -0.8, "disconnecting": -1.0, "disconnects": -1.0,
	"inedible": -2.5, "sagged": -1.2, "sagging": -1.2, "scratched": -1.0, "rattles": -0.8, "leaks": -1.2,
	"leaking": -1.2, "unusable": -2.2, "buggy": -1.6, "crashes": -1.4, "crashing": -1.4, "crashed": -1.2,
	"laggy": -1.4, "overpowering": -1.0, "lukewarm": -0.8, "tinny": -1.2, "scratchy": -1.0, "crooked": -1.0,
	"underwhelming": -1.6, "overheats": -1.6, "overheating": -1.6, "cheap": -0.6, "poorly": -1.5, "ripped": -1.2,
	"stained": -1.0, "wobbly": -1.2, "wobble": -0.8, "jams": -1.0, "jammed": -1.2, "fragile": -0.8,
	"mislabeled": -1.5, "rubbish": -2.2, "garbage": -2.2, "pricey": -0.8, "snapped": -1.2, "melted": -1.0,
	"peeling": -1.0, "frayed": -1.0, "unresponsive": -1.6, "froze": -1.0, "glitchy": -1.6, "glitches": -1.2,
	"tasty": 2.0, "crispy": 1.0, "spacious": 1.2, "favourite": 2.0, "favourites": 2.0, "flavourful": 1.8,
	"flavorful": 1.8, "sturdy": 1.3, "durable": 1.3, "comfy": 1.6, "cozy": 1.5, "cosy": 1.5, "intuitive": 1.4,
	"handy": 1.2,
}
