package ring

import (
	"log/slog"
	"slices"
	"sync"

	"soitto/overlay"
)

// Ring is one node's Chord state and the protocol that keeps it: the
// predecessor, a successor list of r nodes and a finger table of 160
// entries. All methods are safe for concurrent use; no lock is held while
// a request is in flight.
type Ring struct {
	cfg    Config
	self   overlay.Node
	log    *slog.Logger
	starts [fingerCount]overlay.ID // self + 2^i

	mu         sync.Mutex // guards pred, succs, fingers, suspects, boot, nextFinger, left and cfg.Rand
	pred       overlay.Node
	succs      []overlay.Node // never empty; replaced, never changed in place
	fingers    [fingerCount]overlay.Node
	suspects   []overlay.Node // forgotten for not answering, most recent last; see forget
	boot       []string       // the bootstrap addresses of the last Join, for recoverSuccessor and CheckRing
	nextFinger int            // the finger FixFingers refreshes next
	left       bool           // Leave was called
}

// New checks cfg and returns a Ring that is alone (its own successor)
// until Join. Nothing runs until Run.
func New(cfg Config) (*Ring, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	r := &Ring{
		cfg:    cfg,
		self:   cfg.Self,
		log:    cfg.Logger.With("component", "ring", "self", cfg.Self.String()),
		starts: fingerStarts(cfg.Self.ID),
	}
	r.succs = []overlay.Node{r.self}
	return r, nil
}

// Create starts a new ring with this node alone in it, forgetting any
// earlier state.
func (r *Ring) Create() {
	r.update(func() {
		r.pred = overlay.Node{}
		r.succs = []overlay.Node{r.self}
		r.fingers = [fingerCount]overlay.Node{}
		r.suspects = nil
		r.boot = nil
		r.nextFinger = 0
		r.left = false
	})
}

// Self is this node.
func (r *Ring) Self() overlay.Node { return r.self }

// Predecessor is the node believed to precede this one, or the zero Node
// when unknown.
func (r *Ring) Predecessor() overlay.Node {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pred
}

// Successors is the successor list, nearest first; never empty. A node
// alone has itself as successor; in a ring of at most r nodes the list
// ends with this node itself.
func (r *Ring) Successors() []overlay.Node {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.succs)
}

// Fingers is the distinct nodes of the finger table, in finger order,
// without this node.
func (r *Ring) Fingers() []overlay.Node {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []overlay.Node
	for i, f := range r.fingers {
		if f.IsZero() || f == r.self || (i > 0 && f == r.fingers[i-1]) || slices.Contains(out, f) {
			continue
		}
		out = append(out, f)
	}
	return out
}

// Responsible reports whether key is this node's: key ∈ (predecessor,
// self]. A node alone holds every key; a node whose predecessor is not
// known (it just joined, or its predecessor failed and no other has
// notified it yet) claims every key too, since refusing would lose
// writes while the ring repairs.
func (r *Ring) Responsible(key overlay.ID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pred.IsZero() || r.succs[0] == r.self {
		return true
	}
	return overlay.BetweenRightIncl(key, r.pred.ID, r.self.ID)
}

// Closest returns up to n nodes from local state, without asking anyone,
// for a search that continues elsewhere. If this node knows who holds key
// (key ∈ (predecessor, self] or (self, successor]), they come first:
// successor(key) and the nodes after it, which hold its replicas.
// Otherwise they are the known nodes that most closely precede key,
// closest first, each of which knows more about key than this node: the
// nodes a searcher should ask next.
func (r *Ring) Closest(key overlay.ID, n int) []overlay.Node {
	if n <= 0 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if res, ok := r.localLocked(key); ok {
		return trim(res, n)
	}
	return r.closestPrecedingLocked(key, n)
}

func trim(s []overlay.Node, n int) []overlay.Node {
	if len(s) > n {
		s = s[:n]
	}
	return s
}
