package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Account is one registered user. Times are kept to the second.
type Account struct {
	Name         string // normalized username, unique
	Skeleton     string // confusable skeleton, unique
	PasswordHash string // PHC string
	Created      time.Time
	Failures     int       // consecutive failed logins
	LockedUntil  time.Time // zero when not locked
}

// Issued is one entry of the audit log of certificates issued.
// Times are kept to the second.
type Issued struct {
	Serial              string // certificate serial number, unique
	Name                string // the account it was issued to
	NotBefore, NotAfter time.Time
	Issued              time.Time
}

// Store keeps accounts. All methods are safe for concurrent use, also by
// several processes sharing one PostgreSQL database.
type Store interface {
	// CreateAccount stores a new account. It returns ErrNameTaken or
	// ErrConfusable when a.Name or a.Skeleton is in use; the database's
	// unique constraints decide, so concurrent creations cannot both win.
	CreateAccount(ctx context.Context, a Account) error
	// GetAccount returns the account with that normalized name, or
	// ErrNotFound.
	GetAccount(ctx context.Context, name string) (Account, error)
	// RecordFailure atomically increments the account's failure count and
	// sets LockedUntil = lock(newCount) (zero time = not locked), returning
	// the updated account, or ErrNotFound. lock runs while the row is
	// locked, so it must be quick and must not call the Store. A nil lock
	// never locks. LockedUntil is rounded up to the second.
	RecordFailure(ctx context.Context, name string, lock func(failures int) time.Time) (Account, error)
	// ResetFailures sets Failures to 0 and clears LockedUntil, or returns
	// ErrNotFound.
	ResetFailures(ctx context.Context, name string) error
	// RecordIssued appends c to the audit log; ErrNotFound when there is no
	// account c.Name.
	RecordIssued(ctx context.Context, c Issued) error
	// CountAccounts returns the number of accounts, for metrics and tests.
	CountAccounts(ctx context.Context) (int, error)
	// Close releases the database.
	Close() error
}

// Open opens the store named by dsn, creating it if needed, and brings its
// schema up to date before returning. dsn is one of
//
//	sqlite:PATH           a file, created with mode 0600; its directory must exist
//	postgres://...        a PostgreSQL URL (postgresql:// too), as libpq takes it
func Open(ctx context.Context, dsn string) (Store, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		return openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"))
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return openPostgres(ctx, dsn)
	}
	// Only the scheme is shown: a DSN may carry a password.
	scheme, _, _ := strings.Cut(dsn, ":")
	return nil, fmt.Errorf("store: unsupported DSN scheme %q; want sqlite:PATH, postgres://... or postgresql://...", scheme)
}
