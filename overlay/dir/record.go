package dir

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"soitto/login/ca"
	"soitto/overlay"
	"soitto/overlay/wire"
)

// Verify checks that r may be stored and believed at now: its shape and
// sizes, its expiry, its certificate (a user certificate of the CA in
// roots, valid now), that the certificate's user may write r's name, and
// the signature. It checks in that order and returns the first failure,
// wrapping the wire sentinel that names it: ErrBadRecord or ErrTooLarge
// for the shape, ErrExpired or ErrBadRecord for the expiry, ErrBadRecord
// for the certificate and the signature, ErrForbidden for the owner. A
// mail (kind "mail", seq 1) is anonymous: it has no certificate or
// signature, and its name's id must be its payload's hash instead.
func Verify(r *wire.Record, roots *x509.CertPool, now time.Time, lim Limits) error {
	_, err := check(r, roots, now, lim)
	return err
}

// RingKey is the ring key a record of kind is stored under: SHA-1 of its
// name (overlay.KeyOf), except for mail, whose "<recipient>/<id>" is
// stored under SHA-1 of the recipient, so that a mailbox lives with its
// owner's presence record and one replica set can list it.
func RingKey(kind, name string) overlay.ID {
	if kind == KindMail {
		if i := strings.IndexByte(name, '/'); i >= 0 {
			return overlay.KeyOf(name[:i])
		}
	}
	return overlay.KeyOf(name)
}

// checked is what check learnt about a valid record.
type checked struct {
	key   overlay.ID // ring key: RingKey(kind, name)
	owner string     // the certificate's username; "" for an anonymous mail
	until time.Time  // expiry, or the certificate's end if sooner
}

func check(r *wire.Record, roots *x509.CertPool, now time.Time, lim Limits) (checked, error) {
	if r == nil {
		return checked{}, wire.Errorf(wire.ErrBadRecord, "no record")
	}
	rule, err := checkShape(r, lim)
	if err != nil {
		return checked{}, err
	}
	// Expiry, compared in whole seconds as it is sent.
	if now.Unix() >= r.Expires {
		return checked{}, wire.Errorf(wire.ErrExpired, "record %s/%q expired at %d", r.Kind, r.Name, r.Expires)
	}
	if limit := now.Add(lim.ttl(rule) + clockSkew).Unix(); r.Expires > limit {
		return checked{}, wire.Errorf(wire.ErrBadRecord, "record %s/%q expires %d s from now, limit %v",
			r.Kind, r.Name, r.Expires-now.Unix(), lim.ttl(rule))
	}
	if rule.mail && r.Seq == MailSeq {
		// Anonymous: checkMail checked that its id is its payload's
		// hash, so no one can swap the payload under a name.
		return checked{key: RingKey(r.Kind, r.Name), until: time.Unix(r.Expires, 0)}, nil
	}
	// Certificate.
	if roots == nil {
		return checked{}, wire.Errorf(wire.ErrBadRecord, "no CA to check the certificate against")
	}
	cert, err := x509.ParseCertificate(r.Cert)
	if err != nil {
		return checked{}, wire.Errorf(wire.ErrBadRecord, "certificate: %v", err)
	}
	owner, err := ca.VerifyUser(roots, cert, now, "")
	if err != nil {
		return checked{}, fmt.Errorf("%w: certificate: %w", wire.ErrBadRecord, err)
	}
	// Ownership.
	if rule.ownerIsName && owner != r.Name {
		return checked{}, wire.Errorf(wire.ErrForbidden, "%s record for %q signed by %q", r.Kind, r.Name, owner)
	}
	if rule.mail {
		if recipient, _, _ := strings.Cut(r.Name, "/"); owner != recipient {
			return checked{}, wire.Errorf(wire.ErrForbidden, "tombstone in the mailbox of %q signed by %q", recipient, owner)
		}
	}
	// Signature.
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || ca.CheckPublicKey(pub) != nil {
		return checked{}, wire.Errorf(wire.ErrBadRecord, "certificate key is not ECDSA P-256")
	}
	digest := sha256.Sum256(SignedBytes(r))
	if !ecdsa.VerifyASN1(pub, digest[:], r.Signature) {
		return checked{}, wire.Errorf(wire.ErrBadRecord, "signature of %s/%q does not verify", r.Kind, r.Name)
	}
	until := time.Unix(r.Expires, 0)
	if cert.NotAfter.Before(until) {
		until = cert.NotAfter
	}
	return checked{key: RingKey(r.Kind, r.Name), owner: owner, until: until}, nil
}

// checkShape checks sizes, that the kind is known, and a mail's form
// (checkMail).
func checkShape(r *wire.Record, lim Limits) (kindRule, error) {
	switch {
	case r.Kind == "":
		return kindRule{}, wire.Errorf(wire.ErrBadRecord, "no kind")
	case len(r.Kind) > MaxKind:
		return kindRule{}, wire.Errorf(wire.ErrTooLarge, "kind of %d bytes, limit %d", len(r.Kind), MaxKind)
	case !utf8.ValidString(r.Kind):
		return kindRule{}, wire.Errorf(wire.ErrBadRecord, "kind is not UTF-8")
	}
	rule, ok := kinds[r.Kind]
	if !ok {
		return kindRule{}, wire.Errorf(wire.ErrBadRecord, "unknown kind %q", r.Kind)
	}
	switch {
	case r.Name == "":
		return rule, wire.Errorf(wire.ErrBadRecord, "no name")
	case len(r.Name) > MaxName:
		return rule, wire.Errorf(wire.ErrTooLarge, "name of %d bytes, limit %d", len(r.Name), MaxName)
	case !utf8.ValidString(r.Name):
		return rule, wire.Errorf(wire.ErrBadRecord, "name is not UTF-8")
	case len(r.Payload) > lim.payload(rule):
		return rule, wire.Errorf(wire.ErrTooLarge, "%s payload of %d bytes, limit %d", r.Kind, len(r.Payload), lim.payload(rule))
	}
	if rule.mail {
		if err := checkMail(r); err != nil {
			return rule, err
		}
		if r.Seq == MailSeq {
			return rule, nil // anonymous: no certificate, no signature
		}
	}
	switch {
	case len(r.Cert) == 0:
		return rule, wire.Errorf(wire.ErrBadRecord, "no certificate")
	case len(r.Cert) > MaxCert:
		return rule, wire.Errorf(wire.ErrTooLarge, "certificate of %d bytes, limit %d", len(r.Cert), MaxCert)
	case len(r.Signature) == 0:
		return rule, wire.Errorf(wire.ErrBadRecord, "no signature")
	case len(r.Signature) > MaxSignature:
		return rule, wire.Errorf(wire.ErrTooLarge, "signature of %d bytes, limit %d", len(r.Signature), MaxSignature)
	}
	return rule, nil
}

// cleanCopy copies r's fields and nothing else: unknown fields, which the
// signature does not cover, are left behind, so a relay cannot make a
// stored record grow.
func cleanCopy(r *wire.Record) *wire.Record {
	return &wire.Record{
		Kind:      r.Kind,
		Name:      r.Name,
		Seq:       r.Seq,
		Expires:   r.Expires,
		Payload:   slices.Clone(r.Payload),
		Cert:      slices.Clone(r.Cert),
		Signature: slices.Clone(r.Signature),
	}
}
