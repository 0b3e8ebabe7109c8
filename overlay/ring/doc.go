// Package ring keeps the super-peers in a Chord ring (Stoica et al.,
// SIGCOMM 2001), so that every key — a username's SHA-1 — has exactly one
// home, successor(key), found in O(log N) steps without any central
// directory. It speaks only through overlay.Transport and answers through
// Handle, so the same code runs over TLS (overlay/tlsnet) and in memory
// (overlay/memnet).
//
// # State
//
// IDs are 160 bits; a node's ID is SHA-1 of its public "ip:port"
// (overlay.NewNode). Each node keeps
//
//   - its predecessor (or none),
//   - a successor list of the r nodes that follow it (r = 8 by default).
//     In a ring of at most r nodes the list ends with the node itself; a
//     node alone has itself as successor,
//   - 160 fingers: finger i is successor(self + 2^i).
//
// One mutex guards all of it and is never held while a request is in
// flight. Every node read from a message is checked with
// overlay.NodeFromWire (the ID must be SHA-1 of the address); an answer
// that fails the check is refused.
//
// # Messages
//
// All are requests with a response (wire.proto):
//
//	FindStep(key, count) -> FindStepResult(done, nodes)   one step of a lookup
//	Neighbours()         -> NeighboursResult(pred, succs)  for stabilize
//	Notify(node)         -> Ok                             "I think I am your predecessor"
//	Ping()               -> Ok                             for check-predecessor
//	Leave(node, pred, succs) -> Ok                         graceful departure
//
// Notify's and Leave's node must be the verified sender (the Peer the
// transport authenticated), else wire.ErrForbidden. A bad ID is
// wire.ErrBadID, any other malformed or unexpected message
// wire.ErrBadRequest; after Leave every request gets
// wire.ErrShuttingDown.
//
// # Join
//
// Create starts a ring alone. Join(bootstrap) looks up successor(self)
// through the first bootstrap node that answers (skipping our own
// address), takes the successor list found, and runs one Stabilize, which
// notifies the first successor that answers. The list may name only
// nodes that failed since the node that gave it last stabilized; then
// Join goes on to the next bootstrap node, and failing all it returns
// ErrNoBootstrap with the node alone, since a node that never reached
// a live successor is known to nobody and could not be found again.
// The predecessor comes later, from notify; fingers from FixFingers.
// The bootstrap addresses are kept for Stabilize and CheckRing.
//
// # Steady state
//
// Run repeats four rounds, each period randomized ±Jitter (20%):
//
//   - Stabilize (every 1 s): ask the successor for Neighbours. If its
//     predecessor p lies strictly between us and it, and p answers, p
//     becomes the successor; and so on back along the predecessors (up to
//     64 steps in one round: usually none or one, but after a whole
//     successor list failed it finds the true successor at once instead
//     of one node per round). The successor list becomes the successor
//     followed by its list (cut at r, at a repeat, or after ourselves).
//     Then Notify the successor. A successor that does not answer is
//     dropped and the next on the list tried; if the whole list fails,
//     the fingers, the predecessor and the suspects (see below) are
//     pinged at once and the nearest clockwise that answers becomes the
//     successor (walking back from it as above); failing those,
//     successor(self) is looked up again through the bootstrap nodes of
//     Join. If none answers, the node keeps its last successor and tries
//     again next round; it never makes itself alone because of failures,
//     since lost messages are indistinguishable from crashes and a node
//     alone would be cut out of the ring for good.
//   - Notify (handler): the sender becomes the predecessor if there is
//     none or it lies between the predecessor and us; a node alone also
//     takes it as its successor (how one node becomes two).
//   - CheckPredecessor (every 2 s): Ping the predecessor; forget it if it
//     does not answer, so a live node's notify can take its place.
//   - FixFingers (every 500 ms): look up the start of the next finger i
//     (one node asked at a time: maintenance is not urgent); the node s
//     found is also finger j for every following j whose start lies in
//     (self, s], so one tick fixes a whole run of equal fingers and about
//     log2 N ticks go round the table. RefreshFingers goes round at once.
//   - CheckRing (every 5 s): look successor(self) up through one contact
//     drawn at random from the bootstrap nodes, the suspects, the fingers
//     and the predecessor, not as a member (as Join does); if the
//     lookup names a node between us and our successor, stabilize with
//     it. Lost messages can split the ring into loops whose nodes
//     interleave on the circle, each consistent on its own (Zave,
//     "Reasoning about identifier spaces: How to make Chord correct",
//     2017): stabilize, which only looks at the successor's
//     predecessor, never merges them. A contact in the other loop finds
//     the node there that follows us; once one node takes it as
//     successor, notify and stabilize zip the loops together.
//
// A node that fails to answer any request (no response at all, or
// wire.ErrShuttingDown) is removed from the fingers, the successor list
// and the predecessor on the spot, but remembered as a suspect (the last
// 32): a lost message looks like a crash, and when every successor has
// failed, Stabilize tries the suspects along with the fingers and the
// predecessor, nearest clockwise first. A live suspect nearer than the
// predecessor must win: taking the predecessor as successor while a
// live node lies between closes a loop that leaves that node out.
//
// # Leave
//
// Leave sends Leave(self, pred, succs) to the successor and the
// predecessor. The successor takes pred as its predecessor; the
// predecessor takes the successor list (without the leaver) as its own.
// Both happen before the next maintenance round. A crash is repaired
// by the successor list and check-predecessor instead.
//
// # Lookup
//
// Lookups are iterative: the asker does every step itself, so a node in
// the middle cannot lose or misroute a query without the asker seeing it.
//
//  1. Local state answers when it can: alone; key ∈ (pred, self] (self
//     and its successors); key ∈ (self, successor] (the successor list).
//  2. Otherwise the candidates are the known nodes (fingers, successors,
//     predecessor) that most closely precede key, kept ordered by
//     clockwise distance to key. Each step asks the α (3) closest
//     not-yet-asked candidates at once: FindStep(key, count = 2α).
//  3. A node answers done with its successor list if key ∈ (self,
//     successor]; otherwise with the count nodes it knows that most
//     closely precede key, each strictly closer to key than itself.
//  4. The asker checks each answer. A not-done answer naming a node that
//     is not strictly between the answering node and key, or naming none,
//     is refused and that node is not asked again (Result.Rejected). A
//     done answer is refused unless key lies in (node, first], the list is
//     in clockwise order, and no node known to be live — this node, its
//     predecessor, or a node that answered in this lookup — lies between
//     the node and the successor it claims. A node that does not answer
//     is dropped (Result.Failed). Of several done answers in one step the
//     one whose first node is nearest after key wins.
//  5. Only candidates closer to key than the closest node that has
//     answered (or than this node) are asked. When none is left and no
//     node said done (the key's predecessor failed or lied), that closest
//     node — or this node — gives its successor list (Neighbours): the
//     first node past key that answers a Neighbours call is the
//     successor, and its own list completes the result; nodes on the
//     list before key become candidates. A lookup falls back like this
//     at most 4 times besides its own list.
//  6. A lookup stops after 2·160 steps, or at ctx's deadline (10 ×
//     CallTimeout if ctx has none), with ErrLookupFailed.
//
// Hops counts steps (rounds of up to α parallel requests, plus step 5's
// requests); Messages counts requests. In a stable ring of N nodes a
// lookup takes about ½·log2 N steps, as in Chord.
//
// Closest gives, from local state only, the nodes a search should ask
// next (the holders of key if known, else the nodes that most closely
// precede it); Responsible says whether key ∈ (pred, self].
package ring
