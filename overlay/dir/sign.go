package dir

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"soitto/overlay/wire"
)

// signedPrefix starts the signed bytes of every record: a version tag and
// a zero byte, so that no other Soitto signature can be replayed as a
// record's.
const signedPrefix = "soitto-record-v1\x00"

// SignedBytes is what a record's signature covers, in the encoding doc.go
// specifies: the prefix "soitto-record-v1" and a zero byte; kind, name,
// payload and cert, each as a 4-byte big-endian length and the bytes;
// then seq as 8 bytes and expires as 8 bytes (two's complement), both big
// endian. The signature field itself is not covered.
func SignedBytes(r *wire.Record) []byte {
	kind, name, payload, cert := r.GetKind(), r.GetName(), r.GetPayload(), r.GetCert()
	b := make([]byte, 0, len(signedPrefix)+4*4+len(kind)+len(name)+len(payload)+len(cert)+2*8)
	b = append(b, signedPrefix...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(kind)))
	b = append(b, kind...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(name)))
	b = append(b, name...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	b = append(b, payload...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(cert)))
	b = append(b, cert...)
	b = binary.BigEndian.AppendUint64(b, r.GetSeq())
	b = binary.BigEndian.AppendUint64(b, uint64(r.GetExpires()))
	return b
}

// Sign sets r.Cert to certDER and r.Signature to key's ECDSA signature
// (ASN.1) over SHA-256 of SignedBytes(r). Set every other field first;
// changing one afterwards invalidates the signature. certDER must hold
// key's public key.
func Sign(r *wire.Record, key *ecdsa.PrivateKey, certDER []byte) error {
	if r == nil || key == nil {
		return errors.New("dir: sign: nil record or key")
	}
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return fmt.Errorf("dir: sign: certificate: %w", err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return fmt.Errorf("%w: signing key does not match the certificate", wire.ErrBadRecord)
	}
	r.Cert = slices.Clone(certDER)
	digest := sha256.Sum256(SignedBytes(r))
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		return fmt.Errorf("dir: sign: %w", err)
	}
	r.Signature = sig
	return nil
}
