package app_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"soitto/app"
	"soitto/app/profile"
	"soitto/login/api"
	"soitto/login/logintest"
)

var fastKDF = profile.KDF{Memory: 1024, Time: 1, Threads: 1}

func newClient(t *testing.T, env *logintest.Env, profiles string) *app.Client {
	t.Helper()
	c, err := app.New(app.Config{ProfilesDir: profiles, Network: env.NetworkPath, KDF: fastKDF})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRegisterLoginWhoami(t *testing.T) {
	env := logintest.Serve(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	profiles := t.TempDir()
	c := newClient(t, env, profiles)
	events, stop := c.Subscribe()
	defer stop()

	name, err := c.Register(ctx, "Alice", "alice's password")
	if err != nil || name != "alice" {
		t.Fatalf("Register: got %q, %v; want alice, nil", name, err)
	}
	id, err := c.Login(ctx, "", "alice's password")
	if err != nil {
		t.Fatal(err)
	}
	if id.Username != "alice" || !id.Valid || id.Profile != filepath.Join(profiles, "alice") {
		t.Fatalf("Login: got %+v", id)
	}
	select {
	case e := <-events:
		if li, ok := e.(app.LoggedIn); !ok || li.Identity.Username != "alice" {
			t.Fatalf("got event %#v, want LoggedIn alice", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no LoggedIn event")
	}

	// A new client on the same profiles folder (a new process) knows who
	// it is from disk, without the password.
	c2 := newClient(t, env, profiles)
	who, err := c2.Whoami()
	if err != nil {
		t.Fatal(err)
	}
	if who.Username != "alice" || who.Serial != id.Serial || !who.Valid {
		t.Fatalf("Whoami: got %+v, want %+v", who, id)
	}
	if _, err := c2.Login(ctx, "alice", "not alice's password"); !errors.Is(err, profile.ErrWrongPassword) {
		t.Fatalf("wrong password: got %v, want ErrWrongPassword", err)
	}
	if _, err := c2.Register(ctx, "ALICE", "another password"); !errors.Is(err, api.ErrUsernameTaken) {
		t.Fatalf("register ALICE: got %v, want ErrUsernameTaken", err)
	}
	// The taken registration did not touch alice's profile.
	if _, err := c2.Login(ctx, "alice", "alice's password"); err != nil {
		t.Fatalf("alice after the refused registration: %v", err)
	}

	c.Logout()
	if _, ok := c.Session(); ok {
		t.Fatal("still a session after Logout")
	}
}

func TestNoNetworkFile(t *testing.T) {
	t.Setenv("SOITTO_NETWORK", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	c, err := app.New(app.Config{ProfilesDir: t.TempDir(), KDF: fastKDF})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Register(context.Background(), "alice", "alice's password")
	if !errors.Is(err, app.ErrNoNetwork) {
		t.Fatalf("got %v, want ErrNoNetwork", err)
	}
	if _, err := os.Stat(filepath.Join(t.TempDir(), "alice")); err == nil {
		t.Fatal("a profile was made without a network")
	}
}
