package password

import (
	"errors"
	"fmt"
)

// Params are the argon2id parameters of a hash (RFC 9106 §3.1).
type Params struct {
	Memory  uint32 // in KiB
	Time    uint32 // passes over memory
	Threads uint8  // lanes
	SaltLen uint32 // in bytes
	KeyLen  uint32 // in bytes
}

// DefaultParams are OWASP's minimum for argon2id: 19 MiB of memory,
// 2 passes, 1 lane, with a 16-byte salt and a 32-byte key.
var DefaultParams = Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds on Params. Verify checks a stored hash against them before running
// argon2, so a corrupt or hostile row costs at most maxMemory and maxTime.
const (
	maxMemory  = 1 << 20 // KiB, 1 GiB
	maxTime    = 16
	maxThreads = 16
	minLen     = 8 // salt and key, in bytes
	maxLen     = 64
)

// validate reports why p is out of bounds, or nil.
func (p Params) validate() error {
	switch {
	case p.Threads == 0:
		return errors.New("parallelism is 0")
	case p.Threads > maxThreads:
		return fmt.Errorf("parallelism %d is more than %d", p.Threads, maxThreads)
	case p.Memory > maxMemory:
		return fmt.Errorf("memory %d KiB is more than 1 GiB", p.Memory)
	case p.Memory < 8*uint32(p.Threads):
		// RFC 9106 §3.1: at least 8 KiB per lane.
		return fmt.Errorf("memory %d KiB is less than 8 KiB per lane", p.Memory)
	case p.Time == 0:
		return errors.New("time is 0")
	case p.Time > maxTime:
		return fmt.Errorf("time %d is more than %d", p.Time, maxTime)
	case p.SaltLen < minLen || p.SaltLen > maxLen:
		return fmt.Errorf("salt of %d bytes is not within %d..%d", p.SaltLen, minLen, maxLen)
	case p.KeyLen < minLen || p.KeyLen > maxLen:
		return fmt.Errorf("key of %d bytes is not within %d..%d", p.KeyLen, minLen, maxLen)
	}
	return nil
}
