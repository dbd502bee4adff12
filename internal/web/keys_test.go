package web

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kunding/kunding/internal/auth"
	"github.com/kunding/kunding/internal/predict"
	"github.com/kunding/kunding/internal/source"
	"github.com/kunding/kunding/internal/web/i18n"
)

// Every message key the templates and handlers use exists in both
// languages (i18n's own test proves the two catalogues have the same keys).
func TestMessageKeysExist(t *testing.T) {
	literal := []*regexp.Regexp{
		regexp.MustCompile(`\.T "([a-zA-Z0-9_.\-]+)"`),             // templates: {{.L.T "key"}}
		regexp.MustCompile(`\bT\("([a-zA-Z0-9_.\-]+)"`),            // Go: l.T("key")
		regexp.MustCompile(`h\.page\(r, "([a-zA-Z0-9_.\-]+)"`),     // page titles
		regexp.MustCompile(`errorPage\([^)]*"([a-zA-Z0-9_.\-]+)"`), // error messages
	}
	files, _ := filepath.Glob("templates/*.html")
	gofiles, _ := filepath.Glob("*.go")
	files = append(files, gofiles...)
	used := map[string]string{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, re := range literal {
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				if !strings.HasSuffix(m[1], ".") { // a prefix completed at run time: below
					used[m[1]] = f
				}
			}
		}
	}
	if len(used) < 50 {
		t.Fatalf("found only %d keys in use: the patterns of this test no longer match the code", len(used))
	}
	// Keys built at run time, from every value they can take.
	for _, k := range source.Kinds {
		used["kind."+k] = "source.Kinds"
	}
	for _, r := range auth.Roles {
		used["role."+string(r)] = "auth.Roles"
	}
	for _, k := range []string{TouchMailing, TouchMessage, TouchCampaign} {
		used["touch."+k] = "touch kinds"
	}
	for _, typ := range []string{"page", "screen", "identify", "alias", "group"} {
		used["type."+typ] = "event types"
	}
	for _, k := range []string{"user", "anon", "email", "phone", "ext"} {
		used["idkind."+k] = "identifier kinds"
	}
	for _, n := range append([]string{"auto"}, predict.Models...) {
		used["models.name."+n] = "predict.Models"
	}
	for _, f := range []string{"email", "name", "role", "department", "password"} {
		used["users.err."+f] = "userError"
	}
	for m := 1; m <= 12; m++ {
		used["month."+strconv.Itoa(m)] = "months"
	}
	for key, where := range used {
		for _, lang := range i18n.Languages {
			if !i18n.Has(lang, key) {
				t.Errorf("%s uses %q, missing in %s.json", where, key, lang)
			}
		}
	}
}
