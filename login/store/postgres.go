package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// migrationLockKey names the advisory lock that serializes migrations of
// one database ("soitto" in ASCII).
const migrationLockKey = 0x736f6974746f

// SQLSTATEs, from PostgreSQL's errcodes.txt.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
)

func openPostgres(ctx context.Context, dsn string) (Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: postgres: %w", err)
	}
	// Several login servers share the database; keep each one's share of
	// max_connections (100 by default) modest.
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s := &sqlStore{db: db, d: dialect{
		name:          "postgres",
		migrationLock: fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", migrationLockKey),
		unique:        pgUnique,
		foreignKey:    pgForeignKey,
	}}
	if err := migrate(ctx, db, s.d); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// pgUnique maps the constraint names of migrations/postgres to columns.
func pgUnique(err error) (string, bool) {
	var e *pgconn.PgError
	if !errors.As(err, &e) || e.Code != pgUniqueViolation {
		return "", false
	}
	switch e.ConstraintName {
	case "accounts_name_key":
		return "name", true
	case "accounts_skeleton_key":
		return "skeleton", true
	}
	return "", false
}

func pgForeignKey(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == pgForeignKeyViolation
}
