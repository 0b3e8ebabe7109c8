package audio

import "testing"

// TestRing: a ring keeps order across its wrap and drops the oldest
// when full. The steps run in order on one ring of 5; samples written
// count up from 0.
func TestRing(t *testing.T) {
	r := newRing(5)
	next := 0
	for _, step := range []struct {
		name        string
		write, read int
		dropped     int
		first       int16 // of what is read
		got, left   int
	}{
		{"some", 3, 2, 0, 0, 2, 1},
		{"across the wrap", 3, 4, 0, 2, 4, 0},
		{"fill", 4, 0, 0, 0, 0, 4},
		{"overflow", 3, 5, 2, 8, 5, 0}, // 6 and 7 dropped
		{"more than it holds", 7, 5, 2, 15, 5, 0},
		{"empty", 0, 3, 0, 0, 0, 0},
	} {
		p := make([]int16, step.write)
		for i := range p {
			p[i] = int16(next)
			next++
		}
		if d := r.write(p); d != step.dropped {
			t.Errorf("%s: write dropped %d, want %d", step.name, d, step.dropped)
		}
		q := make([]int16, step.read)
		g := r.read(q)
		if g != step.got {
			t.Errorf("%s: read got %d samples, want %d", step.name, g, step.got)
		}
		for i, v := range q[:g] {
			if v != step.first+int16(i) {
				t.Errorf("%s: read got %v, want %d on", step.name, q[:g], step.first)
				break
			}
		}
		if r.len() != step.left {
			t.Errorf("%s: len got %d, want %d", step.name, r.len(), step.left)
		}
	}
}
