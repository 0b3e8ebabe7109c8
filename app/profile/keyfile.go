package profile

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"fmt"

	"golang.org/x/crypto/argon2"
)

// KDF is the argon2id cost used to derive the key that encrypts the
// identity key from the password.
type KDF struct {
	Memory  uint32 `json:"memory"` // KiB
	Time    uint32 `json:"time"`
	Threads uint8  `json:"threads"`
}

// DefaultKDF costs about a quarter of a second and 64 MiB on a laptop:
// enough to slow an offline guesser who has the file, cheap once per login.
var DefaultKDF = KDF{Memory: 64 << 10, Time: 3, Threads: 1}

// maxKeyFile bounds what is read of identity.key.
const maxKeyFile = 16 << 10

// keyFile is identity.key. The ciphertext is AES-256-GCM of the PKCS#8 DER
// private key, with the public key's DER as additional data so that the two
// cannot be swapped apart.
type keyFile struct {
	Version    int    `json:"version"`
	KDF        string `json:"kdf"`
	Params     KDF    `json:"params"`
	Salt       []byte `json:"salt"`
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
	PublicKey  []byte `json:"public_key"`
}

func sealKey(key *ecdsa.PrivateKey, password string, kdf KDF) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	kf := keyFile{Version: 1, KDF: "argon2id", Params: kdf, Salt: make([]byte, 16), PublicKey: pub}
	if _, err := rand.Read(kf.Salt); err != nil {
		return nil, err
	}
	aead, err := newAEAD(password, kf.Salt, kdf)
	if err != nil {
		return nil, err
	}
	kf.Nonce = make([]byte, aead.NonceSize())
	if _, err := rand.Read(kf.Nonce); err != nil {
		return nil, err
	}
	kf.Ciphertext = aead.Seal(nil, kf.Nonce, der, pub)
	return json.MarshalIndent(kf, "", "  ")
}

// parseKeyFile decodes identity.key and checks its shape and bounds before
// any expensive work, so a hostile file cannot make the KDF eat memory.
func parseKeyFile(data []byte) (*keyFile, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrBadKeyFile, fmt.Sprintf(format, a...))
	}
	if len(data) > maxKeyFile {
		return nil, bad("larger than %d bytes", maxKeyFile)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var kf keyFile
	if err := dec.Decode(&kf); err != nil {
		return nil, bad("%v", err)
	}
	switch {
	case kf.Version != 1:
		return nil, bad("version %d, want 1", kf.Version)
	case kf.KDF != "argon2id":
		return nil, bad("kdf %q, want argon2id", kf.KDF)
	case kf.Params.Memory < 8 || kf.Params.Memory > 1<<20:
		return nil, bad("argon2id memory %d KiB out of range", kf.Params.Memory)
	case kf.Params.Time < 1 || kf.Params.Time > 16:
		return nil, bad("argon2id time %d out of range", kf.Params.Time)
	case kf.Params.Threads < 1 || kf.Params.Threads > 16:
		return nil, bad("argon2id threads %d out of range", kf.Params.Threads)
	case len(kf.Salt) < 8 || len(kf.Salt) > 64:
		return nil, bad("salt of %d bytes", len(kf.Salt))
	case len(kf.Nonce) != 12:
		return nil, bad("nonce of %d bytes, want 12", len(kf.Nonce))
	case len(kf.Ciphertext) < 16:
		return nil, bad("ciphertext too short")
	}
	if _, err := x509.ParsePKIXPublicKey(kf.PublicKey); err != nil {
		return nil, bad("public key: %v", err)
	}
	return &kf, nil
}

func (kf *keyFile) open(password string) (*ecdsa.PrivateKey, error) {
	aead, err := newAEAD(password, kf.Salt, kf.Params)
	if err != nil {
		return nil, err
	}
	der, err := aead.Open(nil, kf.Nonce, kf.Ciphertext, kf.PublicKey)
	if err != nil {
		return nil, ErrWrongPassword
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: private key: %v", ErrBadKeyFile, err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: not an ECDSA key", ErrBadKeyFile)
	}
	pub, err := x509.MarshalPKIXPublicKey(&ek.PublicKey)
	if err != nil || !bytes.Equal(pub, kf.PublicKey) {
		return nil, fmt.Errorf("%w: private and public key do not match", ErrBadKeyFile)
	}
	return ek, nil
}

func newAEAD(password string, salt []byte, p KDF) (cipher.AEAD, error) {
	k := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, 32)
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
