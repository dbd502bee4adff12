package campaign

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/kunding/kunding/internal/audit"
	"github.com/kunding/kunding/internal/identity"
	"github.com/kunding/kunding/internal/store"
)

// Limits of an uploaded recipient list.
const (
	MaxListBytes = 32 << 20
	MaxListRows  = 1_000_000
)

// ListID is one identifier of an uploaded list: kind is user, email,
// phone or customer (a Kunding customer id).
type ListID struct {
	Kind  string
	Value string
	Raw   string
}

// header names of the identifier columns (lower case, without _ - and spaces).
var headerKinds = map[string]string{
	"userid": "user", "user": "user", "kundennummer": "user",
	"email": "email", "mail": "email", "emailaddress": "email",
	"phone": "phone", "telefon": "phone", "mobile": "phone", "phonenumber": "phone",
	"customerid": "customer", "customer": "customer", "kunde": "customer", "id": "customer",
}

var customerIDRE = regexp.MustCompile(`^c[0-9a-f]{20}$`)

// guessKind decides the kind of an identifier without a header.
func guessKind(v string) string {
	switch {
	case strings.Contains(v, "@"):
		return "email"
	case customerIDRE.MatchString(v):
		return "customer"
	case identity.NormalizePhone(v) != "" && strings.Trim(v, "+0123456789 -/()") == "" && strings.ContainsAny(v, "+ -/("):
		return "phone"
	}
	return "user"
}

// ParseList reads a CSV (comma or semicolon) of identifiers. With a header
// naming columns (userId, email, phone, customerId), every named column is
// read; without one, the first non-empty cell of each row is taken and its
// kind guessed (an "@": e-mail; c + 20 hex digits: customer id; digits
// with + - / ( or spaces: phone; else a user id). invalid lists lines that
// hold no identifier.
func ParseList(r io.Reader) (ids []ListID, invalidLines []string, err error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxListBytes+1))
	if err != nil {
		return nil, nil, err
	}
	if len(data) > MaxListBytes {
		return nil, nil, invalid("recipient list: at most %d MB", MaxListBytes>>20)
	}
	text := strings.TrimPrefix(string(data), "\ufeff")
	first, _, _ := strings.Cut(text, "\n")
	cr := csv.NewReader(strings.NewReader(text))
	if strings.Count(first, ";") > strings.Count(first, ",") {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	var cols map[int]string
	line := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line++
		if err != nil {
			return nil, nil, invalid("recipient list line %d: %v", line, err)
		}
		if line == 1 {
			hdr := map[int]string{}
			for i, h := range rec {
				k := strings.NewReplacer("_", "", "-", "", " ", "").Replace(strings.ToLower(strings.TrimSpace(h)))
				if kind, ok := headerKinds[k]; ok {
					hdr[i] = kind
				}
			}
			if len(hdr) > 0 {
				cols = hdr
				continue
			}
		}
		found := false
		add := func(kind, v string) {
			v = strings.TrimSpace(v)
			if v == "" {
				return
			}
			norm := v
			switch kind {
			case "email":
				norm = identity.NormalizeEmail(v)
			case "phone":
				norm = identity.NormalizePhone(v)
			}
			if norm == "" || len(norm) > 200 {
				return
			}
			ids = append(ids, ListID{Kind: kind, Value: norm, Raw: v})
			found = true
		}
		if cols != nil {
			for i, kind := range cols {
				if i < len(rec) {
					add(kind, rec[i])
				}
			}
		} else {
			for _, cell := range rec {
				if v := strings.TrimSpace(cell); v != "" {
					add(guessKind(v), v)
					break
				}
			}
		}
		if !found && strings.TrimSpace(strings.Join(rec, "")) != "" && len(invalidLines) < 20 {
			invalidLines = append(invalidLines, fmt.Sprintf("%d: %s", line, clip(strings.Join(rec, ","), 80)))
		}
		if len(ids) > MaxListRows {
			return nil, nil, invalid("recipient list: at most %d identifiers", MaxListRows)
		}
	}
	return ids, invalidLines, nil
}

func clip(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// Resolve maps list identifiers to customers: the distinct customers found
// (sorted) and the identifiers that name none.
func (s *Service) Resolve(ctx context.Context, ids []ListID) (customers []string, unknown []ListID, err error) {
	cs, err := s.Campaigns()
	if err != nil {
		return nil, nil, err
	}
	var lookups []store.Identifier
	for _, id := range ids {
		if id.Kind != "customer" {
			lookups = append(lookups, store.Identifier{Kind: id.Kind, Value: id.Value})
		}
	}
	found, err := cs.ResolveIdentifiers(ctx, lookups)
	if err != nil {
		return nil, nil, err
	}
	seen := map[string]bool{}
	for _, id := range ids {
		c := ""
		if id.Kind == "customer" {
			if p, err := s.Store.Customer(ctx, id.Value); err == nil { // follows merges
				c = p.CustomerID
			} else if !errors.Is(err, store.ErrNotFound) {
				return nil, nil, err
			}
		} else {
			c = found[store.Identifier{Kind: id.Kind, Value: id.Value}]
		}
		if c == "" {
			unknown = append(unknown, id)
			continue
		}
		if !seen[c] {
			seen[c] = true
			customers = append(customers, c)
		}
	}
	slices.Sort(customers)
	return customers, unknown, nil
}

// Upload replaces a campaign's recipient list with the customers named in
// the CSV r and makes its target the list. Unknown identifiers are
// reported (count and the first 50) and not kept.
func (s *Service) Upload(ctx context.Context, id string, r io.Reader) (store.Campaign, error) {
	cs, c, err := s.forChange(ctx, id)
	if err != nil {
		return c, err
	}
	ids, bad, err := ParseList(r)
	if err != nil {
		return c, err
	}
	if len(ids) == 0 {
		return c, invalid("recipient list: no identifiers found (one per line, or columns userId, email, phone, customerId)")
	}
	customers, unknown, err := s.Resolve(ctx, ids)
	if err != nil {
		return c, err
	}
	if err := cs.SetCampaignRecipients(ctx, id, customers); err != nil {
		return c, err
	}
	l := &store.RecipientList{Rows: int64(len(ids)), Customers: int64(len(customers)), Unknown: int64(len(unknown)),
		Uploaded: s.now(), Invalid: bad}
	kinds := map[string]int64{}
	for _, x := range ids {
		kinds[x.Kind]++
	}
	for _, k := range []string{"user", "email", "phone", "customer"} {
		if kinds[k] > 0 {
			l.Kinds = append(l.Kinds, store.KindStat{Kind: k, Count: kinds[k]})
		}
	}
	for _, u := range unknown {
		if len(l.Samples) == 50 {
			break
		}
		l.Samples = append(l.Samples, u.Kind+":"+u.Raw)
	}
	for attempt := 0; ; attempt++ {
		c.List, c.Target = l, store.Target{Kind: TargetList}
		c.UpdatedAt = s.now()
		err = cs.UpdateCampaign(ctx, &c)
		if errors.Is(err, store.ErrVersion) && attempt < 3 {
			if c, err = cs.Campaign(ctx, id); err != nil {
				return c, err
			}
			continue
		}
		if err != nil {
			return c, err
		}
		break
	}
	return c, audit.Record(ctx, s.Store, audit.Entry{Action: AuditRecipients, Target: id,
		Detail: fmt.Sprintf("%d identifiers, %d customers, %d unknown", l.Rows, l.Customers, l.Unknown)})
}
