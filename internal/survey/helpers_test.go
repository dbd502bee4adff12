package survey_test

import (
	"encoding/base64"
	"path/filepath"
	"testing"

	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/sqlite"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func openSQLite(t *testing.T) (store.Store, error) {
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "other.db"), sqlite.Options{})
	if err == nil {
		t.Cleanup(func() { st.Close() })
	}
	return st, err
}
