//go:build !unix

package journal

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockDir opens the lock file; other systems rely on the store's own lock.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return f, nil
}

func fdatasync(f *os.File) error { return f.Sync() }
