package media

import (
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"soitto/login/ca"
)

// VerifyRemote checks the other side's DTLS certificate (DER): a user
// certificate of the network's CA (roots), valid at now, naming want.
func VerifyRemote(der []byte, roots *x509.CertPool, want string, now time.Time) error {
	if len(der) == 0 {
		return errors.New("media: the other side showed no certificate")
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("media: remote certificate: %v", err)
	}
	name, err := ca.VerifyUser(roots, cert, now, "")
	if err != nil {
		return fmt.Errorf("media: remote certificate not issued by this network's CA: %v", err)
	}
	if name != want {
		return fmt.Errorf("media: remote certificate names %q, expected %q", name, want)
	}
	return nil
}
