package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// maxPHCLen bounds a stored hash before it is parsed: the longest one
// within the Params bounds is about 210 bytes.
const maxPHCLen = 256

// b64 is the PHC string's base64: standard alphabet, no padding, and
// (Strict) no stray bits, so that each salt and key has one spelling.
var b64 = base64.RawStdEncoding.Strict()

// stored is a parsed PHC string.
type stored struct {
	p         Params
	salt, key []byte
}

// encode returns the PHC string of a hash.
func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s",
		p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decode parses a PHC string written by encode. It accepts only that
// spelling (so decode and encode are inverses) and parameters within the
// Params bounds. The error wraps ErrMalformedHash.
func decode(phc string) (stored, error) {
	s, err := decodeParts(phc)
	if err != nil {
		return stored{}, fmt.Errorf("%w: %v", ErrMalformedHash, err)
	}
	return s, nil
}

func decodeParts(phc string) (stored, error) {
	var s stored
	if len(phc) > maxPHCLen {
		return s, fmt.Errorf("longer than %d bytes", maxPHCLen)
	}
	f := strings.Split(phc, "$")
	if len(f) != 6 || f[0] != "" {
		return s, errors.New("not of the form $argon2id$v=19$m=…,t=…,p=…$salt$key")
	}
	if f[1] != "argon2id" {
		return s, errors.New("algorithm is not argon2id")
	}
	if f[2] != "v=19" {
		return s, errors.New("version is not 19")
	}
	kv := strings.Split(f[3], ",")
	if len(kv) != 3 {
		return s, errors.New("parameters are not m=…,t=…,p=…")
	}
	m, err := number(kv[0], "m=", 32)
	if err != nil {
		return s, err
	}
	t, err := number(kv[1], "t=", 32)
	if err != nil {
		return s, err
	}
	p, err := number(kv[2], "p=", 8)
	if err != nil {
		return s, err
	}
	if s.salt, err = base64Field(f[4]); err != nil {
		return s, fmt.Errorf("salt %v", err)
	}
	if s.key, err = base64Field(f[5]); err != nil {
		return s, fmt.Errorf("key %v", err)
	}
	s.p = Params{
		Memory:  uint32(m),
		Time:    uint32(t),
		Threads: uint8(p),
		SaltLen: uint32(len(s.salt)),
		KeyLen:  uint32(len(s.key)),
	}
	return s, s.p.validate()
}

// number parses "<prefix><n>" where n is a decimal without sign or leading
// zeros that fits in bits.
func number(s, prefix string, bits int) (uint64, error) {
	name := prefix[:len(prefix)-1]
	digits, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return 0, fmt.Errorf("parameter %s is missing or out of order", name)
	}
	n, err := strconv.ParseUint(digits, 10, bits)
	if err != nil || strconv.FormatUint(n, 10) != digits {
		return 0, fmt.Errorf("parameter %s is not a decimal number", name)
	}
	return n, nil
}

// base64Field decodes a salt or key. The decoder skips '\r' and '\n'; the
// length check refuses them, so each value has one spelling.
func base64Field(s string) ([]byte, error) {
	b, err := b64.DecodeString(s)
	if err != nil || b64.EncodedLen(len(b)) != len(s) {
		return nil, errors.New("is not unpadded standard base64")
	}
	return b, nil
}
