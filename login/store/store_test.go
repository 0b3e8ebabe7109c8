package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"soitto/login/logintest"
	"soitto/login/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// backends give each test a DSN of a new, empty store.
var backends = []struct {
	name string
	dsn  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "accounts.db") }},
	{"postgres", func(t *testing.T) string { return logintest.PostgresDSN(t) }},
}

// TestConformance runs the same cases against every backend.
func TestConformance(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
					defer cancel()
					dsn := b.dsn(t)
					var s store.Store
					if !c.fresh {
						s = open(t, ctx, dsn)
					}
					c.run(t, ctx, dsn, s)
				})
			}
		})
	}
}

func open(t *testing.T, ctx context.Context, dsn string) store.Store {
	t.Helper()
	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func create(t *testing.T, ctx context.Context, s store.Store, name, skeleton string) store.Account {
	t.Helper()
	a := store.Account{
		Name:         name,
		Skeleton:     skeleton,
		PasswordHash: "$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA",
		Created:      time.Unix(1700000000, 0),
	}
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatalf("CreateAccount(%q): %v", name, err)
	}
	return a
}

func get(t *testing.T, ctx context.Context, s store.Store, name string) store.Account {
	t.Helper()
	a, err := s.GetAccount(ctx, name)
	if err != nil {
		t.Fatalf("GetAccount(%q): %v", name, err)
	}
	return a
}

func count(t *testing.T, ctx context.Context, s store.Store) int {
	t.Helper()
	n, err := s.CountAccounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func sameAccount(a, b store.Account) bool {
	return a.Name == b.Name && a.Skeleton == b.Skeleton && a.PasswordHash == b.PasswordHash &&
		a.Created.Equal(b.Created) && a.Failures == b.Failures && a.LockedUntil.Equal(b.LockedUntil)
}

func never(int) time.Time { return time.Time{} }

// cases get the DSN and the store opened on it, or nil when fresh is set.
var cases = []struct {
	name  string
	fresh bool // the case opens the store itself
	run   func(t *testing.T, ctx context.Context, dsn string, s store.Store)
}{
	{"create and get", false, func(t *testing.T, ctx context.Context, _ string, s store.Store) {
		want := create(t, ctx, s, "alice", "a1ice")
		if got := get(t, ctx, s, "alice"); !sameAccount(got, want) {
			t.Errorf("got %+v, want %+v", got, want)
		}
		if got := count(t, ctx, s); got != 1 {
			t.Errorf("CountAccounts: got %d, want 1", got)
		}
	}},
	{"created is kept to the second", false, func(t *testing.T, ctx context.Context, _ string, s store.Store) {
		a := store.Account{Name: "bob", Skeleton: "bob", PasswordHash: "h", Created: time.Unix(1700000000, 999_999_999)}
		if err := s.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		if got, want := get(t, ctx, s, "bob").Created, time.Unix(1700000000, 0); !got.Equal(want) {
			t.Errorf("got %v, want %v", got, want)
		}
	}},
	{"duplicate name", false, func(t *testing.T, ctx context.Context, _ string, s store.Store) {
		create(t, ctx, s, "alice", "a1ice")
		err := s.CreateAccount(ctx, store.Account{Name: "alice", Skeleton: "a1ice", PasswordHash: "other"})
		if !errors.Is(err, store.ErrNameTaken) {
			t.Errorf("got %v, want ErrNameTaken", err)
		}
		if got := count(t, ctx, s); got != 1 {
			t.Errorf("CountAccounts: got %d, want 1", got)
		}
	}},
	{"same skeleton, other name", false, func(t *testing.T, ctx context.Context, _ string, s store.Store) {
		create(t, ctx, s, "alice", "a1ice")
		err := s.CreateAccount(ctx, store.Account{Name: "a1ice", Skeleton: "a1ice", PasswordHash: "h"})
		if !errors.Is(err, store.ErrConfusable) {
			t.Errorf("got %v, want ErrConfusable", err)
		}
	}},
	{"unknown account", false, func(t *testing.T, ctx context.Context, _ string, s store.Store) {
		create(t, ctx, s, "alice", "a1ice")
		_, err := s.GetAccount(ctx, "nobody")
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetAccount: got %v, want ErrNotFound", err)
		}
		_, err = s.RecordFailure(ctx, "nobody", never)
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RecordFailure: got %v, want ErrNotFound", err)
		}
		if err := s.ResetFailures(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ResetFailures: got %v, want ErrNotFound", err)
		}
		err = s.RecordIssued(ctx, store.Issued{Serial: "01", Name: "nobody", Issued: time.Unix(1700000000, 0)})
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RecordIssued: got %v, want ErrNotFound", err)
		}
	}},
	{"concurrent failures", false, func(t *testing.T, ctx context.Context, _ string, s store.Store) {
		create(t, ctx, s, "alice", "a1ice")
		const n = 200
		var mu sync.Mutex // guards seen
		seen := make(map[int]bool)
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Go(func() {
				a, err := s.RecordFailure(ctx, "alice", func(f int) time.Time {
					mu.Lock()
					defer mu.Unlock()
					if seen[f] {
						t.Errorf("lock called twice with %d", f)
					}
					seen[f] = true
					return time.Time{}
				})
				if err == nil && a.Failures < 1 {
					t.Errorf("RecordFailure returned Failures %d", a.Failures)
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("RecordFailure: %v", err)
			}
		}
		if got := get(t, ctx, s, "alice").Failures; got != n {
			t.Errorf("Failures: got %d, want %d", got, n)
		}
		for i := 1; i <= n; i++ {
			if !seen[i] {
				t.Errorf("lock never called with %d", i)
			}
		}
	}},
	{"lock gets the new count", false, func(t *testing.T, ctx context.Context, _ string, s store.Store) {
		create(t, ctx, s, "alice", "a1ice")
		base := time.Unix(1800000000, 0)
		lock := func(f int) time.Time {
			if f < 3 {
				return time.Time{}
			}
			return base.Add(time.Duration(f) * time.Minute)
		}
		for want := 1; want <= 4; want++ {
			a, err := s.RecordFailure(ctx, "alice", lock)
			if err != nil {
				t.Fatal(err)
			}
			if a.Failures != want || !a.LockedUntil.Equal(lock(want)) {
				t.Errorf("after failure %d: got %d, %v; want %d, %v", want, a.Failures, a.LockedUntil, want, lock(want))
			}
			if got := get(t, ctx, s, "alice"); !sameAccount(got, a) {
				t.Errorf("GetAccount: got %+v, want %+v", got, a)
			}
		}
	}},
	{"lock rounds up to the second", false, func(t *testing.T, ctx context.Context, _ string, s store.Store) {
		create(t, ctx, s, "alice", "a1ice")
		a, err := s.RecordFailure(ctx, "alice", func(int) time.Time { return time.Unix(1800000000, 1) })
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Unix(1800000001, 0); !a.LockedUntil.Equal(want) {
			t.Errorf("got %v, want %v", a.LockedUntil, want)
		}
	}},
	{"reset", false, func(t *testing.T, ctx context.Context, _ string, s store.Store) {
		create(t, ctx, s, "alice", "a1ice")
		for range 3 {
			if _, err := s.RecordFailure(ctx, "alice", func(int) time.Time { return time.Unix(1800000000, 0) }); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.ResetFailures(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		if a := get(t, ctx, s, "alice"); a.Failures != 0 || !a.LockedUntil.IsZero() {
			t.Errorf("got %d, %v; want 0, zero", a.Failures, a.LockedUntil)
		}
	}},
	{"issued log", false, func(t *testing.T, ctx context.Context, _ string, s store.Store) {
		create(t, ctx, s, "alice", "a1ice")
		want := []store.Issued{
			{Serial: "0a", Name: "alice", NotBefore: time.Unix(1700000000, 0), NotAfter: time.Unix(1700086400, 0), Issued: time.Unix(1700000001, 0)},
			{Serial: "0b", Name: "alice", NotBefore: time.Unix(1700000100, 0), NotAfter: time.Unix(1700086500, 0), Issued: time.Unix(1700000101, 0)},
		}
		for _, c := range want {
			if err := s.RecordIssued(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		if got := issued(t, ctx, s, "alice"); !sameIssued(got, want) {
			t.Errorf("got %+v, want %+v", got, want)
		}
		if err := s.RecordIssued(ctx, want[0]); err == nil {
			t.Error("RecordIssued of a known serial: got nil, want an error")
		}
	}},
	{"reopen keeps data", false, func(t *testing.T, ctx context.Context, dsn string, s store.Store) {
		want := create(t, ctx, s, "alice", "a1ice")
		if _, err := s.RecordFailure(ctx, "alice", never); err != nil {
			t.Fatal(err)
		}
		want.Failures = 1
		s.Close()
		s2 := open(t, ctx, dsn)
		if got := get(t, ctx, s2, "alice"); !sameAccount(got, want) {
			t.Errorf("got %+v, want %+v", got, want)
		}
	}},
	{"migrations idempotent", false, func(t *testing.T, ctx context.Context, dsn string, s store.Store) {
		s.Close()
		for range 2 {
			open(t, ctx, dsn).Close()
		}
		s = open(t, ctx, dsn)
		var n, max int
		err := store.DB(s).QueryRowContext(ctx, `SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &max)
		if err != nil {
			t.Fatal(err)
		}
		if n != max {
			t.Errorf("schema_migrations: got %d rows for version %d, want one per version", n, max)
		}
		create(t, ctx, s, "alice", "a1ice")
	}},
	{"concurrent opens", true, func(t *testing.T, ctx context.Context, dsn string, _ store.Store) {
		// Both race to migrate the empty database.
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				s, err := store.Open(ctx, dsn)
				if err != nil {
					t.Errorf("Open: %v", err)
					return
				}
				s.Close()
			})
		}
		wg.Wait()
		create(t, ctx, open(t, ctx, dsn), "alice", "a1ice")
	}},
}

func issued(t *testing.T, ctx context.Context, s store.Store, name string) []store.Issued {
	t.Helper()
	rows, err := store.DB(s).QueryContext(ctx,
		`SELECT serial, name, not_before, not_after, issued FROM issued WHERE name = $1 ORDER BY issued`, name)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []store.Issued
	for rows.Next() {
		var c store.Issued
		var nb, na, is int64
		if err := rows.Scan(&c.Serial, &c.Name, &nb, &na, &is); err != nil {
			t.Fatal(err)
		}
		c.NotBefore, c.NotAfter, c.Issued = time.Unix(nb, 0), time.Unix(na, 0), time.Unix(is, 0)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func sameIssued(a, b []store.Issued) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Serial != b[i].Serial || a[i].Name != b[i].Name || !a[i].NotBefore.Equal(b[i].NotBefore) ||
			!a[i].NotAfter.Equal(b[i].NotAfter) || !a[i].Issued.Equal(b[i].Issued) {
			return false
		}
	}
	return true
}
