package ring

import (
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"soitto/overlay"
)

func TestDist(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	randID := func() overlay.ID {
		var id overlay.ID
		for i := range id {
			id[i] = byte(rnd.IntN(256))
		}
		return id
	}
	var zero, max overlay.ID
	for i := range max {
		max[i] = 0xff
	}
	pairs := [][2]overlay.ID{{zero, zero}, {zero, max}, {max, zero}, {max, max}}
	for range 1000 {
		pairs = append(pairs, [2]overlay.ID{randID(), randID()})
	}
	for _, p := range pairs {
		got := new(big.Int).SetBytes(func() []byte { d := dist(p[0], p[1]); return d[:] }())
		if want := overlay.Distance(p[0], p[1]); got.Cmp(want) != 0 {
			t.Fatalf("dist(%x, %x) = %x, want %x", p[0], p[1], got, want)
		}
	}
}

func TestSuccessorList(t *testing.T) {
	n := func(i int) overlay.Node { return overlay.NewNode(string(rune('a'+i)) + ":1") }
	self := n(0)
	r := &Ring{self: self, cfg: Config{Successors: 3}}
	tests := []struct {
		name string
		in   []overlay.Node
		want []overlay.Node
	}{
		{"empty means alone", nil, []overlay.Node{self}},
		{"cut at r", []overlay.Node{n(1), n(2), n(3), n(4)}, []overlay.Node{n(1), n(2), n(3)}},
		{"ends at self", []overlay.Node{n(1), self, n(1)}, []overlay.Node{n(1), self}},
		{"stops where it repeats", []overlay.Node{n(1), n(2), n(1)}, []overlay.Node{n(1), n(2)}},
		{"skips zero nodes", []overlay.Node{{}, n(1)}, []overlay.Node{n(1)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.successorListLocked(tc.in); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
