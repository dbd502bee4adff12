// Package auth is the user system of Kunding: users with roles and
// departments, passwords (argon2id), login with rate limiting, sessions in
// cookies, CSRF tokens, API keys with scopes, and the checks of roles,
// scopes and permissions that the web app and the management API use.
//
// The bootstrap admin key (this file) guards /api/ on a fresh installation:
// created on first start, shown once, stored only as a hash. It works until
// the first admin user exists; then users log in and programs use API keys.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/kunding/kunding/internal/store"
)

const adminKeySetting = "admin_key_sha256"

// AdminKeyPrefix starts every admin key, so that leaked keys are recognisable.
const AdminKeyPrefix = "kdg_admin_"

// NewSecret returns a random URL-safe secret with prefix.
func NewSecret(prefix string) string {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand: " + err.Error()) // the system has no randomness: nothing is safe
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// hash is SHA-256: admin keys are long random secrets, not passwords, so a
// fast hash is enough and keeps every request cheap.
func hash(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// EnsureAdminKey creates the admin key if none exists. It returns the new key
// (to be shown once) or "" if one existed.
func EnsureAdminKey(ctx context.Context, s store.Store) (string, error) {
	key := NewSecret(AdminKeyPrefix)
	created, err := s.SetSettingIfAbsent(ctx, adminKeySetting, hash(key))
	if err != nil || !created {
		return "", err
	}
	return key, nil
}

// RotateAdminKey replaces the admin key and returns the new one.
func RotateAdminKey(ctx context.Context, s store.Store) (string, error) {
	key := NewSecret(AdminKeyPrefix)
	return key, s.SetSetting(ctx, adminKeySetting, hash(key))
}

// ErrUnauthorized means missing or wrong credentials.
var ErrUnauthorized = errors.New("missing or wrong API key")

// CheckAdminKey compares key with the stored hash in constant time.
func CheckAdminKey(ctx context.Context, s store.Store, key string) error {
	key = strings.TrimSpace(key)
	if key == "" {
		return ErrUnauthorized
	}
	want, err := s.Setting(ctx, adminKeySetting)
	if errors.Is(err, store.ErrNotFound) {
		return ErrUnauthorized
	}
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(hash(key)), []byte(want)) != 1 {
		return ErrUnauthorized
	}
	return nil
}
