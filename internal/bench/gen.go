// Package bench holds the end-to-end benchmarks behind `kunding bench`:
// ingest (Segment batches over loopback HTTP against a real server) and
// lookup (a customer 360 read on a store with many customers and events).
// It prints figures; docs/performance.md records them.
package bench

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// Generator makes realistic Segment events as analytics.js and the server
// libraries send them: identify, page and track (the e-commerce spec events
// Product Viewed, Product Added, Checkout Started, Order Completed, Products
// Searched) with a full context (library, page, userAgent, ip, locale, and
// sometimes a campaign). Events are 600 to 1000 bytes, as real ones are.
//
// People overlap on purpose: a person keeps her anonymous ids (one or two
// devices) and, once known, her user id, so events of one customer arrive in
// many batches from many clients, as they do in production.
type Generator struct {
	rng *rand.Rand
	// Persons is the size of the population events are drawn from.
	Persons int
	// KnownPercent of the persons have a user id (they logged in once).
	KnownPercent int
	// AlwaysKnown makes every event carry the person's user id, so that
	// the number of customers is exactly the number of persons touched
	// (the lookup benchmark needs a known customer count).
	AlwaysKnown bool
	run         string // makes messageIds unique across runs
	n           uint64
}

// NewGenerator returns a generator over persons people. seed fixes the
// events; run is mixed into every messageId so that two runs into the same
// data directory are not deduplicated against each other.
func NewGenerator(seed uint64, persons int, run string) *Generator {
	if persons < 1 {
		persons = 1
	}
	return &Generator{rng: rand.New(rand.NewPCG(seed, 0x6b756e64696e67)), Persons: persons, KnownPercent: 60, run: run}
}

// Person is one member of the population.
type Person struct {
	Index int
	Known bool
}

// PersonAt returns person i.
func (g *Generator) PersonAt(i int) Person {
	return Person{Index: i, Known: g.AlwaysKnown || int(mix(uint64(i), 1)%100) < g.KnownPercent}
}

// UserID is the user id of person i (meaningful only for known persons).
func UserID(i int) string { return "u" + strconv.Itoa(10000000+i) }

// Random returns a uniformly chosen person.
func (g *Generator) Random() Person { return g.PersonAt(g.rng.IntN(g.Persons)) }

// mix is splitmix64: stable per-person values (ids, names, ip) without
// keeping a table of millions of people in memory.
func mix(x, salt uint64) uint64 {
	x += salt*0x9e3779b97f4a7c15 + 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func appendUUID(b []byte, hi, lo uint64) []byte {
	const hexd = "0123456789abcdef"
	var u [16]byte
	for i := 0; i < 8; i++ {
		u[i] = byte(hi >> (56 - 8*i))
		u[8+i] = byte(lo >> (56 - 8*i))
	}
	u[6] = u[6]&0x0f | 0x40 // version 4, as analytics.js makes them
	u[8] = u[8]&0x3f | 0x80
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexd[c>>4], hexd[c&15])
	}
	return b
}

// AnonymousID is the anonymous id of person i on device d.
func AnonymousID(i, d int) string {
	return string(appendUUID(nil, mix(uint64(i), uint64(10+d)), mix(uint64(i), uint64(20+d))))
}

var (
	firstNames = []string{"Anna", "Lukas", "Marie", "Jonas", "Sophie", "Leon", "Emma", "Finn", "Mia", "Paul", "Hannah", "Jürgen", "Zoë", "Mehmet", "Olga", "Noah", "Lea", "Elias", "Clara", "Ben"}
	lastNames  = []string{"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Yılmaz", "Kowalski", "Braun", "Zimmermann"}
	cities     = []string{"Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Stuttgart", "Düsseldorf", "Leipzig", "Wien", "Zürich"}
	categories = []string{"Schuhe", "Jacken", "Hosen", "Kleider", "Accessoires", "Sport", "Taschen", "Uhren"}
	adjectives = []string{"Classic", "Urban", "Alpine", "Soft", "Trail", "Summer", "Winter", "Eco"}
	nouns      = []string{"Sneaker", "Parka", "Chino", "Sommerkleid", "Rucksack", "Laufschuh", "Wollmantel", "Armbanduhr"}
	userAgents = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
		"Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
	}
	referrers = []string{"https://www.google.com/", "https://www.bing.com/", "https://www.instagram.com/", "", "", "https://newsletter.example.de/november"}
	campaigns = []string{"black-week", "newsletter-kw47", "retargeting", "brand"}
)

const shop = "https://shop.example.de"

type product struct {
	id, sku, name, category string
	price                   string // a JSON number with two decimals
}

func productAt(i int) product {
	h := mix(uint64(i), 99)
	cents := 999 + int(h%30000)
	return product{
		id:       "p-" + strconv.Itoa(100000+i),
		sku:      "SKU-" + strconv.Itoa(50000+i),
		name:     adjectives[h%uint64(len(adjectives))] + " " + nouns[(h>>8)%uint64(len(nouns))],
		category: categories[(h>>16)%uint64(len(categories))],
		price:    strconv.Itoa(cents/100) + "." + fmt.Sprintf("%02d", cents%100),
	}
}

func appendStr(b []byte, s string) []byte { return strconv.AppendQuote(b, s) }

func appendKV(b []byte, k, v string) []byte {
	b = appendStr(b, k)
	b = append(b, ':')
	return appendStr(b, v)
}

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	return append(b, '"')
}

// page is where in the shop an event happens.
type page struct{ path, title, search string }

// Event appends one event of person p at time t to b, as a JSON object.
// The mix: about 45% page views, 45% track (mostly Product Viewed; about 4%
// of all events are Order Completed) and, for known persons, 8% identify.
func (g *Generator) Event(b []byte, p Person, t time.Time) []byte {
	g.n++
	r := g.rng
	device := 0
	if mix(uint64(p.Index), 3)%10 < 3 { // 30% use two devices
		device = r.IntN(2)
	}
	loggedIn := p.Known && (g.AlwaysKnown || r.IntN(4) != 0)
	prod := productAt(int(mix(uint64(p.Index), 4)%400) + r.IntN(100))
	var typ, name string
	var pg page
	x := r.IntN(100)
	switch {
	case p.Known && x < 8:
		typ = "identify"
		loggedIn = true
		pg = page{"/konto", "Mein Konto – Example Shop", ""}
	case x < 53:
		typ, name = "page", "Produkt"
		pg = page{"/p/" + prod.sku, prod.name + " – Example Shop", ""}
		if x%4 == 0 {
			name = prod.category
			pg = page{"/kategorie/" + prod.category, prod.category + " – Example Shop", "?sort=beliebt"}
		}
	case x < 78:
		typ, name = "track", "Product Viewed"
		pg = page{"/p/" + prod.sku, prod.name + " – Example Shop", ""}
	case x < 86:
		typ, name = "track", "Product Added"
		pg = page{"/p/" + prod.sku, prod.name + " – Example Shop", ""}
	case x < 89:
		typ, name = "track", "Products Searched"
		pg = page{"/suche", "Suche – Example Shop", "?q=" + prod.category}
	case x < 92:
		typ, name = "track", "Checkout Started"
		pg = page{"/kasse", "Kasse – Example Shop", ""}
	default:
		typ, name = "track", "Order Completed"
		pg = page{"/kasse/danke", "Danke für Ihre Bestellung – Example Shop", ""}
	}

	b = append(b, `{"type":`...)
	b = appendStr(b, typ)
	switch typ {
	case "track":
		b = append(b, `,"event":`...)
		b = appendStr(b, name)
	case "page":
		b = append(b, `,"name":`...)
		b = appendStr(b, name)
	}
	b = append(b, `,"messageId":"ajs-next-`...)
	b = strconv.AppendUint(b, mix(g.n, 7)>>8, 36)
	b = append(b, '-')
	b = append(b, g.run...)
	b = append(b, '-')
	b = strconv.AppendUint(b, g.n, 36)
	b = append(b, '"')
	b = append(b, `,"anonymousId":`...)
	b = appendStr(b, AnonymousID(p.Index, device))
	if loggedIn {
		b = append(b, `,"userId":`...)
		b = appendStr(b, UserID(p.Index))
	}
	b = append(b, `,"timestamp":`...)
	b = appendTime(b, t)

	switch typ {
	case "identify":
		h := mix(uint64(p.Index), 5)
		first, last := firstNames[h%uint64(len(firstNames))], lastNames[(h>>8)%uint64(len(lastNames))]
		b = append(b, `,"traits":{`...)
		b = appendKV(b, "firstName", first)
		b = append(b, ',')
		b = appendKV(b, "lastName", last)
		b = append(b, ',')
		b = appendKV(b, "email", fmt.Sprintf("%s.%s.%d@example.de", asciiLower(first), asciiLower(last), p.Index))
		b = append(b, ',')
		b = appendKV(b, "phone", fmt.Sprintf("+49 151 %08d", p.Index)) // unique, like the e-mail
		b = append(b, `,"address":{`...)
		b = appendKV(b, "city", cities[(h>>16)%uint64(len(cities))])
		b = append(b, ',')
		b = appendKV(b, "country", "DE")
		b = append(b, `},"newsletter":`...)
		b = strconv.AppendBool(b, h%3 == 0)
		b = append(b, `,"createdAt":`...)
		b = appendTime(b, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(h%(5*365*24))*time.Hour))
		b = append(b, '}')
	case "page":
		b = append(b, `,"properties":{`...)
		b = appendKV(b, "path", pg.path)
		b = append(b, ',')
		b = appendKV(b, "referrer", referrers[r.IntN(len(referrers))])
		b = append(b, ',')
		b = appendKV(b, "search", pg.search)
		b = append(b, ',')
		b = appendKV(b, "title", pg.title)
		b = append(b, ',')
		b = appendKV(b, "url", shop+pg.path+pg.search)
		b = append(b, '}')
	case "track":
		b = append(b, `,"properties":{`...)
		switch name {
		case "Order Completed":
			n := 1 + r.IntN(3)
			b = appendKV(b, "order_id", "O-"+strconv.Itoa(int(g.n))+"-"+g.run)
			b = append(b, `,"affiliation":"Example Shop","shipping":4.95,"tax":`...)
			var cents int
			prods := make([]product, n)
			for i := range prods {
				prods[i] = productAt(r.IntN(500))
				c, _ := strconv.ParseFloat(prods[i].price, 64)
				cents += int(c * 100)
			}
			b = strconv.AppendFloat(b, float64(cents)*0.19/1.19/100, 'f', 2, 64)
			b = append(b, `,"revenue":`...)
			b = strconv.AppendFloat(b, float64(cents)/100, 'f', 2, 64)
			b = append(b, `,"currency":"EUR","products":[`...)
			for i, pr := range prods {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, '{')
				b = appendKV(b, "product_id", pr.id)
				b = append(b, ',')
				b = appendKV(b, "sku", pr.sku)
				b = append(b, ',')
				b = appendKV(b, "name", pr.name)
				b = append(b, `,"price":`...)
				b = append(b, pr.price...)
				b = append(b, `,"quantity":1}`...)
			}
			b = append(b, ']')
		case "Products Searched":
			b = appendKV(b, "query", prod.category)
		case "Checkout Started":
			b = appendKV(b, "order_id", "O-"+strconv.Itoa(int(g.n))+"-"+g.run)
			b = append(b, `,"value":`...)
			b = append(b, prod.price...)
			b = append(b, `,"currency":"EUR"`...)
		default:
			b = appendKV(b, "product_id", prod.id)
			b = append(b, ',')
			b = appendKV(b, "sku", prod.sku)
			b = append(b, ',')
			b = appendKV(b, "category", prod.category)
			b = append(b, ',')
			b = appendKV(b, "name", prod.name)
			b = append(b, `,"brand":"Example","price":`...)
			b = append(b, prod.price...)
			b = append(b, `,"currency":"EUR","quantity":1,"url":`...)
			b = appendStr(b, shop+"/p/"+prod.sku)
		}
		b = append(b, '}')
	}

	h := mix(uint64(p.Index), 6+uint64(device))
	b = append(b, `,"context":{"library":{"name":"analytics.js","version":"npm:next-1.76.0"},"locale":"de-DE","page":{`...)
	b = appendKV(b, "path", pg.path)
	b = append(b, ',')
	b = appendKV(b, "referrer", referrers[h%uint64(len(referrers))])
	b = append(b, ',')
	b = appendKV(b, "search", pg.search)
	b = append(b, ',')
	b = appendKV(b, "title", pg.title)
	b = append(b, ',')
	b = appendKV(b, "url", shop+pg.path+pg.search)
	b = append(b, `},"userAgent":`...)
	b = appendStr(b, userAgents[h%uint64(len(userAgents))])
	b = append(b, `,"ip":"`...)
	b = strconv.AppendUint(b, 80+h>>8%140, 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, h>>16%256, 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, h>>24%256, 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, 1+h>>32%254, 10)
	b = append(b, `","timezone":"Europe/Berlin","screen":{"width":`...)
	if ua := h % uint64(len(userAgents)); ua == 2 || ua == 3 { // the phones
		b = append(b, `390,"height":844,"density":3}`...)
	} else {
		b = append(b, `1920,"height":1080,"density":1}`...)
	}
	if h%5 == 0 {
		b = append(b, `,"campaign":{"source":"newsletter","medium":"email",`...)
		b = appendKV(b, "name", campaigns[(h>>40)%uint64(len(campaigns))])
		b = append(b, '}')
	}
	b = append(b, `},"integrations":{}}`...)
	return b
}

func asciiLower(s string) string {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			out = append(out, byte(r+'a'-'A'))
		case r < 128:
			out = append(out, byte(r))
		case r == 'ü':
			out = append(out, "ue"...)
		case r == 'ö':
			out = append(out, "oe"...)
		case r == 'ë':
			out = append(out, 'e')
		case r == 'ı':
			out = append(out, 'i')
		}
	}
	return string(out)
}

// Batch appends a /v1/batch body of n events of random persons, sent at
// sentAt, each event stamped up to five seconds earlier (the SDK's queue).
func (g *Generator) Batch(b []byte, n int, sentAt time.Time) []byte {
	b = append(b, `{"batch":[`...)
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = g.Event(b, g.Random(), sentAt.Add(-time.Duration(g.rng.IntN(5000))*time.Millisecond))
	}
	b = append(b, `],"sentAt":`...)
	b = appendTime(b, sentAt)
	return append(b, '}')
}
