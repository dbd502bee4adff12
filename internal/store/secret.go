package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// Settings is the part of a store that keeps small named values.
type Settings interface {
	Setting(ctx context.Context, key string) (string, error)
	SetSettingIfAbsent(ctx context.Context, key, value string) (bool, error)
}

// SharedSecret returns the 32-byte key kept in setting name, made at
// random on first use. Every node reads the same key, so what one node
// signs (CSRF tokens, survey links) another can check; the first node to
// store it wins a race.
func SharedSecret(ctx context.Context, st Settings, name string) ([]byte, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	if _, err := st.SetSettingIfAbsent(ctx, name, hex.EncodeToString(b[:])); err != nil {
		return nil, err
	}
	v, err := st.Setting(ctx, name)
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(v)
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("setting %s is damaged; delete it to make a new one (what was signed with it stops being valid)", name)
	}
	return key, nil
}
