package profile

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"soitto/bootstrap"
	"soitto/internal/atomicfile"
	"soitto/login/ca"
)

// File names in a profile folder.
const (
	InfoFile    = "profile.json"
	KeyFile     = "identity.key"
	CertFile    = "cert.pem"
	NetworkFile = "network.json"
)

const maxInfoFile = 16 << 10

// Profile is an opened profile folder.
type Profile struct {
	Dir      string
	Username string
	Created  time.Time
}

type info struct {
	Version  int       `json:"version"`
	Username string    `json:"username"`
	Created  time.Time `json:"created"`
}

// Create makes a profile for username in dir holding key, encrypted under
// password, and a copy of the network file n. It refuses if dir already
// holds an identity key.
func Create(dir, username, password string, kdf KDF, n *bootstrap.Network, key *ecdsa.PrivateKey) (*Profile, error) {
	if _, err := os.Stat(filepath.Join(dir, KeyFile)); err == nil {
		return nil, fmt.Errorf("%s: %w", dir, ErrExists)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	sealed, err := sealKey(key, password, kdf)
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteNew(filepath.Join(dir, KeyFile), sealed, 0o600); err != nil {
		return nil, err
	}
	p := &Profile{Dir: dir, Username: username, Created: time.Now().UTC().Truncate(time.Second)}
	b, _ := json.MarshalIndent(info{Version: 1, Username: username, Created: p.Created}, "", "  ")
	if err := atomicfile.WriteFile(filepath.Join(dir, InfoFile), append(b, '\n'), 0o600); err != nil {
		return nil, err
	}
	if err := p.SaveNetwork(n); err != nil {
		return nil, err
	}
	return p, nil
}

// Open reads the profile in dir.
func Open(dir string) (*Profile, error) {
	data, err := readLimited(filepath.Join(dir, InfoFile), maxInfoFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", dir, ErrNoProfile)
	}
	if err != nil {
		return nil, err
	}
	var in info
	if err := json.Unmarshal(data, &in); err != nil || in.Version != 1 || in.Username == "" {
		return nil, fmt.Errorf("%s: unreadable %s", dir, InfoFile)
	}
	return &Profile{Dir: dir, Username: in.Username, Created: in.Created}, nil
}

// Unlock decrypts the identity key with password.
func (p *Profile) Unlock(password string) (*ecdsa.PrivateKey, error) {
	data, err := readLimited(filepath.Join(p.Dir, KeyFile), maxKeyFile)
	if err != nil {
		return nil, err
	}
	kf, err := parseKeyFile(data)
	if err != nil {
		return nil, err
	}
	return kf.open(password)
}

// Certificate returns the certificate saved by the last login.
func (p *Profile) Certificate() (*x509.Certificate, error) {
	data, err := readLimited(filepath.Join(p.Dir, CertFile), 64<<10)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoCertificate
	}
	if err != nil {
		return nil, err
	}
	return bootstrap.ParseCertificatePEM(data)
}

// SaveCertificate replaces the saved certificate.
func (p *Profile) SaveCertificate(cert *x509.Certificate) error {
	return ca.WriteCert(filepath.Join(p.Dir, CertFile), cert)
}

// Network returns the profile's network file, if it has one.
func (p *Profile) Network() (*bootstrap.Network, error) {
	return bootstrap.Load(filepath.Join(p.Dir, NetworkFile))
}

// NetworkPath is where the profile keeps its network file.
func (p *Profile) NetworkPath() string { return filepath.Join(p.Dir, NetworkFile) }

// SaveNetwork keeps a copy of the network file in use.
func (p *Profile) SaveNetwork(n *bootstrap.Network) error {
	return n.Save(p.NetworkPath())
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return bytes.Clone(data), nil
}
