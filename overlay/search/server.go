// Package search finds a user's presence record the way Skype's clients
// did: the client asks its super-peer, which answers with the record or
// with the addresses of the 4 super-peers nearest the user's key; the
// client asks those in parallel, and if that round fails asks its
// super-peer again for 8, then 16. A responsible super-peer that holds
// nothing is an authoritative "no such user online". A client that cannot
// reach other super-peers has its own search on its behalf.
//
// Server is the super-peer's side and Search the client's; both speak
// through overlay.Transport, so they run over TLS and in the simulator.
package search

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"soitto/overlay"
	"soitto/overlay/dir"
	"soitto/overlay/wire"
)

// MaxCount is the most node addresses one answer carries.
const MaxCount = 32

// Defaults for the zero fields of ServerConfig.
const (
	DefaultRate      rate.Limit = 20
	DefaultBurst                = 40
	DefaultCacheSize            = 10_000
	DefaultCacheTTL             = 2 * time.Minute
	maxLimiters                 = 10_000
)

// Ring is what a Server needs of the Chord ring.
type Ring interface {
	Self() overlay.Node
	// Lookup returns successor(key) and the nodes after it.
	Lookup(ctx context.Context, key overlay.ID) ([]overlay.Node, error)
	// Closest returns up to n nodes from local state.
	Closest(key overlay.ID, n int) []overlay.Node
	// Predecessor is the node's predecessor, zero when not known.
	Predecessor() overlay.Node
	// Successors is the node's successor list.
	Successors() []overlay.Node
}

// Directory is what a Server needs of the directory.
type Directory interface {
	// Local is the record this node holds, or nil.
	Local(kind, name string) *wire.Record
	// Get finds a record on the ring (ErrNotFound when the responsible
	// nodes hold none).
	Get(ctx context.Context, kind, name string) (*wire.Record, error)
}

// ServerConfig configures a Server.
type ServerConfig struct {
	Ring      Ring
	Directory Directory
	// Roots holds the network's CA; cached records are verified with it.
	Roots *x509.CertPool
	// Rate and Burst limit searches per asker (certificate name). If
	// zero, DefaultRate and DefaultBurst.
	Rate  rate.Limit
	Burst int
	// CacheSize bounds the records cached from searches made on behalf
	// of clients; CacheTTL bounds how long one is believed (never past
	// its expiry). If zero, the defaults.
	CacheSize int
	CacheTTL  time.Duration
	Now       func() time.Time
	Logger    *slog.Logger
}

// Server answers SearchRequests at a super-peer.
type Server struct {
	cfg   ServerConfig
	log   *slog.Logger
	cache *cache

	mu       sync.Mutex // guards limiters
	limiters map[string]*rate.Limiter
}

// NewServer checks cfg and returns a Server.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Ring == nil || cfg.Directory == nil || cfg.Roots == nil {
		return nil, errors.New("search: ServerConfig needs Ring, Directory and Roots")
	}
	if cfg.Rate == 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.Burst == 0 {
		cfg.Burst = DefaultBurst
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Server{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "search"),
		cache:    newCache(cfg.CacheSize, cfg.CacheTTL, cfg.Roots),
		limiters: map[string]*rate.Limiter{},
	}, nil
}

// CacheLen is how many records the cache holds.
func (s *Server) CacheLen() int { return s.cache.len() }

// Handle answers one search from the peer from.
func (s *Server) Handle(ctx context.Context, from overlay.Peer, req *wire.SearchRequest) (*wire.SearchResponse, error) {
	name, count := req.GetName(), req.GetCount()
	switch {
	case name == "" || len(name) > dir.MaxName:
		return nil, wire.Errorf(wire.ErrBadRequest, "search for a name of %d bytes (1 to %d)", len(name), dir.MaxName)
	case count > MaxCount:
		return nil, wire.Errorf(wire.ErrBadRequest, "search asks for %d nodes, limit %d", count, MaxCount)
	}
	if !s.allow(from.Name) {
		return nil, wire.Errorf(wire.ErrRateLimited, "over %v searches/s from %s", s.cfg.Rate, from.Name)
	}
	now := s.cfg.Now()
	if rec := s.cfg.Directory.Local(dir.KindPresence, name); rec != nil {
		return &wire.SearchResponse{Record: rec}, nil
	}
	if rec := s.cache.get(name, now); rec != nil {
		return &wire.SearchResponse{Record: rec, Cached: true}, nil
	}
	key := overlay.KeyOf(name)
	if req.GetProxy() {
		rec, err := s.cfg.Directory.Get(ctx, dir.KindPresence, name)
		switch {
		case err == nil:
			s.cache.put(rec, now)
			return &wire.SearchResponse{Record: rec}, nil
		case errors.Is(err, wire.ErrNotFound):
			return &wire.SearchResponse{Responsible: true}, nil
		}
		return nil, fmt.Errorf("%w: searching for %q on the ring: %w", wire.ErrUnreachable, name, err)
	}
	if s.owns(key) {
		return &wire.SearchResponse{Responsible: true}, nil
	}
	if count == 0 {
		return &wire.SearchResponse{}, nil
	}
	nodes, err := s.cfg.Ring.Lookup(ctx, key)
	if err != nil {
		s.log.Debug("lookup for a search failed; answering from local state", "name", name, "err", err)
	}
	nodes = appendNew(nodes, s.cfg.Ring.Closest(key, int(count))...)
	if len(nodes) > int(count) {
		nodes = nodes[:count]
	}
	resp := &wire.SearchResponse{}
	for _, n := range nodes {
		resp.Nodes = append(resp.Nodes, n.ToWire())
	}
	return resp, nil
}

// owns reports whether this node knows key is its own: key ∈
// (predecessor, self], or the node is alone. Unlike the ring's lenient
// Responsible (which takes every key while the predecessor is unknown, so
// that no write is lost), an authoritative "not here" needs certainty: a
// node whose predecessor just failed, or that just joined, says nothing.
func (s *Server) owns(key overlay.ID) bool {
	self := s.cfg.Ring.Self()
	pred := s.cfg.Ring.Predecessor()
	succ := s.cfg.Ring.Successors()
	if len(succ) > 0 && succ[0] == self && (pred.IsZero() || pred == self) {
		return true
	}
	if pred.IsZero() {
		return false
	}
	return overlay.BetweenRightIncl(key, pred.ID, self.ID)
}

// appendNew appends the nodes of add that s does not hold.
func appendNew(s []overlay.Node, add ...overlay.Node) []overlay.Node {
	for _, n := range add {
		dup := false
		for _, m := range s {
			if m.Addr == n.Addr {
				dup = true
				break
			}
		}
		if !dup && !n.IsZero() {
			s = append(s, n)
		}
	}
	return s
}

func (s *Server) allow(who string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.limiters[who]
	if l == nil {
		if len(s.limiters) >= maxLimiters {
			// Forget the askers whose buckets are full again: they lose
			// nothing by it.
			now := s.cfg.Now()
			for k, v := range s.limiters {
				if v.TokensAt(now) >= float64(s.cfg.Burst) {
					delete(s.limiters, k)
				}
			}
			if len(s.limiters) >= maxLimiters {
				return false
			}
		}
		l = rate.NewLimiter(s.cfg.Rate, s.cfg.Burst)
		s.limiters[who] = l
	}
	return l.AllowN(s.cfg.Now(), 1)
}
