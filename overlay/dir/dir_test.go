package dir

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"soitto/login/ca"
	"soitto/overlay"
	"soitto/overlay/wire"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// publish makes n users and puts one presence record each, through the
// live nodes in turn.
func (c *cluster) publish(ctx context.Context, n int, expires time.Duration) ([]user, []*wire.Record) {
	c.t.Helper()
	var users []user
	var recs []*wire.Record
	live := c.live()
	for i := range n {
		u := newUser(c.t, c.authority, fmt.Sprintf("user%02d", i))
		r := u.record(c.t, 1, c.clock.Now().Add(expires), fmt.Sprintf(`{"status":"online","n":%d}`, i))
		if err := live[i%len(live)].Put(ctx, r); err != nil {
			c.t.Fatalf("put %s: %v", u.name, err)
		}
		users = append(users, u)
		recs = append(recs, r)
	}
	return users, recs
}

// checkGets fails unless every record is found, as it is, through every
// live node.
func (c *cluster) checkGets(ctx context.Context, recs []*wire.Record) {
	c.t.Helper()
	for _, d := range c.live() {
		for _, r := range recs {
			got, err := d.Get(ctx, r.Kind, r.Name)
			if err != nil {
				c.t.Errorf("get %s via %s: %v", r.Name, d.cfg.Ring.Self(), err)
				continue
			}
			if !proto.Equal(got, r) {
				c.t.Errorf("get %s via %s: got seq %d %q, want seq %d %q", r.Name, d.cfg.Ring.Self(), got.Seq, got.Payload, r.Seq, r.Payload)
			}
		}
	}
}

func TestPutGetEverywhere(t *testing.T) {
	ctx := testCtx(t)
	c := newCluster(t, 8)
	_, recs := c.publish(ctx, 16, 30*time.Minute)
	// Put waits for the primary to forward, so the replica sets are
	// complete at once, and nothing is anywhere else.
	c.checkPlaced(recs, true)
	c.checkGets(ctx, recs)
	if _, err := c.live()[0].Get(ctx, KindPresence, "nobody"); !errors.Is(err, wire.ErrNotFound) {
		t.Errorf("get of a name nobody published: got %v, want %v", err, wire.ErrNotFound)
	}
	// An update through another node replaces the record everywhere.
	u := newUser(t, c.authority, "user03") // a new certificate for the same user
	r2 := u.record(t, 2, c.clock.Now().Add(30*time.Minute), `{"status":"away"}`)
	if err := c.live()[5].Put(ctx, r2); err != nil {
		t.Fatal(err)
	}
	c.checkPlaced([]*wire.Record{r2}, true)
	c.checkGets(ctx, []*wire.Record{r2})
	// The same seq again is stale.
	if err := c.live()[1].Put(ctx, r2); !errors.Is(err, wire.ErrStale) {
		t.Errorf("put of the same seq: got %v, want %v", err, wire.ErrStale)
	}
}

func TestSmallRings(t *testing.T) {
	for _, n := range []int{1, 2, 3} {
		t.Run(fmt.Sprint(n, " nodes"), func(t *testing.T) {
			ctx := testCtx(t)
			c := newCluster(t, n)
			_, recs := c.publish(ctx, 5, 30*time.Minute)
			c.checkPlaced(recs, true)
			c.checkGets(ctx, recs)
			c.repairAll(2)
			c.checkPlaced(recs, true)
		})
	}
}

func TestPrimaryKilled(t *testing.T) {
	ctx := testCtx(t)
	c := newCluster(t, 8)
	users, recs := c.publish(ctx, 12, 30*time.Minute)
	alice := users[0]
	primary := c.replicaSet(alice.name)[0]
	c.kill(primary) // crashed; the ring has not noticed yet
	c.checkGets(ctx, recs)

	// An update while the primary is down lands on its successors.
	r2 := alice.record(t, 2, c.clock.Now().Add(30*time.Minute), `{"status":"away"}`)
	if err := c.live()[0].Put(ctx, r2); err != nil {
		t.Fatalf("put with the primary down: %v", err)
	}
	c.checkGets(ctx, []*wire.Record{r2})

	// The ring notices; repair restores every replica set.
	c.remove(primary)
	c.repairAll(2)
	recs[0] = r2
	c.checkPlaced(recs, false)
	c.checkGets(ctx, recs)
}

func TestMembershipChange(t *testing.T) {
	ctx := testCtx(t)
	c := newCluster(t, 6)
	_, recs := c.publish(ctx, 24, 50*time.Minute)

	// Two nodes join.
	c.add()
	c.add()
	c.repairAll(2)
	c.checkPlaced(recs, false)
	c.checkGets(ctx, recs)
	// After the grace period the nodes that left replica sets drop.
	c.clock.Advance(31 * time.Second)
	c.repairAll(1)
	c.checkPlaced(recs, true)

	// Two nodes crash and the ring notices.
	live := c.live()
	c.remove(live[1].cfg.Ring.Self().Addr)
	c.remove(live[4].cfg.Ring.Self().Addr)
	c.repairAll(2)
	c.checkPlaced(recs, true)
	c.checkGets(ctx, recs)

	// A quiet ring sends nothing.
	before := c.count(&wire.Envelope_Replicate{})
	c.repairAll(2)
	if got := c.count(&wire.Envelope_Replicate{}); got != before {
		t.Errorf("steady state: %d replicate requests, want 0", got-before)
	}
}

func TestRunRepairsOnChange(t *testing.T) {
	ctx := testCtx(t)
	c := newCluster(t, 5)
	_, recs := c.publish(ctx, 16, 30*time.Minute)

	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	running := map[*Directory]bool{}
	run := func() {
		for _, d := range c.live() {
			if !running[d] {
				running[d] = true
				wg.Go(func() {
					if err := d.Run(runCtx); err != nil {
						t.Errorf("Run: %v", err)
					}
				})
			}
		}
	}
	defer func() { stop(); wg.Wait() }()
	run()
	for range 3 {
		c.add()
	}
	run()
	for _, d := range c.live() {
		d.Changed()
		d.Changed() // debounced
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		missing := 0
		for _, r := range recs {
			got := c.holders(r.Kind, r.Name, r.Seq)
			for _, a := range c.replicaSet(r.Name) {
				if !slices.Contains(got, a) {
					missing++
				}
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after Changed: %d copies still missing", missing)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestExpiry(t *testing.T) {
	ctx := testCtx(t)
	c := newCluster(t, 6)
	users, recs := c.publish(ctx, 10, 10*time.Minute)
	// bob refreshes his record before it expires.
	c.clock.Advance(5 * time.Minute)
	bob := users[1]
	fresh := bob.record(t, 2, c.clock.Now().Add(30*time.Minute), "refreshed")
	if err := c.live()[0].Put(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	c.clock.Advance(5*time.Minute + time.Second)
	for _, r := range recs {
		if r.Name == bob.name {
			continue
		}
		if _, err := c.live()[2].Get(ctx, r.Kind, r.Name); !errors.Is(err, wire.ErrNotFound) {
			t.Errorf("get %s after expiry: got %v, want %v", r.Name, err, wire.ErrNotFound)
		}
	}
	c.repairAll(1)
	total := 0
	for _, d := range c.live() {
		total += d.Len()
	}
	if want := c.replicas + 1; total != want {
		t.Errorf("after expiry %d records held, want %d (bob's)", total, want)
	}
	c.checkGets(ctx, []*wire.Record{fresh})
}

func TestHandOff(t *testing.T) {
	ctx := testCtx(t)
	c := newCluster(t, 6)
	_, recs := c.publish(ctx, 24, 30*time.Minute)
	leaving := c.live()[2]
	self := leaving.cfg.Ring.Self()
	succ := c.dir(leaving.cfg.Ring.Successors()[0].Addr)
	held := leaving.store.InArc(self.ID, self.ID)
	if len(held) == 0 {
		t.Fatal("the leaving node holds nothing; pick another")
	}
	if err := leaving.HandOff(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range held {
		if got := succ.store.Get(r.Kind, r.Name, c.clock.Now()); !proto.Equal(got, r) {
			t.Errorf("%s: successor holds %v, want %v", r.Name, got, r)
		}
	}
	c.remove(self.Addr)
	c.repairAll(2)
	c.checkPlaced(recs, false)
	c.checkGets(ctx, recs)
}

func TestHandOffBatches(t *testing.T) {
	ctx := testCtx(t)
	c := newCluster(t, 3)
	d := c.live()[0]
	// More records than one frame holds, stored directly.
	const n = 120
	for i := range n {
		u := newUser(t, c.authority, fmt.Sprintf("u%03d", i))
		if err := d.store.Put(u.record(t, 1, c.clock.Now().Add(time.Minute), strings.Repeat("p", 2048)), c.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.HandOff(ctx); err != nil {
		t.Fatal(err)
	}
	succ := c.dir(d.cfg.Ring.Successors()[0].Addr)
	if succ.Len() != n {
		t.Errorf("successor holds %d records, want %d", succ.Len(), n)
	}
	if got := c.count(&wire.Envelope_Replicate{}); got < 2 {
		t.Errorf("%d replicate requests, want several", got)
	}
	if c.maxFrame > wire.MaxFrame {
		t.Errorf("largest frame %d bytes, limit %d", c.maxFrame, wire.MaxFrame)
	}
	// Alone, a node with records cannot hand them over.
	solo := newCluster(t, 1)
	sd := solo.live()[0]
	u := newUser(t, solo.authority, "alice")
	if err := sd.store.Put(u.record(t, 1, solo.clock.Now().Add(time.Minute), ""), solo.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := sd.HandOff(ctx); err == nil {
		t.Error("hand-off with no successor: got nil error")
	}
}

func TestBatches(t *testing.T) {
	authority, _ := newAuthority(t)
	u := newUser(t, authority, "alice")
	var recs []*wire.Record
	for i := range 200 {
		recs = append(recs, u.record(t, uint64(i), time.Now().Add(time.Minute), strings.Repeat("x", i*37%2049)))
	}
	bs := batches(recs, maxBatch)
	var flat []*wire.Record
	for _, b := range bs {
		env := &wire.Envelope{Id: 1<<64 - 1, Response: true, Body: &wire.Envelope_Replicate{Replicate: &wire.ReplicateRequest{Records: b}}}
		if n := proto.Size(env); n > wire.MaxFrame {
			t.Errorf("batch of %d records encodes to %d bytes, limit %d", len(b), n, wire.MaxFrame)
		}
		flat = append(flat, b...)
	}
	if !slices.Equal(flat, recs) {
		t.Errorf("batches hold %d records, want the %d given in order", len(flat), len(recs))
	}
	if len(bs) < 2 {
		t.Errorf("%d batches, want several", len(bs))
	}
}

// tamperGets wraps a node's handler so that it alters what it answers to
// Get.
func tamperGets(next overlay.Handler, alter func(r *wire.Record)) overlay.Handler {
	return overlay.HandlerFunc(func(ctx context.Context, from overlay.Peer, req *wire.Envelope) (*wire.Envelope, error) {
		resp, err := next.Handle(ctx, from, req)
		if res, ok := resp.GetBody().(*wire.Envelope_GetResult); ok {
			for _, r := range res.GetResult.Records {
				alter(r)
			}
		}
		return resp, err
	})
}

func TestReaderRefusesBadRecords(t *testing.T) {
	ctx := testCtx(t)
	c := newCluster(t, 8)
	users, recs := c.publish(ctx, 4, 30*time.Minute)
	alice := users[0]
	aliceRec, bobRec := recs[0], recs[1]
	set := c.replicaSet(alice.name)
	reader := func() *Directory {
		for _, d := range c.live() {
			if !slices.Contains(set, d.cfg.Ring.Self().Addr) {
				return d
			}
		}
		t.Fatal("no node outside the replica set")
		return nil
	}()

	other, _ := newAuthority(t)
	impostor := newUser(t, other, alice.name)
	tests := []struct {
		name  string
		alter func(r *wire.Record)
		want  error // when every node lies
	}{
		{"tampered payload", func(r *wire.Record) { r.Payload = []byte(`{"status":"offline"}`) }, wire.ErrBadRecord},
		{"raised seq", func(r *wire.Record) { r.Seq += 10 }, wire.ErrBadRecord},
		{"stretched expiry", func(r *wire.Record) { r.Expires += 60 }, wire.ErrBadRecord},
		{"another user's record", func(r *wire.Record) { proto.Reset(r); proto.Merge(r, bobRec) }, wire.ErrBadRecord},
		{"expired", func(r *wire.Record) {
			proto.Reset(r)
			proto.Merge(r, alice.record(t, 50, c.clock.Now().Add(-time.Second), "old"))
		}, wire.ErrExpired},
		{"wrong CA", func(r *wire.Record) {
			proto.Reset(r)
			proto.Merge(r, impostor.record(t, 50, c.clock.Now().Add(time.Minute), "fake"))
		}, wire.ErrBadRecord},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The primary lies: the reader takes the replicas' record.
			c.setHandler(set[0], tamperGets(c.dir(set[0]), tt.alter))
			got, err := reader.Get(ctx, KindPresence, alice.name)
			if err != nil || !proto.Equal(got, aliceRec) {
				t.Errorf("primary lies: got %v, %v; want the genuine record", got, err)
			}
			// The whole replica set lies: nothing is believed.
			for _, a := range set {
				c.setHandler(a, tamperGets(c.dir(a), tt.alter))
			}
			if got, err := reader.Get(ctx, KindPresence, alice.name); !errors.Is(err, tt.want) {
				t.Errorf("all lie: got %v, %v; want %v", got, err, tt.want)
			}
			for _, a := range set {
				c.setHandler(a, c.dir(a))
			}
		})
	}
}

func TestStoringNodeRefusesBadRecords(t *testing.T) {
	ctx := testCtx(t)
	c := newCluster(t, 8)
	users, recs := c.publish(ctx, 3, 30*time.Minute)
	alice, bob := users[0], users[1]
	// alice is now at seq 5.
	current := alice.record(t, 5, c.clock.Now().Add(30*time.Minute), "current")
	if err := c.live()[0].Put(ctx, current); err != nil {
		t.Fatal(err)
	}
	recs[0] = current
	exp := c.clock.Now().Add(20 * time.Minute)
	other, _ := newAuthority(t)
	impostor := newUser(t, other, alice.name)
	nodeKey, _ := ca.GenerateKey()
	nodeCert, err := c.authority.IssueNode("10.9.9.9:7000", &nodeKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		rec  func() *wire.Record
		want error
	}{
		{"forged signature", func() *wire.Record { r := alice.record(t, 6, exp, "x"); forge(t, r, bob.key); return r }, wire.ErrBadRecord},
		{"tampered payload", func() *wire.Record { r := alice.record(t, 6, exp, "x"); r.Payload = []byte("y"); return r }, wire.ErrBadRecord},
		{"tampered seq", func() *wire.Record { r := alice.record(t, 6, exp, "x"); r.Seq = 7; return r }, wire.ErrBadRecord},
		{"tampered name", func() *wire.Record { r := bob.record(t, 6, exp, "x"); r.Name = alice.name; return r }, wire.ErrForbidden},
		{"expired", func() *wire.Record { return alice.record(t, 6, c.clock.Now().Add(-time.Minute), "x") }, wire.ErrExpired},
		{"too far", func() *wire.Record { return alice.record(t, 6, c.clock.Now().Add(5*time.Hour), "x") }, wire.ErrBadRecord},
		{"wrong CA", func() *wire.Record { return impostor.record(t, 6, exp, "x") }, wire.ErrBadRecord},
		{"node certificate", func() *wire.Record {
			return user{name: alice.name, key: nodeKey, cert: nodeCert.Raw}.record(t, 6, exp, "x")
		}, wire.ErrBadRecord},
		{"someone else's name", func() *wire.Record {
			return bob.signed(t, &wire.Record{Kind: KindPresence, Name: alice.name, Seq: 6, Expires: exp.Unix()})
		}, wire.ErrForbidden},
		{"older seq", func() *wire.Record { return alice.record(t, 4, exp, "x") }, wire.ErrStale},
		{"equal seq", func() *wire.Record { return alice.record(t, 5, exp, "x") }, wire.ErrStale},
		{"oversized", func() *wire.Record { return alice.record(t, 6, exp, strings.Repeat("x", 3000)) }, wire.ErrTooLarge},
	}
	set := c.replicaSet(alice.name)
	attacker := c.live()[0].cfg.Transport
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tt.rec()
			// Straight to the primary, past any putter's own check.
			_, err := attacker.Call(ctx, set[0], &wire.Envelope{Body: &wire.Envelope_Put{Put: &wire.PutRequest{Record: rec}}})
			if !errors.Is(err, tt.want) {
				t.Errorf("put to the primary: got %v, want %v", err, tt.want)
			}
			// As a replica, and in a Replicate batch, to every node.
			for _, d := range c.live() {
				a := d.cfg.Ring.Self().Addr
				if tt.want == wire.ErrStale && !slices.Contains(set, a) {
					continue // valid where alice's newer record is not held
				}
				_, err := attacker.Call(ctx, a, &wire.Envelope{Body: &wire.Envelope_Put{Put: &wire.PutRequest{Record: rec, Replica: true}}})
				if !errors.Is(err, tt.want) {
					t.Errorf("replica put to %s: got %v, want %v", a, err, tt.want)
				}
				if _, err := attacker.Call(ctx, a, &wire.Envelope{Body: &wire.Envelope_Replicate{Replicate: &wire.ReplicateRequest{Records: []*wire.Record{rec}}}}); err != nil {
					t.Errorf("replicate to %s: %v", a, err)
				}
			}
			// And through the putter: refused before anything is sent.
			if err := c.live()[3].Put(ctx, rec); !errors.Is(err, tt.want) {
				t.Errorf("Put: got %v, want %v", err, tt.want)
			}
			c.checkPlaced(recs, true)
			c.checkGets(ctx, recs)
		})
	}
}

func TestHandleRefusesClients(t *testing.T) {
	ctx := testCtx(t)
	c := newCluster(t, 3)
	users, recs := c.publish(ctx, 1, 30*time.Minute)
	d := c.dir(c.replicaSet(users[0].name)[1])
	client := overlay.Peer{Name: users[0].name}
	r2 := users[0].record(t, 2, c.clock.Now().Add(time.Minute), "")
	for _, req := range []*wire.Envelope{
		{Body: &wire.Envelope_Put{Put: &wire.PutRequest{Record: r2, Replica: true}}},
		{Body: &wire.Envelope_Replicate{Replicate: &wire.ReplicateRequest{Records: []*wire.Record{r2}}}},
	} {
		if _, err := d.Handle(ctx, client, req); !errors.Is(err, wire.ErrForbidden) {
			t.Errorf("%T from a client: got %v, want %v", req.Body, err, wire.ErrForbidden)
		}
	}
	// Not responsible: a primary put to a replica.
	if _, err := d.Handle(ctx, client, &wire.Envelope{Body: &wire.Envelope_Put{Put: &wire.PutRequest{Record: r2}}}); !errors.Is(err, wire.ErrNotResponsible) {
		t.Errorf("put to a replica: got %v, want %v", err, wire.ErrNotResponsible)
	}
	for _, req := range []*wire.Envelope{{Body: &wire.Envelope_Ping{Ping: &wire.PingRequest{}}}, {}, {Body: &wire.Envelope_Put{Put: &wire.PutRequest{}}}} {
		if _, err := d.Handle(ctx, client, req); !errors.Is(err, wire.ErrBadRequest) {
			t.Errorf("%T: got %v, want %v", req.Body, err, wire.ErrBadRequest)
		}
	}
	c.checkGets(ctx, recs)
}

func TestNewValidates(t *testing.T) {
	c := newCluster(t, 1)
	d := c.live()[0]
	good := d.cfg
	for _, tt := range []struct {
		name string
		edit func(*Config)
	}{
		{"no ring", func(c *Config) { c.Ring = nil }},
		{"no transport", func(c *Config) { c.Transport = nil }},
		{"no roots", func(c *Config) { c.Roots = nil }},
		{"negative replicas", func(c *Config) { c.Replicas = -1 }},
		{"negative interval", func(c *Config) { c.RepairInterval = -1 }},
		{"negative grace", func(c *Config) { c.Grace = -1 }},
		{"payload limit too large", func(c *Config) { c.Limits.MaxPayload = 1 << 20 }},
	} {
		cfg := good
		tt.edit(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: got nil error", tt.name)
		}
	}
	d2, err := New(Config{Ring: good.Ring, Transport: good.Transport, Roots: good.Roots})
	if err != nil {
		t.Fatal(err)
	}
	if d2.cfg.Replicas != DefaultReplicas || d2.cfg.RepairInterval != DefaultRepairInterval || d2.cfg.Grace != 3*DefaultRepairInterval {
		t.Errorf("defaults: got %d, %v, %v", d2.cfg.Replicas, d2.cfg.RepairInterval, d2.cfg.Grace)
	}
}

// noPredecessor is a ring that has lost its predecessor: it then counts
// every key as its own, as overlay/ring does.
type noPredecessor struct{ fakeRing }

func (noPredecessor) Predecessor() overlay.Node   { return overlay.Node{} }
func (noPredecessor) Responsible(overlay.ID) bool { return true }

func TestRepairWaitsForPredecessor(t *testing.T) {
	ctx := testCtx(t)
	c := newCluster(t, 8)
	_, recs := c.publish(ctx, 16, 30*time.Minute)
	d := c.live()[3]
	d.cfg.Ring = noPredecessor{d.cfg.Ring.(fakeRing)}
	before := c.count(&wire.Envelope_Replicate{})
	d.repair(ctx)
	if got := c.count(&wire.Envelope_Replicate{}) - before; got != 0 {
		t.Errorf("%d replicate requests without a predecessor, want 0", got)
	}
	c.checkPlaced(recs, true)
}
