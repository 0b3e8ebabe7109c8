package search

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"time"

	"soitto/overlay"
	"soitto/overlay/presence"
	"soitto/overlay/wire"
)

// DefaultRounds is how many super-peer addresses each round asks for.
var DefaultRounds = []int{4, 8, 16}

// Options tune Search.
type Options struct {
	// Roots holds the network's CA; every record is verified with it.
	// Required.
	Roots *x509.CertPool
	// Rounds: addresses asked for per round; if nil, DefaultRounds.
	Rounds []int
	// Now; if nil, time.Now.
	Now func() time.Time
}

// Result is what a search found and what it took.
type Result struct {
	// Info is the verified presence record (Found is false when the
	// search ended without one). Its status may be offline: the user
	// logged out and the record says so until it expires.
	Info  presence.Info
	Found bool
	// Rounds is how many times the home super-peer was asked.
	Rounds int
	// Asked is every super-peer asked, in order, home first.
	Asked []string
	// Proxied: the home super-peer searched on the client's behalf,
	// because no super-peer it named could be reached.
	Proxied bool
	// Cached: the record came from a super-peer's search cache.
	Cached bool
}

// ErrNoSuchUser is wrapped by the error of a search that ended with an
// authoritative answer that the user is not online (no record where it
// would be stored). It matches wire.ErrNotFound too.
var ErrNoSuchUser = fmt.Errorf("%w: no such user online", wire.ErrNotFound)

// Search finds name's presence record, starting at the home super-peer
// (the one the client is attached to). It asks home for a round's count
// of addresses, asks those in parallel, and goes on to the next round if
// none had the record and none was responsible for the key. A search that
// reaches none of the addresses of a round asks home to search on its
// behalf. The error wraps ErrNoSuchUser for an authoritative "not online";
// ErrUnreachable when no round came to an answer.
func Search(ctx context.Context, t overlay.Transport, home, name string, opt Options) (Result, error) {
	if opt.Roots == nil {
		return Result{}, errors.New("search: Options.Roots is nil")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	rounds := opt.Rounds
	if len(rounds) == 0 {
		rounds = DefaultRounds
	}
	s := &searcher{t: t, home: home, name: name, opt: opt}
	for _, count := range rounds {
		s.res.Rounds++
		resp, err := s.ask(ctx, home, &wire.SearchRequest{Name: name, Count: uint32(min(count, MaxCount))})
		if err != nil {
			return s.res, fmt.Errorf("search for %q: home super-peer %s: %w", name, home, err)
		}
		if done, err := s.take(resp); done {
			return s.res, err
		}
		nodes := s.nodes(resp)
		if len(nodes) == 0 {
			continue
		}
		reached := s.askAll(ctx, nodes)
		if s.res.Found {
			return s.res, nil
		}
		if s.authoritative {
			return s.res, fmt.Errorf("search for %q: %w", name, ErrNoSuchUser)
		}
		if reached == 0 {
			// Firewalled, or every node named is gone: home searches.
			resp, err := s.ask(ctx, home, &wire.SearchRequest{Name: name, Proxy: true})
			if err == nil {
				s.res.Proxied = true
				if done, err := s.take(resp); done {
					return s.res, err
				}
			}
		}
	}
	return s.res, fmt.Errorf("%w: search for %q: no super-peer near the key answered in %d rounds", wire.ErrUnreachable, name, len(rounds))
}

type searcher struct {
	t    overlay.Transport
	home string
	name string
	opt  Options

	mu            sync.Mutex // guards res and authoritative while askAll runs
	res           Result
	authoritative bool
}

func (s *searcher) ask(ctx context.Context, addr string, req *wire.SearchRequest) (*wire.SearchResponse, error) {
	s.mu.Lock()
	s.res.Asked = append(s.res.Asked, addr)
	s.mu.Unlock()
	resp, err := s.t.Call(ctx, addr, &wire.Envelope{Body: &wire.Envelope_Search{Search: req}})
	if err != nil {
		return nil, err
	}
	out, ok := resp.Body.(*wire.Envelope_SearchResult)
	if !ok {
		return nil, wire.Errorf(wire.ErrBadRequest, "%s answered a search with %T", addr, resp.Body)
	}
	return out.SearchResult, nil
}

// take looks at one answer: a record that verifies ends the search, and
// so does an authoritative "not here".
func (s *searcher) take(resp *wire.SearchResponse) (done bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := resp.GetRecord(); r != nil {
		info, err := presence.Decode(r, s.opt.Roots, s.opt.Now())
		if err == nil && info.User == s.name && (!s.res.Found || info.Seq > s.res.Info.Seq) {
			s.res.Info, s.res.Found, s.res.Cached = info, true, resp.GetCached()
		}
		// A record that does not verify is ignored; another node may
		// hold a good one.
	}
	if s.res.Found {
		return true, nil
	}
	if resp.GetResponsible() {
		s.authoritative = true
		return true, fmt.Errorf("search for %q: %w", s.name, ErrNoSuchUser)
	}
	return false, nil
}

// nodes are the valid addresses of an answer, home left out.
func (s *searcher) nodes(resp *wire.SearchResponse) []string {
	var out []string
	for _, w := range resp.GetNodes() {
		n, err := overlay.NodeFromWire(w)
		if err != nil || n.IsZero() || n.Addr == s.home {
			continue
		}
		out = append(out, n.Addr)
	}
	return out
}

// askAll asks every node at once and returns how many answered.
func (s *searcher) askAll(ctx context.Context, nodes []string) int {
	var wg sync.WaitGroup
	var mu sync.Mutex
	reached := 0
	for _, addr := range nodes {
		wg.Go(func() {
			resp, err := s.ask(ctx, addr, &wire.SearchRequest{Name: s.name})
			if err != nil {
				return
			}
			mu.Lock()
			reached++
			mu.Unlock()
			s.take(resp)
		})
	}
	wg.Wait()
	return reached
}
