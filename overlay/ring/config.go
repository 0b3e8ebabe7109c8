package ring

import (
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"soitto/overlay"
)

// Defaults for the zero values of Config.
const (
	DefaultSuccessors       = 8
	DefaultStabilize        = time.Second
	DefaultFixFingers       = 500 * time.Millisecond
	DefaultCheckPredecessor = 2 * time.Second
	DefaultCheckRing        = 5 * time.Second
	DefaultJitter           = 0.2
	DefaultCallTimeout      = 2 * time.Second
	DefaultLookupParallel   = 3

	// MaxSuccessors bounds Config.Successors and LookupParallel: a
	// FindStep asks for at most 32 nodes.
	MaxSuccessors = 32
)

// Config configures a Ring.
type Config struct {
	// Self is this node: its public address and ID (SHA-1 of the
	// address). Required.
	Self overlay.Node
	// Transport carries this node's requests to others. Required.
	Transport overlay.Transport
	// Successors is the length r of the successor list, 1 to 32. The ring
	// survives as long as no r consecutive nodes fail between two
	// stabilize rounds. If zero, DefaultSuccessors.
	Successors int
	// Stabilize is the period of Stabilize. If zero, DefaultStabilize.
	Stabilize time.Duration
	// FixFingers is the period of FixFingers, which refreshes one group
	// of fingers (one lookup) per tick, so a whole table takes about
	// log2(N) ticks. If zero, DefaultFixFingers.
	FixFingers time.Duration
	// CheckPredecessor is the period of CheckPredecessor. If zero,
	// DefaultCheckPredecessor.
	CheckPredecessor time.Duration
	// CheckRing is the period of CheckRing, which merges a ring that has
	// split into loops. If zero, DefaultCheckRing.
	CheckRing time.Duration
	// Jitter randomizes each period by up to ±Jitter of itself, so nodes
	// do not fall into step. If zero, DefaultJitter; negative for none.
	Jitter float64
	// CallTimeout bounds each request this node sends. If zero,
	// DefaultCallTimeout.
	CallTimeout time.Duration
	// LookupParallel is α, how many nodes a lookup asks at once in each
	// step, 1 to 32. If zero, DefaultLookupParallel.
	LookupParallel int
	// Logger receives the ring's events (at debug level, except
	// failures). If nil, slog.Default().
	Logger *slog.Logger
	// Rand draws the jitter. If nil, a generator seeded from crypto/rand.
	Rand *rand.Rand
	// OnChange, if set, is called when the predecessor or the successor
	// list changes, so that the directory can re-replicate. It is called
	// synchronously, with no lock of the ring held, from whichever
	// goroutine made the change (a maintenance round or a request
	// handler); it must return quickly, e.g. by signalling a channel.
	OnChange func()
}

// withDefaults returns cfg with its zero values filled in.
func (cfg Config) withDefaults() Config {
	if cfg.Successors == 0 {
		cfg.Successors = DefaultSuccessors
	}
	if cfg.Stabilize == 0 {
		cfg.Stabilize = DefaultStabilize
	}
	if cfg.FixFingers == 0 {
		cfg.FixFingers = DefaultFixFingers
	}
	if cfg.CheckPredecessor == 0 {
		cfg.CheckPredecessor = DefaultCheckPredecessor
	}
	if cfg.CheckRing == 0 {
		cfg.CheckRing = DefaultCheckRing
	}
	if cfg.Jitter == 0 {
		cfg.Jitter = DefaultJitter
	}
	if cfg.Jitter < 0 {
		cfg.Jitter = 0
	}
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	if cfg.LookupParallel == 0 {
		cfg.LookupParallel = DefaultLookupParallel
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Rand == nil {
		var seed [16]byte
		crand.Read(seed[:])
		cfg.Rand = rand.New(rand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:])))
	}
	return cfg
}

// validate checks a Config whose defaults are filled in.
func (cfg Config) validate() error {
	switch {
	case cfg.Self.IsZero():
		return errors.New("ring: Config.Self is not set")
	case cfg.Self.ID != overlay.IDOf(cfg.Self.Addr):
		return fmt.Errorf("ring: Config.Self: ID %s is not SHA-1 of %q", cfg.Self.ID, cfg.Self.Addr)
	case cfg.Transport == nil:
		return errors.New("ring: Config.Transport is nil")
	case cfg.Successors < 1 || cfg.Successors > MaxSuccessors:
		return fmt.Errorf("ring: Config.Successors %d not in 1..%d", cfg.Successors, MaxSuccessors)
	case cfg.LookupParallel < 1 || cfg.LookupParallel > MaxSuccessors:
		return fmt.Errorf("ring: Config.LookupParallel %d not in 1..%d", cfg.LookupParallel, MaxSuccessors)
	case cfg.Stabilize < 0 || cfg.FixFingers < 0 || cfg.CheckPredecessor < 0 || cfg.CheckRing < 0 || cfg.CallTimeout < 0:
		return errors.New("ring: negative period or timeout")
	case cfg.Jitter >= 1:
		return fmt.Errorf("ring: Config.Jitter %v not below 1", cfg.Jitter)
	}
	return nil
}
