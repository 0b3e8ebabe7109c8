package media

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"soitto/login/ca"
)

// ErrIdentity is in the chain of every error that ends a session because
// the other side's DTLS certificate was refused (errors.Is).
var ErrIdentity = errors.New("media: remote identity refused")

// identityError is a refused remote certificate: its own message, and
// ErrIdentity for errors.Is.
type identityError struct{ msg string }

func (e *identityError) Error() string        { return e.msg }
func (e *identityError) Is(target error) bool { return target == ErrIdentity }

func refuse(format string, args ...any) error {
	return &identityError{msg: fmt.Sprintf(format, args...)}
}

// VerifyRemote checks the other side's DTLS certificate (DER): a user
// certificate of the network's CA (roots), valid at now, naming want.
// Errors say which of these failed, in one line, and match ErrIdentity.
func VerifyRemote(der []byte, roots *x509.CertPool, want string, now time.Time) error {
	if len(der) == 0 {
		return refuse("media: the other side showed no certificate")
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return refuse("media: remote certificate: %s", oneLine(err.Error()))
	}
	name, err := ca.VerifyUser(roots, cert, now, "")
	if errors.Is(err, ca.ErrExpired) {
		return refuse("media: remote certificate of %q: %s", cert.Subject.CommonName, oneLine(err.Error()))
	}
	if err != nil {
		return refuse("media: remote certificate not issued by this network's CA: %s", oneLine(err.Error()))
	}
	if name != want {
		return refuse("media: remote certificate names %q, expected %q", name, want)
	}
	return nil
}

// dtlsCertificate checks the user's own certificate before a session uses
// it as its DTLS certificate, so that a misconfiguration fails here, in
// words, rather than as a handshake the other side refuses: a user
// certificate of roots valid at now, with the ECDSA P-256 key that
// cert.PrivateKey holds (the DTLS suites are ECDHE_ECDSA only).
func dtlsCertificate(cert tls.Certificate, roots *x509.CertPool, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	if len(cert.Certificate) == 0 {
		return nil, nil, errors.New("media: Config.Certificate has no certificate")
	}
	leaf := cert.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, nil, fmt.Errorf("media: own certificate: %s", oneLine(err.Error()))
		}
	}
	key, ok := cert.PrivateKey.(*ecdsa.PrivateKey)
	if !ok || key.Curve != elliptic.P256() {
		return nil, nil, fmt.Errorf("media: own key is %T, not ECDSA P-256", cert.PrivateKey)
	}
	if pub, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || !pub.Equal(key.Public()) {
		return nil, nil, errors.New("media: own certificate is not for the given key")
	}
	if _, err := ca.VerifyUser(roots, leaf, now, ""); err != nil {
		return nil, nil, fmt.Errorf("media: own certificate: %s", oneLine(err.Error()))
	}
	return leaf, key, nil
}
