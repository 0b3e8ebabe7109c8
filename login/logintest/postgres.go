package logintest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// postgresEnv names the variable holding an admin URL of a PostgreSQL
// server for tests: a role that may log in and create databases.
const postgresEnv = "SOITTO_TEST_POSTGRES"

// PostgresDSN returns the URL of a new, empty PostgreSQL database for this
// test, dropped at cleanup. It uses SOITTO_TEST_POSTGRES (an admin URL, e.g.
// postgres://soitto_test:soitto_test@127.0.0.1:5432/postgres?sslmode=disable)
// when set; otherwise, when running as root, it runs scripts/test-postgres.sh,
// which starts the system cluster and prints that URL; otherwise it skips
// the test, unless SOITTO_REQUIRE_POSTGRES is set (CI), when it fails.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	admin, err := postgresAdmin()
	if errors.Is(err, errNoPostgres) && os.Getenv("SOITTO_REQUIRE_POSTGRES") != "" {
		t.Fatalf("PostgreSQL is required (SOITTO_REQUIRE_POSTGRES is set) but %s is empty and this is not root", postgresEnv)
	}
	if errors.Is(err, errNoPostgres) {
		t.Skipf("PostgreSQL is not available: set %s to an admin URL such as "+
			"postgres://soitto_test:soitto_test@127.0.0.1:5432/postgres?sslmode=disable "+
			"(a role with LOGIN and CREATEDB), or run the tests as root so that "+
			"scripts/test-postgres.sh can start the local cluster", postgresEnv)
	}
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: %v", postgresEnv, err)
	}
	b := make([]byte, 8)
	rand.Read(b)
	name := "soitto_t_" + hex.EncodeToString(b)
	// Identifiers cannot be bind parameters; name is [a-z0-9_] only.
	if err := adminExec(admin, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		// FORCE ends the test's own connections that are still closing,
		// but refuses when a backend of another role (an autovacuum
		// worker, say) is in the database; a plain DROP waits those out.
		// Try a few times, bounded.
		var err error
		for i := range 20 {
			stmt := "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"
			if i%2 == 1 {
				stmt = "DROP DATABASE IF EXISTS " + name
			}
			if err = adminExec(admin, stmt); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("drop test database: %v", err)
	})
	u.Path = "/" + name
	return u.String()
}

var errNoPostgres = errors.New("no PostgreSQL")

// postgresAdmin runs the script at most once per test binary.
var postgresAdmin = sync.OnceValues(func() (string, error) {
	if v := os.Getenv(postgresEnv); v != "" {
		return v, nil
	}
	if os.Geteuid() != 0 {
		return "", errNoPostgres
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	// Installing PostgreSQL with apt-get can take minutes.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "scripts", "test-postgres.sh"))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("scripts/test-postgres.sh: %v\n%s", err, stderr.Bytes())
	}
	return strings.TrimSpace(stdout.String()), nil
})

// moduleRoot is the nearest folder up from the working directory that holds
// go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("logintest: no go.mod above the working directory")
		}
		dir = up
	}
}

func adminExec(admin, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}
