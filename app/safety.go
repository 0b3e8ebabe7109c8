package app

import (
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"strings"
)

// safetyIterations of SHA-512 make each half of a safety number costly
// to aim at with a key of one's choosing, as Signal's do.
const safetyIterations = 5200

// SafetyNumber is the number two users compare (aloud, or side by side)
// to check that each has the other's real key: 12 groups of 5 digits,
// 30 from each user's name and key, the lower name's first, so both see
// the same number. It changes when either key does.
func SafetyNumber(userA string, keyA []byte, userB string, keyB []byte) string {
	a, b := safetyHalf(userA, keyA), safetyHalf(userB, keyB)
	if userB < userA {
		a, b = b, a
	}
	return a + " " + b
}

// safetyHalf is one user's 30 digits: SHA-512 iterated over the key and
// the name, six 5-byte chunks each taken mod 100000.
func safetyHalf(user string, key []byte) string {
	h := sha512.New()
	var ver [2]byte
	binary.BigEndian.PutUint16(ver[:], 1)
	h.Write(ver[:])
	h.Write(key)
	h.Write([]byte(user))
	sum := h.Sum(nil)
	for range safetyIterations - 1 {
		h.Reset()
		h.Write(sum)
		h.Write(key)
		sum = h.Sum(sum[:0])
	}
	groups := make([]string, 6)
	for i := range groups {
		var v uint64
		for _, c := range sum[i*5 : i*5+5] {
			v = v<<8 | uint64(c)
		}
		groups[i] = fmt.Sprintf("%05d", v%100000)
	}
	return strings.Join(groups, " ")
}
