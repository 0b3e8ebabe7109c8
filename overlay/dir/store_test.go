package dir

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"soitto/overlay"
	"soitto/overlay/wire"
)

func TestStorePut(t *testing.T) {
	authority, roots := newAuthority(t)
	now := time.Now()
	exp := now.Add(30 * time.Minute)
	alice, bob, carol := newUser(t, authority, "alice"), newUser(t, authority, "bob"), newUser(t, authority, "carol")
	note := func(u user, name string, seq uint64) *wire.Record {
		return u.signed(t, &wire.Record{Kind: kindNote, Name: name, Seq: seq, Expires: exp.Unix()})
	}

	tests := []struct {
		name  string
		lim   Limits
		first []*wire.Record // stored before, each must succeed
		put   *wire.Record
		want  error
	}{
		{name: "new", put: alice.record(t, 1, exp, "a")},
		{name: "newer seq refreshes", first: []*wire.Record{alice.record(t, 1, exp, "a")}, put: alice.record(t, 2, exp, "b")},
		{name: "older seq", first: []*wire.Record{alice.record(t, 5, exp, "a")}, put: alice.record(t, 4, exp, "b"), want: wire.ErrStale},
		{name: "equal seq", first: []*wire.Record{alice.record(t, 5, exp, "a")}, put: alice.record(t, 5, exp, "b"), want: wire.ErrStale},
		{name: "same record again", first: []*wire.Record{alice.record(t, 5, exp, "a")}, put: nil, want: wire.ErrStale},
		{name: "invalid", put: func() *wire.Record { r := alice.record(t, 1, exp, "a"); r.Payload = []byte("b"); return r }(), want: wire.ErrBadRecord},
		{name: "quota per owner", lim: Limits{MaxPerOwner: 2},
			first: []*wire.Record{note(alice, "n1", 1), note(alice, "n2", 1), note(bob, "n3", 1)},
			put:   note(alice, "n4", 1), want: wire.ErrQuota},
		{name: "quota per owner allows updates", lim: Limits{MaxPerOwner: 2},
			first: []*wire.Record{note(alice, "n1", 1), note(alice, "n2", 1)},
			put:   note(alice, "n2", 2)},
		{name: "quota per owner when another owner takes a name over", lim: Limits{MaxPerOwner: 1},
			first: []*wire.Record{note(alice, "n1", 1), note(bob, "n2", 1)},
			put:   note(alice, "n2", 2), want: wire.ErrQuota},
		{name: "store full", lim: Limits{MaxRecords: 2},
			first: []*wire.Record{alice.record(t, 1, exp, ""), bob.record(t, 1, exp, "")},
			put:   carol.record(t, 1, exp, ""), want: wire.ErrQuota},
		{name: "store full allows updates", lim: Limits{MaxRecords: 2},
			first: []*wire.Record{alice.record(t, 1, exp, ""), bob.record(t, 1, exp, "")},
			put:   bob.record(t, 2, exp, "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStore(roots, tt.lim)
			for _, r := range tt.first {
				if err := s.Put(r, now); err != nil {
					t.Fatalf("storing %s: %v", r.Name, err)
				}
			}
			put := tt.put
			if put == nil {
				put = tt.first[len(tt.first)-1]
			}
			before := s.Get(put.Kind, put.Name, now)
			err := s.Put(put, now)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			got := s.Get(put.Kind, put.Name, now)
			want := before
			if tt.want == nil {
				want = put
			}
			if !proto.Equal(got, want) {
				t.Errorf("held %v, want %v", got, want)
			}
		})
	}
}

func TestStoreExpireDropArc(t *testing.T) {
	authority, roots := newAuthority(t)
	now := time.Now()
	s := NewStore(roots, Limits{})
	var names []string
	for i := range 10 {
		u := newUser(t, authority, fmt.Sprintf("user%d", i))
		names = append(names, u.name)
		if err := s.Put(u.record(t, 1, now.Add(time.Duration(i+1)*time.Minute), ""), now); err != nil {
			t.Fatal(err)
		}
	}
	// Arcs: the whole circle, and two halves that split it.
	if got := len(s.InArc(overlay.ID{}, overlay.ID{})); got != 10 {
		t.Errorf("whole circle: got %d records, want 10", got)
	}
	mid := overlay.ID{0x80}
	a, b := s.InArc(overlay.ID{}, mid), s.InArc(mid, overlay.ID{})
	if len(a)+len(b) != 10 {
		t.Errorf("two halves: got %d+%d records, want 10", len(a), len(b))
	}
	for _, r := range a {
		if k := overlay.KeyOf(r.Name); !overlay.BetweenRightIncl(k, overlay.ID{}, mid) {
			t.Errorf("%s (key %s) is not in the first half", r.Name, k)
		}
	}
	// A copy handed out does not change the store.
	got := s.Get(KindPresence, "user0", now)
	got.Payload = []byte("changed")
	if p := s.Get(KindPresence, "user0", now).Payload; len(p) != 0 {
		t.Errorf("store changed through a copy: payload %q", p)
	}
	// Drop only at the held seq.
	if s.Drop(KindPresence, "user0", 2) {
		t.Error("dropped at the wrong seq")
	}
	if !s.Drop(KindPresence, "user0", 1) || s.Len() != 9 {
		t.Errorf("drop: got %d records, want 9", s.Len())
	}
	// Expiry: user1 expires at +2 min, user2 at +3 min.
	if s.Get(KindPresence, "user1", now.Add(2*time.Minute)) != nil {
		t.Error("got an expired record")
	}
	if n := s.Expire(now.Add(150 * time.Second)); n != 1 || s.Len() != 8 {
		t.Errorf("expire: dropped %d, %d left; want 1, 8", n, s.Len())
	}
	if n := s.Expire(now.Add(time.Hour)); n != 8 || s.Len() != 0 {
		t.Errorf("expire: dropped %d, %d left; want 8, 0", n, s.Len())
	}
	// The quota counts follow drops and expiry.
	if len(s.owners) != 0 {
		t.Errorf("owners left after everything expired: %v", s.owners)
	}
}

func TestStoreStripsUnknownFields(t *testing.T) {
	authority, roots := newAuthority(t)
	now := time.Now()
	r := newUser(t, authority, "alice").record(t, 1, now.Add(time.Minute), "x")
	b, _ := proto.Marshal(r)
	b = protowire.AppendTag(b, 99, protowire.BytesType)
	b = protowire.AppendBytes(b, make([]byte, 10000))
	var padded wire.Record
	if err := proto.Unmarshal(b, &padded); err != nil {
		t.Fatal(err)
	}
	s := NewStore(roots, Limits{})
	if err := s.Put(&padded, now); err != nil {
		t.Fatal(err)
	}
	if got, want := proto.Size(s.Get(KindPresence, "alice", now)), proto.Size(r); got != want {
		t.Errorf("held record is %d bytes, want %d", got, want)
	}
}
