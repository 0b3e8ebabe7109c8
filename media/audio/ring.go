package audio

// ring is a bounded FIFO of samples between a device's callback and
// its reader or writer. When full it drops the oldest samples: for
// sound in a call, late is worse than lost. It does no locking; its
// owner does.
type ring struct {
	buf  []int16
	head int // index of the oldest sample
	n    int // samples held
}

func newRing(capacity int) *ring { return &ring{buf: make([]int16, capacity)} }

// len is the number of samples held.
func (r *ring) len() int { return r.n }

// write appends p, dropping the oldest samples beyond the capacity, and
// returns how many it dropped.
func (r *ring) write(p []int16) (dropped int) {
	c := len(r.buf)
	if len(p) >= c {
		dropped = r.n + len(p) - c
		copy(r.buf, p[len(p)-c:])
		r.head, r.n = 0, c
		return dropped
	}
	if over := r.n + len(p) - c; over > 0 {
		r.head = (r.head + over) % c
		r.n -= over
		dropped = over
	}
	tail := (r.head + r.n) % c
	k := copy(r.buf[tail:], p)
	copy(r.buf, p[k:])
	r.n += len(p)
	return dropped
}

// read moves up to len(p) of the oldest samples into p and returns how
// many.
func (r *ring) read(p []int16) int {
	m := min(len(p), r.n)
	c := len(r.buf)
	k := copy(p[:m], r.buf[r.head:min(c, r.head+m)])
	copy(p[k:m], r.buf)
	r.head = (r.head + m) % c
	r.n -= m
	return m
}
