package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"soitto/login/ca"
	"soitto/overlay"
	"soitto/overlay/dir"
	"soitto/overlay/presence"
	"soitto/overlay/search"
	"soitto/overlay/wire"

	"soitto/internal/texttable"
)

// searchRow is one line of the search table.
type searchRow struct {
	n         int
	latency   time.Duration
	crashed   int     // nodes killed just before the searches
	reachable float64 // % of records some live node holds
	searches  int
	// Searches for users who exist: found with the super-peer they
	// published, answered "no such user", or neither (the rest).
	foundPct, falseAbsentPct float64
	// Searches for users who do not exist: answered "no such user".
	absentPct float64
	// All searches: ended without an answer (search.Search's
	// ErrUnreachable).
	erredPct   float64
	roundsMean float64
	rounds     [3]float64 // % of searches over in 1, 2, 3 rounds
	proxiedPct float64
	askedMean  float64 // Result.Asked: home once per round, then the nodes it named
	p50, p95   time.Duration
	msgs       float64 // requests sent per search, of every kind
	findSteps  float64 // of which ring lookup steps (the homes' lookups)
}

// simUser is a certified user key.
type simUser struct {
	name string
	key  *ecdsa.PrivateKey
	cert []byte // DER
}

// searchSample is what one search measured.
type searchSample struct {
	exists  bool
	want    overlay.Node // the super-peer the user's record names
	res     search.Result
	err     error
	latency time.Duration
}

// searchPool gathers one row's samples over the seeds.
type searchPool struct {
	samples         []searchSample
	msgs, findSteps uint64
	crashed         int
	latency         time.Duration
	reachable       float64 // % of records some live node holds, summed over seeds
}

// searchBench runs the search experiment on rings of each of o.searchN
// sizes: o.records users publish signed presence records through random
// super-peers, then clients attached to random live super-peers search
// for random users (o.missing of them users who never published), once
// on the intact ring and once right after a fraction o.searchCrash of
// the nodes crashed, at each of o.searchLat.
func searchBench(ctx context.Context, o *options) ([]searchRow, error) {
	tmp, err := os.MkdirTemp("", "soitto-sim-ca")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	authority, err := ca.Create(tmp, "soitto-sim")
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(authority.Cert)
	start := time.Now()
	users, err := newUsers(authority, o.records, o.workers)
	if err != nil {
		return nil, err
	}
	o.logf("issued %d user certificates in %v", len(users), time.Since(start).Round(time.Millisecond))

	var rows []searchRow
	for _, n := range o.searchN {
		var pools []*searchPool
		for _, seed := range o.seeds {
			ps, err := searchRun(ctx, o, n, seed, users, roots)
			if err != nil {
				return nil, err
			}
			if pools == nil {
				pools = ps
				continue
			}
			for i, p := range ps {
				pools[i].samples = append(pools[i].samples, p.samples...)
				pools[i].msgs += p.msgs
				pools[i].findSteps += p.findSteps
				pools[i].crashed += p.crashed
				pools[i].reachable += p.reachable
			}
		}
		for _, p := range pools {
			row := p.row(n)
			row.crashed /= len(o.seeds)
			row.reachable = p.reachable / float64(len(o.seeds))
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// searchRun is one seed on one ring size: build, publish, search intact
// at each latency, then with nodes crashed at each latency. The crashed
// nodes are the same at every latency; between latencies they come back
// and the ring converges again, since lookups that met them changed the
// survivors' tables.
func searchRun(ctx context.Context, o *options, n int, seed uint64, users []simUser, roots *x509.CertPool) ([]*searchPool, error) {
	start := time.Now()
	sp, err := buildSuperPeers(ctx, o, n, seed, roots)
	if err != nil {
		return nil, err
	}
	o.logf("built N=%d super-peers in %v (%d messages)", n, time.Since(start).Round(time.Millisecond), sp.net.Messages())
	start = time.Now()
	homes, err := publish(ctx, o, sp, users)
	if err != nil {
		return nil, err
	}
	o.logf("N=%d: put %d records in %v (%.1f messages each)", n, len(users), time.Since(start).Round(time.Millisecond),
		float64(sp.net.Messages())/float64(len(users)))

	rnd := rand.New(rand.NewPCG(seed, 13))
	var pools []*searchPool
	measure := func(lat time.Duration, crashed int) {
		p := &searchPool{latency: lat, crashed: crashed}
		jobs := searchJobs(rnd, sp, users, homes, o.searches, o.missing)
		sp.net.SetLatency(lat, 0)
		sp.net.Reset()
		parallel := 1 // alone on the CPU, so latency is the search's own
		if lat > 0 {
			parallel = 32 // sleeping, not computing: overlap them
		}
		p.samples = runSearches(ctx, sp, jobs, parallel, roots)
		p.msgs, p.findSteps = sp.net.Messages(), sp.net.Counts()["find_step"]
		sp.net.SetLatency(0, 0)
		p.reachable = reachable(sp, users)
		pools = append(pools, p)
	}
	for _, lat := range o.searchLat {
		measure(lat, 0)
	}

	kill := int(o.searchCrash * float64(n))
	if kill == 0 {
		return pools, nil
	}
	var victims []string
	live := sp.Live()
	for _, i := range rnd.Perm(len(live))[:kill] {
		victims = append(victims, live[i].ring.Self().Addr)
	}
	for li, lat := range o.searchLat {
		if li > 0 {
			for _, a := range victims {
				sp.revive(a)
			}
			if err := sp.converge(ctx, 2*o.workers, 100); err != nil {
				return nil, fmt.Errorf("N=%d after reviving: %w", n, err)
			}
		}
		for _, a := range victims {
			sp.crash(a)
		}
		measure(lat, kill)
	}
	return pools, nil
}

// newUsers makes count users, each with a key and a certificate of its
// own name.
func newUsers(authority *ca.CA, count, workers int) ([]simUser, error) {
	users := make([]simUser, count)
	err := parallelDo(workers, count, func(i int) error {
		key, err := ca.GenerateKey()
		if err != nil {
			return err
		}
		name := fmt.Sprintf("user%05d", i)
		cert, err := authority.IssueUser(name, &key.PublicKey)
		if err != nil {
			return err
		}
		users[i] = simUser{name: name, key: key, cert: cert.Raw}
		return nil
	})
	return users, err
}

// publish attaches every user to a random super-peer and puts their
// presence record through it, as a client's publish does; it returns
// each user's super-peer.
func publish(ctx context.Context, o *options, sp *superPeers, users []simUser) ([]overlay.Node, error) {
	homes := make([]*superPeer, len(users))
	for i := range homes {
		homes[i] = sp.random()
	}
	expires := time.Now().Add(presence.TTL)
	out := make([]overlay.Node, len(users))
	err := parallelDo(2*o.workers, len(users), func(i int) error {
		u, home := users[i], homes[i]
		rec, err := presence.Record(u.name, presence.Online, home.ring.Self(), 1, expires, u.key, u.cert)
		if err != nil {
			return err
		}
		pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := home.dir.Put(pctx, rec); err != nil {
			return fmt.Errorf("publishing %s through %s: %w", u.name, home.ring.Self(), err)
		}
		out[i] = home.ring.Self()
		return nil
	})
	return out, err
}

type searchJob struct {
	name string
	home *superPeer
	want overlay.Node // zero for a user who does not exist
}

// searchJobs draws count searches from random live homes; a fraction
// missing of them for users who never published.
func searchJobs(rnd *rand.Rand, sp *superPeers, users []simUser, homes []overlay.Node, count int, missing float64) []searchJob {
	live := sp.Live()
	jobs := make([]searchJob, count)
	for i := range jobs {
		jobs[i].home = live[rnd.IntN(len(live))]
		if rnd.Float64() < missing {
			jobs[i].name = fmt.Sprintf("nobody%05d", rnd.IntN(len(users)+1))
			continue
		}
		u := rnd.IntN(len(users))
		jobs[i].name, jobs[i].want = users[u].name, homes[u]
	}
	return jobs
}

// runSearches runs the jobs, parallel at a time, each from a client of
// its own (so no search is rate-limited for another's sake) attached to
// the job's home.
func runSearches(ctx context.Context, sp *superPeers, jobs []searchJob, parallel int, roots *x509.CertPool) []searchSample {
	out := make([]searchSample, len(jobs))
	refuse := overlay.HandlerFunc(func(context.Context, overlay.Peer, *wire.Envelope) (*wire.Envelope, error) {
		return nil, wire.Errorf(wire.ErrForbidden, "a client answers nothing here")
	})
	parallelDo(parallel, len(jobs), func(i int) error {
		j := jobs[i]
		addr := clientAddr(i)
		t := sp.net.Listen(addr, refuse)
		defer sp.net.Remove(addr)
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		start := time.Now()
		res, err := search.Search(sctx, t, j.home.ring.Self().Addr, j.name, search.Options{Roots: roots})
		out[i] = searchSample{exists: !j.want.IsZero(), want: j.want, res: res, err: err, latency: time.Since(start)}
		return nil
	})
	return out
}

// clientAddr is the address of the i-th simulated client, in TEST-NET-2
// (RFC 5737), apart from the super-peers' range.
func clientAddr(i int) string {
	return fmt.Sprintf("198.51.100.%d:%d", i%250+1, 40000+i/250)
}

// reachable is the % of users' records that some live node holds.
func reachable(sp *superPeers, users []simUser) float64 {
	live := sp.Live()
	var held atomic.Int64
	parallelDo(4, len(users), func(i int) error {
		for _, p := range live {
			if p.dir.Local(dir.KindPresence, users[i].name) != nil {
				held.Add(1)
				break
			}
		}
		return nil
	})
	return 100 * float64(held.Load()) / float64(len(users))
}

func (p *searchPool) row(n int) searchRow {
	row := searchRow{n: n, latency: p.latency, crashed: p.crashed, searches: len(p.samples)}
	var rounds, asked []int
	var lats []time.Duration
	var exist, found, falseAbsent, absentOK, erred, proxied int
	for _, s := range p.samples {
		noUser := errors.Is(s.err, search.ErrNoSuchUser)
		switch {
		case s.exists:
			exist++
			if s.err == nil && s.res.Found && s.res.Info.SuperPeer == s.want {
				found++
			}
			if noUser {
				falseAbsent++
			}
		case noUser:
			absentOK++
		}
		if errors.Is(s.err, wire.ErrUnreachable) {
			erred++
		}
		if s.res.Proxied {
			proxied++
		}
		if r := s.res.Rounds; r >= 1 && r <= len(row.rounds) {
			row.rounds[r-1]++
		}
		rounds = append(rounds, s.res.Rounds)
		asked = append(asked, len(s.res.Asked))
		lats = append(lats, s.latency)
	}
	pct := func(a, b int) float64 { return 100 * float64(a) / float64(max(1, b)) }
	all := len(p.samples)
	row.foundPct, row.falseAbsentPct = pct(found, exist), pct(falseAbsent, exist)
	row.absentPct = pct(absentOK, all-exist)
	row.erredPct, row.proxiedPct = pct(erred, all), pct(proxied, all)
	for i, c := range row.rounds {
		row.rounds[i] = 100 * c / float64(max(1, all))
	}
	row.roundsMean, row.askedMean = mean(rounds), mean(asked)
	row.p50, row.p95 = quantile(lats, 0.50), quantile(lats, 0.95)
	row.msgs = float64(p.msgs) / float64(max(1, all))
	row.findSteps = float64(p.findSteps) / float64(max(1, all))
	return row
}

// parallelDo runs f(0) … f(count-1), workers at a time, and returns the
// first error.
func parallelDo(workers, count int, f func(i int) error) error {
	next := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range max(1, workers) {
		wg.Go(func() {
			for i := range next {
				if err := f(i); err != nil {
					once.Do(func() { first = err })
				}
			}
		})
	}
	for i := range count {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

// searchTable runs searchBench and prints its table.
func searchTable(ctx context.Context, w io.Writer, o *options) error {
	fmt.Fprintf(w, "\nSearch (overlay/search: home asked for 4, then 8, then 16 super-peers; a proxy search when none named answers).\n"+
		"%d presence records (1 user each, attached to random super-peers, %d replicas); %d searches per row and seed (seeds %v)\n"+
		"from clients at random live super-peers, %.0f%% of them for users who do not exist; one-way latency slept on every\n"+
		"message (0: CPU cost only, searches one at a time); crashed: nodes killed just before the searches, no repair,\n"+
		"dead nodes refuse at once\n",
		o.records, dir.DefaultReplicas, o.searches, o.seeds, 100*o.missing)
	rows, err := searchBench(ctx, o)
	if err != nil {
		return err
	}
	t := texttable.New(w, "N", "one-way", "crashed", "records", "searches", "records live %", "found %", "false absent %", "not-found correct %", "unanswered %",
		"rounds mean", "rounds 1/2/3 %", "proxied %", "asked mean", "p50 ms", "p95 ms", "msgs/search", "find_step/search")
	for _, r := range rows {
		t.Row(strconv.Itoa(r.n), ms(r.latency), strconv.Itoa(r.crashed), strconv.Itoa(o.records), strconv.Itoa(r.searches),
			fmt.Sprintf("%.2f", r.reachable), fmt.Sprintf("%.2f", r.foundPct), fmt.Sprintf("%.2f", r.falseAbsentPct),
			fmt.Sprintf("%.2f", r.absentPct), fmt.Sprintf("%.2f", r.erredPct), fmt.Sprintf("%.3f", r.roundsMean),
			fmt.Sprintf("%.1f/%.1f/%.1f", r.rounds[0], r.rounds[1], r.rounds[2]), fmt.Sprintf("%.2f", r.proxiedPct),
			fmt.Sprintf("%.2f", r.askedMean), ms(r.p50), ms(r.p95), fmt.Sprintf("%.1f", r.msgs), fmt.Sprintf("%.1f", r.findSteps))
	}
	t.Flush()
	return nil
}
