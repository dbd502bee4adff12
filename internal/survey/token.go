package survey

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"

	"github.com/kunding/kunding/internal/store"
	"time"
)

// Link is what a survey link says: which survey, and for a personal link
// which customer, touchpoint and triggering event, until when.
type Link struct {
	SurveyID   string `json:"s"`
	CustomerID string `json:"c,omitempty"` // empty: anonymous link
	Touchpoint string `json:"t,omitempty"`
	Trigger    string `json:"m,omitempty"` // messageId of the event that triggered the survey
	Expires    int64  `json:"e,omitempty"` // Unix seconds; 0: never (anonymous links)
	// Nonce makes two personal links without a trigger two answers.
	Nonce string `json:"n,omitempty"`
}

// Personal reports whether the link belongs to one customer.
func (l Link) Personal() bool { return l.CustomerID != "" }

// Errors of a token. The hosted page answers 400 for ErrBadToken and 403
// for ErrExpired; nothing is stored in either case.
var (
	ErrBadToken = errors.New("this survey link is damaged or was not made by this Kunding")
	ErrExpired  = errors.New("this survey link has expired")
)

const tokenSecretSetting = "survey_token_secret"

// tokenContext separates survey tokens from every other HMAC of the key.
const tokenContext = "kunding-survey-v1."

// macLen is the length of the truncated HMAC-SHA256 (128 bits).
const macLen = 16

// b64 decodes strictly: unused trailing bits must be zero, so that one
// token has exactly one spelling.
var b64 = base64.RawURLEncoding.Strict()

// maxTokenLen bounds what Parse looks at.
const maxTokenLen = 2048

// secret returns the server's survey key, created on first use and kept in
// settings so that every node signs and checks alike.
func (s *Service) secret(ctx context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.key != nil {
		return s.key, nil
	}
	key, err := store.SharedSecret(ctx, s.Store, tokenSecretSetting)
	if err != nil {
		return nil, err
	}
	s.key = key
	return key, nil
}

func mac(key []byte, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(tokenContext + payload))
	return m.Sum(nil)[:macLen]
}

// Sign makes the token of a link: base64url(JSON payload) "." base64url(MAC).
func (s *Service) Sign(ctx context.Context, l Link) (string, error) {
	key, err := s.secret(ctx)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(l)
	if err != nil {
		return "", err
	}
	p := base64.RawURLEncoding.EncodeToString(b)
	return p + "." + base64.RawURLEncoding.EncodeToString(mac(key, p)), nil
}

// Parse checks a token's signature and expiry and returns its link.
func (s *Service) Parse(ctx context.Context, token string) (Link, error) {
	var l Link
	if len(token) > maxTokenLen {
		return l, ErrBadToken
	}
	p, sig, ok := strings.Cut(token, ".")
	if !ok || p == "" {
		return l, ErrBadToken
	}
	got, err := b64.DecodeString(sig)
	if err != nil {
		return l, ErrBadToken
	}
	key, err := s.secret(ctx)
	if err != nil {
		return l, err
	}
	if !hmac.Equal(got, mac(key, p)) {
		return l, ErrBadToken
	}
	b, err := b64.DecodeString(p)
	if err != nil || json.Unmarshal(b, &l) != nil || l.SurveyID == "" {
		return Link{}, ErrBadToken
	}
	if l.Expires != 0 && !s.now().Before(time.Unix(l.Expires, 0)) {
		return l, ErrExpired
	}
	return l, nil
}

// responseID is the id of the answer to a personal link: the same for
// every token of one customer, survey and trigger (or, without a trigger,
// of one link), so the database refuses a second answer.
func responseID(l Link) string {
	key := "link\x00" + l.SurveyID + "\x00" + l.CustomerID + "\x00" + l.Trigger
	if l.Trigger == "" {
		key += "\x00nonce\x00" + l.Nonce
	}
	return hashID(key)
}

func hashID(key string) string {
	h := sha256.Sum256([]byte(key))
	return "sr_" + hex.EncodeToString(h[:12])
}

func randomID() string {
	var b [12]byte
	rand.Read(b[:])
	return "sr_" + hex.EncodeToString(b[:])
}

func nonce() string {
	var b [8]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ResponseIDOf is the id the answer to a personal link gets (to tell an
// answered link before the form is filled in).
func ResponseIDOf(l Link) string { return responseID(l) }
