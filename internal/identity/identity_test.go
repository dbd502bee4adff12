package identity

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/kunding/kunding/internal/event"
	"github.com/kunding/kunding/internal/store"
)

func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{
		" Ann@Example.COM ": "ann@example.com",
		"a@b":               "a@b",
		"no-at-sign":        "",
		"@example.com":      "",
		"ann@":              "",
		"a b@example.com":   "",
		"":                  "",
	} {
		if got := NormalizeEmail(in); got != want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{
		"+49 171 1234567":     "+491711234567",
		"0049 (171) 123-4567": "+491711234567",
		"0171/1234567":        "01711234567",
		" +1-555-010-9999":    "+15550109999",
		"12345":               "",
		"call me":             "",
		"+49 +171 1234567":    "+491711234567",
	} {
		if got := NormalizePhone(in); got != want {
			t.Errorf("NormalizePhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func parse(t *testing.T, raw string) event.Event {
	t.Helper()
	e, err := event.Parse([]byte(raw), "", event.Envelope{ReceivedAt: time.Now()}, func() string { return "id" })
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestOf(t *testing.T) {
	cases := []struct {
		raw    string
		traits map[string]json.RawMessage
		want   string
	}{
		{`{"type":"track","event":"x","anonymousId":"a","userId":"u"}`, nil, "[{user u} {anon a}]"},
		{`{"type":"alias","userId":"new","previousId":"old"}`, nil, "[{user new} {user old} {anon old}]"},
		{`{"type":"identify","anonymousId":"a"}`, map[string]json.RawMessage{"email": json.RawMessage(`"X@Y.de"`), "phone": json.RawMessage(`"+49 30 123456"`)},
			"[{email x@y.de} {phone +4930123456} {anon a}]"},
		{`{"type":"identify","anonymousId":"a"}`, map[string]json.RawMessage{"email": json.RawMessage(`42`)}, "[{anon a}]"},
		{`{"type":"track","event":"x","userId":"u","context":{"externalIds":[{"id":"K-1","type":"crm_id","collection":"users","encoding":"none"},{"id":"M@X.org","type":"email"},{"id":"","type":"crm_id"}]}}`, nil,
			"[{user u} {email m@x.org} {ext:crm_id K-1}]"},
	}
	for _, tc := range cases {
		e := parse(t, tc.raw)
		if got := fmt.Sprint(Of(&e, tc.traits)); got != tc.want {
			t.Errorf("Of(%s) = %s, want %s", tc.raw, got, tc.want)
		}
	}
}

func id(kind, v string) store.Identifier { return store.Identifier{Kind: kind, Value: v} }

func TestDecide(t *testing.T) {
	cases := []struct {
		name      string
		raw       string
		found     map[store.Identifier]string
		users     map[string][]string
		target    string
		create    bool
		merge     string
		attach    string
		conflicts int
	}{
		{name: "new person", raw: `{"type":"page","anonymousId":"a"}`,
			target: CustomerID(id(Anon, "a")), create: true, merge: "[]", attach: "[{anon a}]"},
		{name: "identify links anonymous", raw: `{"type":"identify","anonymousId":"a","userId":"u"}`,
			found: map[store.Identifier]string{id(Anon, "a"): "c1"}, target: "c1", merge: "[]", attach: "[{user u}]"},
		{name: "identify merges anonymous into known user", raw: `{"type":"identify","anonymousId":"a","userId":"u"}`,
			found: map[store.Identifier]string{id(Anon, "a"): "c1", id(User, "u"): "c2"}, users: map[string][]string{"c2": {"u"}},
			target: "c2", merge: "[c1]", attach: "[]"},
		{name: "second user id on a device is a conflict", raw: `{"type":"identify","anonymousId":"a","userId":"u2"}`,
			found: map[store.Identifier]string{id(Anon, "a"): "c1"}, users: map[string][]string{"c1": {"u1"}},
			target: CustomerID(id(User, "u2")), create: true, merge: "[]", attach: "[{user u2}]", conflicts: 1},
		{name: "two known users are not merged", raw: `{"type":"identify","anonymousId":"a","userId":"u2"}`,
			found: map[store.Identifier]string{id(Anon, "a"): "c1", id(User, "u2"): "c2"}, users: map[string][]string{"c1": {"u1"}, "c2": {"u2"}},
			target: "c2", merge: "[]", attach: "[]", conflicts: 1},
		{name: "alias merges two users", raw: `{"type":"alias","userId":"new","previousId":"old"}`,
			found: map[store.Identifier]string{id(User, "new"): "c2", id(User, "old"): "c1"}, users: map[string][]string{"c1": {"old"}, "c2": {"new"}},
			target: "c2", merge: "[c1]", attach: "[{anon old}]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := parse(t, tc.raw)
			ids := Of(&e, nil)
			if tc.found == nil {
				tc.found = map[store.Identifier]string{}
			}
			d := Decide(&e, ids, tc.found, tc.users)
			if d.Target != tc.target || d.Create != tc.create || fmt.Sprint(orEmpty(d.Merge)) != tc.merge ||
				fmt.Sprint(orEmptyIDs(d.Attach)) != tc.attach || len(d.Conflicts) != tc.conflicts {
				t.Fatalf("Decide = %+v", d)
			}
			if len(d.Merge) > 0 && d.Reason == "" {
				t.Fatal("merge without reason")
			}
		})
	}
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func orEmptyIDs(s []store.Identifier) []store.Identifier {
	if s == nil {
		return []store.Identifier{}
	}
	return s
}
