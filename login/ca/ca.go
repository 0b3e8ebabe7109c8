package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"soitto/internal/atomicfile"
)

// File names inside a login server's folder.
const (
	CAKeyFile      = "ca.key"
	CACertFile     = "ca.crt"
	ServerKeyFile  = "server.key"
	ServerCertFile = "server.crt"
)

const (
	// UserCertValidity is how long a user certificate is valid.
	UserCertValidity = 24 * time.Hour
	// clockSkew back-dates NotBefore so that a peer whose clock is a little
	// behind accepts a fresh certificate.
	clockSkew     = 5 * time.Minute
	caValidity    = 10 * 365 * 24 * time.Hour
	srvValidity   = 2 * 365 * 24 * time.Hour
	userURIScheme = "soitto"
)

// CA issues certificates with the network's CA key.
type CA struct {
	Cert *x509.Certificate
	key  crypto.Signer
	now  func() time.Time
}

// Create makes a new CA key and self-signed certificate in dir. It never
// overwrites an existing key.
func Create(dir, name string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: name + " CA", Organization: []string{"Soitto"}},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	if err := WriteKeyNew(filepath.Join(dir, CAKeyFile), key); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteNew(filepath.Join(dir, CACertFile), pemCert(der), 0o644); err != nil {
		return nil, err
	}
	return Load(dir)
}

// Load reads the CA key and certificate from dir.
func Load(dir string) (*CA, error) {
	key, err := ReadKey(filepath.Join(dir, CAKeyFile))
	if err != nil {
		return nil, err
	}
	cert, err := ReadCert(filepath.Join(dir, CACertFile))
	if err != nil {
		return nil, err
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("%s is not a CA certificate", filepath.Join(dir, CACertFile))
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("%s does not match %s", CAKeyFile, CACertFile)
	}
	return &CA{Cert: cert, key: key, now: time.Now}, nil
}

// SetClock replaces the CA's clock; tests use it.
func (c *CA) SetClock(now func() time.Time) { c.now = now }

// IssueUser returns a DER certificate binding the normalized username to
// pub, valid for UserCertValidity.
func (c *CA) IssueUser(username string, pub crypto.PublicKey) (*x509.Certificate, error) {
	if err := CheckPublicKey(pub); err != nil {
		return nil, err
	}
	now := c.now()
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{CommonName: username, Organization: []string{"Soitto users"}},
		URIs:         []*url.URL{UserURI(username)},
		NotBefore:    now.Add(-clockSkew),
		NotAfter:     now.Add(UserCertValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
	}
	return c.issue(tmpl, pub)
}

// IssueServer returns a TLS server certificate for the given host names and
// IP addresses.
func (c *CA) IssueServer(hosts []string, pub crypto.PublicKey) (*x509.Certificate, error) {
	if err := CheckPublicKey(pub); err != nil {
		return nil, err
	}
	now := c.now()
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{CommonName: "soitto-login", Organization: []string{"Soitto"}},
		NotBefore:    now.Add(-clockSkew),
		NotAfter:     now.Add(srvValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return c.issue(tmpl, pub)
}

func (c *CA) issue(tmpl *x509.Certificate, pub crypto.PublicKey) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.Cert, pub, c.key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// UserURI is the URI SAN of a user certificate.
func UserURI(username string) *url.URL {
	return &url.URL{Scheme: userURIScheme, Opaque: "user:" + url.PathEscape(username)}
}

// VerifyUser checks that cert is a user certificate issued by the CA in
// roots, valid at now, and returns the username it names. If want is not
// empty the certificate must name that user.
func VerifyUser(roots *x509.CertPool, cert *x509.Certificate, now time.Time, want string) (string, error) {
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return "", fmt.Errorf("%w: valid %s to %s", ErrExpired, cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
	}
	_, err := cert.Verify(x509.VerifyOptions{
		Roots:       roots,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotUserCert, err)
	}
	name, err := UserName(cert)
	if err != nil {
		return "", err
	}
	if want != "" && name != want {
		return "", fmt.Errorf("%w: %q, expected %q", ErrWrongUser, name, want)
	}
	return name, nil
}

// UserName returns the username a user certificate names (its common
// name, matched by its one URI SAN). It checks nothing else: callers whose
// TLS stack verified the chain to the CA for client authentication use it
// instead of VerifyUser, which would verify the chain a second time.
func UserName(cert *x509.Certificate) (string, error) {
	name := cert.Subject.CommonName
	if len(cert.URIs) != 1 || cert.URIs[0].String() != UserURI(name).String() {
		return "", fmt.Errorf("%w: no user name in it", ErrNotUserCert)
	}
	return name, nil
}

// CheckPublicKey accepts only ECDSA P-256 keys.
func CheckPublicKey(pub crypto.PublicKey) error {
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok || k.Curve != elliptic.P256() {
		return ErrKeyType
	}
	return nil
}

func randomSerial() *big.Int {
	// 128 random bits, positive, as CA/B Forum asks for at least 64.
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		panic(err)
	}
	return n.Add(n, big.NewInt(1))
}

// GenerateKey returns a new ECDSA P-256 key.
func GenerateKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// WriteKeyNew writes key as a PKCS#8 PEM file with mode 0600 and never
// overwrites an existing one.
func WriteKeyNew(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	return atomicfile.WriteNew(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

// WriteCert writes a PEM certificate file atomically.
func WriteCert(path string, cert *x509.Certificate) error {
	return atomicfile.WriteFile(path, pemCert(cert.Raw), 0o644)
}

// PEM returns the PEM encoding of cert.
func PEM(cert *x509.Certificate) []byte { return pemCert(cert.Raw) }

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// ReadKey reads a PKCS#8 PEM ECDSA key.
func ReadKey(path string) (*ecdsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s: no PEM PRIVATE KEY block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: %w", path, ErrKeyType)
	}
	return ek, nil
}

// ReadCert reads a PEM certificate file.
func ReadCert(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s: no PEM CERTIFICATE block", path)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// CreateServerKey makes the login server's TLS key and certificate in dir,
// for hosts. It never overwrites an existing key.
func (c *CA) CreateServerKey(dir string, hosts []string) (*x509.Certificate, error) {
	key, err := GenerateKey()
	if err != nil {
		return nil, err
	}
	cert, err := c.IssueServer(hosts, &key.PublicKey)
	if err != nil {
		return nil, err
	}
	if err := WriteKeyNew(filepath.Join(dir, ServerKeyFile), key); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteNew(filepath.Join(dir, ServerCertFile), pemCert(cert.Raw), 0o644); err != nil {
		return nil, err
	}
	return cert, nil
}

// NodeURI is the URI SAN of a node certificate for the node at addr.
func NodeURI(addr string) *url.URL {
	return &url.URL{Scheme: userURIScheme, Opaque: "node:" + url.PathEscape(addr)}
}

// NodeName is the subject common name of the node certificate for addr.
func NodeName(addr string) string { return "node:" + addr }

// IssueNode returns a certificate for a dedicated super-peer at addr (its
// public "ip:port"), valid for NodeCertValidity. A node presents it on both
// sides of its TLS links.
func (c *CA) IssueNode(addr string, pub crypto.PublicKey) (*x509.Certificate, error) {
	return c.IssueNodeFor(addr, pub, NodeCertValidity)
}

// IssueNodeFor is IssueNode with a validity of its own: a client promoted
// to super-peer gets a short one.
func (c *CA) IssueNodeFor(addr string, pub crypto.PublicKey, validity time.Duration) (*x509.Certificate, error) {
	if err := CheckPublicKey(pub); err != nil {
		return nil, err
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("node address %q: %v", addr, err)
	}
	now := c.now()
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{CommonName: NodeName(addr), Organization: []string{"Soitto nodes"}},
		URIs:         []*url.URL{NodeURI(addr)},
		NotBefore:    now.Add(-clockSkew),
		NotAfter:     now.Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
	}
	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{host}
	}
	return c.issue(tmpl, pub)
}

// NodeCertValidity is how long a node certificate is valid.
const NodeCertValidity = 365 * 24 * time.Hour

// VerifyNode checks that cert is a node certificate issued by the CA in
// roots, valid at now, and returns the address it names. If want is not
// empty the certificate must name that address.
func VerifyNode(roots *x509.CertPool, cert *x509.Certificate, now time.Time, want string) (string, error) {
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return "", fmt.Errorf("%w: valid %s to %s", ErrExpired, cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotNodeCert, err)
	}
	addr, ok := strings.CutPrefix(cert.Subject.CommonName, "node:")
	if !ok || len(cert.URIs) != 1 || cert.URIs[0].String() != NodeURI(addr).String() {
		return "", fmt.Errorf("%w: no node address in it", ErrNotNodeCert)
	}
	if want != "" && addr != want {
		return "", fmt.Errorf("%w: certificate is for %s, not %s", ErrWrongNode, addr, want)
	}
	return addr, nil
}

// CreateNodeKey makes a node key and certificate for addr in dir
// (node.key, node.crt, ca.crt). It never overwrites a key.
func (c *CA) CreateNodeKey(dir, addr string) (*x509.Certificate, error) {
	key, err := GenerateKey()
	if err != nil {
		return nil, err
	}
	cert, err := c.IssueNode(addr, &key.PublicKey)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := WriteKeyNew(filepath.Join(dir, NodeKeyFile), key); err != nil {
		return nil, err
	}
	if err := WriteCert(filepath.Join(dir, NodeCertFile), cert); err != nil {
		return nil, err
	}
	return cert, WriteCert(filepath.Join(dir, CACertFile), c.Cert)
}

// File names in a node's folder.
const (
	NodeKeyFile  = "node.key"
	NodeCertFile = "node.crt"
)
