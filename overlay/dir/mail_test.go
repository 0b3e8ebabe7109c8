package dir

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"soitto/overlay"
	"soitto/overlay/wire"
)

// mail returns a mail for recipient with payload, expiring at expires.
func mail(t testing.TB, recipient, payload string, expires time.Time) *wire.Record {
	t.Helper()
	r, err := NewMail(recipient, []byte(payload), expires)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// tombstone returns u's tombstone for the mail m in u's mailbox.
func (u user) tombstone(t testing.TB, m *wire.Record, expires time.Time) *wire.Record {
	t.Helper()
	r, err := NewMailTombstone(u.name, MailID(m), expires, u.key, u.cert)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestVerifyMail(t *testing.T) {
	authority, roots := newAuthority(t)
	now := time.Now()
	exp := now.Add(7 * 24 * time.Hour)
	bob, mallory := newUser(t, authority, "bob"), newUser(t, authority, "mallory")
	id := func(payload string) string { return mailID([]byte(payload)) }
	// A tombstone of bob's, whatever its fields, signed by u.
	signedBy := func(u user, r *wire.Record) func() *wire.Record {
		return func() *wire.Record { return u.signed(t, r) }
	}
	long := strings.Repeat("名", 32) // 96 bytes: the longest recipients are multi-byte

	tests := []struct {
		name string
		rec  func() *wire.Record
		want error // nil: valid
	}{
		{name: "mail", rec: func() *wire.Record { return mail(t, "bob", "sealed", exp) }},
		{name: "mail at the payload limit", rec: func() *wire.Record { return mail(t, "bob", strings.Repeat("x", 32<<10), exp) }},
		{name: "mail at the TTL limit", rec: func() *wire.Record { return mail(t, "bob", "x", now.Add(MaxMailTTL)) }},
		{name: "mail to a 32-character name", rec: func() *wire.Record { return mail(t, long, "x", exp) }},
		{name: "mail over the payload limit", want: wire.ErrTooLarge, rec: func() *wire.Record {
			p := strings.Repeat("x", 32<<10+1)
			return &wire.Record{Kind: KindMail, Name: "bob/" + id(p), Seq: 1, Expires: exp.Unix(), Payload: []byte(p)}
		}},
		{name: "mail expiry too far", want: wire.ErrBadRecord, rec: func() *wire.Record {
			return mail(t, "bob", "x", now.Add(MaxMailTTL+clockSkew+time.Minute))
		}},
		{name: "mail expired", want: wire.ErrExpired, rec: func() *wire.Record { return mail(t, "bob", "x", now.Add(-time.Second)) }},
		{name: "mail with a certificate", want: wire.ErrBadRecord, rec: func() *wire.Record {
			r := mail(t, "bob", "x", exp)
			r.Cert = mallory.cert
			return r
		}},
		{name: "mail signed", want: wire.ErrBadRecord, rec: func() *wire.Record {
			return mallory.signed(t, mail(t, "bob", "x", exp))
		}},
		{name: "mail with a signature alone", want: wire.ErrBadRecord, rec: func() *wire.Record {
			r := mail(t, "bob", "x", exp)
			r.Signature = []byte{1}
			return r
		}},
		{name: "payload swapped under the id", want: wire.ErrBadRecord, rec: func() *wire.Record {
			r := mail(t, "bob", "original", exp)
			r.Payload = []byte("swapped")
			return r
		}},
		{name: "id of another payload", want: wire.ErrBadRecord, rec: func() *wire.Record {
			return &wire.Record{Kind: KindMail, Name: "bob/" + id("a"), Seq: 1, Expires: exp.Unix(), Payload: []byte("b")}
		}},
		{name: "id in upper case", want: wire.ErrBadRecord, rec: func() *wire.Record {
			return &wire.Record{Kind: KindMail, Name: "bob/" + strings.ToUpper(id("a")), Seq: 1, Expires: exp.Unix(), Payload: []byte("a")}
		}},
		{name: "id of the whole hash", want: wire.ErrBadRecord, rec: func() *wire.Record {
			return &wire.Record{Kind: KindMail, Name: "bob/" + id("a") + id("a"), Seq: 1, Expires: exp.Unix(), Payload: []byte("a")}
		}},
		{name: "no id", want: wire.ErrBadRecord, rec: func() *wire.Record {
			return &wire.Record{Kind: KindMail, Name: "bob", Seq: 1, Expires: exp.Unix(), Payload: []byte("a")}
		}},
		{name: "recipient not normalized", want: wire.ErrBadRecord, rec: func() *wire.Record {
			return &wire.Record{Kind: KindMail, Name: "Bob/" + id("a"), Seq: 1, Expires: exp.Unix(), Payload: []byte("a")}
		}},
		{name: "recipient with a slash", want: wire.ErrBadRecord, rec: func() *wire.Record {
			return &wire.Record{Kind: KindMail, Name: "bob/x/" + id("a"), Seq: 1, Expires: exp.Unix(), Payload: []byte("a")}
		}},
		{name: "empty mail", want: wire.ErrBadRecord, rec: func() *wire.Record {
			return &wire.Record{Kind: KindMail, Name: "bob/" + id(""), Seq: 1, Expires: exp.Unix()}
		}},
		{name: "tombstone by the recipient", rec: func() *wire.Record { return bob.tombstone(t, mail(t, "bob", "x", exp), exp) }},
		{name: "tombstone at the TTL limit", rec: func() *wire.Record {
			return bob.signed(t, &wire.Record{Kind: KindMail, Name: "bob/" + id("x"), Seq: 2, Expires: now.Add(MaxMailTTL).Unix()})
		}},
		{name: "tombstone by someone else", want: wire.ErrForbidden,
			rec: signedBy(mallory, &wire.Record{Kind: KindMail, Name: "bob/" + id("x"), Seq: 2, Expires: exp.Unix()})},
		{name: "tombstone with a payload", want: wire.ErrBadRecord,
			rec: signedBy(bob, &wire.Record{Kind: KindMail, Name: "bob/" + id("x"), Seq: 2, Expires: exp.Unix(), Payload: []byte("x")})},
		{name: "tombstone unsigned", want: wire.ErrBadRecord, rec: func() *wire.Record {
			return &wire.Record{Kind: KindMail, Name: "bob/" + id("x"), Seq: 2, Expires: exp.Unix()}
		}},
		{name: "tombstone forged", want: wire.ErrBadRecord, rec: func() *wire.Record {
			r := bob.tombstone(t, mail(t, "bob", "x", exp), exp)
			r.Name = "bob/" + id("y")
			return r
		}},
		{name: "tombstone expiry too far", want: wire.ErrBadRecord,
			rec: signedBy(bob, &wire.Record{Kind: KindMail, Name: "bob/" + id("x"), Seq: 2, Expires: now.Add(MaxMailTTL + time.Hour).Unix()})},
		{name: "seq 0", want: wire.ErrBadRecord, rec: func() *wire.Record {
			r := mail(t, "bob", "x", exp)
			r.Seq = 0
			return r
		}},
		{name: "seq 3 signed by the recipient", want: wire.ErrBadRecord,
			rec: signedBy(bob, &wire.Record{Kind: KindMail, Name: "bob/" + id("x"), Seq: 3, Expires: exp.Unix()})},
		{name: "seq 3 anonymous", want: wire.ErrBadRecord, rec: func() *wire.Record {
			r := mail(t, "bob", "x", exp)
			r.Seq = 3
			return r
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.rec(), roots, now, Limits{})
			switch {
			case tt.want == nil && err != nil:
				t.Errorf("got %v, want nil", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Errorf("got %v, want %v", err, tt.want)
			case err != nil && strings.ContainsAny(err.Error(), "\n\r"):
				t.Errorf("got a multi-line reason %q", err)
			}
		})
	}
}

func TestMailHelpers(t *testing.T) {
	authority, _ := newAuthority(t)
	bob, mallory := newUser(t, authority, "bob"), newUser(t, authority, "mallory")
	exp := time.Now().Add(time.Hour)
	m := mail(t, "bob", "sealed", exp)
	if want := "bob/" + mailID([]byte("sealed")); m.Name != want || m.Seq != MailSeq || m.Kind != KindMail {
		t.Errorf("got %s/%q seq %d, want mail/%q seq 1", m.Kind, m.Name, m.Seq, want)
	}
	if got := MailID(m); len(got) != 32 || !strings.HasSuffix(m.Name, "/"+got) {
		t.Errorf("MailID: got %q for %q", got, m.Name)
	}
	if got := MailID(&wire.Record{Kind: KindPresence, Name: m.Name}); got != "" {
		t.Errorf("MailID of a presence record: got %q, want empty", got)
	}
	if got, want := RingKey(KindMail, m.Name), overlay.KeyOf("bob"); got != want {
		t.Errorf("RingKey of a mail: got %s, want KeyOf(recipient) %s", got, want)
	}
	if got, want := RingKey(KindPresence, "a/b"), overlay.KeyOf("a/b"); got != want {
		t.Errorf("RingKey of presence: got %s, want %s", got, want)
	}
	for _, tt := range []struct {
		name string
		err  error
		want error
	}{
		{"mail to a name not normalized", func() error { _, err := NewMail("Bob", []byte("x"), exp); return err }(), wire.ErrBadRecord},
		{"empty mail", func() error { _, err := NewMail("bob", nil, exp); return err }(), wire.ErrBadRecord},
		{"mail too large", func() error { _, err := NewMail("bob", make([]byte, 32<<10+1), exp); return err }(), wire.ErrTooLarge},
		{"tombstone with another's certificate", func() error {
			_, err := NewMailTombstone("bob", MailID(m), exp, mallory.key, mallory.cert)
			return err
		}(), wire.ErrForbidden},
		{"tombstone with a bad id", func() error {
			_, err := NewMailTombstone("bob", "xyz", exp, bob.key, bob.cert)
			return err
		}(), wire.ErrBadRecord},
	} {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, tt.err, tt.want)
		}
	}
	if IsListing(KindMail, m.Name) || !IsListing(KindMail, "bob") || IsListing(KindPresence, "bob") {
		t.Error("IsListing: wrong for a mail name, a bare recipient or presence")
	}
}

func TestStoreMailQuota(t *testing.T) {
	authority, roots := newAuthority(t)
	now := time.Now()
	exp := now.Add(24 * time.Hour)
	bob := newUser(t, authority, "bob")
	put := func(s *Store, r *wire.Record, want error) {
		t.Helper()
		err := s.Put(r, now)
		if want == nil && err != nil || want != nil && !errors.Is(err, want) {
			t.Fatalf("put %q seq %d: got %v, want %v", r.Name, r.Seq, err, want)
		}
	}

	t.Run("count", func(t *testing.T) {
		s := NewStore(roots, Limits{MaxMailPerRecipient: 3})
		var ms []*wire.Record
		for i := range 3 {
			ms = append(ms, mail(t, "bob", fmt.Sprint("m", i), exp))
			put(s, ms[i], nil)
		}
		over := mail(t, "bob", "one too many", exp)
		err := s.Put(over, now)
		if !errors.Is(err, wire.ErrQuota) || !strings.Contains(err.Error(), `mailbox of "bob" is full`) {
			t.Fatalf("fourth mail: got %v, want %v naming bob's mailbox", err, wire.ErrQuota)
		}
		put(s, mail(t, "carol", "for carol", exp), nil) // another mailbox
		put(s, ms[0], wire.ErrStale)                    // the same mail again
		// A tombstone frees its mail's slot and counts for nothing.
		put(s, bob.tombstone(t, ms[0], exp), nil)
		put(s, over, nil)
		put(s, mail(t, "bob", "and again", exp), wire.ErrQuota)
		for _, m := range ms[1:] {
			put(s, bob.tombstone(t, m, exp), nil)
		}
		put(s, mail(t, "bob", "and again", exp), nil)
		// Stale: the mail cannot come back over its tombstone.
		put(s, ms[0], wire.ErrStale)
		if got := s.Get(KindMail, ms[0].Name, now); got == nil || got.Seq != TombstoneSeq {
			t.Errorf("after the mail came again: held %v, want the tombstone", got)
		}
	})

	t.Run("bytes", func(t *testing.T) {
		s := NewStore(roots, Limits{MaxMailBytes: 100})
		a := mail(t, "bob", strings.Repeat("a", 60), exp)
		put(s, a, nil)
		put(s, mail(t, "bob", strings.Repeat("b", 40), exp), nil)
		put(s, mail(t, "bob", "c", exp), wire.ErrQuota)
		put(s, bob.tombstone(t, a, exp), nil)
		put(s, mail(t, "bob", strings.Repeat("d", 60), exp), nil)
		put(s, mail(t, "bob", "e", exp), wire.ErrQuota)
	})

	t.Run("node's mail bytes", func(t *testing.T) {
		s := NewStore(roots, Limits{MaxMailStoreBytes: 100})
		put(s, mail(t, "bob", strings.Repeat("a", 60), exp), nil)
		put(s, mail(t, "carol", strings.Repeat("b", 41), exp), wire.ErrQuota)
		put(s, mail(t, "carol", strings.Repeat("b", 40), exp), nil)
	})

	t.Run("records", func(t *testing.T) {
		// Tombstones count toward MaxRecords and MaxMailRecords, not
		// toward their signer's MaxPerOwner.
		s := NewStore(roots, Limits{MaxRecords: 4, MaxMailRecords: 3, MaxPerOwner: 1})
		put(s, bob.record(t, 1, now.Add(time.Hour), ""), nil)
		var ms []*wire.Record
		for i := range 3 {
			ms = append(ms, mail(t, "bob", fmt.Sprint("m", i), exp))
		}
		put(s, bob.tombstone(t, ms[0], exp), nil)
		put(s, bob.tombstone(t, ms[1], exp), nil)
		put(s, ms[2], nil)
		put(s, mail(t, "carol", "x", exp), wire.ErrQuota) // MaxMailRecords
		put(s, bob.tombstone(t, ms[2], exp), nil)         // replaces: not a new key
		// MaxRecords: a presence record would fit MaxPerOwner but not
		// the store.
		s2 := NewStore(roots, Limits{MaxRecords: 2, MaxMailRecords: 2})
		put(s2, bob.tombstone(t, ms[0], exp), nil)
		put(s2, bob.tombstone(t, ms[1], exp), nil)
		put(s2, bob.record(t, 1, now.Add(time.Hour), ""), wire.ErrQuota)
	})

	t.Run("expiry and drop release", func(t *testing.T) {
		s := NewStore(roots, Limits{MaxMailPerRecipient: 2, MaxMailBytes: 10})
		a := mail(t, "bob", "aaaaa", now.Add(time.Hour))
		b := mail(t, "bob", "bbbbb", exp)
		put(s, a, nil)
		put(s, b, nil)
		if n := s.Expire(now.Add(time.Hour)); n != 1 {
			t.Fatalf("expired %d records, want 1", n)
		}
		if !s.Drop(KindMail, b.Name, MailSeq) {
			t.Fatal("drop: got false")
		}
		put(s, mail(t, "bob", "ccccc", exp), nil)
		put(s, mail(t, "bob", "ddddd", exp), nil)
		s.mu.Lock()
		mb := *s.mailboxes["bob"]
		recs, held := s.mailRecs, s.mailBytes
		s.mu.Unlock()
		if mb.mails != 2 || mb.bytes != 10 || len(mb.names) != 2 || recs != 2 || held != 10 {
			t.Errorf("accounting: got mailbox %d mails %d bytes %d names, node %d records %d bytes; want 2, 10, 2, 2, 10",
				mb.mails, mb.bytes, len(mb.names), recs, held)
		}
	})
}

func TestStoreList(t *testing.T) {
	authority, roots := newAuthority(t)
	now := time.Now()
	exp := now.Add(24 * time.Hour)
	long := strings.Repeat("名", 32) // the longest names make the largest listing
	owner := newUser(t, authority, long)
	s := NewStore(roots, Limits{MaxMailPerRecipient: MaxList + 50, MaxMailBytes: 1 << 20})
	var ms []*wire.Record
	for i := range MaxList + 50 {
		ms = append(ms, mail(t, long, fmt.Sprint("m", i), exp))
		if err := s.Put(ms[i], now); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range ms[:60] {
		if err := s.Put(owner.tombstone(t, m, exp), now); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put(mail(t, "carol", "not bob's", exp), now); err != nil {
		t.Fatal(err)
	}
	got := s.List(long, now)
	if len(got) != MaxList {
		t.Fatalf("listed %d, want %d", len(got), MaxList)
	}
	// Mails waiting first: 190 of them, then 10 tombstones.
	for i, r := range got {
		wantSeq := uint64(MailSeq)
		if i >= MaxList-10 {
			wantSeq = TombstoneSeq
		}
		if r.Seq != wantSeq || r.Kind != KindMail || !strings.HasPrefix(r.Name, long+"/") || r.Expires != exp.Unix() ||
			r.Payload != nil || r.Cert != nil || r.Signature != nil {
			t.Fatalf("header %d: got %v, want a header-only record with seq %d", i, r, wantSeq)
		}
	}
	env := &wire.Envelope{Id: 1 << 62, Body: &wire.Envelope_GetResult{GetResult: &wire.GetResponse{Records: got}}}
	if n := proto.Size(env); n > wire.MaxFrame/2 {
		t.Errorf("a full listing is %d bytes, more than half a frame", n)
	}
	hs, err := MailHeaders(long, got, now)
	if err != nil || len(hs) != MaxList {
		t.Fatalf("MailHeaders: got %d, %v; want %d", len(hs), err, MaxList)
	}
	if got := s.List(long, exp); len(got) != 0 {
		t.Errorf("listed %d after expiry, want 0", len(got))
	}
	if got := s.List("nobody", now); len(got) != 0 {
		t.Errorf("listed %d for an empty mailbox, want 0", len(got))
	}
}

func TestMailHeadersRefuses(t *testing.T) {
	now := time.Now()
	exp := now.Add(time.Hour).Unix()
	id := mailID([]byte("x"))
	good := &wire.Record{Kind: KindMail, Name: "bob/" + id, Seq: 1, Expires: exp}
	for _, tt := range []struct {
		name string
		rec  *wire.Record
	}{
		{"another mailbox", &wire.Record{Kind: KindMail, Name: "carol/" + id, Seq: 1, Expires: exp}},
		{"another kind", &wire.Record{Kind: KindPresence, Name: "bob/" + id, Seq: 1, Expires: exp}},
		{"bad id", &wire.Record{Kind: KindMail, Name: "bob/xyz", Seq: 1, Expires: exp}},
		{"seq 3", &wire.Record{Kind: KindMail, Name: "bob/" + id, Seq: 3, Expires: exp}},
		{"with a payload", &wire.Record{Kind: KindMail, Name: "bob/" + id, Seq: 1, Expires: exp, Payload: []byte("x")}},
	} {
		if _, err := MailHeaders("bob", []*wire.Record{good, tt.rec}, now); !errors.Is(err, wire.ErrBadRecord) {
			t.Errorf("%s: got %v, want %v", tt.name, err, wire.ErrBadRecord)
		}
	}
	tooMany := slices.Repeat([]*wire.Record{good}, MaxList+1)
	if _, err := MailHeaders("bob", tooMany, now); !errors.Is(err, wire.ErrBadRecord) {
		t.Errorf("%d headers: got %v, want %v", MaxList+1, err, wire.ErrBadRecord)
	}
	// Duplicates merge, the higher seq winning; expired ones are left out.
	hs, err := MailHeaders("bob", []*wire.Record{good, {Kind: KindMail, Name: good.Name, Seq: 2, Expires: exp},
		{Kind: KindMail, Name: "bob/" + mailID([]byte("old")), Seq: 1, Expires: now.Unix()}}, now)
	if err != nil || len(hs) != 1 || !hs[0].Collected() || hs[0].Name() != good.Name {
		t.Errorf("got %+v, %v; want one tombstone header for %q", hs, err, good.Name)
	}
}

// listVia lists bob's mailbox through d and fails unless it holds
// exactly want (name → seq).
func listVia(ctx context.Context, t *testing.T, d *Directory, recipient string, want map[string]uint64) {
	t.Helper()
	hs, err := d.List(ctx, recipient)
	if err != nil {
		t.Fatalf("list via %s: %v", d.cfg.Ring.Self(), err)
	}
	got := map[string]uint64{}
	for _, h := range hs {
		got[h.Name()] = h.Seq
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("list via %s: got %v, want %v", d.cfg.Ring.Self(), got, want)
	}
}

// notIn returns a live directory whose node is not in set.
func (c *cluster) notIn(set []string) *Directory {
	c.t.Helper()
	for _, d := range c.live() {
		if !slices.Contains(set, d.cfg.Ring.Self().Addr) {
			return d
		}
	}
	c.t.Fatal("every node is in the set")
	return nil
}

func TestMailReplication(t *testing.T) {
	ctx := testCtx(t)
	c := newCluster(t, 8)
	bob := newUser(t, c.authority, "bob")
	exp := c.clock.Now().Add(7 * 24 * time.Hour)
	m := mail(t, "bob", "sealed for bob", exp)
	set := c.replicaSetOf(KindMail, m.Name)
	if want := c.replicaSet("bob"); !slices.Equal(set, want) {
		t.Fatalf("mail's replica set %v, want bob's presence's %v", set, want)
	}
	// Put through a node outside the set, list and get through others.
	if err := c.notIn(set).Put(ctx, m); err != nil {
		t.Fatal(err)
	}
	if got := c.holders(KindMail, m.Name, MailSeq); !sameSet(got, set) {
		t.Errorf("held by %v, want the replica set %v", got, set)
	}
	for _, d := range c.live() {
		listVia(ctx, t, d, "bob", map[string]uint64{m.Name: MailSeq})
	}
	c.checkGets(ctx, []*wire.Record{m})

	// A ring member's Get of the bare recipient is answered with
	// header-only records.
	resp, err := c.dir(set[1]).Handle(ctx, overlay.Peer{Node: c.live()[0].cfg.Ring.Self()},
		&wire.Envelope{Body: &wire.Envelope_Get{Get: &wire.GetRequest{Kind: KindMail, Name: "bob"}}})
	if err != nil {
		t.Fatal(err)
	}
	if recs := resp.GetGetResult().GetRecords(); len(recs) != 1 || recs[0].Payload != nil || recs[0].Name != m.Name {
		t.Errorf("listing from a replica: got %v, want one header of %q", recs, m.Name)
	}
	if _, err := c.live()[0].Get(ctx, KindMail, "bob"); !errors.Is(err, wire.ErrBadRequest) {
		t.Errorf("Get of a bare recipient: got %v, want %v", err, wire.ErrBadRequest)
	}

	// Bob collects it: the tombstone replaces the mail everywhere.
	tomb := bob.tombstone(t, m, exp)
	if err := c.notIn(set).Put(ctx, tomb); err != nil {
		t.Fatal(err)
	}
	c.repairAll(2)
	c.checkPlaced([]*wire.Record{tomb}, true)
	if got := c.holders(KindMail, m.Name, MailSeq); len(got) != 0 {
		t.Errorf("mail still held by %v", got)
	}
	for _, d := range c.live() {
		listVia(ctx, t, d, "bob", map[string]uint64{m.Name: TombstoneSeq})
	}
	c.checkGets(ctx, []*wire.Record{tomb})
	for _, a := range set {
		s := c.dir(a).store
		s.mu.Lock()
		mb, held := s.mailboxes["bob"], s.mailBytes
		s.mu.Unlock()
		if mb == nil || mb.mails != 0 || mb.bytes != 0 || held != 0 {
			t.Errorf("%s: the mail's quota was not released: %+v, %d bytes", a, mb, held)
		}
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// A node that held the mail and was down while it was collected does not
// bring it back: not to readers, and not to the other nodes.
func TestMailNotResurrected(t *testing.T) {
	for _, which := range []int{0, 2} { // the primary, a replica
		t.Run(fmt.Sprint("holder ", which), func(t *testing.T) {
			ctx := testCtx(t)
			c := newCluster(t, 8)
			bob := newUser(t, c.authority, "bob")
			exp := c.clock.Now().Add(7 * 24 * time.Hour)
			m := mail(t, "bob", "sealed", exp)
			set := c.replicaSetOf(KindMail, m.Name)
			if err := c.notIn(set).Put(ctx, m); err != nil {
				t.Fatal(err)
			}
			down := set[which]
			c.kill(down)
			tomb := bob.tombstone(t, m, exp)
			if err := c.notIn(set).Put(ctx, tomb); err != nil {
				t.Fatalf("tombstone with %s down: %v", down, err)
			}
			c.repairAll(1)
			// It comes back still holding the mail, and repairs first.
			c.setHandler(down, c.dir(down))
			if r := c.dir(down).Local(KindMail, m.Name); r == nil || r.Seq != MailSeq {
				t.Fatalf("%s holds %v, want the stale mail", down, r)
			}
			for _, d := range c.live() {
				listVia(ctx, t, d, "bob", map[string]uint64{m.Name: TombstoneSeq})
				if r, err := d.Get(ctx, KindMail, m.Name); err != nil || r.Seq != TombstoneSeq {
					t.Errorf("get via %s: got %v, %v; want the tombstone", d.cfg.Ring.Self(), r, err)
				}
			}
			c.dir(down).repair(ctx)
			c.repairAll(2)
			// The putter kept a copy while the primary was down; it
			// drops it after the grace period.
			c.clock.Advance(31 * time.Second)
			c.repairAll(2)
			if got := c.holders(KindMail, m.Name, MailSeq); len(got) != 0 {
				t.Errorf("the mail is back on %v", got)
			}
			c.checkPlaced([]*wire.Record{tomb}, true)
		})
	}
}

func TestMailExpiry(t *testing.T) {
	ctx := testCtx(t)
	c := newCluster(t, 6)
	m := mail(t, "bob", "short-lived", c.clock.Now().Add(time.Hour))
	keep := mail(t, "bob", "long-lived", c.clock.Now().Add(48*time.Hour))
	for _, r := range []*wire.Record{m, keep} {
		if err := c.live()[0].Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	c.clock.Advance(time.Hour)
	for _, d := range c.live() {
		listVia(ctx, t, d, "bob", map[string]uint64{keep.Name: MailSeq})
		if _, err := d.Get(ctx, KindMail, m.Name); !errors.Is(err, wire.ErrNotFound) {
			t.Errorf("get after expiry via %s: got %v, want %v", d.cfg.Ring.Self(), err, wire.ErrNotFound)
		}
	}
	c.repairAll(1)
	if got := c.holders(KindMail, m.Name, MailSeq); len(got) != 0 {
		t.Errorf("expired mail still held by %v", got)
	}
	total := 0
	for _, d := range c.live() {
		total += d.Len()
	}
	if want := c.replicas + 1; total != want {
		t.Errorf("%d records held, want %d (the long-lived mail's copies)", total, want)
	}
	// The expired mail's bytes are released.
	for _, a := range c.replicaSetOf(KindMail, keep.Name) {
		s := c.dir(a).store
		s.mu.Lock()
		got := s.mailBytes
		s.mu.Unlock()
		if got != len(keep.Payload) {
			t.Errorf("%s holds %d bytes of mail, want %d", a, got, len(keep.Payload))
		}
	}
}

func TestMailQuotaOverTheRing(t *testing.T) {
	ctx := testCtx(t)
	c := newCluster(t, 5)
	for i := range DefaultMaxMailPerRecipient {
		if err := c.live()[i%5].Put(ctx, mail(t, "bob", fmt.Sprint(i), c.clock.Now().Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	err := c.live()[0].Put(ctx, mail(t, "bob", "over", c.clock.Now().Add(time.Hour)))
	if !errors.Is(err, wire.ErrQuota) || !strings.Contains(err.Error(), "mailbox of") {
		t.Errorf("got %v, want %v for a full mailbox", err, wire.ErrQuota)
	}
	if err := c.live()[0].Put(ctx, mail(t, "carol", "fine", c.clock.Now().Add(time.Hour))); err != nil {
		t.Errorf("another mailbox: got %v", err)
	}
}
