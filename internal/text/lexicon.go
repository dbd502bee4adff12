package text

import (
	"bufio"
	"embed"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

//go:embed data/*.txt data/*.tsv
var dataFS embed.FS

// entry is one lexicon word: its valence on VADER's -4..+4 scale, and
// whether it is a (German) verb form, which "nicht" may follow.
type entry struct {
	v    float64
	verb bool
	fact bool // a factual problem word (German "Verspätung"): see model.factCap
}

// shared holds the emoticon and emoji valences used for every language.
type shared struct {
	emoticons map[string]float64 // case-sensitive
	emoji     map[string]float64 // one emoji rune as a string
}

var (
	loadOnce sync.Once
	emo      *shared
	english  *model
	german   *model
)

func load() {
	loadOnce.Do(func() {
		english = englishModel()
		emo = loadShared(english.lex)
		english.shared = emo
		german = germanModel()
		german.shared = emo
	})
}

func readData(name string) string {
	b, err := dataFS.ReadFile("data/" + name)
	if err != nil {
		panic("text: embedded " + name + ": " + err.Error())
	}
	return string(b)
}

// loadVADER reads VADER's lexicon: token TAB mean TAB sd TAB ratings.
// Tokens with letters go to words (lower case); the others are emoticons.
func loadVADER() (words map[string]entry, emoticons map[string]float64) {
	words = make(map[string]entry, 7600)
	emoticons = make(map[string]float64, 600)
	sc := bufio.NewScanner(strings.NewReader(readData("en_vader_lexicon.txt")))
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), "\t", 3)
		if len(f) < 2 {
			continue
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			continue
		}
		if isEmoticonChunk(f[0]) {
			emoticons[f[0]] = v
			continue
		}
		words[strings.ToLower(f[0])] = entry{v: v}
	}
	return words, emoticons
}

func loadShared(enLex map[string]entry) *shared {
	_, emoticons := loadVADER()
	// AFINN's emoticon list adds a few common ones; VADER wins where both
	// have a value. AFINN's -5..+5 is mapped onto -4..+4.
	sc := bufio.NewScanner(strings.NewReader(readData("afinn_emoticon8.tsv")))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 2 {
			continue
		}
		v, err := strconv.Atoi(f[1])
		if err != nil {
			continue
		}
		if _, ok := emoticons[f[0]]; !ok && isEmoticonChunk(f[0]) {
			emoticons[f[0]] = float64(v) * 0.8
		}
	}
	// VADER scores an emoji by the words of its English description; we do
	// it once here: the sum of the description's lexicon words, bounded.
	emoji := make(map[string]float64, 1000)
	sc = bufio.NewScanner(strings.NewReader(readData("vader_emoji_utf8_lexicon.txt")))
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), "\t", 2)
		if len(f) != 2 {
			continue
		}
		r, n := utf8.DecodeRuneInString(f[0])
		if r == utf8.RuneError || !isEmoji(r) {
			continue
		}
		// Only single emojis (optionally with a variation selector): the
		// tokenizer looks at one rune; sequences score by their first rune.
		rest := f[0][n:]
		if rest != "" && rest != "\uFE0F" {
			continue
		}
		sum := 0.0
		for _, w := range strings.Fields(strings.ToLower(f[1])) {
			w = strings.Trim(w, ",.:;!?\"'()")
			if e, ok := enLex[w]; ok {
				sum += e.v
			}
		}
		if sum > 3 {
			sum = 3
		} else if sum < -3 {
			sum = -3
		}
		if sum != 0 {
			emoji[string(r)] = sum
		}
	}
	for k, v := range emojiOverrides {
		emoji[k] = v
	}
	return &shared{emoticons: emoticons, emoji: emoji}
}

// emojiOverrides fix emojis whose description scores wrongly or not at
// all but that customers use with a clear meaning.
var emojiOverrides = map[string]float64{
	"👍": 1.8, "👎": -1.8, "😡": -2.5, "🤬": -3, "😠": -2.2, "🙄": -1.5, "👋": 0, "😤": -1.8, "🤮": -2.5, "🤢": -2,
	"💩": -2, "😒": -1.5, "😑": -1, "😩": -2, "😫": -2, "😭": -2, "😢": -1.8, "🥵": -1.5, "🥶": -1.2, "🐌": -1.2,
	"🤦": -1.8, "🤷": -0.5, "😱": -1.5, "💔": -2.2, "❤": 2.5, "💕": 2.5, "😍": 2.8, "🥰": 2.8, "👌": 1.5, "💪": 1.2,
	"🙏": 1.0, "👏": 1.8, "🎉": 2, "🥳": 2.2, "😊": 2.2, "🙂": 1.4, "😀": 2, "😃": 2, "😄": 2.2, "😁": 2, "😂": 0.8,
	"🤣": 1.0, "😅": 0.5, "😉": 1.2, "🙃": -0.8, "😬": -0.8, "😕": -1.2, "🙁": -1.5, "☹": -1.8, "😞": -1.8, "😔": -1.5,
	"💯": 1.5, "🔥": 0.8, "⭐": 1.2, "✨": 1, "🚆": 0, "🚄": 0, "🚉": 0, "⏰": 0, "⏳": -0.3, "🤡": -1.8, "🖕": -3,
	"😴": -0.8, "🥱": -1,
}
