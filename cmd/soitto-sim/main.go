// Command soitto-sim measures the Chord ring of overlay/ring at scale: N
// super-peers in one process over overlay/memnet, with lookups, mass
// failures and churn, printed as text tables. It exists to check the
// ring's O(log N) claims and its repair times against the Chord paper
// before a real network has that many nodes. The search table
// (-only search) measures overlay/search on such a ring holding signed
// presence records.
//
// Method. Rings are grown by sequential joins and converged with manual
// stabilize rounds (ringtest.Cluster.Grow and Converge). Maintenance then
// runs in virtual time: every node keeps its own Stabilize (1 s),
// FixFingers (500 ms) and CheckPredecessor (2 s) deadlines with ±20%
// jitter, and the clock runs, in 100 ms ticks, the rounds that fall due;
// requests take no virtual time, so "seconds" in the tables are seconds of
// protocol time, not of the simulator's. Lookup latencies are wall-clock:
// with 0 ms one-way latency they are the CPU cost of a lookup (marshalling
// included), with 1 ms they add the simulated network delay, which
// memnet spends in real sleeps. Dead nodes refuse at once (a crashed
// process on a live host); with dial timeouts repair takes the same
// number of rounds but each lookup that meets a dead node is slower.
//
// Search. Every super-peer runs the ring, the directory (3 replicas) and
// a search.Server behind one memnet handler. Users with certificates of
// their own publish presence records through random super-peers; then
// clients, one per search, attached to random live super-peers, run
// search.Search for random users, some of whom never published. The
// searches run once on the intact ring and once right after a fraction
// of the nodes crashed, with no maintenance in between. Latencies are
// wall-clock as for lookups: memnet sleeps the one-way latency on every
// message, and at 0 ms a search's time is its CPU cost (signature and
// certificate checks included).
//
// Usage:
//
//	go run ./cmd/soitto-sim [-n 64,256,1024,4096] [-seeds 1,2] [-lookups 2000]
//	    [-latency 0,1ms] [-fail 0.2,0.5] [-churn-n 1024] [-churn 1,2,4,8,16]
//	    [-duration 60s] [-only steady,fail,churn]
//	go run ./cmd/soitto-sim -only search [-search-n 64,256,1024] [-records 10000]
//	    [-searches 2000] [-missing 0.1] [-search-latency 0,20ms] [-search-crash 0.1]
//
// The defaults take about 4½ minutes on two cores; -only search with its
// defaults about 6.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"soitto/overlay/ring"

	"soitto/internal/texttable"
)

type options struct {
	ns           []int
	seeds        []uint64
	lookups      int
	latencies    []time.Duration
	fractions    []float64
	churnN       int
	churnRates   []float64
	churnFor     time.Duration
	lookupRate   float64
	gracefulFrac float64
	maintFor     time.Duration
	recoverMax   time.Duration
	probe        int
	r, alpha     int
	workers      int
	only         map[string]bool
	verbose      bool

	searchN     []int
	records     int
	searches    int
	missing     float64
	searchLat   []time.Duration
	searchCrash float64
}

func (o *options) logf(format string, a ...any) {
	if o.verbose {
		fmt.Fprintf(os.Stderr, "# "+format+"\n", a...)
	}
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "soitto-sim:", err)
		os.Exit(2)
	}
	if err := run(context.Background(), os.Stdout, o); err != nil {
		fmt.Fprintln(os.Stderr, "soitto-sim:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (*options, error) {
	fs := flag.NewFlagSet("soitto-sim", flag.ContinueOnError)
	ns := fs.String("n", "64,256,1024,4096", "ring sizes for the steady-state and failure tables")
	seeds := fs.String("seeds", "1,2", "seeds; each runs every experiment once and the results are pooled")
	lookups := fs.Int("lookups", 2000, "lookups per ring size and latency, and right after each failure")
	lat := fs.String("latency", "0,1ms", "simulated one-way latencies for the lookup-latency rows")
	fail := fs.String("fail", "0.2,0.5", "fractions of nodes killed at once")
	churnN := fs.Int("churn-n", 1024, "ring size for the churn table")
	churn := fs.String("churn", "1,2,4,8,16", "churn rates: membership events per second (half joins, half departures)")
	dur := fs.Duration("duration", 60*time.Second, "virtual time each churn rate runs")
	lookupRate := fs.Float64("churn-lookups", 100, "lookups per virtual second during churn")
	graceful := fs.Float64("graceful", 0, "fraction of departures during churn that leave gracefully instead of crashing")
	maint := fs.Duration("maint", 10*time.Second, "virtual time over which maintenance traffic is counted")
	recoverMax := fs.Duration("recover-max", 120*time.Second, "give up waiting for repair after this much virtual time")
	probe := fs.Int("probe", 200, "lookups per repair probe (every 500 ms of virtual time)")
	r := fs.Int("r", 8, "successor list length")
	alpha := fs.Int("alpha", 3, "lookup parallelism α")
	searchN := fs.String("search-n", "64,256,1024", "ring sizes for the search table")
	records := fs.Int("records", 10000, "presence records (users) published for the search table")
	searches := fs.Int("searches", 2000, "searches per search-table row and seed")
	missing := fs.Float64("missing", 0.1, "fraction of searches for users who never published")
	searchLat := fs.String("search-latency", "0,20ms", "simulated one-way latencies for the search table")
	searchCrash := fs.Float64("search-crash", 0.1, "fraction of nodes crashed just before the second set of searches; 0 for none")
	only := fs.String("only", "steady,fail,churn", "which tables to print (steady, fail, churn, search)")
	verbose := fs.Bool("v", true, "progress on stderr")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	o := &options{
		lookups: *lookups, churnN: *churnN, churnFor: *dur, lookupRate: *lookupRate,
		gracefulFrac: *graceful, maintFor: *maint, recoverMax: *recoverMax, probe: *probe,
		r: *r, alpha: *alpha, workers: runtime.GOMAXPROCS(0), verbose: *verbose,
		only:    map[string]bool{},
		records: *records, searches: *searches, missing: *missing, searchCrash: *searchCrash,
	}
	var err error
	if o.ns, err = list(*ns, strconv.Atoi); err != nil {
		return nil, fmt.Errorf("-n: %w", err)
	}
	if o.seeds, err = list(*seeds, func(s string) (uint64, error) { return strconv.ParseUint(s, 10, 64) }); err != nil {
		return nil, fmt.Errorf("-seeds: %w", err)
	}
	if o.latencies, err = list(*lat, parseLatency); err != nil {
		return nil, fmt.Errorf("-latency: %w", err)
	}
	parseFloat := func(s string) (float64, error) { return strconv.ParseFloat(s, 64) }
	if o.fractions, err = list(*fail, parseFloat); err != nil {
		return nil, fmt.Errorf("-fail: %w", err)
	}
	if o.churnRates, err = list(*churn, parseFloat); err != nil {
		return nil, fmt.Errorf("-churn: %w", err)
	}
	if o.searchN, err = list(*searchN, strconv.Atoi); err != nil {
		return nil, fmt.Errorf("-search-n: %w", err)
	}
	if o.searchLat, err = list(*searchLat, parseLatency); err != nil {
		return nil, fmt.Errorf("-search-latency: %w", err)
	}
	switch {
	case o.records < 1 || o.searches < 1:
		return nil, fmt.Errorf("-records and -searches must be at least 1")
	case o.missing < 0 || o.missing > 1 || o.searchCrash < 0 || o.searchCrash >= 1:
		return nil, fmt.Errorf("-missing must be in [0, 1], -search-crash in [0, 1)")
	}
	for _, t := range strings.Split(*only, ",") {
		o.only[strings.TrimSpace(t)] = true
	}
	if len(o.seeds) == 0 {
		return nil, fmt.Errorf("-seeds: none given")
	}
	return o, nil
}

// parseLatency reads "1ms", "250us", or a bare number of milliseconds.
func parseLatency(s string) (time.Duration, error) {
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(v * float64(time.Millisecond)), nil
	}
	return time.ParseDuration(s)
}

func list[T any](s string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := parse(f)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func run(ctx context.Context, w io.Writer, o *options) error {
	start := time.Now()
	fmt.Fprintf(w, "soitto-sim: Chord ring over memnet; r=%d, α=%d, seeds %v, GOMAXPROCS=%d\n",
		o.r, o.alpha, o.seeds, runtime.GOMAXPROCS(0))

	if o.only["steady"] {
		fmt.Fprintf(w, "\nSteady state (%d lookups per row from random nodes for random keys; ring static during lookups)\n", o.lookups)
		t := texttable.New(w, "N", "one-way", "ok %", "hops mean", "½·log2 N", "hops p99", "msgs/lookup", "p50 ms", "p95 ms", "maint msgs/node/s")
		var kinds []map[string]float64
		var kindN []int
		for _, n := range o.ns {
			rows, err := steady(ctx, o, n)
			if err != nil {
				return err
			}
			for _, r := range rows {
				t.Row(strconv.Itoa(r.n), ms(r.latency), fmt.Sprintf("%.2f", r.okPct),
					fmt.Sprintf("%.2f", r.hopsMean), fmt.Sprintf("%.2f", r.halfLog), strconv.Itoa(r.hopsP99),
					fmt.Sprintf("%.1f", r.msgs), ms(r.latP50), ms(r.latP95), fmt.Sprintf("%.2f", r.maint))
			}
			kinds = append(kinds, rows[0].maintKinds)
			kindN = append(kindN, n)
		}
		t.Flush()
		fmt.Fprintf(w, "\nMaintenance messages per node per second, by kind (counted over %v of virtual time)\n", o.maintFor)
		names := []string{"neighbours", "notify", "ping", "find_step"}
		t = texttable.New(w, append([]string{"N"}, append(names, "total")...)...)
		for i, k := range kinds {
			cells := []string{strconv.Itoa(kindN[i])}
			total := 0.0
			for _, name := range names {
				cells = append(cells, fmt.Sprintf("%.2f", k[name]))
			}
			for _, v := range k {
				total += v
			}
			t.Row(append(cells, fmt.Sprintf("%.2f", total))...)
		}
		t.Flush()
	}

	if o.only["fail"] {
		fmt.Fprintf(w, "\nMass failure: a fraction of nodes crash at once (%d lookups right after, no maintenance yet;\nthen maintenance in virtual time, probing %d lookups every 0.5 s)\n", o.lookups, o.probe)
		t := texttable.New(w, "N", "killed", "ok right after %", "live ok %", "erred %", "hops after", "lookups ok after s", "ring exact after s")
		for _, n := range o.ns {
			for _, f := range o.fractions {
				r, err := failure(ctx, o, n, f)
				if err != nil {
					return err
				}
				t.Row(strconv.Itoa(n), fmt.Sprintf("%.0f%%", 100*f), fmt.Sprintf("%.2f", r.okAfter), fmt.Sprintf("%.2f", r.liveAfter), fmt.Sprintf("%.2f", r.errAfter),
					fmt.Sprintf("%.2f", r.hopsAfter), secs(r.lookupsOK), secs(r.ringOK))
			}
		}
		t.Flush()
	}

	if o.only["churn"] {
		fmt.Fprintf(w, "\nChurn (Chord Fig. 12 style): N=%d, Poisson joins and departures (%.0f%% graceful) at R per second,\n%.0f lookups per second, %v of virtual time per rate; a lookup fails if it errs or finds the wrong node\n",
			o.churnN, 100*o.gracefulFrac, o.lookupRate, o.churnFor)
		t := texttable.New(w, "R /s", "events per stabilize period", "joins", "departures", "N at end", "lookups", "failed %", "live failed %", "erred %", "hops mean", "msgs/lookup")
		rates := slices.Clone(o.churnRates)
		for _, rate := range rates {
			r, err := churn(ctx, o, o.churnN, rate)
			if err != nil {
				return err
			}
			t.Row(fmt.Sprintf("%g", rate), fmt.Sprintf("%.1f", rate*ring.DefaultStabilize.Seconds()), strconv.Itoa(r.joins), strconv.Itoa(r.departs), strconv.Itoa(r.endN),
				strconv.Itoa(r.lookups), fmt.Sprintf("%.3f", r.failedPct), fmt.Sprintf("%.3f", r.liveFailedPct), fmt.Sprintf("%.3f", r.erredPct),
				fmt.Sprintf("%.2f", r.hopsMean), fmt.Sprintf("%.1f", r.msgs))
		}
		t.Flush()
	}
	if o.only["search"] {
		if err := searchTable(ctx, w, o); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\n(%v wall time)\n", time.Since(start).Round(time.Second))
	return nil
}
