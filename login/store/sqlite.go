package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"soitto/internal/sqlitedb"
)

func openSQLite(ctx context.Context, path string) (Store, error) {
	if path == "" {
		return nil, errors.New("store: sqlite: empty path; want sqlite:PATH")
	}
	db, err := sqlitedb.Open(path, "foreign_keys(1)")
	if err != nil {
		return nil, fmt.Errorf("store: sqlite: %w", err)
	}
	// Every query here is short; the slow part of a login, hashing, is
	// done outside the store.
	s := &sqlStore{db: db, d: dialect{
		name:       "sqlite",
		unique:     sqliteUnique,
		foreignKey: sqliteForeignKey,
	}}
	// Two processes opening a new database at once can get SQLITE_BUSY
	// without the busy handler being asked (one of them is turning the
	// file into WAL mode): try again, a bounded number of times.
	for attempt := 0; ; attempt++ {
		err = migrate(ctx, db, s.d)
		var e *sqlite.Error
		if err == nil || !errors.As(err, &e) || e.Code()&0xff != sqlite3.SQLITE_BUSY || attempt == 50 {
			break
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
		}
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return s, nil
}

// sqliteUnique reads the column from SQLite's message, "UNIQUE constraint
// failed: accounts.skeleton": SQLite has no constraint names to go by.
func sqliteUnique(err error) (string, bool) {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return "", false
	}
	if e.Code() != sqlite3.SQLITE_CONSTRAINT_UNIQUE && e.Code() != sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
		return "", false
	}
	if strings.Contains(e.Error(), "accounts.skeleton") {
		return "skeleton", true
	}
	return "name", true
}

func sqliteForeignKey(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}
