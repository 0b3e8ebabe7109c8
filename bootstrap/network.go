package bootstrap

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"

	"soitto/internal/atomicfile"
)

const (
	// Version is the network file format this package writes and reads.
	Version = 1
	// MaxFileSize bounds what Load and Parse read.
	MaxFileSize = 256 << 10
	// MaxBootstrap bounds the bootstrap list, the same as the host cache.
	MaxBootstrap = 200
	pinPrefix    = "sha256/"
)

// Network is the content of a network file.
type Network struct {
	Version   int      `json:"version"`
	Name      string   `json:"name,omitempty"`
	LoginURL  string   `json:"login_url"`
	CACertPEM string   `json:"ca_cert"`
	LoginPin  string   `json:"login_pin"`
	Bootstrap []string `json:"bootstrap"`
	// TURN names TURN servers besides the super-peers' own relays, such
	// as an operator's coturn: URLs like "turn:HOST:PORT?transport=udp".
	// Super-peers that share the servers' REST secret hand clients
	// credentials for them.
	TURN []string `json:"turn,omitempty"`

	ca *x509.Certificate
}

// Load reads and validates the network file at path.
func Load(path string) (*Network, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	n, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return n, nil
}

// Parse decodes and validates a network file.
func Parse(data []byte) (*Network, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalidNetwork, MaxFileSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var n Network
	if err := dec.Decode(&n); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidNetwork, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrInvalidNetwork)
	}
	if err := n.validate(); err != nil {
		return nil, err
	}
	return &n, nil
}

func (n *Network) validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidNetwork, fmt.Sprintf(format, a...))
	}
	if n.Version != Version {
		return bad("version %d, this program reads version %d", n.Version, Version)
	}
	u, err := url.Parse(n.LoginURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return bad("login_url %q is not an https URL", n.LoginURL)
	}
	ca, err := ParseCertificatePEM([]byte(n.CACertPEM))
	if err != nil {
		return bad("ca_cert: %v", err)
	}
	if !ca.IsCA {
		return bad("ca_cert is not a CA certificate")
	}
	n.ca = ca
	if !strings.HasPrefix(n.LoginPin, pinPrefix) {
		return bad("login_pin must start with %q", pinPrefix)
	}
	if raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(n.LoginPin, pinPrefix)); err != nil || len(raw) != sha256.Size {
		return bad("login_pin is not a base64 SHA-256 digest")
	}
	if len(n.Bootstrap) > MaxBootstrap {
		return bad("%d bootstrap addresses, at most %d", len(n.Bootstrap), MaxBootstrap)
	}
	for _, a := range n.Bootstrap {
		if err := CheckHostPort(a); err != nil {
			return bad("bootstrap %q: %v", a, err)
		}
	}
	if len(n.TURN) > MaxTURN {
		return bad("%d TURN servers, at most %d", len(n.TURN), MaxTURN)
	}
	for _, u := range n.TURN {
		if err := CheckTURNURL(u); err != nil {
			return bad("turn %q: %v", u, err)
		}
	}
	return nil
}

// MaxTURN bounds the network file's list of TURN servers.
const MaxTURN = 16

// CheckTURNURL checks that u is a TURN URL (RFC 7065):
// turn:HOST:PORT or turns:HOST:PORT, optionally ?transport=udp|tcp.
func CheckTURNURL(u string) error {
	if len(u) > 256 {
		return errors.New("longer than 256 bytes")
	}
	rest, ok := strings.CutPrefix(u, "turn:")
	if !ok {
		if rest, ok = strings.CutPrefix(u, "turns:"); !ok {
			return errors.New("not a turn: or turns: URL")
		}
	}
	hostport, query, _ := strings.Cut(rest, "?")
	switch query {
	case "", "transport=udp", "transport=tcp":
	default:
		return fmt.Errorf("query %q: only transport=udp or transport=tcp", query)
	}
	return CheckHostPort(hostport)
}

// CA returns the network's CA certificate.
func (n *Network) CA() *x509.Certificate { return n.ca }

// CAPool returns a pool holding only the network's CA.
func (n *Network) CAPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(n.ca)
	return p
}

// Encode returns the file's JSON form.
func (n *Network) Encode() ([]byte, error) {
	if n.Bootstrap == nil {
		n.Bootstrap = []string{}
	}
	b, err := json.MarshalIndent(n, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Save writes the network file atomically.
func (n *Network) Save(path string) error {
	b, err := n.Encode()
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, b, 0o644)
}

// New builds and validates a Network.
func New(name, loginURL string, ca *x509.Certificate, loginServer *x509.Certificate, bootstrap []string) (*Network, error) {
	n := &Network{
		Version:   Version,
		Name:      name,
		LoginURL:  loginURL,
		CACertPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})),
		LoginPin:  Pin(loginServer),
		Bootstrap: bootstrap,
	}
	if n.Bootstrap == nil {
		n.Bootstrap = []string{}
	}
	if err := n.validate(); err != nil {
		return nil, err
	}
	return n, nil
}

// Pin returns the TLS pin of a certificate: "sha256/" and the base64
// SHA-256 of its SubjectPublicKeyInfo, the form HPKP used, so the pin
// survives re-issuing the certificate for the same key.
func Pin(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return pinPrefix + base64.StdEncoding.EncodeToString(sum[:])
}

// ParseCertificatePEM parses exactly one PEM certificate.
func ParseCertificatePEM(data []byte) (*x509.Certificate, error) {
	block, rest := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("no PEM CERTIFICATE block")
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("data after the certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

// CheckHostPort reports whether a is a HOST:PORT with a port in 1..65535.
func CheckHostPort(a string) error {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return err
	}
	if host == "" {
		return fmt.Errorf("no host")
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("port %q is not in 1..65535", port)
	}
	return nil
}
