package chat

// Sealed messages for the ring mailbox. This comment is the spec.
//
// A message to a peer who is offline is sealed to the recipient's P-256
// key and signed, inside the seal, by the sender, so that the super-peers
// holding it learn neither its text nor its sender, and the recipient
// knows who sent it and that it was meant for them:
//
//	sealed = magic "SOITTO-MAIL1" (12 bytes) || E (65 bytes) ||
//	         nonce (12 bytes) || AES-256-GCM(k, nonce, deflate(inner),
//	         additional data = magic || E || R)
//	k      = HKDF-SHA256(secret = ECDH(e, R), salt = none,
//	         info = "soitto chat mail v1" || E || R), 32 bytes
//
// where e is a fresh P-256 key with public point E, R the recipient's
// public point (both uncompressed SEC 1), and deflate is RFC 1951
// (compress/flate). The plaintext inside is
//
//	inner = u16 len(cert) || cert || u8 len(sig) || sig || body
//	body  = u8 len(to) || to || id (16 bytes) || seq (u64) ||
//	        floor (u64) || time (i64, Unix ms) || text
//	sig   = ECDSA P-256 (ASN.1) by cert's key over
//	        SHA-256("soitto chat mail v1\x00" || body)
//
// integers big-endian; cert is the sender's user certificate (DER, at
// most 8 KiB), to the recipient's name, text 1 to MaxText bytes of
// UTF-8. The whole sealed message is at most MaxSealed bytes (the ring's
// limit for mail); a longer one waits for a direct session.
//
// A recipient checks, in this order: the size and magic; E is on the
// curve; GCM (a wrong key and a changed byte look the same); that inner
// inflates to at most its limit and decodes; that cert is a user
// certificate of the network, valid at the message's time (a message may
// wait on the ring for longer than the 24-hour certificates last), and
// that this time is neither more than MaxClockSkew ahead of the
// recipient's clock nor older than MaxMailAge; the signature; that to is
// the recipient (a message cannot be re-addressed: re-sealing the same
// inner to someone else does not pass this); the message's limits.

import (
	"bytes"
	"compress/flate"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"soitto/login/ca"
)

const (
	// MaxSealed is the largest sealed message: the ring's limit for the
	// payload of a mail record.
	MaxSealed = 32 << 10
	// MaxMailAge is how old a sealed message may be when it is opened: the
	// ring keeps mail 30 days, and a day more allows for clocks.
	MaxMailAge = 31 * 24 * time.Hour
	// MaxClockSkew is how far ahead of the recipient's clock a sealed
	// message's time may be.
	MaxClockSkew = 5 * time.Minute
)

const (
	mailMagic    = "SOITTO-MAIL1"
	mailInfo     = "soitto chat mail v1"
	mailSigCtx   = "soitto chat mail v1\x00"
	pointLen     = 65
	mailHeader   = len(mailMagic) + pointLen + nonceLen
	maxMailCert  = 8 << 10
	maxMailSig   = 80 // an ASN.1 P-256 signature is at most 72 bytes
	mailBodyHead = 16 + 8 + 8 + 8
	maxInner     = 2 + maxMailCert + 1 + maxMailSig + 1 + MaxPeer + mailBodyHead + MaxText
)

// Seal seals m (its ID, Seq, Floor, Time and Text) for the ring mailbox:
// to the recipient's public key toKey, signed with key, whose user
// certificate is certDER, and addressed to the user named to. It returns
// ErrTooLargeForMailbox if the result would be over MaxSealed.
func Seal(m Message, key *ecdsa.PrivateKey, certDER []byte, to string, toKey *ecdsa.PublicKey) ([]byte, error) {
	if key == nil || toKey == nil {
		return nil, errors.New("chat: seal: no key")
	}
	if err := checkPeer(to); err != nil {
		return nil, fmt.Errorf("chat: seal: %w", err)
	}
	if err := checkMessage(m.Seq, m.Floor, m.Text); err != nil {
		return nil, fmt.Errorf("chat: seal: %w", err)
	}
	if len(certDER) == 0 || len(certDER) > maxMailCert {
		return nil, fmt.Errorf("chat: seal: certificate of %d bytes, want 1 to %d", len(certDER), maxMailCert)
	}
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, fmt.Errorf("chat: seal: certificate: %w", err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, errors.New("chat: seal: the key is not the certificate's")
	}
	r, err := toKey.ECDH()
	if err != nil {
		return nil, fmt.Errorf("chat: seal: recipient key: %w", err)
	}

	body := make([]byte, 0, 1+len(to)+mailBodyHead+len(m.Text))
	body = append(body, byte(len(to)))
	body = append(body, to...)
	body = append(body, m.ID[:]...)
	body = binary.BigEndian.AppendUint64(body, m.Seq)
	body = binary.BigEndian.AppendUint64(body, m.Floor)
	body = binary.BigEndian.AppendUint64(body, uint64(m.Time.UnixMilli()))
	body = append(body, m.Text...)
	sig, err := ecdsa.SignASN1(rand.Reader, key, mailDigest(body))
	if err != nil {
		return nil, fmt.Errorf("chat: seal: %w", err)
	}
	var plain bytes.Buffer
	zw, _ := flate.NewWriter(&plain, flate.BestCompression)
	zw.Write(binary.BigEndian.AppendUint16(nil, uint16(len(certDER))))
	zw.Write(certDER)
	zw.Write([]byte{byte(len(sig))})
	zw.Write(sig)
	zw.Write(body)
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("chat: seal: %w", err)
	}
	if mailHeader+plain.Len()+16 > MaxSealed {
		return nil, fmt.Errorf("%w: %d bytes compressed, limit %d", ErrTooLargeForMailbox, mailHeader+plain.Len()+16, MaxSealed)
	}

	eph, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("chat: seal: %w", err)
	}
	secret, err := eph.ECDH(r)
	if err != nil {
		return nil, fmt.Errorf("chat: seal: %w", err)
	}
	E, R := eph.PublicKey().Bytes(), r.Bytes()
	aead, err := mailAEAD(secret, E, R)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, mailHeader+plain.Len()+aead.Overhead())
	out = append(out, mailMagic...)
	out = append(out, E...)
	out = out[:mailHeader]
	rand.Read(out[len(out)-nonceLen:])
	return aead.Seal(out, out[len(out)-nonceLen:], plain.Bytes(), mailAAD(E, R)), nil
}

// Unseal opens a message Seal made for the user self, whose key is key:
// it returns the message (Peer the sender, Offline set, State
// StateReceived, with Floor), the sender's name and certificate, checked
// against roots at the message's time. Every refusal wraps
// ErrBadEnvelope (or ca's errors about the certificate).
func Unseal(sealed []byte, key *ecdsa.PrivateKey, self string, roots *x509.CertPool, now time.Time) (Message, string, *x509.Certificate, error) {
	bad := func(format string, a ...any) (Message, string, *x509.Certificate, error) {
		return Message{}, "", nil, fmt.Errorf("%w: %s", ErrBadEnvelope, fmt.Sprintf(format, a...))
	}
	if key == nil {
		return bad("no key")
	}
	if len(sealed) > MaxSealed {
		return bad("%d bytes, limit %d", len(sealed), MaxSealed)
	}
	if len(sealed) < mailHeader+16 || string(sealed[:len(mailMagic)]) != mailMagic {
		return bad("not a sealed chat message")
	}
	E := sealed[len(mailMagic) : len(mailMagic)+pointLen]
	eph, err := ecdh.P256().NewPublicKey(E)
	if err != nil {
		return bad("ephemeral key: %v", err)
	}
	priv, err := key.ECDH()
	if err != nil {
		return bad("own key: %v", err)
	}
	secret, err := priv.ECDH(eph)
	if err != nil {
		return bad("%v", err)
	}
	R := priv.PublicKey().Bytes()
	aead, err := mailAEAD(secret, E, R)
	if err != nil {
		return Message{}, "", nil, err
	}
	plain, err := aead.Open(nil, sealed[mailHeader-nonceLen:mailHeader], sealed[mailHeader:], mailAAD(E, R))
	if err != nil {
		return bad("does not decrypt: not sealed to this key, or changed on the way")
	}
	inner, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(plain)), maxInner+1))
	if err != nil {
		return bad("does not inflate: %v", err)
	}
	if len(inner) > maxInner {
		return bad("inflates to more than %d bytes", maxInner)
	}

	if len(inner) < 2 {
		return bad("truncated")
	}
	n := int(binary.BigEndian.Uint16(inner))
	if n == 0 || n > maxMailCert || len(inner) < 2+n+1 {
		return bad("certificate of %d bytes", n)
	}
	certDER, rest := inner[2:2+n], inner[2+n:]
	s := int(rest[0])
	if s == 0 || s > maxMailSig || len(rest) < 1+s {
		return bad("signature of %d bytes", s)
	}
	sig, body := rest[1:1+s], rest[1+s:]
	if len(body) < 1 || len(body) < 1+int(body[0])+mailBodyHead {
		return bad("body truncated")
	}
	t := int(body[0])
	to, b := string(body[1:1+t]), body[1+t:]
	var m Message
	copy(m.ID[:], b)
	m.Seq = binary.BigEndian.Uint64(b[16:])
	m.Floor = binary.BigEndian.Uint64(b[24:])
	m.Time = time.UnixMilli(int64(binary.BigEndian.Uint64(b[32:])))
	m.Text = string(b[mailBodyHead:])

	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return bad("sender's certificate: %v", err)
	}
	switch {
	case m.Time.After(now.Add(MaxClockSkew)):
		return bad("sent at %s, ahead of this clock", m.Time.UTC().Format(time.RFC3339))
	case now.Sub(m.Time) > MaxMailAge:
		return bad("sent at %s, older than %v", m.Time.UTC().Format(time.RFC3339), MaxMailAge)
	}
	sender, err := ca.VerifyUser(roots, cert, m.Time, "")
	if err != nil {
		return Message{}, "", nil, fmt.Errorf("%w: sender: %w", ErrBadEnvelope, err)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !ecdsa.VerifyASN1(pub, mailDigest(body), sig) {
		return bad("the signature by %q does not verify", sender)
	}
	if to != self {
		return bad("addressed to %q, not %q", truncate(to, 40), self)
	}
	if err := checkMessage(m.Seq, m.Floor, m.Text); err != nil {
		return bad("%v", err)
	}
	m.Peer, m.State, m.Offline = sender, StateReceived, true
	return m, sender, cert, nil
}

func mailDigest(body []byte) []byte {
	h := sha256.New()
	h.Write([]byte(mailSigCtx))
	h.Write(body)
	return h.Sum(nil)
}

func mailAAD(E, R []byte) []byte {
	return append(append([]byte(mailMagic), E...), R...)
}

func mailAEAD(secret, E, R []byte) (cipher.AEAD, error) {
	k, err := hkdf.Key(sha256.New, secret, nil, mailInfo+string(E)+string(R), 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
