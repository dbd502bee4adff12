package web_test

import (
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/importer"
	"github.com/kunding/kunding/internal/scoring"
	"github.com/kunding/kunding/internal/source"
)

const cdnowSample = "../../../shared/data/cdnow/CDNOW_sample.txt"

// importSample imports the 1/10 CDNOW sample (2,357 customers) through the
// importer and lets the server's pipeline process it.
func (a *app) importSample() {
	a.t.Helper()
	if _, err := os.Stat(cdnowSample); err != nil {
		a.t.Fatalf("the CDNOW data is needed: %v", err)
	}
	src, err := source.Create(ctx, a.Srv.Store, "CDNOW", "import")
	if err != nil {
		a.t.Fatal(err)
	}
	m, err := importer.ParseMapping("user_id=1,date=3:20060102,quantity=4,revenue=5")
	if err != nil {
		a.t.Fatal(err)
	}
	sum, err := importer.ImportTransactions(ctx, importer.Options{Store: a.Srv.Store, Source: src, File: "CDNOW_sample.txt",
		Open: func() (io.ReadCloser, error) { return os.Open(cdnowSample) }},
		importer.Transactions{Mapping: m, Delimiter: "whitespace", NoHeader: true, Currency: "USD"})
	if err != nil || sum.Rejected != 0 {
		a.t.Fatalf("import: %+v %v", sum, err)
	}
	a.settle()
}

func TestModelsPage(t *testing.T) {
	stores(t, func(t *testing.T, db string) {
		a := startApp(t, db)
		if p := a.client("en").get("/models"); p.Code != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/login") {
			t.Fatalf("anonymous /models = %d %q", p.Code, p.Location)
		}
		c := a.client("en")
		c.login("agent@kunding.test")
		p := c.get("/models")
		if p.Code != 200 {
			t.Fatalf("/models = %d", p.Code)
		}
		mustContain(t, p, `href="/models" aria-current="page"`, `id="no-model"`, "kunding models fit", `id="validate-form"`)
		mustNotContain(t, p, "data-chart")

		// Without orders, a validation explains itself and keeps the form.
		p = c.get("/models?calibration_end=1997-09-30&model=bgnbd")
		if p.Code != http.StatusUnprocessableEntity {
			t.Fatalf("validation without orders = %d", p.Code)
		}
		mustContain(t, p, `id="validate-error"`, "no orders after the calibration end", `value="1997-09-30"`, `<option value="bgnbd" selected>`)
		mustNotContain(t, p, "data-chart")
		p = c.get("/models?calibration_end=30.09.1997&holdout_end=1998-06-30")
		mustContain(t, p, "is not a date", `value="30.09.1997"`, `value="1998-06-30"`)
		p = c.get("/models?calibration_end=1997-09-30&model=magic")
		mustContain(t, p, "Choose one of the listed models.")

		a.importSample()
		p = c.get("/models?calibration_end=1997-09-30&model=bgnbd")
		if p.Code != 200 {
			t.Fatalf("validation = %d:\n%s", p.Code, p.Body)
		}
		// The chart's data: week 78 (the last) has 4339 actual repeat
		// transactions and a BG/NBD forecast of 4160.6 (Fader, Hardie & Lee).
		mustContain(t, p, `<canvas id="tracking-chart" data-chart="`, "&#34;kind&#34;:&#34;tracking&#34;",
			",4339]", ",4160.6]", "&#34;calibrationIndex&#34;:38", "Forecast BG/NBD",
			`id="tracking-table"`, `id="holdout-table"`, `class="freq-table"`, "Best by holdout error per customer: BG/NBD.",
			"2,357 customers", "<td class=\"num\">4,339</td>", "<td class=\"num\">4,160.6</td>")
		// Calibration end after all orders.
		p = c.get("/models?calibration_end=1999-01-01")
		mustContain(t, p, "no orders after the calibration end")
		mustNotContain(t, p, "data-chart")

		// German.
		de := a.client("de")
		de.login("analyst@kunding.test")
		p = de.get("/models?calibration_end=1997-09-30&model=bgnbd")
		mustContain(t, p, `<html lang="de">`, "Prognosen", "Kumulierte Wiederholungskäufe", "Prognose BG/NBD", "2.357 Kunden",
			"&#34;locale&#34;:&#34;de&#34;", ",4160.6]", "Am besten nach Fehler je Kunde im Prüfzeitraum: BG/NBD.")
		p = de.get("/models?calibration_end=1999-01-01")
		mustContain(t, p, "Nach dem Kalibrierungsende gibt es keine Bestellungen")

		// The model in use, once fitted.
		if _, err := scoring.Fit(ctx, a.Srv.Store, scoring.Options{Model: "bgnbd",
			CalibrationEnd: time.Date(1998, 6, 30, 0, 0, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
		p = c.get("/models")
		mustContain(t, p, `id="model-in-use"`, "BG/NBD, fitted", "2,357 customers", "Standard error", "Spend model (Gamma-Gamma)",
			"Margin 30 %, discount rate 10 % a year, horizon 365 days.")
		mustNotContain(t, p, `id="no-model"`)
		p = de.get("/models")
		mustContain(t, p, "Verwendetes Modell", "Standardfehler", "Marge 30 %")
	})
}
