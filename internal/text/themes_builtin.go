package text

import "strings"

// builtinThemes: the topics a service business (retail, e-commerce,
// transport) asks about. Terms are matched with inflection and compound
// awareness, so lemmas suffice.
var builtinThemes = []struct {
	id, de, en string
	termsDE    string // "|"-separated
	termsEN    string
}{
	{"delivery", "Lieferung", "Delivery",
		"lieferung|liefern|geliefert|lieferzeit|versand|versandt|verschickt|paket|päckchen|sendung|zustellung|zugestellt|zusteller|paketbote|bote|dhl|hermes|dpd|ups|sendungsverfolgung|retoure|rücksendung|lieferdienst",
		"delivery|delivered|deliver|shipping|shipped|shipment|parcel|package|courier|tracking|dispatch|dispatched|arrived|return label"},
	{"price", "Preis", "Price",
		"preis|teuer|billig|günstig|kosten|kostet|preiswert|preis-leistung|preisleistung|überteuert|wucher|abzocke|sparpreis|rabatt|angebot|ticketpreis|fahrpreis|gebühr|aufpreis|geld",
		"price|prices|pricing|expensive|cheap|cost|costs|overpriced|value for money|discount|fee|fees|fare|fares|affordable|rip off|ripoff"},
	{"product_quality", "Produktqualität", "Product quality",
		"qualität|produkt|artikel|verarbeitung|material|defekt|kaputt|mangelhaft|beschädigt|funktioniert|hält|haltbar|billigware|ware",
		"quality|product|item|material|defective|broken|faulty|damaged|works|durable|build quality|stopped working|fell apart"},
	{"staff", "Personal", "Staff",
		"personal|mitarbeiter|mitarbeiterin|schaffner|schaffnerin|zugbegleiter|zugbegleiterin|zugchef|lokführer|lokführerin|verkäufer|verkäuferin|servicekraft|freundlich|unfreundlich|höflich|unhöflich|hilfsbereit|kompetent|inkompetent|pampig|patzig|fahrer|busfahrer|zub|kundenbetreuer",
		"staff|employee|employees|conductor|driver|clerk|cashier|friendly|unfriendly|rude|polite|helpful|unhelpful|attendant|team|crew|agent"},
	{"waiting_time", "Wartezeit", "Waiting time",
		"warten|wartezeit|gewartet|wartet|warteschleife|warteschlange|schlange|ewig|stundenlang|dauert|dauerte|bearbeitungszeit",
		"wait|waiting|waited|queue|line|hold|on hold|forever|took ages|hours"},
	{"billing", "Rechnung", "Billing",
		"rechnung|abbuchung|abgebucht|lastschrift|zahlung|bezahlung|bezahlen|bezahlt|kreditkarte|paypal|mahnung|doppelt abgebucht|gutschrift|konto|abrechnung",
		"bill|billing|invoice|charged|charge|payment|paid|credit card|paypal|overcharged|double charged|direct debit"},
	{"app_website", "App/Website", "App/website",
		"app|website|webseite|homepage|online|onlineshop|shop|navigator|bahn.de|login|einloggen|anmelden|passwort|account|konto|absturz|stürzt|abgestürzt|update|seite|portal|handyticket|e-ticket",
		"app|website|site|online|login|log in|password|account|crash|crashes|crashed|update|checkout|web page|mobile ticket|e-ticket"},
	{"punctuality", "Pünktlichkeit", "Punctuality",
		"pünktlich|pünktlichkeit|unpünktlich|verspätung|verspätet|verspätungen|spät|zu spät|später|verzögerung|verzögert|ausfall|fällt aus|ausgefallen|gestrichen",
		"punctual|punctuality|on time|late|delay|delayed|delays|cancelled|canceled|cancellation|behind schedule"},
	{"cleanliness", "Sauberkeit", "Cleanliness",
		"sauber|sauberkeit|dreckig|schmutzig|verdreckt|ekelhaft|eklig|toilette|klo|wc|müll|gestank|stinkt|riecht|geputzt|hygiene",
		"clean|cleanliness|dirty|filthy|toilet|toilets|restroom|bathroom|smell|smells|stinks|trash|rubbish|hygiene"},
	{"comfort", "Komfort", "Comfort",
		"komfort|bequem|unbequem|sitz|sitzplatz|platz|sitze|klimaanlage|klima|heizung|hitze|kalt|warm|heiß|eng|überfüllt|voll|stehplatz|wlan|wifi|internet|steckdose|lärm|laut|ruhig|ruhebereich|beinfreiheit|bordbistro|bistro|speisewagen",
		"comfort|comfortable|uncomfortable|seat|seats|seating|air conditioning|heating|hot|cold|crowded|overcrowded|packed|wifi|wi-fi|power socket|noise|noisy|quiet|legroom|space"},
	{"connection", "Anschluss", "Connection",
		"anschluss|anschlusszug|umsteigen|umstieg|umsteigezeit|verbindung|verpasst|anschlüsse|ersatzverkehr|schienenersatzverkehr|sev|ersatzbus|umleitung|gleiswechsel|strecke|streckensperrung|gesperrt",
		"connection|connecting|transfer|change trains|missed|rail replacement|replacement bus|diversion|route"},
	{"information", "Information", "Information",
		"info|infos|information|informationen|durchsage|durchsagen|ansage|anzeige|anzeigetafel|auskunft|kommunikation|informiert|bescheid|fahrplan|reiseauskunft|push|benachrichtigung|gleis",
		"information|info|announcement|announcements|display|communication|informed|notification|timetable|schedule|platform"},
	{"refund", "Erstattung", "Refund",
		"erstattung|rückerstattung|erstattet|fahrgastrechte|entschädigung|geld zurück|gutschein|rückzahlung|stornierung|storniert|storno|umtausch|reklamation|widerruf",
		"refund|refunded|reimbursement|compensation|money back|voucher|cancel order|return|returns|exchange|chargeback"},
	{"customer_service", "Kundenservice", "Customer service",
		"kundenservice|service|hotline|kundendienst|support|servicecenter|reisezentrum|beschwerde|anfrage|antwort|rückmeldung|e-mail|mail|chat|callcenter|ticket|kontaktformular",
		"customer service|service|support|hotline|helpdesk|complaint|response|reply|email|e-mail|chat|call center|callcenter"},
	{"booking", "Buchung", "Booking",
		"buchung|buchen|gebucht|reservierung|reservieren|reserviert|fahrkarte|ticket|bahncard|abo|deutschlandticket|sitzplatzreservierung|bestellung|bestellt|bestellen|fahrschein",
		"booking|book|booked|reservation|reserved|ticket|tickets|order|ordered|subscription|pass"},
	{"safety", "Sicherheit", "Safety",
		"sicherheit|sicher|unsicher|gefährlich|polizei|security|belästigt|belästigung|angst|bedroht|unfall|notfall|notarzt",
		"safety|safe|unsafe|dangerous|police|security|harassed|harassment|scared|threatened|accident|emergency"},
	{"accessibility", "Barrierefreiheit", "Accessibility",
		"barrierefrei|barrierefreiheit|aufzug|fahrstuhl|rollstuhl|rolltreppe|kinderwagen|rampe|mobilitätsservice|einstieg|stufe",
		"accessibility|accessible|elevator|lift|wheelchair|escalator|stroller|ramp|step-free"},
}

// BuiltinThemes returns a copy of the built-in themes.
func BuiltinThemes() []Theme {
	out := make([]Theme, 0, len(builtinThemes))
	for _, b := range builtinThemes {
		out = append(out, Theme{
			ID:    b.id,
			Names: map[string]string{"de": b.de, "en": b.en},
			Terms: map[string][]string{"de": strings.Split(b.termsDE, "|"), "en": strings.Split(b.termsEN, "|")},
		})
	}
	return out
}
