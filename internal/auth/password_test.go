package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestPasswordHashing(t *testing.T) {
	const pw = "correct horse battery staple"
	h, err := HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not an OWASP-parameter argon2id PHC string", h)
	}
	h2, _ := HashPassword(pw)
	if h == h2 {
		t.Fatal("two hashes of one password are equal: no random salt")
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{{pw, true}, {pw + " ", false}, {"", false}, {strings.ToUpper(pw), false}} {
		ok, rehash, err := VerifyPassword(h, tc.pw)
		if err != nil || ok != tc.want || rehash {
			t.Errorf("verify %q = %v, %v, %v; want %v", tc.pw, ok, rehash, err, tc.want)
		}
	}
	// A hash made with weaker parameters still verifies and asks to be renewed.
	weak, err := hashWith(pw, Argon2Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	if err != nil {
		t.Fatal(err)
	}
	if ok, rehash, err := VerifyPassword(weak, pw); !ok || !rehash || err != nil {
		t.Fatalf("weak hash: ok=%v rehash=%v err=%v; want true, true, nil", ok, rehash, err)
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=19456,t=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=19456,t=2,p=1$!!$aGFzaGhhc2hoYXNoaGFzaA"} {
		if _, _, err := VerifyPassword(bad, pw); !errors.Is(err, ErrBadHash) {
			t.Errorf("verify against %q: err %v, want ErrBadHash", bad, err)
		}
	}
}

func TestValidatePassword(t *testing.T) {
	for _, tc := range []struct {
		pw string
		ok bool
	}{
		{"short", false}, {"elevenchars", false}, {"twelve chars", true}, {"ääääääääääää", true},
		{strings.Repeat("x", 1024), true}, {strings.Repeat("x", 1025), false}, {"\xff\xfe invalid utf8", false},
	} {
		err := ValidatePassword(tc.pw)
		if (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidatePassword(%.20q) = %v, want ok=%v", tc.pw, err, tc.ok)
		}
	}
}

// FuzzParsePHC: stored hashes are read back from the database; a damaged or
// forged one must be refused, never panic, never cost more than the bounds.
func FuzzParsePHC(f *testing.F) {
	h, _ := hashWith("seed password", Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	for _, s := range []string{h, "", "$", "$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=,t=,p=$$", "$argon2id$v=19$p=1,m=64,t=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePHC(s)
		if err != nil {
			return
		}
		if p.params.Memory > maxMemoryKiB || p.params.Time > maxTime || p.params.Threads == 0 || len(p.salt) < 8 || len(p.key) < 16 {
			t.Fatalf("accepted out-of-bounds hash %q: %+v", s, p.params)
		}
	})
}

func FuzzParseScopes(f *testing.F) {
	for _, s := range []string{"read", "read,write,admin", " Admin , read ", ",,", "root", "read,read"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc, err := ParseScopes(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		if len(sc) == 0 || len(sc) > 3 {
			t.Fatalf("ParseScopes(%q) = %v", s, sc)
		}
		for _, x := range sc {
			if x != ScopeRead && x != ScopeWrite && x != ScopeAdmin {
				t.Fatalf("ParseScopes(%q) gave unknown scope %q", s, x)
			}
		}
	})
}

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "/customers?q=x", "//evil.example", "/\\evil.example", "https://evil.example/", "/a\r\nSet-Cookie: x", "", "javascript:alert(1)", "/%2F%2Fevil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := SafeNext(s)
		if got != "/" && got != s {
			t.Fatalf("SafeNext(%q) = %q", s, got)
		}
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\r\n") {
			t.Fatalf("SafeNext(%q) = %q leads off the site", s, got)
		}
	})
}

// FuzzUserInput: e-mail addresses, roles and names come from API bodies
// and forms.
func FuzzUserInput(f *testing.F) {
	for _, s := range []string{"Ada@Example.org", "a@b", " x@y.z ", "@x.y", "a@", "ADMIN", "Lead", "name\x00", "ä@ö.de", strings.Repeat("a", 300) + "@x.de"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if e, err := NormalizeEmail(s); err == nil {
			if e != strings.ToLower(e) || strings.TrimSpace(e) != e || !strings.Contains(e, "@") || len(e) > 254 {
				t.Fatalf("NormalizeEmail(%q) = %q", s, e)
			}
			if again, err := NormalizeEmail(e); err != nil || again != e {
				t.Fatalf("NormalizeEmail is not idempotent on %q: %q %v", e, again, err)
			}
		} else if !errors.Is(err, ErrInvalid) {
			t.Fatalf("NormalizeEmail(%q): %v is not ErrInvalid", s, err)
		}
		if r, err := ParseRole(s); err == nil && !slicesContains(Roles, r) {
			t.Fatalf("ParseRole(%q) = %q", s, r)
		}
		if n, err := validName("name", s, 100); err == nil && (n == "" || strings.TrimSpace(n) != n) {
			t.Fatalf("validName(%q) = %q", s, n)
		}
	})
}

func slicesContains(rs []Role, r Role) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}
