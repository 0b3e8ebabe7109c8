package ca

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCreateNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	if _, err := Create(dir, "test"); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, CAKeyFile))
	if _, err := Create(dir, "test"); err == nil {
		t.Fatal("second Create succeeded, want refusal")
	}
	after, _ := os.ReadFile(filepath.Join(dir, CAKeyFile))
	if string(before) != string(after) {
		t.Fatal("second Create changed the CA key")
	}
	fi, _ := os.Stat(filepath.Join(dir, CAKeyFile))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("got mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestUserCertificate(t *testing.T) {
	authority, err := Create(t.TempDir(), "test")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := Create(t.TempDir(), "other")
	key, _ := GenerateKey()
	cert, err := authority.IssueUser("alice", &key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(authority.Cert)
	now := time.Now()
	if name, err := VerifyUser(roots, cert, now, "alice"); err != nil || name != "alice" {
		t.Fatalf("got %q, %v; want alice, nil", name, err)
	}
	if _, err := VerifyUser(roots, cert, now, "bob"); !errors.Is(err, ErrWrongUser) {
		t.Errorf("want bob: got %v, want ErrWrongUser", err)
	}
	if _, err := VerifyUser(roots, cert, now.Add(25*time.Hour), ""); !errors.Is(err, ErrExpired) {
		t.Errorf("a day later: got %v, want ErrExpired", err)
	}
	otherRoots := x509.NewCertPool()
	otherRoots.AddCert(other.Cert)
	if _, err := VerifyUser(otherRoots, cert, now, ""); !errors.Is(err, ErrNotUserCert) {
		t.Errorf("other CA: got %v, want ErrNotUserCert", err)
	}
	// A server certificate of the same CA is not a user certificate.
	srv, _ := authority.IssueServer([]string{"127.0.0.1"}, &key.PublicKey)
	if _, err := VerifyUser(roots, srv, now, ""); !errors.Is(err, ErrNotUserCert) {
		t.Errorf("server cert: got %v, want ErrNotUserCert", err)
	}
}

func TestOnlyP256Keys(t *testing.T) {
	authority, _ := Create(t.TempDir(), "test")
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	ed, _, _ := ed25519.GenerateKey(rand.Reader)
	for _, pub := range []any{&p384.PublicKey, ed} {
		if _, err := authority.IssueUser("alice", pub); !errors.Is(err, ErrKeyType) {
			t.Errorf("%T: got %v, want ErrKeyType", pub, err)
		}
	}
}

func TestNodeCertificate(t *testing.T) {
	authority, _ := Create(t.TempDir(), "test")
	key, _ := GenerateKey()
	cert, err := authority.IssueNode("127.0.0.1:7500", &key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(authority.Cert)
	now := time.Now()
	if addr, err := VerifyNode(roots, cert, now, "127.0.0.1:7500"); err != nil || addr != "127.0.0.1:7500" {
		t.Fatalf("got %q, %v; want the address, nil", addr, err)
	}
	if _, err := VerifyNode(roots, cert, now, "127.0.0.1:7501"); !errors.Is(err, ErrWrongNode) {
		t.Errorf("other address: got %v, want ErrWrongNode", err)
	}
	if _, err := VerifyUser(roots, cert, now, ""); !errors.Is(err, ErrNotUserCert) {
		t.Errorf("a node certificate passed as a user's: %v", err)
	}
	user, _ := authority.IssueUser("alice", &key.PublicKey)
	if _, err := VerifyNode(roots, user, now, ""); !errors.Is(err, ErrNotNodeCert) {
		t.Errorf("a user certificate passed as a node's: %v", err)
	}
	if _, err := authority.IssueNode("no-port", &key.PublicKey); err == nil {
		t.Error("a node certificate for an address without a port was issued")
	}
}
