package profile

// The buddy list file, buddies.soitto, version 1. This comment is the spec.
//
// The file is a magic line and one JSON object on one line, at most 4 MiB
// in all:
//
//	SOITTO-BUDDIES 1\n
//	{"kdf":"argon2id","params":{"memory":M,"time":T,"threads":P},"salt":B64,
//	 "check":B64,"nonce":B64,"ciphertext":B64,"cert":B64,"sig":B64}\n
//
// (shown on two lines here). Fields come in this order, B64 is standard
// base64 with padding, and the object is spelled exactly as Go's
// encoding/json writes it; a reader refuses any other spelling of the same
// values, so that no byte of the file escapes the signature.
//
//	key        = argon2id(password, salt, T, M KiB, P threads, 32 bytes)
//	             salt 8 to 64 bytes; M 8 to 1<<20, T 1 to 16, P 1 to 16
//	             (identity.key's bounds, so that a hostile header cannot
//	             make the KDF eat memory)
//	check      = HMAC-SHA256(key, "soitto buddies check"), first 16 bytes:
//	             it tells a wrong password from a damaged file
//	nonce      = 12 random bytes
//	ciphertext = AES-256-GCM(key, nonce, plaintext,
//	             additional data = the magic line)
//	cert       = DER of the signer's user certificate
//	sig        = ECDSA P-256 signature (ASN.1) by cert's key over
//	             SHA-256("soitto buddies v1\x00" || f(magic line) ||
//	             f("argon2id") || u32(M) || u32(T) || u8(P) || f(salt) ||
//	             f(check) || f(nonce) || f(ciphertext) || f(cert)),
//	             where f(x) = u32(len(x)) || x, integers big-endian.
//
// The plaintext is one JSON object, unknown fields refused:
//
//	{"version":N,"owner":"alice","privacy":"contacts"|"everyone",
//	 "buddies":[{"name":"bob","state":"contact"|"requested"|"pending"|"blocked",
//	 "added":RFC 3339,"message":"…","key":B64,"new_key":B64},…]}
//
// with at most MaxContacts buddies of distinct names (1 to 128 bytes of
// UTF-8, no white space, '/' or '\'), messages of at most 200 bytes and
// keys of at most 200 bytes.
//
// A reader checks, in this order: the size and the magic line; the header
// (its shape, bounds and spelling); the signature, then that cert chains
// to the network's CA and names the user (at cert.NotBefore+1s: an expired
// certificate is fine, the list outlives the 24-hour certificates); only
// then runs the KDF (so a file nobody signed never costs an argon2 run);
// then check (wrong password); then GCM; then the plaintext, whose owner
// must be the user; and, for the profile's own file, that version is not
// lower than the one recorded in buddies.seen. (Profile.ListKey, which has
// no roots to check the signature with, derives from the unsigned header:
// there the bounds alone keep the KDF's cost in check.)

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"soitto/login/ca"
)

const (
	buddiesMagic    = "SOITTO-BUDDIES 1\n"
	buddiesSigCtx   = "soitto buddies v1\x00"
	buddiesCheckCtx = "soitto buddies check"
	maxBuddiesFile  = 4 << 20
	maxBuddyMessage = 200
	maxBuddyKey     = 200
	maxBuddiesCert  = 8 << 10
	maxBuddiesSig   = 80 // an ASN.1 P-256 signature is at most 72 bytes
	listSaltLen     = 16
	listCheckLen    = 16
	listNonceLen    = 12
)

// buddiesHeader is the JSON object after the magic line; its field order
// is the file's.
type buddiesHeader struct {
	KDF        string `json:"kdf"`
	Params     KDF    `json:"params"`
	Salt       []byte `json:"salt"`
	Check      []byte `json:"check"`
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
	Cert       []byte `json:"cert"`
	Sig        []byte `json:"sig"`
}

// buddiesPlain is the decrypted content.
type buddiesPlain struct {
	Version uint64  `json:"version"`
	Owner   string  `json:"owner"`
	Privacy string  `json:"privacy"`
	Buddies []Buddy `json:"buddies"`
}

// encode is the whole file for h.
func (h *buddiesHeader) encode() []byte {
	b, err := json.Marshal(h)
	if err != nil {
		panic(err) // only strings, integers and byte slices
	}
	return append(append([]byte(buddiesMagic), b...), '\n')
}

// digest is what sig signs.
func (h *buddiesHeader) digest() []byte {
	d := sha256.New()
	d.Write([]byte(buddiesSigCtx))
	field := func(b []byte) {
		d.Write(binary.BigEndian.AppendUint32(nil, uint32(len(b))))
		d.Write(b)
	}
	field([]byte(buddiesMagic))
	field([]byte(h.KDF))
	d.Write(binary.BigEndian.AppendUint32(nil, h.Params.Memory))
	d.Write(binary.BigEndian.AppendUint32(nil, h.Params.Time))
	d.Write([]byte{h.Params.Threads})
	for _, f := range [][]byte{h.Salt, h.Check, h.Nonce, h.Ciphertext, h.Cert} {
		field(f)
	}
	return d.Sum(nil)
}

// decodeBuddies parses a whole file and checks its shape, bounds and
// spelling; it does no cryptography.
func decodeBuddies(data []byte) (*buddiesHeader, error) {
	if len(data) > maxBuddiesFile {
		return nil, refused(ErrBadBuddies, "bad buddy list: larger than %d bytes", maxBuddiesFile)
	}
	rest, ok := bytes.CutPrefix(data, []byte(buddiesMagic))
	if !ok {
		if v, ok := bytes.CutPrefix(data, []byte("SOITTO-BUDDIES ")); ok {
			v, _, _ = bytes.Cut(v, []byte("\n"))
			return nil, refused(ErrBadBuddies, "bad buddy list: format %q, this Soitto reads 1", oneLine(string(v)))
		}
		return nil, refused(ErrBadBuddies, "bad buddy list: not a Soitto buddy list (no SOITTO-BUDDIES 1 line)")
	}
	damaged := func(format string, a ...any) error {
		return refused(ErrBuddiesTampered, "the buddy list's signature cannot be checked, its header is damaged (%s): it was changed outside Soitto", fmt.Sprintf(format, a...))
	}
	dec := json.NewDecoder(bytes.NewReader(rest))
	dec.DisallowUnknownFields()
	var h buddiesHeader
	if err := dec.Decode(&h); err != nil {
		return nil, damaged("%s", oneLine(err.Error()))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, damaged("data after the header")
	}
	if err := checkKDF(h.KDF, h.Params); err != nil {
		return nil, damaged("%v", err)
	}
	switch {
	case len(h.Salt) < 8 || len(h.Salt) > 64:
		return nil, damaged("salt of %d bytes", len(h.Salt))
	case len(h.Check) != listCheckLen:
		return nil, damaged("check of %d bytes, want %d", len(h.Check), listCheckLen)
	case len(h.Nonce) != listNonceLen:
		return nil, damaged("nonce of %d bytes, want %d", len(h.Nonce), listNonceLen)
	case len(h.Ciphertext) < 16:
		return nil, damaged("ciphertext of %d bytes", len(h.Ciphertext))
	case len(h.Cert) == 0 || len(h.Cert) > maxBuddiesCert:
		return nil, damaged("certificate of %d bytes", len(h.Cert))
	case len(h.Sig) == 0 || len(h.Sig) > maxBuddiesSig:
		return nil, damaged("signature of %d bytes", len(h.Sig))
	}
	if !bytes.Equal(h.encode(), data) {
		return nil, refused(ErrBuddiesTampered, "the buddy list's signature does not cover its bytes as written: it was changed outside Soitto")
	}
	return &h, nil
}

// checkKDF applies identity.key's bounds (parseKeyFile) to a header's.
func checkKDF(name string, p KDF) error {
	switch {
	case name != "argon2id":
		return fmt.Errorf("kdf %q, want argon2id", oneLine(name))
	case p.Memory < 8 || p.Memory > 1<<20:
		return fmt.Errorf("argon2id memory %d KiB out of range", p.Memory)
	case p.Time < 1 || p.Time > 16:
		return fmt.Errorf("argon2id time %d out of range", p.Time)
	case p.Threads < 1 || p.Threads > 16:
		return fmt.Errorf("argon2id threads %d out of range", p.Threads)
	}
	return nil
}

// verify checks h's signature, then that its certificate is one the CA in
// roots issued for user, expired or not.
func (h *buddiesHeader) verify(roots *x509.CertPool, user string) error {
	cert, err := x509.ParseCertificate(h.Cert)
	if err != nil {
		return refused(ErrBuddiesTampered, "the buddy list's signature cannot be checked, its header is damaged (certificate: %s): it was changed outside Soitto", oneLine(err.Error()))
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || ca.CheckPublicKey(pub) != nil || !ecdsa.VerifyASN1(pub, h.digest(), h.Sig) {
		return refused(ErrBuddiesTampered, "%s", ErrBuddiesTampered.Error())
	}
	// The list outlives the 24-hour certificates: check the chain as of
	// the moment the certificate was made.
	name, err := ca.VerifyUser(roots, cert, cert.NotBefore.Add(time.Second), "")
	if err != nil {
		return refused(ErrBuddiesTampered, "the buddy list's signature is by a certificate this network did not issue: it was changed outside Soitto")
	}
	if name != user {
		return refused(ErrBuddiesTampered, "the buddy list's signature is %s's, not %s's: it was copied from another profile", oneLine(name), oneLine(user))
	}
	return nil
}

// open decrypts h with k (whose salt and parameters are h's) and checks
// the content, which must belong to owner.
func (h *buddiesHeader) open(k *ListKey, owner string) (buddiesPlain, error) {
	if !hmac.Equal(k.check(), h.Check) {
		return buddiesPlain{}, refused(ErrBuddiesPassword, "%s", ErrBuddiesPassword.Error())
	}
	pt, err := k.aead().Open(nil, h.Nonce, h.Ciphertext, []byte(buddiesMagic))
	if err != nil {
		return buddiesPlain{}, refused(ErrBuddiesTampered, "the buddy list's signature verifies but its content does not decrypt: Soitto did not seal it")
	}
	pl, err := parsePlain(pt)
	if err != nil {
		return buddiesPlain{}, err
	}
	if pl.Owner != owner {
		return buddiesPlain{}, refused(ErrBadBuddies, "bad buddy list: it is %q's list, not %q's", oneLine(pl.Owner), oneLine(owner))
	}
	return pl, nil
}

// sealBuddies makes the file for l, owned by the user cert names.
func sealBuddies(l BuddyList, k *ListKey, key *ecdsa.PrivateKey, cert *x509.Certificate) ([]byte, error) {
	if key == nil || cert == nil || k == nil {
		return nil, fmt.Errorf("sealing the buddy list: a key, a certificate and a list key are needed")
	}
	owner, err := ca.UserName(cert)
	if err != nil {
		return nil, err
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("sealing the buddy list: the identity key is not the certificate's")
	}
	pl := buddiesPlain{Version: l.Version, Owner: owner, Privacy: l.Privacy, Buddies: l.Buddies}
	if pl.Privacy == "" {
		pl.Privacy = privacyContacts
	}
	if pl.Buddies == nil {
		pl.Buddies = []Buddy{}
	}
	if err := pl.validate(); err != nil {
		return nil, err
	}
	pt, err := json.Marshal(pl)
	if err != nil {
		return nil, err
	}
	h := &buddiesHeader{KDF: "argon2id", Params: k.kdf, Salt: k.salt, Check: k.check(), Nonce: make([]byte, listNonceLen), Cert: cert.Raw}
	rand.Read(h.Nonce)
	h.Ciphertext = k.aead().Seal(nil, h.Nonce, pt, []byte(buddiesMagic))
	if h.Sig, err = ecdsa.SignASN1(rand.Reader, key, h.digest()); err != nil {
		return nil, err
	}
	out := h.encode()
	if len(out) > maxBuddiesFile {
		return nil, refused(ErrBadBuddies, "bad buddy list: it would be %d bytes, limit %d", len(out), maxBuddiesFile)
	}
	return out, nil
}

// parsePlain decodes decrypted content and checks its bounds.
func parsePlain(pt []byte) (buddiesPlain, error) {
	dec := json.NewDecoder(bytes.NewReader(pt))
	dec.DisallowUnknownFields()
	var pl buddiesPlain
	if err := dec.Decode(&pl); err != nil {
		return buddiesPlain{}, refused(ErrBadBuddies, "bad buddy list: content: %s", oneLine(err.Error()))
	}
	if _, err := dec.Token(); err != io.EOF {
		return buddiesPlain{}, refused(ErrBadBuddies, "bad buddy list: data after the content")
	}
	if err := pl.validate(); err != nil {
		return buddiesPlain{}, err
	}
	return pl, nil
}

func (pl *buddiesPlain) validate() error {
	bad := func(format string, a ...any) error {
		return refused(ErrBadBuddies, "bad buddy list: %s", fmt.Sprintf(format, a...))
	}
	if pl.Privacy != "" && pl.Privacy != privacyContacts && pl.Privacy != privacyEveryone {
		return bad("privacy %q, want %s or %s", oneLine(pl.Privacy), privacyContacts, privacyEveryone)
	}
	if len(pl.Buddies) > MaxContacts {
		return bad("%d buddies, at most %d", len(pl.Buddies), MaxContacts)
	}
	seen := make(map[string]bool, len(pl.Buddies))
	for _, b := range pl.Buddies {
		switch {
		case b.Name == "" || len(b.Name) > maxContactName || !utf8.ValidString(b.Name) || strings.ContainsAny(b.Name, " \t\r\n/\\"):
			return bad("buddy name %q", oneLine(b.Name))
		case seen[b.Name]:
			return bad("%q listed twice", b.Name)
		case b.State != BuddyContact && b.State != BuddyRequested && b.State != BuddyPending && b.State != BuddyBlocked:
			return bad("%s: state %q", b.Name, oneLine(string(b.State)))
		case len(b.Message) > maxBuddyMessage || !utf8.ValidString(b.Message):
			return bad("%s: a message of %d bytes, at most %d of UTF-8", b.Name, len(b.Message), maxBuddyMessage)
		case len(b.Key) > maxBuddyKey || len(b.NewKey) > maxBuddyKey:
			return bad("%s: a key of %d bytes, at most %d", b.Name, max(len(b.Key), len(b.NewKey)), maxBuddyKey)
		}
		seen[b.Name] = true
	}
	return nil
}

func (k *ListKey) check() []byte {
	m := hmac.New(sha256.New, k.key)
	m.Write([]byte(buddiesCheckCtx))
	return m.Sum(nil)[:listCheckLen]
}

func (k *ListKey) aead() cipher.AEAD {
	block, err := aes.NewCipher(k.key)
	if err != nil {
		panic(err) // the key is always 32 bytes
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return aead
}

func deriveListKey(password string, salt []byte, p KDF) *ListKey {
	return &ListKey{salt: salt, kdf: p, key: argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, 32)}
}

// buddiesError is a refusal: a sentinel to match with errors.Is and a
// message of its own, one line.
type buddiesError struct {
	kind error
	msg  string
}

func (e *buddiesError) Error() string { return e.msg }
func (e *buddiesError) Unwrap() error { return e.kind }

func refused(kind error, format string, a ...any) error {
	return &buddiesError{kind: kind, msg: fmt.Sprintf(format, a...)}
}
