package signal

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"soitto/login/ca"
	"soitto/overlay/wire"
)

// Limits every signal must meet; doc.go lists them with the rest of the
// rules.
const (
	MaxPayload   = 16 << 10 // bytes of Signal.payload
	MaxKind      = 32       // bytes of Signal.kind
	MaxName      = 128      // bytes of Signal.from and Signal.to: 32 runes of up to 4 bytes
	MaxCert      = 4 << 10  // bytes of Signal.cert (DER)
	MaxSignature = 128      // bytes of Signal.signature (ASN.1 ECDSA P-256 is at most 72)
	NonceSize    = 16       // bytes of Signal.nonce, exactly

	// MaxSkew is how far a signal's timestamp may lie from the receiver's
	// clock, either way.
	MaxSkew = 2 * time.Minute
)

// signedPrefix starts the signed bytes of every signal: a version tag and
// a zero byte. It differs from a directory record's "soitto-record-v1",
// so neither signature can be replayed as the other.
const signedPrefix = "soitto-signal-v1\x00"

// SignedBytes is what a signal's signature covers, in the encoding doc.go
// specifies: the prefix "soitto-signal-v1" and a zero byte; from, to,
// kind, payload, cert and nonce, each as a 4-byte big-endian length and
// the bytes; then timestamp_ms as 8 bytes big endian (two's complement).
// The signature field itself is not covered.
func SignedBytes(s *wire.Signal) []byte {
	fields := [...][]byte{
		[]byte(s.GetFrom()), []byte(s.GetTo()), []byte(s.GetKind()),
		s.GetPayload(), s.GetCert(), s.GetNonce(),
	}
	n := len(signedPrefix) + 8
	for _, f := range fields {
		n += 4 + len(f)
	}
	b := make([]byte, 0, n)
	b = append(b, signedPrefix...)
	for _, f := range fields {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return binary.BigEndian.AppendUint64(b, uint64(s.GetTimestampMs()))
}

// New returns a signal from user from to user to, of the given kind and
// payload, stamped with now and a fresh random nonce, and signed with key.
// certDER is from's user certificate and must hold key's public key; New
// checks that it names from (without checking its chain) so that a
// mistake shows here and not at the receiver. Sizes are checked as Check
// does (ErrTooLarge, ErrBadRecord).
func New(from, to, kind string, payload []byte, key *ecdsa.PrivateKey, certDER []byte, now time.Time) (*wire.Signal, error) {
	if key == nil {
		return nil, errors.New("signal: new: nil key")
	}
	s := &wire.Signal{
		From:        from,
		To:          to,
		TimestampMs: now.UnixMilli(),
		Nonce:       make([]byte, NonceSize),
		Kind:        kind,
		Payload:     slices.Clone(payload),
		Cert:        slices.Clone(certDER),
		Signature:   make([]byte, 1), // placeholder for checkShape
	}
	if err := checkShape(s); err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, wire.Errorf(wire.ErrBadRecord, "certificate: %v", err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, wire.Errorf(wire.ErrBadRecord, "signing key does not match the certificate")
	}
	if name := cert.Subject.CommonName; name != from || len(cert.URIs) != 1 || cert.URIs[0].String() != ca.UserURI(from).String() {
		return nil, wire.Errorf(wire.ErrForbidden, "signal from %q with the certificate of %q", from, name)
	}
	_, _ = rand.Read(s.Nonce) // never fails (crypto/rand since Go 1.24)
	digest := sha256.Sum256(SignedBytes(s))
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		return nil, fmt.Errorf("signal: new: %w", err)
	}
	s.Signature = sig
	return s, nil
}

// Clean returns a copy of s holding only the fields the schema defines:
// unknown fields, which the signature does not cover, are left behind, so
// a relay cannot make a signal carry more than its sender signed. Clean(nil)
// is nil.
func Clean(s *wire.Signal) *wire.Signal {
	if s == nil {
		return nil
	}
	return &wire.Signal{
		From:        s.From,
		To:          s.To,
		TimestampMs: s.TimestampMs,
		Nonce:       slices.Clone(s.Nonce),
		Kind:        s.Kind,
		Payload:     slices.Clone(s.Payload),
		Cert:        slices.Clone(s.Cert),
		Signature:   slices.Clone(s.Signature),
	}
}
