package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"soitto/login/store"
)

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		dsn  string
		want string // in the error
	}{
		{"mysql://root:secret@db/x", `"mysql"`},
		{"accounts.db", "sqlite:PATH"},
		{"sqlite:", "empty path"},
		{"sqlite:" + filepath.Join(dir, "missing", "accounts.db"), "no such file"},
		{"sqlite:" + filepath.Join(dir, "a?b.db"), "'?'"},
	}
	for _, tt := range tests {
		t.Run(tt.dsn, func(t *testing.T) {
			s, err := store.Open(t.Context(), tt.dsn)
			if err == nil {
				s.Close()
				t.Fatal("got nil, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

func TestSQLiteFileMode(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	path := filepath.Join(t.TempDir(), "accounts.db")
	s := open(t, ctx, "sqlite:"+path)
	create(t, ctx, s, "alice", "a1ice")
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s: got mode %v, want 0600", filepath.Base(p), got)
		}
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "accounts.db")
	s := open(t, ctx, dsn)
	if _, err := store.DB(s).ExecContext(ctx, `INSERT INTO schema_migrations (version, applied) VALUES (9999, 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err := store.Open(ctx, dsn)
	if err == nil {
		s.Close()
		t.Fatal("got nil, want an error")
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("got %q, want a schema-too-new error", err)
	}
}
