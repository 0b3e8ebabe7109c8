package chat

import (
	"bytes"
	"compress/flate"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"io"
	"testing"
)

// openOuter removes the seal to key and returns the compressed inner.
func openOuter(t *testing.T, sealed []byte, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	E := sealed[len(mailMagic) : len(mailMagic)+pointLen]
	eph, err := ecdh.P256().NewPublicKey(E)
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := key.ECDH()
	secret, _ := priv.ECDH(eph)
	R := priv.PublicKey().Bytes()
	aead, _ := mailAEAD(secret, E, R)
	plain, err := aead.Open(nil, sealed[mailHeader-nonceLen:mailHeader], sealed[mailHeader:], mailAAD(E, R))
	if err != nil {
		t.Fatal(err)
	}
	return plain
}

// sealOuter seals a compressed inner to pub, as Seal does.
func sealOuter(t *testing.T, plain []byte, pub *ecdsa.PublicKey) []byte {
	t.Helper()
	r, _ := pub.ECDH()
	eph, _ := ecdh.P256().GenerateKey(rand.Reader)
	secret, _ := eph.ECDH(r)
	E, R := eph.PublicKey().Bytes(), r.Bytes()
	aead, _ := mailAEAD(secret, E, R)
	out := append(append([]byte(mailMagic), E...), make([]byte, nonceLen)...)
	rand.Read(out[mailHeader-nonceLen:])
	return aead.Seal(out, out[mailHeader-nonceLen:], plain, mailAAD(E, R))
}

func inflate(t *testing.T, b []byte) []byte {
	t.Helper()
	out, err := io.ReadAll(flate.NewReader(bytes.NewReader(b)))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func deflate(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.DefaultCompression)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}
