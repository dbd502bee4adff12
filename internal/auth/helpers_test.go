package auth_test

import (
	"database/sql"
	"testing"

	"github.com/kunding/kunding/internal/store"
	"github.com/kunding/kunding/internal/store/sqlstore"
)

// rawDB is the database beneath a store, for checks the store interface
// has no method for.
func rawDB(t *testing.T, st store.Store) *sql.DB {
	t.Helper()
	s, ok := st.(*sqlstore.Store)
	if !ok {
		t.Fatalf("store %T is not a sqlstore", st)
	}
	return s.Writer()
}
