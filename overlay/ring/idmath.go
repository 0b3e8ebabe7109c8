package ring

import "soitto/overlay"

// dist is the clockwise distance from a to b, b − a mod 2^160, as an ID
// so that distances compare with Cmp without allocating (overlay.Distance
// returns a big.Int; lookups compare distances a lot).
func dist(a, b overlay.ID) overlay.ID {
	var d overlay.ID
	borrow := 0
	for i := len(b) - 1; i >= 0; i-- {
		v := int(b[i]) - int(a[i]) - borrow
		borrow = 0
		if v < 0 {
			v += 256
			borrow = 1
		}
		d[i] = byte(v)
	}
	return d
}

// precedes orders nodes by how closely they precede key: a before b when
// a's clockwise distance to key is smaller.
func precedes(key overlay.ID, a, b overlay.Node) int {
	return dist(a.ID, key).Cmp(dist(b.ID, key))
}

// fingerStarts returns self + 2^i for i in 0..159.
func fingerStarts(self overlay.ID) [fingerCount]overlay.ID {
	var s [fingerCount]overlay.ID
	for i := range s {
		s[i] = overlay.AddPow2(self, i)
	}
	return s
}

// fingerCount is the number of fingers: one per bit of an ID.
const fingerCount = 8 * overlay.IDBytes
