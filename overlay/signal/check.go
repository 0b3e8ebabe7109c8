package signal

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"soitto/login/ca"
	"soitto/overlay/wire"
)

// Check reports whether s may be believed at now: its shape and sizes,
// its timestamp (within MaxSkew of now), its certificate (a user
// certificate of the CA in roots, valid at now), that the certificate
// names s.From, and the signature. It checks in that order, cheapest
// first, and returns the first failure as one line wrapping the wire
// sentinel that names it: ErrTooLarge or ErrBadRecord for the shape,
// ErrReplayed for the timestamp, ErrExpired or ErrBadRecord for the
// certificate, ErrForbidden for the sender, ErrBadRecord for the
// signature.
//
// Check does not look at the nonce beyond its size, nor at s.To: a
// receiver uses a Verifier, which does.
func Check(s *wire.Signal, roots *x509.CertPool, now time.Time) error {
	if err := checkShape(s); err != nil {
		return err
	}
	if err := checkTime(s, now); err != nil {
		return err
	}
	return checkAuth(s, roots, now)
}

// checkShape checks that every field is present and within its limit.
func checkShape(s *wire.Signal) error {
	if s == nil {
		return wire.Errorf(wire.ErrBadRecord, "no signal")
	}
	if err := checkString("from", s.From, MaxName); err != nil {
		return err
	}
	if err := checkString("to", s.To, MaxName); err != nil {
		return err
	}
	if err := checkString("kind", s.Kind, MaxKind); err != nil {
		return err
	}
	switch {
	case len(s.Payload) > MaxPayload:
		return wire.Errorf(wire.ErrTooLarge, "%q payload of %d bytes, limit %d", s.Kind, len(s.Payload), MaxPayload)
	case len(s.Nonce) != NonceSize:
		return wire.Errorf(wire.ErrBadRecord, "nonce of %d bytes, want %d", len(s.Nonce), NonceSize)
	case len(s.Cert) == 0:
		return wire.Errorf(wire.ErrBadRecord, "no certificate")
	case len(s.Cert) > MaxCert:
		return wire.Errorf(wire.ErrTooLarge, "certificate of %d bytes, limit %d", len(s.Cert), MaxCert)
	case len(s.Signature) == 0:
		return wire.Errorf(wire.ErrBadRecord, "no signature")
	case len(s.Signature) > MaxSignature:
		return wire.Errorf(wire.ErrTooLarge, "signature of %d bytes, limit %d", len(s.Signature), MaxSignature)
	}
	return nil
}

func checkString(field, v string, limit int) error {
	switch {
	case v == "":
		return wire.Errorf(wire.ErrBadRecord, "no %s", field)
	case len(v) > limit:
		return wire.Errorf(wire.ErrTooLarge, "%s of %d bytes, limit %d", field, len(v), limit)
	case !utf8.ValidString(v):
		return wire.Errorf(wire.ErrBadRecord, "%s is not UTF-8", field)
	}
	return nil
}

// checkTime refuses a timestamp more than MaxSkew from now, compared in
// whole milliseconds as it is sent.
func checkTime(s *wire.Signal, now time.Time) error {
	nowMs, ts := now.UnixMilli(), s.TimestampMs
	skew := MaxSkew.Milliseconds()
	switch {
	case ts < nowMs-skew:
		return wire.Errorf(wire.ErrReplayed, "%q signal from %q is %d ms old, limit %v", s.Kind, s.From, nowMs-ts, MaxSkew)
	case ts > nowMs+skew:
		return wire.Errorf(wire.ErrReplayed, "%q signal from %q is %d ms in the future, limit %v", s.Kind, s.From, ts-nowMs, MaxSkew)
	}
	return nil
}

// checkAuth checks the certificate, the sender and the signature.
func checkAuth(s *wire.Signal, roots *x509.CertPool, now time.Time) error {
	if roots == nil {
		return wire.Errorf(wire.ErrBadRecord, "no CA to check the certificate against")
	}
	cert, err := x509.ParseCertificate(s.Cert)
	if err != nil {
		return wire.Errorf(wire.ErrBadRecord, "certificate: %v", err)
	}
	owner, err := ca.VerifyUser(roots, cert, now, "")
	if errors.Is(err, ca.ErrExpired) {
		return fmt.Errorf("%w: certificate: %w", wire.ErrExpired, err)
	} else if err != nil {
		return fmt.Errorf("%w: certificate: %w", wire.ErrBadRecord, err)
	}
	if owner != s.From {
		return wire.Errorf(wire.ErrForbidden, "signal from %q signed by %q", s.From, owner)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || ca.CheckPublicKey(pub) != nil {
		return wire.Errorf(wire.ErrBadRecord, "certificate key is not ECDSA P-256")
	}
	digest := sha256.Sum256(SignedBytes(s))
	if !ecdsa.VerifyASN1(pub, digest[:], s.Signature) {
		return wire.Errorf(wire.ErrBadRecord, "signature of %q signal from %q does not verify", s.Kind, s.From)
	}
	return nil
}
