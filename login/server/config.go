package server

import (
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"soitto/login/ca"
	"soitto/login/password"
	"soitto/login/store"
)

// Defaults for Config's zero values.
const (
	DefaultIPRate       = rate.Limit(5) // requests per second per IP
	DefaultIPBurst      = 20
	DefaultRegRate      = rate.Limit(1.0 / 60) // one registration a minute per IP
	DefaultRegBurst     = 5
	DefaultLockAfter    = 5
	DefaultMaxLock      = 15 * time.Minute
	DefaultMaxIPEntries = 100_000
)

// Config configures a Server.
type Config struct {
	Store store.Store // required
	CA    *ca.CA      // required

	// Hasher runs argon2id. If nil, one with password.DefaultParams, NumCPU
	// at once and password.DefaultMaxQueue waiting.
	Hasher *password.Hasher
	// Logger; if nil, slog.Default().
	Logger *slog.Logger
	// Now is the clock; if nil, time.Now.
	Now func() time.Time
	// Registerer takes the server's metrics; if nil, they are kept in a
	// registry of the server's own, served by MetricsHandler.
	Registerer *prometheus.Registry

	// IPRate and IPBurst form the token bucket every request from one
	// address (one /64 for IPv6) draws from. If zero, DefaultIPRate and
	// DefaultIPBurst.
	IPRate  rate.Limit
	IPBurst int
	// RegRate and RegBurst limit registrations per address. If zero,
	// DefaultRegRate and DefaultRegBurst.
	RegRate  rate.Limit
	RegBurst int
	// NoIPLimits turns both per-IP buckets off (benchmarks from one host).
	NoIPLimits bool
	// LockAfter is the number of consecutive failed logins after which an
	// account is locked for 1 s, doubling with each further failure up to
	// MaxLock. If zero, DefaultLockAfter and DefaultMaxLock.
	LockAfter int
	MaxLock   time.Duration
}

func (c *Config) validate() error {
	if c.Store == nil {
		return errors.New("server: Config.Store is nil")
	}
	if c.CA == nil {
		return errors.New("server: Config.CA is nil")
	}
	if c.Hasher == nil {
		c.Hasher = password.NewHasher(password.HasherConfig{})
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Registerer == nil {
		c.Registerer = prometheus.NewRegistry()
	}
	if c.IPRate == 0 {
		c.IPRate = DefaultIPRate
	}
	if c.IPBurst == 0 {
		c.IPBurst = DefaultIPBurst
	}
	if c.RegRate == 0 {
		c.RegRate = DefaultRegRate
	}
	if c.RegBurst == 0 {
		c.RegBurst = DefaultRegBurst
	}
	if c.LockAfter == 0 {
		c.LockAfter = DefaultLockAfter
	}
	if c.MaxLock == 0 {
		c.MaxLock = DefaultMaxLock
	}
	return nil
}

// lockUntil is the exponential back-off: after LockAfter failures 1 s, then
// 2 s, 4 s, … up to MaxLock.
func (c *Config) lockUntil(now time.Time, failures int) time.Time {
	if failures < c.LockAfter {
		return time.Time{}
	}
	d := time.Second
	for i := c.LockAfter; i < failures && d < c.MaxLock; i++ {
		d *= 2
	}
	return now.Add(min(d, c.MaxLock))
}
