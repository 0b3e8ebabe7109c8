// Package sqlitedb opens SQLite files (modernc.org/sqlite, pure Go) the
// way Soitto keeps them: created with mode 0600, in WAL mode, writers
// taking the lock at BEGIN, through one connection.
package sqlitedb

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // the "sqlite" driver
)

// Open opens (creating it if need be) the SQLite file at path with
// busy_timeout(10000), journal_mode(WAL) and pragmas (e.g.
// "foreign_keys(1)", "synchronous(FULL)"). Errors say what failed
// without a package prefix; callers add theirs.
func Open(path string, pragmas ...string) (*sql.DB, error) {
	// The driver reads everything after '?' as options.
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("path %q must not contain '?'", path)
	}
	// Absolute, so that a PATH starting "file:" is not taken for a URI.
	path, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	// Create the file ourselves for its mode; SQLite gives its -wal and
	// -shm files the same one.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	f.Close()
	q := url.Values{
		"_pragma": append([]string{"busy_timeout(10000)", "journal_mode(WAL)"}, pragmas...),
		// Take the write lock at BEGIN, so a transaction never has to
		// upgrade a read lock, which SQLite may refuse without waiting.
		"_txlock": {"immediate"},
	}
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	// SQLite runs one writer at a time anyway; one connection queues
	// writers in Go instead of in busy_timeout retries, which can time
	// out under load.
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	return db, nil
}
