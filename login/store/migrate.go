package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// migrations holds migrations/DIALECT/NNNN_what.sql; NNNN is the version.
// A released migration is never edited: add a new file instead.
//
//go:embed migrations
var migrations embed.FS

// migrate applies, in one transaction, the migrations of d that the
// database has not recorded in schema_migrations yet.
func migrate(ctx context.Context, db *sql.DB, d dialect) error {
	files, err := fs.Glob(migrations, "migrations/"+d.name+"/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer tx.Rollback()
	if d.migrationLock != "" {
		if _, err := tx.ExecContext(ctx, d.migrationLock); err != nil {
			return fmt.Errorf("store: migrate: lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT NOT NULL PRIMARY KEY,
		applied BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	var have int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	latest := 0
	for _, f := range files {
		v, err := strconv.Atoi(strings.SplitN(path.Base(f), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("store: migration %s: name must start with a version number", f)
		}
		latest = v
		if v <= have {
			continue
		}
		body, err := migrations.ReadFile(f)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return fmt.Errorf("store: migration %s: %w", path.Base(f), err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied) VALUES ($1, $2)`,
			v, time.Now().Unix()); err != nil {
			return fmt.Errorf("store: migration %s: %w", path.Base(f), err)
		}
	}
	if have > latest {
		return fmt.Errorf("store: database schema version %d is newer than this program's %d; upgrade the program", have, latest)
	}
	return tx.Commit()
}
