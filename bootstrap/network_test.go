package bootstrap

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func selfSigned(t testing.TB, isCA bool) *x509.Certificate {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "t"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		BasicConstraintsValid: true,
		IsCA:                  isCA,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func TestSaveLoadRoundTrip(t *testing.T) {
	ca := selfSigned(t, true)
	n, err := New("test", "https://127.0.0.1:7443", ca, ca, []string{"127.0.0.1:7500", "[::1]:7501"})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "network.json")
	if err := n.Save(p); err != nil {
		t.Fatal(err)
	}
	got, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if got.LoginURL != n.LoginURL || got.LoginPin != n.LoginPin || len(got.Bootstrap) != 2 || !got.CA().Equal(ca) {
		t.Fatalf("got %+v, want %+v", got, n)
	}
}

func TestParseRefuses(t *testing.T) {
	ca := selfSigned(t, true)
	good, _ := New("test", "https://127.0.0.1:7443", ca, ca, nil)
	enc := func(mut func(*Network)) []byte {
		n := *good
		mut(&n)
		b, _ := n.Encode()
		return b
	}
	tests := map[string][]byte{
		"version":       enc(func(n *Network) { n.Version = 2 }),
		"http url":      enc(func(n *Network) { n.LoginURL = "http://127.0.0.1:7443" }),
		"no ca":         enc(func(n *Network) { n.CACertPEM = "" }),
		"not a ca":      enc(func(n *Network) { c := selfSigned(t, false); n.CACertPEM = string(pemOf(c)) }),
		"pin":           enc(func(n *Network) { n.LoginPin = "sha1/abc" }),
		"pin length":    enc(func(n *Network) { n.LoginPin = "sha256/AAAA" }),
		"bootstrap":     enc(func(n *Network) { n.Bootstrap = []string{"127.0.0.1"} }),
		"bootstrap 0":   enc(func(n *Network) { n.Bootstrap = []string{"127.0.0.1:0"} }),
		"turn scheme":   enc(func(n *Network) { n.TURN = []string{"stun:127.0.0.1:3478"} }),
		"turn query":    enc(func(n *Network) { n.TURN = []string{"turn:127.0.0.1:3478?transport=sctp"} }),
		"turn port":     enc(func(n *Network) { n.TURN = []string{"turn:127.0.0.1"} }),
		"turn many":     enc(func(n *Network) { n.TURN = make([]string, MaxTURN+1) }),
		"unknown field": []byte(`{"version":1,"surprise":true}`),
		"trailing":      append(enc(func(*Network) {}), []byte("{}")...),
		"too large":     []byte(strings.Repeat(" ", MaxFileSize+1)),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(data)
			if !errors.Is(err, ErrInvalidNetwork) {
				t.Fatalf("got %v, want ErrInvalidNetwork", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("reason %q is not one line", err)
			}
		})
	}
}

func TestTURNServersRoundTrip(t *testing.T) {
	ca := selfSigned(t, true)
	n, _ := New("test", "https://127.0.0.1:7443", ca, ca, nil)
	n.TURN = []string{"turn:198.51.100.7:3478?transport=udp", "turn:198.51.100.7:3478?transport=tcp", "turns:[2001:db8::1]:5349"}
	b, err := n.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(b)
	if err != nil || strings.Join(got.TURN, " ") != strings.Join(n.TURN, " ") {
		t.Fatalf("round trip: %v %v", got, err)
	}
}

func pemOf(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func FuzzParse(f *testing.F) {
	ca := selfSigned(f, true)
	n, _ := New("test", "https://127.0.0.1:7443", ca, ca, []string{"127.0.0.1:7500"})
	b, _ := n.Encode()
	f.Add(b)
	f.Add([]byte(`{"version":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidNetwork) {
				t.Fatalf("error %v does not wrap ErrInvalidNetwork", err)
			}
			return
		}
		// What parses must survive a round trip.
		again, err := n.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(again); err != nil {
			t.Fatalf("re-encoded file refused: %v", err)
		}
	})
}
