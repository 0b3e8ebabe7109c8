package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// dialect is what differs between the databases. The queries themselves are
// shared: both take $N placeholders and RETURNING.
type dialect struct {
	name string // migrations folder under migrations/
	// migrationLock, if set, is run first in the migration transaction to
	// keep concurrent Opens from racing.
	migrationLock string
	// unique reports whether err is a unique violation, and of which
	// accounts column: "name" or "skeleton".
	unique func(err error) (column string, ok bool)
	// foreignKey reports whether err is a foreign key violation.
	foreignKey func(err error) bool
}

// sqlStore implements Store over database/sql.
type sqlStore struct {
	db *sql.DB
	d  dialect
}

const accountColumns = `name, skeleton, password_hash, created, failures, locked_until`

func (s *sqlStore) CreateAccount(ctx context.Context, a Account) error {
	if a.Name == "" || a.Skeleton == "" {
		return errors.New("store: account needs a name and a skeleton")
	}
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO accounts (`+accountColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		a.Name, a.Skeleton, a.PasswordHash, unixFloor(a.Created), a.Failures, unixCeil(a.LockedUntil))
	col, ok := s.d.unique(err)
	switch {
	case !ok:
		if err != nil {
			return fmt.Errorf("store: create account %q: %w", a.Name, err)
		}
		return nil
	case col == "skeleton":
		// A taken name has a taken skeleton too, and which constraint the
		// database checks first is its own business; accounts are never
		// deleted, so this look-up cannot race.
		if _, err := s.GetAccount(ctx, a.Name); err == nil {
			return fmt.Errorf("%w: %q", ErrNameTaken, a.Name)
		}
		return fmt.Errorf("%w: %q", ErrConfusable, a.Name)
	default:
		return fmt.Errorf("%w: %q", ErrNameTaken, a.Name)
	}
}

func (s *sqlStore) GetAccount(ctx context.Context, name string) (Account, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE name = $1`, name)
	return scanAccount(row, name)
}

func (s *sqlStore) RecordFailure(ctx context.Context, name string, lock func(int) time.Time) (Account, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Account{}, fmt.Errorf("store: record failure: %w", err)
	}
	defer tx.Rollback()
	// The UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite)
	// that the second UPDATE then relies on.
	var n int
	err = tx.QueryRowContext(ctx,
		`UPDATE accounts SET failures = failures + 1 WHERE name = $1 RETURNING failures`, name).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	if err != nil {
		return Account{}, fmt.Errorf("store: record failure: %w", err)
	}
	var until time.Time
	if lock != nil {
		until = lock(n)
	}
	a, err := scanAccount(tx.QueryRowContext(ctx,
		`UPDATE accounts SET locked_until = $2 WHERE name = $1 RETURNING `+accountColumns,
		name, unixCeil(until)), name)
	if err != nil {
		return Account{}, err
	}
	if err := tx.Commit(); err != nil {
		return Account{}, fmt.Errorf("store: record failure: %w", err)
	}
	return a, nil
}

func (s *sqlStore) ResetFailures(ctx context.Context, name string) error {
	res, err := s.db.ExecContext(ctx,
		`UPDATE accounts SET failures = 0, locked_until = 0 WHERE name = $1`, name)
	if err != nil {
		return fmt.Errorf("store: reset failures: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	return nil
}

func (s *sqlStore) RecordIssued(ctx context.Context, c Issued) error {
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO issued (serial, name, not_before, not_after, issued) VALUES ($1, $2, $3, $4, $5)`,
		c.Serial, c.Name, unixFloor(c.NotBefore), unixFloor(c.NotAfter), unixFloor(c.Issued))
	if s.d.foreignKey(err) {
		return fmt.Errorf("%w: %q", ErrNotFound, c.Name)
	}
	if err != nil {
		return fmt.Errorf("store: record issued %s: %w", c.Serial, err)
	}
	return nil
}

func (s *sqlStore) CountAccounts(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count accounts: %w", err)
	}
	return n, nil
}

func (s *sqlStore) Close() error { return s.db.Close() }

func scanAccount(row *sql.Row, name string) (Account, error) {
	var a Account
	var created, locked int64
	err := row.Scan(&a.Name, &a.Skeleton, &a.PasswordHash, &created, &a.Failures, &locked)
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	if err != nil {
		return Account{}, fmt.Errorf("store: account %q: %w", name, err)
	}
	a.Created, a.LockedUntil = fromUnix(created), fromUnix(locked)
	return a, nil
}

// unixFloor is t in Unix seconds, 0 for the zero time.
func unixFloor(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// unixCeil is t in Unix seconds rounded up, so that a lock never ends
// early; 0 for the zero time.
func unixCeil(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	if t.Nanosecond() > 0 {
		return t.Unix() + 1
	}
	return t.Unix()
}

// fromUnix is the inverse of unixFloor.
func fromUnix(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0)
}
